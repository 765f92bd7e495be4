import Foundation
import XCTest

@testable import API
import JSON
import Store

/// Writes and leader-only cluster routes reaching a follower are forwarded to the leader.
final class APIForwardingTests: XCTestCase {
    let configMaps = "/api/v1/namespaces/default/configmaps"

    /// A leader and a follower that points at it, on one loop.
    private func pair() -> (leader: APIFixture, follower: APIFixture) {
        let leader = APIFixture()
        let follower = APIFixture(thread: leader.thread)
        let port = leader.port
        follower.onLoop { service in
            service.isLeader = false
            service.memberName = "fake-2"
            service.leaderAPIEndpoint = ("127.0.0.1", port)
        }
        return (leader, follower)
    }

    func testWritesOnAFollowerAreForwardedToTheLeader() throws {
        let (leader, follower) = pair()
        defer {
            follower.close()
            leader.close()
        }
        let created = try follower.send("POST", configMaps + "?pretty=1", body: configMap("web"))
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.json?["metadata"]?["uid"], "uid-1")
        XCTAssertEqual(created.header("content-type"), "application/json")
        XCTAssertNil(created.header("x-shoal-forwarded"))
        XCTAssertEqual(leader.onLoop { $0.proposals.count }, 1)
        XCTAssertEqual(follower.onLoop { $0.proposals.count }, 0)
        XCTAssertEqual(follower.onLoop { _ in follower.server.stats.forwarded }, 1)

        // Failures are relayed as the leader answered them.
        let conflict = try follower.send("POST", configMaps, body: configMap("web"))
        XCTAssertEqual(conflict.status, 409)
        XCTAssertEqual(conflict.json?["reason"], "AlreadyExists")
        let updated = try follower.send("PUT", configMaps + "/web", body: configMap("web", data: ["k": "v2"], resourceVersion: "1"))
        XCTAssertEqual(updated.status, 200, updated.text)
        XCTAssertEqual(try follower.send("DELETE", configMaps + "/web", body: #"{"preconditions":{"resourceVersion":"3"}}"#).status, 200)
        XCTAssertEqual(leader.onLoop { $0.proposals.count }, 4)

        // Reads are served by the follower itself (its store is empty).
        leader.onLoop { $0.apply(createCommand("only-on-leader")) }
        XCTAssertEqual(try follower.send("GET", configMaps + "/only-on-leader").status, 404)
        XCTAssertEqual(try leader.send("GET", configMaps + "/only-on-leader").status, 200)

        // Leader-only cluster routes too.
        let members = try follower.send("GET", "/shoal/v1/members")
        XCTAssertEqual(members.status, 200)
        XCTAssertEqual(members.json?.arrayValue?.first?["name"], "fake-1")
        XCTAssertEqual(try follower.send("POST", "/shoal/v1/members", body: #"{"name":"host-c"}"#).status, 200)
        XCTAssertEqual(try follower.send("DELETE", "/shoal/v1/members/host-b").status, 200)
        XCTAssertEqual(leader.onLoop { $0.clusterCalls }, ["admit host-c on fake-1", "remove host-b on fake-1"])
        XCTAssertEqual(follower.onLoop { $0.clusterCalls }, [])
        // ... but not the member-local ones.
        XCTAssertEqual(try follower.send("GET", "/shoal/v1/status").json?["member"], "fake-2")
    }

    func testAForwardedRequestIsNeverForwardedAgain() throws {
        let (leader, follower) = pair()
        defer {
            follower.close()
            leader.close()
        }
        let refused = try follower.send("POST", configMaps, body: configMap("a"), headers: [("X-Shoal-Forwarded", "1")])
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.header("retry-after"), "1")
        XCTAssertEqual(refused.json?["reason"], "ServiceUnavailable")

        // Two members that each think the other leads: one hop, then a 503, never a loop.
        let followerPort = follower.port
        leader.onLoop { service in
            service.isLeader = false
            service.leaderAPIEndpoint = ("127.0.0.1", followerPort)
        }
        let looped = try follower.send("POST", configMaps, body: configMap("a"))
        XCTAssertEqual(looped.status, 503)
        XCTAssertTrue(looped.json?["message"]?.stringValue?.contains("already forwarded") == true, looped.text)
        XCTAssertEqual(follower.onLoop { _ in follower.server.stats.forwarded }, 1)
        XCTAssertEqual(leader.onLoop { _ in leader.server.stats.forwarded }, 0)
        XCTAssertEqual(leader.onLoop { $0.proposals.count }, 0)
    }

    func testNoLeaderOrAnUnreachableLeaderIs503() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.isLeader = false
            service.leaderAPIEndpoint = nil
        }
        let none = try fixture.send("POST", configMaps, body: configMap("a"))
        XCTAssertEqual(none.status, 503)
        XCTAssertEqual(none.header("retry-after"), "1")
        XCTAssertEqual(try fixture.send("GET", "/shoal/v1/members").status, 503)

        // A port where nobody listens any more.
        let closedPort = try XCTUnwrap(fixture.thread.sync { () -> UInt16? in
            let other = try? TCPServerProbe.closedPort(fixture.thread.loop)
            return other
        } ?? nil)
        fixture.onLoop { $0.leaderAPIEndpoint = ("127.0.0.1", closedPort) }
        let unreachable = try fixture.send("DELETE", configMaps + "/a")
        XCTAssertEqual(unreachable.status, 503)
        XCTAssertTrue(unreachable.json?["message"]?.stringValue?.contains("cannot reach the leader") == true, unreachable.text)
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.stats.forwardFailures }, 1)
    }

    func testAForwardedRequestThatTimesOutIsDropped() throws {
        var limits = APIServer.Limits()
        limits.requestTimeoutMilliseconds = 300
        limits.sweepIntervalMilliseconds = 20
        let leader = APIFixture()  // its own request timeout is far longer
        let follower = APIFixture(thread: leader.thread, limits: limits)
        defer {
            follower.close()
            leader.close()
        }
        let port = leader.port
        follower.onLoop { service in
            service.isLeader = false
            service.leaderAPIEndpoint = ("127.0.0.1", port)
        }
        leader.onLoop { $0.holdProposals = true }
        let answer = try follower.send("POST", configMaps, body: configMap("a"))
        XCTAssertEqual(answer.status, 504)
        XCTAssertEqual(answer.json?["reason"], "Timeout")
        // The follower dropped its connection to the leader: the leader sees it go.
        XCTAssertTrue(leader.thread.waitUntil("the leader's connection closes") { leader.server.connectionCount == 0 })
    }
}

import Transport

/// A port that was bound a moment ago and is closed now.
enum TCPServerProbe {
    static func closedPort(_ loop: EventLoop) throws -> UInt16 {
        let server = try TCPServer(loop: loop, host: "127.0.0.1", port: 0)
        server.close()
        return server.boundPort
    }
}
