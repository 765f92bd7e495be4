import Foundation
import XCTest

@testable import API
import JSON
import Store
import Transport

/// The API over HTTPS: bearer tokens and client certificates, plain HTTP and garbage at the
/// TLS port, forwarding to the leader over TLS, watches through TLS records.
final class APITLSTests: XCTestCase {
    let configMaps = "/api/v1/namespaces/default/configmaps"

    func testRequestsOverHTTPSWithTheBearerToken() throws {
        let fixture = APIFixture(tls: true)
        defer { fixture.close() }
        let created = try fixture.send("POST", configMaps, body: configMap("web"))
        XCTAssertEqual(created.status, 201, created.text)
        let read = try fixture.send("GET", configMaps + "/web")
        XCTAssertEqual(read.status, 200)
        XCTAssertEqual(read.json?["data"]?["k"], "v")
        XCTAssertEqual(try fixture.send("GET", "/healthz", token: nil).status, 200, "health needs no credential")
        let refused = try fixture.send("GET", configMaps, token: nil)
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(try fixture.send("GET", configMaps, token: "wrong").status, 401)
    }

    func testAVerifiedClientCertificateAuthenticates() throws {
        let fixture = APIFixture(tls: true)
        defer { fixture.close() }
        fixture.clientTLS = try APITestPKI.shared.client(presenting: APITestPKI.shared.admin)
        let list = try fixture.send("GET", configMaps, token: nil)
        XCTAssertEqual(list.status, 200, list.text)
        XCTAssertEqual(try fixture.send("POST", configMaps, body: configMap("cert-made"), token: nil).status, 201)
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.stats.unauthorized }, 0)
    }

    func testAClientCertificateFromAnotherCAIsRefused() throws {
        let fixture = APIFixture(tls: true)
        defer { fixture.close() }
        fixture.clientTLS = try APITestPKI.shared.client(presenting: APITestPKI.shared.stranger)
        // TLS 1.3: the client may finish its handshake before the server rejects its
        // certificate; the request then fails on the closed connection. Either way, no answer.
        XCTAssertThrowsError(try fixture.send("GET", configMaps, token: FakeClusterService.token))
        fixture.thread.waitUntil("the failure is counted") { fixture.server.tls?.failures[.verification] == 1 }
        XCTAssertEqual(fixture.onLoop { $0.proposals.count }, 0)
    }

    func testClientsMustTrustTheServersCA() throws {
        let fixture = APIFixture(tls: true)
        defer { fixture.close() }
        let other = try CertificateAuthority.random(commonName: "other-ca")
        fixture.clientTLS = try TLSContext.client(trustedRootsPEM: other.certificatePEM)
        XCTAssertThrowsError(try fixture.send("GET", configMaps)) { error in
            XCTAssertTrue("\(error)".contains("certificate verification failed"), "\(error)")
        }
        var wrongName = fixture.client()
        wrongName.serverName = "10.9.9.9"
        XCTAssertThrowsError(try wrongName.send(method: "GET", target: "/healthz"))
    }

    func testPlainHTTPAndGarbageAtTheHTTPSPortAreTurnedAway() throws {
        let fixture = APIFixture(tls: true)
        defer { fixture.close() }
        let plain = HTTPClient(host: "127.0.0.1", port: fixture.port, timeoutMilliseconds: 5_000)
        let answer = try plain.send(method: "GET", target: "/api", headers: [("Authorization", "Bearer \(FakeClusterService.token)")])
        XCTAssertEqual(answer.status, 400)
        XCTAssertTrue(answer.text.contains("HTTPS"), answer.text)

        let socket = try RawSocket(port: fixture.port, timeoutMilliseconds: 2_000)
        socket.send([0x16, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5] + [UInt8](repeating: 0x41, count: 500))
        socket.close()
        fixture.thread.waitUntil("both failures are counted") {
            fixture.server.tls?.failures[.plainHTTP] == 1 && fixture.server.tls?.failures[.openSSL] == 1
        }
        XCTAssertEqual(try fixture.send("GET", "/healthz").status, 200, "the server still serves")
        fixture.thread.waitUntil("the bad connections are gone") { fixture.server.connectionCount == 0 }
    }

    /// A client authenticated only by its certificate, at a follower: the follower forwards
    /// over TLS with its own member certificate, which the leader accepts.
    func testForwardingToTheLeaderOverTLS() throws {
        let leader = APIFixture(tls: true)
        let follower = APIFixture(thread: leader.thread, tls: true)
        defer {
            follower.close()
            leader.close()
        }
        let port = leader.port
        follower.onLoop { service in
            service.isLeader = false
            service.memberName = "fake-2"
            service.leaderAPIEndpoint = ("127.0.0.1", port)
        }
        follower.clientTLS = try APITestPKI.shared.client(presenting: APITestPKI.shared.admin)
        let members = try follower.send("GET", "/shoal/v1/members", token: nil)
        XCTAssertEqual(members.status, 200, members.text)
        XCTAssertEqual(members.json?.arrayValue?.first?["name"], "fake-1", "answered by the leader")
        XCTAssertEqual(try follower.send("DELETE", "/shoal/v1/members/host-b", token: nil).status, 200)
        XCTAssertEqual(leader.onLoop { $0.clusterCalls }, ["remove host-b on fake-1"])
        XCTAssertEqual(follower.onLoop { _ in follower.server.stats.forwarded }, 2)
        XCTAssertEqual(leader.onLoop { _ in leader.server.stats.unauthorized }, 0)
    }

    /// A leader whose certificate the follower cannot verify is not talked to.
    func testForwardingRefusesAnUnverifiedLeader() throws {
        let leader = APIFixture(tls: true)
        let thread = leader.thread
        let other = try CertificateAuthority.random(commonName: "other-ca")
        let follower = APIFixture(thread: thread, tls: true)
        defer {
            follower.close()
            leader.close()
        }
        let port = leader.port
        let distrust = try TLSContext.client(trustedRootsPEM: other.certificatePEM)
        follower.onLoop { service in
            service.isLeader = false
            service.leaderAPIEndpoint = ("127.0.0.1", port)
            follower.server.tls?.forwarding = .tls(distrust)
        }
        let answer = try follower.send("GET", "/shoal/v1/members")
        XCTAssertEqual(answer.status, 503, answer.text)
        XCTAssertTrue(answer.text.contains("certificate verification failed"), answer.text)
        XCTAssertEqual(leader.onLoop { $0.clusterCalls }, [])
    }

    func testWatchStreamsThroughTLS() throws {
        let fixture = APIFixture(tls: true)
        defer { fixture.close() }
        for i in 0..<50 { fixture.onLoop { $0.apply(createCommand("cm-\(i)", data: ["blob": String(repeating: "x", count: 2000)])) } }
        var lines: [JSONValue] = []
        var buffer: [UInt8] = []
        _ = try fixture.client().stream(target: configMaps + "?watch=true&resourceVersion=0",
                                        headers: [("Authorization", "Bearer \(FakeClusterService.token)")]) { bytes in
            buffer += bytes
            while let newline = buffer.firstIndex(of: 10) {
                if let event = try? JSONValue.parse(Array(buffer[..<newline])) { lines.append(event) }
                buffer.removeSubrange(...newline)
            }
            return lines.count < 50
        }
        XCTAssertEqual(lines.count, 50)
        XCTAssertEqual(Set(lines.compactMap { $0["object"]?["metadata"]?["name"]?.stringValue }),
                       Set((0..<50).map { "cm-\($0)" }))
    }

    func testCredentialsRoute() throws {
        let fixture = APIFixture(tls: true)
        defer { fixture.close() }
        XCTAssertEqual(try fixture.send("GET", "/shoal/v1/credentials").status, 404)
        fixture.onLoop { $0.credentialsAnswer = ["certificateAuthority": "PEM"] }
        let answer = try fixture.send("GET", "/shoal/v1/credentials?clientCertificate=true")
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.json?["certificateAuthority"], "PEM")
        XCTAssertEqual(fixture.onLoop { $0.clusterCalls }, ["credentials false", "credentials true"])
        XCTAssertEqual(try fixture.send("POST", "/shoal/v1/credentials").status, 405)
        XCTAssertEqual(try fixture.send("GET", "/shoal/v1/credentials", token: nil).status, 401)
    }
}
