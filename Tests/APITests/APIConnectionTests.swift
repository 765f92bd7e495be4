import Foundation
import XCTest

@testable import API
import JSON
import Store

/// Connection handling: keep-alive, pipelining, parse failures, bounds, health and metrics.
final class APIConnectionTests: XCTestCase {
    let configMaps = "/api/v1/namespaces/default/configmaps"

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.apply(createCommand("a"))
            service.holdLinearizableReads = true
        }
        // The first waits at the read barrier; the ones after it are ready at once, and
        // still come back after it.
        let socket = try RawSocket(port: fixture.port)
        socket.send(rawRequest("GET", configMaps + "/a") + rawRequest("GET", "/healthz", token: nil)
                    + rawRequest("POST", configMaps, body: configMap("b")) + rawRequest("GET", configMaps + "/a?resourceVersion=0"))
        XCTAssertTrue(fixture.thread.waitUntil("all four dispatched") {
            fixture.service.heldReads.count == 1 && fixture.service.proposals.count == 1
        })
        fixture.onLoop { $0.releaseReads() }
        let answers = socket.responses(4)
        XCTAssertEqual(answers.map(\.status), [200, 200, 201, 200])
        XCTAssertEqual(answers.first?.json?["metadata"]?["name"], "a")
        XCTAssertEqual(answers.dropFirst().first?.text, "ok")
        XCTAssertEqual(answers.dropFirst(2).first?.json?["metadata"]?["name"], "b")
        XCTAssertTrue(answers.allSatisfy(\.keepAlive))
        // The same connection goes on serving; `Connection: close` ends it after the answer.
        socket.send(rawRequest("GET", "/readyz", token: nil, close: true))
        let last = socket.responses(1)
        XCTAssertEqual(last.first?.status, 200)
        XCTAssertEqual(last.first?.keepAlive, false)
        XCTAssertTrue(socket.waitForClose())
        XCTAssertTrue(fixture.thread.waitUntil("closed") { fixture.server.connectionCount == 0 })
    }

    func testManyPipelinedRequestsInOneWrite() throws {
        var limits = APIServer.Limits()
        limits.pipelinedRequestsMax = 4
        let fixture = APIFixture(limits: limits)
        defer { fixture.close() }
        let socket = try RawSocket(port: fixture.port)
        let count = 500
        socket.send(String(repeating: rawRequest("GET", "/healthz", token: nil), count: count))
        let answers = socket.responses(count)
        XCTAssertEqual(answers.count, count)
        XCTAssertTrue(answers.allSatisfy { $0.status == 200 && $0.text == "ok" })
    }

    func testMalformedRequestsGetAStatusThenTheConnectionCloses() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        for garbage in ["GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"] {
            let socket = try RawSocket(port: fixture.port)
            socket.send(garbage)
            let answer = socket.responses(2).last
            XCTAssertEqual(answer?.status, 400, garbage)
            XCTAssertEqual(answer?.json?["kind"], "Status")
            XCTAssertEqual(answer?.keepAlive, false)
            XCTAssertTrue(socket.waitForClose(), garbage)
        }
        // An upgrade to a route that takes none is answered as usual (401 without a token)
        // and the connection closes: what follows it is not HTTP.
        let upgrade = try RawSocket(port: fixture.port)
        upgrade.send("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nnot http")
        let answers = upgrade.responses(2)
        XCTAssertEqual(answers.map(\.status), [401])
        XCTAssertEqual(answers.first?.keepAlive, false)
        XCTAssertTrue(upgrade.waitForClose())
        // Good requests before the bad one are answered first.
        let socket = try RawSocket(port: fixture.port)
        socket.send(rawRequest("GET", "/healthz", token: nil) + "BAD REQUEST\r\n\r\n")
        XCTAssertEqual(socket.responses(2).map(\.status), [200, 400])
        XCTAssertTrue(socket.waitForClose())
        // Headers too large: 431.
        let big = try RawSocket(port: fixture.port)
        big.send("GET /healthz HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\n\r\n")
        XCTAssertEqual(big.responses(1).first?.status, 431)
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.stats.parseFailures }, 4)
    }

    func testRandomGarbageNeverCrashesTheMember() throws {
        var limits = APIServer.Limits()
        limits.lingerMilliseconds = 50
        let fixture = APIFixture(limits: limits)
        defer { fixture.close() }
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let prefixes = ["", "GET /", "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nAuthorization: Bearer \(FakeClusterService.token)\r\nContent-Length: 40\r\n\r\n",
                        "GET /api/v1/namespaces/default/configmaps?watch=true&resourceVersion=", "PUT /shoal/v1/join HTTP/1.1\r\n"]
        for round in 0..<150 {
            let socket = try RawSocket(port: fixture.port, timeoutMilliseconds: 200)
            var bytes = Array(prefixes[round % prefixes.count].utf8)
            for _ in 0..<(Int(next() % 600)) {
                // Mostly printable, with CR/LF and high bytes mixed in.
                let r = next() % 100
                bytes.append(r < 70 ? UInt8(32 + next() % 95) : r < 85 ? [13, 10][Int(next() % 2)] : UInt8(next() % 256))
            }
            socket.send(bytes)
            if round % 3 == 0 { socket.close() } else { _ = socket.readOnce() }
        }
        // Well-formed requests with random paths, methods and bodies, with the token.
        let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
        let paths = ["/api/v1/namespaces/%ff/configmaps", "/api/v1/namespaces/default/configmaps/%00", "/apis/shoal.dev/v1/members/x",
                     "/shoal/v1/members/", "/api/v1/namespaces/default/configmaps?labelSelector=%zz", "/shoal/v1/join",
                     "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=-1", "/apis/shoal.dev/v1/members"]
        let bodies = ["", "{", "null", "[]", "{\"metadata\":{\"name\":7}}", "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"ok\"},\"data\":{\"a\":1}}",
                      "{\"endpoint\":1,\"token\":\"\"}", "{\"preconditions\":{\"resourceVersion\":\"x\"}}"]
        for round in 0..<200 {
            let method = methods[Int(next() % UInt64(methods.count))]
            let path = paths[round % paths.count]
            let body = bodies[Int(next() % UInt64(bodies.count))]
            let answer = try fixture.client().send(method: method, target: path,
                                                    headers: [("Authorization", "Bearer \(FakeClusterService.token)")], body: Array(body.utf8))
            XCTAssertTrue((400..<500).contains(answer.status) || answer.status == 200 || answer.status == 201,
                          "\(method) \(path) \(body): \(answer.status)")
        }
        XCTAssertEqual(try fixture.send("GET", "/healthz").status, 200)
        XCTAssertEqual(try fixture.send("GET", configMaps).status, 200)
        XCTAssertTrue(fixture.thread.waitUntil("connections closed") { fixture.server.connectionCount == 0 })
    }

    func testIdleConnectionsAreClosedAndConnectionsAreBounded() throws {
        var limits = APIServer.Limits()
        limits.idleTimeoutMilliseconds = 200
        limits.sweepIntervalMilliseconds = 20
        limits.connectionsMax = 2
        let fixture = APIFixture(limits: limits)
        defer { fixture.close() }
        let first = try RawSocket(port: fixture.port)
        let second = try RawSocket(port: fixture.port)
        XCTAssertTrue(fixture.thread.waitUntil("two connections") { fixture.server.connectionCount == 2 })
        let third = try RawSocket(port: fixture.port)
        XCTAssertEqual(third.responses(1).first?.status, 503)
        XCTAssertTrue(third.waitForClose())
        // Idle ones are closed.
        XCTAssertTrue(first.waitForClose())
        XCTAssertTrue(second.waitForClose())
        XCTAssertTrue(fixture.thread.waitUntil("none left") { fixture.server.connectionCount == 0 })
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.stats.connectionsRejected }, 1)
        XCTAssertEqual(try fixture.send("GET", "/healthz", token: nil).status, 200)
    }

    func testARequestTricklingInIsCutOff() throws {
        var limits = APIServer.Limits()
        limits.requestTimeoutMilliseconds = 300
        limits.sweepIntervalMilliseconds = 20
        let fixture = APIFixture(limits: limits)
        defer { fixture.close() }
        let socket = try RawSocket(port: fixture.port)
        socket.send("GET /healthz HTTP/1.1\r\n")
        for _ in 0..<5 {
            usleep(100_000)
            socket.send("X: y\r\n")  // never idle, never complete
        }
        let answer = socket.responses(1).first
        XCTAssertEqual(answer?.status, 408)
        XCTAssertEqual(answer?.json?["reason"], "Timeout")
        XCTAssertTrue(socket.waitForClose())
    }

    func testHealthReadinessAndMetrics() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        let healthy = try fixture.send("GET", "/healthz", token: nil)
        XCTAssertEqual(healthy.status, 200)
        XCTAssertEqual(healthy.text, "ok")
        fixture.onLoop { service in
            service.ready = false
            service.healthy = false
        }
        let notReady = try fixture.send("GET", "/readyz", token: nil)
        XCTAssertEqual(notReady.status, 503)
        XCTAssertEqual(notReady.text, "raft: no leader known\napplied 3 < commit 9\nreadyz check failed\n")
        let sick = try fixture.send("GET", "/healthz", token: nil)
        XCTAssertEqual(sick.status, 503)
        XCTAssertTrue(sick.text.hasPrefix("storage: the WAL is stopped\n"))

        let metrics = try fixture.send("GET", "/metrics", token: nil)
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.header("content-type"), "text/plain; version=0.0.4")
        XCTAssertEqual(metrics.text, "# HELP fake_up Fake.\n# TYPE fake_up gauge\nfake_up 1\n")

        // The API server's own families, for the member to append.
        let text = fixture.onLoop { _ -> String in
            var out = MetricsText()
            fixture.server.writeMetrics(into: &out)
            return out.text
        } ?? ""
        XCTAssertTrue(text.contains("shoal_api_requests_total{method=\"GET\",code=\"503\"} 2\n"), text)
        XCTAssertTrue(text.contains("# TYPE shoal_api_request_duration_seconds histogram\n"), text)
        XCTAssertTrue(text.contains("shoal_api_watches 0\n"), text)
    }
}
