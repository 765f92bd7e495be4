import Foundation
import XCTest

@testable import API
import JSON
import Store

final class APIObjectRoutesTests: XCTestCase {
    let configMaps = "/api/v1/namespaces/default/configmaps"

    func testEveryRouteButHealthNeedsTheBearerToken() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        for (method, target) in [("GET", configMaps), ("POST", configMaps), ("GET", "/shoal/v1/status"),
                                 ("GET", "/api/v1/namespaces/default/widgets"), ("GET", "/nowhere"), ("GET", "/api")] {
            for token: String? in [nil, "wrong", FakeClusterService.token + "x", ""] {
                let answer = try fixture.send(method, target, body: method == "POST" ? configMap("a") : nil, token: token)
                XCTAssertEqual(answer.status, 401, "\(method) \(target) with \(token ?? "no token")")
                XCTAssertEqual(answer.json?["kind"], "Status")
                XCTAssertEqual(answer.json?["reason"], "Unauthorized")
                XCTAssertEqual(answer.json?["code"], 401)
            }
        }
        // A lower-case scheme is the same scheme.
        let lower = try fixture.client().send(method: "GET", target: configMaps, headers: [("Authorization", "bearer \(FakeClusterService.token)")])
        XCTAssertEqual(lower.status, 200)
        for target in ["/healthz", "/readyz", "/metrics"] {
            XCTAssertEqual(try fixture.send("GET", target, token: nil).status, 200, target)
        }
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.stats.unauthorized }, 24)
        XCTAssertEqual(fixture.onLoop { $0.proposals.count }, 0)
    }

    func testCreateGetUpdateDeleteWithStatusCodes() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        let created = try fixture.send("POST", configMaps, body: configMap("web", labels: ["app": "web"]))
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.header("content-type"), "application/json")
        let object = try XCTUnwrap(created.json)
        XCTAssertEqual(object["metadata"]?["resourceVersion"], "1")
        XCTAssertEqual(object["metadata"]?["uid"], "uid-1")
        XCTAssertEqual(object["data"]?["k"], "v")

        let again = try fixture.send("POST", configMaps, body: configMap("web"))
        XCTAssertEqual(again.status, 409)
        XCTAssertEqual(again.json?["reason"], "AlreadyExists")
        XCTAssertEqual(again.json?["message"], "configmaps \"web\" already exists")

        let got = try fixture.send("GET", configMaps + "/web")
        XCTAssertEqual(got.status, 200)
        XCTAssertEqual(got.json, object)

        let updated = try fixture.send("PUT", configMaps + "/web", body: configMap("web", data: ["k": "v2"], resourceVersion: "1"))
        XCTAssertEqual(updated.status, 200, updated.text)
        XCTAssertEqual(updated.json?["metadata"]?["resourceVersion"], "3")  // index 2 was the failed create
        XCTAssertEqual(updated.json?["data"]?["k"], "v2")

        // The body's resourceVersion is the optimistic lock.
        let stale = try fixture.send("PUT", configMaps + "/web", body: configMap("web", data: ["k": "v3"], resourceVersion: "1"))
        XCTAssertEqual(stale.status, 409)
        XCTAssertEqual(stale.json?["reason"], "Conflict")
        XCTAssertTrue(stale.json?["message"]?.stringValue?.hasPrefix("Operation cannot be fulfilled on configmaps \"web\"") == true)

        // Delete preconditions: in the body or as a parameter.
        let staleDelete = try fixture.send("DELETE", configMaps + "/web", body: #"{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"1"}}"#)
        XCTAssertEqual(staleDelete.status, 409)
        XCTAssertEqual(try fixture.send("DELETE", configMaps + "/web?resourceVersion=2").status, 409)
        XCTAssertEqual(try fixture.send("DELETE", configMaps + "/web", body: #"{"preconditions":{"uid":"other"}}"#).status, 409)
        XCTAssertEqual(try fixture.send("DELETE", configMaps + "/web?resourceVersion=x").status, 400)
        let deleted = try fixture.send("DELETE", configMaps + "/web?resourceVersion=3")
        XCTAssertEqual(deleted.status, 200, deleted.text)
        XCTAssertEqual(deleted.json?["metadata"]?["name"], "web")

        let gone = try fixture.send("GET", configMaps + "/web")
        XCTAssertEqual(gone.status, 404)
        XCTAssertEqual(gone.json?["reason"], "NotFound")
        XCTAssertEqual(gone.json?["message"], "configmaps \"web\" not found")
        XCTAssertEqual(gone.json?["details"]?["name"], "web")
        XCTAssertEqual(try fixture.send("DELETE", configMaps + "/web").status, 404)
        XCTAssertEqual(try fixture.send("PUT", configMaps + "/web", body: configMap("web")).status, 404)
    }

    func testValidationAndRouteMismatches() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        let invalid = try fixture.send("POST", configMaps, body: configMap("Not_A_Name"))
        XCTAssertEqual(invalid.status, 422)
        XCTAssertEqual(invalid.json?["reason"], "Invalid")
        XCTAssertTrue(invalid.json?["message"]?.stringValue?.contains("metadata.name") == true, invalid.text)

        let cases: [(String, String, String)] = [
            ("POST", configMaps, #"{"kind":"Member","apiVersion":"v1","metadata":{"name":"a"}}"#),
            ("POST", configMaps, #"{"kind":"ConfigMap","apiVersion":"apps/v1","metadata":{"name":"a"}}"#),
            ("POST", configMaps, configMap("a", namespace: "other")),
            ("POST", configMaps, #"{"kind":"ConfigMap","metadata":"a"}"#),
            ("POST", configMaps, #"{"kind":"ConfigMap","metadata":{"name":"a"}"#),  // malformed JSON
            ("POST", configMaps, #"{"a":1,"a":2}"#),  // duplicate key
            ("POST", configMaps, "[1,2]"),
            ("POST", configMaps, ""),
            ("PUT", configMaps + "/b", configMap("a")),
            ("GET", configMaps + "?labelSelector=app%20in%20(", ""),
            ("GET", configMaps + "?resourceVersion=01", ""),
            ("GET", configMaps + "?consistency=eventual", ""),
            ("GET", configMaps + "?watch=maybe", ""),
        ]
        for (method, target, body) in cases {
            let answer = try fixture.send(method, target, body: body.isEmpty ? nil : body)
            XCTAssertEqual(answer.status, 400, "\(method) \(target) \(body): \(answer.text)")
            XCTAssertEqual(answer.json?["reason"], "BadRequest", "\(method) \(target) \(body)")
        }
        // What the route implies may be left out of the body.
        let minimal = try fixture.send("POST", configMaps, body: #"{"metadata":{"name":"filled"},"data":{"a":"b"}}"#)
        XCTAssertEqual(minimal.status, 201, minimal.text)
        XCTAssertEqual(minimal.json?["kind"], "ConfigMap")
        XCTAssertEqual(minimal.json?["metadata"]?["namespace"], "default")
        let unnamed = try fixture.send("PUT", configMaps + "/filled", body: #"{"data":{"a":"c"}}"#)
        XCTAssertEqual(unnamed.status, 200, unnamed.text)
        XCTAssertEqual(fixture.onLoop { $0.proposals.count }, 3)  // the 400s never reached the member
    }

    func testUnknownRoutesAndMethods() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        for target in ["/", "/nowhere", "/api/v2/configmaps", "/api/v1/namespaces/default/widgets",
                       "/api/v1/namespaces/default/configmaps/a/status", "/apis/shoal.dev/v1/namespaces/default/members",
                       "/api/v1/configmaps/a", "/apis/nope/v1/things", "/api/v1//configmaps", "/api/v1/configmaps/",
                       "/shoal/v1/nothing", "/apis/nope/v1"] {
            let answer = try fixture.send("GET", target)
            XCTAssertEqual(answer.status, 404, target)
            XCTAssertEqual(answer.json?["kind"], "Status", target)
            XCTAssertEqual(answer.json?["reason"], "NotFound", target)
        }
        XCTAssertEqual(try fixture.send("PATCH", configMaps + "/a", body: "{}").status, 405)
        XCTAssertEqual(try fixture.send("POST", configMaps + "/a", body: configMap("a")).status, 405)
        XCTAssertEqual(try fixture.send("POST", "/api/v1/configmaps", body: configMap("a")).status, 405)
        XCTAssertEqual(try fixture.send("DELETE", configMaps).status, 405)
        XCTAssertEqual(try fixture.send("POST", "/healthz", token: nil).status, 405)
        // Cluster-scoped kinds of API groups route without a namespace.
        let members = try fixture.send("GET", "/apis/shoal.dev/v1/members")
        XCTAssertEqual(members.status, 200)
        XCTAssertEqual(members.json?["kind"], "MemberList")
        XCTAssertEqual(members.json?["apiVersion"], "shoal.dev/v1")
        // Discovery.
        XCTAssertEqual(try fixture.send("GET", "/api/v1").json?["resources"]?.arrayValue?.first?["name"], "configmaps")
        XCTAssertEqual(try fixture.send("GET", "/apis").json?["groups"]?.arrayValue?.first?["name"], "shoal.dev")
        XCTAssertEqual(try fixture.send("GET", "/apis/shoal.dev/v1").json?["resources"]?.arrayValue?.first?["namespaced"], false)
    }

    func testListsWithLabelSelectorsAcrossNamespaces() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.apply(createCommand("a", labels: ["app": "web", "tier": "front"]))
            service.apply(createCommand("b", labels: ["app": "db"]))
            service.apply(createCommand("c", namespace: "other", labels: ["app": "web"]))
            service.apply(createCommand("d"))
        }
        let all = try fixture.send("GET", configMaps)
        XCTAssertEqual(all.status, 200)
        let list = try XCTUnwrap(all.json)
        XCTAssertEqual(list["kind"], "ConfigMapList")
        XCTAssertEqual(list["apiVersion"], "v1")
        XCTAssertEqual(list["metadata"]?["resourceVersion"], "4")
        XCTAssertEqual(list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue }, ["a", "b", "d"])

        func names(_ target: String) throws -> [String] {
            let answer = try fixture.send("GET", target)
            XCTAssertEqual(answer.status, 200, "\(target): \(answer.text)")
            return answer.json?["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
        }
        XCTAssertEqual(try names(configMaps + "?labelSelector=app%3Dweb"), ["a"])
        XCTAssertEqual(try names("/api/v1/configmaps?labelSelector=app%3Dweb"), ["a", "c"])
        XCTAssertEqual(try names("/api/v1/configmaps?labelSelector=app+in+(web,db),tier!%3Dfront"), ["b", "c"])
        XCTAssertEqual(try names("/api/v1/configmaps?labelSelector=!app"), ["d"])
        XCTAssertEqual(try names("/api/v1/namespaces/empty/configmaps"), [])

        let bad = try fixture.send("GET", configMaps + "?labelSelector=app%3E1")
        XCTAssertEqual(bad.status, 400)
        XCTAssertTrue(bad.json?["message"]?.stringValue?.contains("unable to parse label selector") == true, bad.text)
    }

    func testOversizedBodyIs413() throws {
        var limits = APIServer.Limits()
        limits.request.bodyBytesMax = 1024
        let fixture = APIFixture(limits: limits)
        defer { fixture.close() }
        let answer = try fixture.send("POST", configMaps, body: configMap("big", data: ["k": String(repeating: "x", count: 4096)]))
        XCTAssertEqual(answer.status, 413)
        XCTAssertEqual(answer.json?["kind"], "Status")
        XCTAssertEqual(answer.json?["code"], 413)
        XCTAssertEqual(fixture.onLoop { $0.proposals.count }, 0)
        XCTAssertEqual(try fixture.send("POST", configMaps, body: configMap("small")).status, 201)
    }

    func testReadsAreLinearizableUnlessStaleIsAskedFor() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.apply(createCommand("a"))
            service.holdLinearizableReads = true
        }
        // Stale reads answer at once, without a barrier.
        for target in [configMaps + "/a?resourceVersion=0", configMaps + "?consistency=stale", configMaps + "?resourceVersion=0"] {
            XCTAssertEqual(try fixture.send("GET", target).status, 200, target)
        }
        XCTAssertEqual(fixture.onLoop { $0.linearizableReadCount }, 0)

        // A default read waits for the barrier, and sees what was applied before it completed.
        let socket = try RawSocket(port: fixture.port, timeoutMilliseconds: 300)
        socket.send(rawRequest("GET", configMaps + "/b"))
        XCTAssertTrue(fixture.thread.waitUntil("the read waits at the barrier") { fixture.service.heldReads.count == 1 })
        XCTAssertNil(socket.readOnce(), "answered before the read barrier")
        fixture.onLoop { service in
            service.apply(createCommand("b"))
            service.releaseReads()
        }
        let answer = socket.responses(1).first
        XCTAssertEqual(answer?.status, 200)
        XCTAssertEqual(answer?.json?["metadata"]?["name"], "b")
        XCTAssertEqual(fixture.onLoop { $0.linearizableReadCount }, 1)

        // A barrier that fails answers with the member's error.
        fixture.onLoop { $0.readError = ServiceError(status: 503, reason: "ServiceUnavailable", message: "no leader") }
        let failed = try fixture.send("GET", configMaps + "/a")
        XCTAssertEqual(failed.status, 503)
        XCTAssertEqual(failed.header("retry-after"), "1")
        XCTAssertEqual(failed.json?["message"], "no leader")
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.stats.staleReads }, 3)
    }

    func testMemberErrorsAndRequestTimeout() throws {
        var limits = APIServer.Limits()
        limits.requestTimeoutMilliseconds = 300
        limits.sweepIntervalMilliseconds = 20
        let fixture = APIFixture(limits: limits)
        defer { fixture.close() }
        fixture.onLoop { $0.proposeError = ServiceError(status: 429, reason: "TooManyRequests", message: "too many proposals in flight") }
        let busy = try fixture.send("POST", configMaps, body: configMap("a"))
        XCTAssertEqual(busy.status, 429)
        XCTAssertEqual(busy.json?["reason"], "TooManyRequests")
        XCTAssertEqual(busy.header("retry-after"), "1")

        fixture.onLoop { service in
            service.proposeError = nil
            service.holdProposals = true
        }
        let slow = try fixture.send("POST", configMaps, body: configMap("a"))
        XCTAssertEqual(slow.status, 504)
        XCTAssertEqual(slow.json?["reason"], "Timeout")
        // The late completion is ignored.
        fixture.onLoop { service in
            for completion in service.heldProposals { completion(.failure(ServiceError(status: 500, reason: "InternalError", message: "late"))) }
        }
        XCTAssertEqual(try fixture.send("GET", "/healthz").status, 200)
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.stats.requestTimeouts }, 1)
    }
}
