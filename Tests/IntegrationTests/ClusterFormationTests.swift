import Foundation
import JSON
import XCTest

/// Real processes: forming, reading and writing through every member, failover, restarts.
final class ClusterFormationTests: XCTestCase {
    func testIdenticalCommandsFormAClusterAndEveryMemberServesReadsAndWrites() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        let leader = try cluster.waitForLeader()

        let (code, output) = try cluster.cli("h2", ["members", "-o", "json"])
        XCTAssertEqual(code, 0, output)
        let members = try JSONValue.parse(output).arrayValue ?? []
        XCTAssertEqual(members.count, 3)
        XCTAssertEqual(members.filter { $0["voter"]?.boolValue == true }.count, 3)

        // A write through every member (followers hand it to the leader over the peer
        // connection and answer from their own store once applied) ...
        for name in cluster.names {
            let created = try cluster.api(name, "POST", "/api/v1/namespaces/default/configmaps",
                                          body: configMap("from-\(name)", ["host": name]))
            XCTAssertEqual(created.status, 201, "\(created.body)")
            XCTAssertEqual(created.body[path: ["metadata", "name"]]?.stringValue, "from-\(name)")
            // The store's own refusals come back the same way.
            let again = try cluster.api(name, "POST", "/api/v1/namespaces/default/configmaps",
                                        body: configMap("from-\(name)", ["host": name]))
            XCTAssertEqual(again.status, 409, "\(again.body)")
        }
        for name in cluster.names where name != leader {
            // Its two writes went to the leader (with its own Node and Lease writes).
            XCTAssertGreaterThanOrEqual(try cluster.metric(name, "shoal_writes_forwarded_total") ?? 0, 2, "\(name) handed its writes to the leader")
        }
        // ... is visible, linearizably, through every member.
        for name in cluster.names {
            let list = try cluster.api(name, "GET", "/api/v1/namespaces/default/configmaps")
            XCTAssertEqual(list.status, 200)
            XCTAssertEqual(Set((list.body["items"]?.arrayValue ?? []).compactMap { $0[path: ["metadata", "name"]]?.stringValue }),
                           ["from-h1", "from-h2", "from-h3"])
        }
        // The table the CLI prints.
        let table = try cluster.cli("h3", ["get", "configmaps"])
        XCTAssertTrue(table.output.hasPrefix("NAME"), table.output)
        XCTAssertTrue(table.output.contains("from-h2"))
    }

    func testKillingTheLeaderResumesWritesAndTheRestartedMemberCatchesUp() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        let leader = try cluster.waitForLeader()
        XCTAssertEqual(try cluster.api(leader, "POST", "/api/v1/namespaces/default/configmaps", body: configMap("before", [:])).status, 201)

        cluster.kill(leader)
        let survivors = cluster.names.filter { $0 != leader }
        try cluster.waitFor("a new leader among the survivors", timeout: 5) {
            (cluster.leader(among: survivors) ?? leader) != leader
        }
        var written = false
        try cluster.waitFor("a write after failover", timeout: 5) {
            let reply = try cluster.api(survivors[0], "POST", "/api/v1/namespaces/default/configmaps", body: configMap("after", [:]))
            written = reply.status == 201 || reply.status == 409
            return written
        }

        try cluster.restart(leader)
        try cluster.waitFor("the restarted member to catch up", timeout: 10) {
            let reply = try cluster.api(leader, "GET", "/api/v1/namespaces/default/configmaps/after")
            return reply.status == 200
        }
        XCTAssertEqual(try cluster.api(leader, "GET", "/api/v1/namespaces/default/configmaps/before").status, 200)
    }

    func testUnauthenticatedClientsAreRefused() throws {
        let cluster = try TestCluster(hostCount: 1)
        defer { cluster.shutDown() }
        try cluster.start("h1")
        _ = try cluster.waitForLeader()
        XCTAssertEqual(try cluster.api("h1", "GET", "/api/v1/namespaces/default/configmaps", token: "wrong").status, 401)
        XCTAssertEqual(try cluster.api("h1", "GET", "/shoal/v1/members", token: "").status, 401)
        XCTAssertEqual(try cluster.api("h1", "GET", "/healthz", token: "").status, 200, "health needs no token")
    }

    /// A host with another cluster's token cannot join or inject: the cluster's term and
    /// leader stay as they were, and the stranger is not a member.
    func testPeerWithoutTheTokenIsRefused() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in ["h1", "h2", "h3"] { try cluster.start(name) }
        let leader = try cluster.waitForLeader()
        let term = try cluster.status(leader)["term"]?.intValue

        func failedHandshakes() throws -> Double {
            try ["h1", "h2", "h3"].reduce(0) { $0 + (try cluster.metric($1, "shoal_peer_handshakes_failed_total") ?? 0) }
        }
        let failedBefore = try failedHandshakes()

        let stranger = cluster.addHost(4)
        let otherToken = try cluster.run([TestCluster.binary, "token", "--generate"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        try cluster.start(stranger, founding: false,
                          extra: ["--peers", cluster.founders, "--token", otherToken])
        // Evidence that the stranger tried, not a pause: the members closed at least three of
        // its connections before they authenticated (it dials each founder, and retries).
        try cluster.waitFor("the members to refuse the stranger's connections", timeout: 10) {
            try failedHandshakes() >= failedBefore + 3
        }
        XCTAssertEqual(try cluster.status(leader)["term"]?.intValue, term, "the stranger disturbed the cluster")
        XCTAssertEqual(cluster.leader(among: ["h1", "h2", "h3"]), leader)
        let members = try cluster.api(leader, "GET", "/shoal/v1/members").body.arrayValue ?? []
        XCTAssertEqual(members.count, 3)
        XCTAssertEqual(try cluster.status(stranger)["leader"], .null, "the stranger found no leader")
    }
}
