import Foundation
import JSON
import XCTest

/// Real processes: init, join, leave, remove, wiped data directories.
final class MembershipTests: XCTestCase {
    func testInitJoinLeaveRemoveCycle() throws {
        let cluster = try TestCluster(hostCount: 4)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name, founding: false) }

        let initialized = try cluster.cli("h1", ["init", "-o", "json"])
        XCTAssertEqual(initialized.status, 0, initialized.output)
        let token = try JSONValue.parse(initialized.output)["token"]?.stringValue ?? ""
        XCTAssertTrue(token.hasPrefix("shoal1."))
        XCTAssertEqual(try cluster.cli("h1", ["token"]).output.trimmingCharacters(in: .whitespacesAndNewlines), token)

        for name in ["h2", "h3", "h4"] {
            let joined = try cluster.cli(name, ["join", "\(cluster.ip("h1")):7401", "--token", token])
            XCTAssertEqual(joined.status, 0, joined.output)
        }
        try cluster.waitFor("four voters", timeout: 15) {
            let members = try cluster.api("h1", "GET", "/shoal/v1/members").body.arrayValue ?? []
            return members.count == 4 && members.allSatisfy { $0["voter"]?.boolValue == true }
        }

        // The leader leaves gracefully: leadership moves first, then it is removed and stops.
        let leader = try cluster.waitForLeader()
        let left = try cluster.cli(leader, ["leave"])
        XCTAssertEqual(left.status, 0, left.output)
        try cluster.waitFor("the leaver to stop", timeout: 5) { !cluster.isRunning(leader) }
        let remaining = cluster.names.filter { $0 != leader }
        let newLeader = try cluster.waitForLeader(among: remaining)
        XCTAssertNotEqual(newLeader, leader)
        XCTAssertEqual(try cluster.api(newLeader, "GET", "/shoal/v1/members").body.arrayValue?.count, 3)

        // A dead member is removed by name.
        let victim = remaining.first { $0 != newLeader }!
        cluster.kill(victim)
        let removed = try cluster.cli(newLeader, ["remove", cluster.memberName(victim)])
        XCTAssertEqual(removed.status, 0, removed.output)
        let members = try cluster.api(newLeader, "GET", "/shoal/v1/members").body.arrayValue ?? []
        XCTAssertEqual(members.compactMap { $0["name"]?.stringValue }.sorted(),
                       remaining.filter { $0 != victim }.map(cluster.memberName).sorted())
        XCTAssertEqual(try cluster.api(newLeader, "POST", "/api/v1/namespaces/default/configmaps", body: configMap("still-writable", [:])).status, 201)
    }

    func testWipedFounderGetsAClearErrorUntilRemovedAndJoinedAgain() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        _ = try cluster.waitForLeader()
        try cluster.waitFor("member objects", timeout: 10) {
            (try cluster.api("h1", "GET", "/apis/shoal.dev/v1/members").body["items"]?.arrayValue?.count) == 3
        }
        cluster.kill("h3")
        try FileManager.default.removeItem(atPath: "\(cluster.base)/h3")
        let result = try cluster.run([TestCluster.binary, "agent", "--data-dir", "\(cluster.base)/h3", "--advertise", cluster.ip("h3"),
                                      "--peers", cluster.founders, "--token", cluster.token, "--no-workloads"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("data was lost"), result.output)
        XCTAssertTrue(result.output.contains("shoal remove"), result.output)

        XCTAssertEqual(try cluster.cli("h1", ["remove", cluster.memberName("h3")]).status, 0)
        try FileManager.default.removeItem(atPath: "\(cluster.base)/h3")
        try cluster.start("h3", founding: false)
        let joined = try cluster.cli("h3", ["join", "\(cluster.ip("h1")):7401", "--token", cluster.token])
        XCTAssertEqual(joined.status, 0, joined.output)
        try cluster.waitFor("h3 back as a voter", timeout: 15) {
            let members = try cluster.api("h1", "GET", "/shoal/v1/members").body.arrayValue ?? []
            return members.count == 3 && members.allSatisfy { $0["voter"]?.boolValue == true && $0["health"]?.stringValue == "healthy" }
        }
    }
}

/// Real processes: recovering one survivor after losing quorum.
final class RecoveryTests: XCTestCase {
    func testForceNewClusterRecoversALoneSurvivorWithItsData() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        let leader = try cluster.waitForLeader()
        XCTAssertEqual(try cluster.api(leader, "POST", "/api/v1/namespaces/default/configmaps", body: configMap("kept", ["a": "1"])).status, 201)
        let survivor = cluster.names.first { $0 != leader }!
        try cluster.waitFor("the write to reach \(survivor)", timeout: 5) {
            try cluster.api(survivor, "GET", "/api/v1/namespaces/default/configmaps/kept?resourceVersion=0").status == 200
        }
        for name in cluster.names { cluster.kill(name) }  // quorum lost for good

        try cluster.start(survivor, extra: ["--force-new-cluster"])
        let recovered = try cluster.waitForLeader(among: [survivor])
        XCTAssertEqual(recovered, survivor)
        XCTAssertEqual(try cluster.api(survivor, "GET", "/api/v1/namespaces/default/configmaps/kept").status, 200, "its data is kept")
        XCTAssertEqual(try cluster.api(survivor, "POST", "/api/v1/namespaces/default/configmaps", body: configMap("new", [:])).status, 201)
        let members = try cluster.api(survivor, "GET", "/shoal/v1/members").body.arrayValue ?? []
        XCTAssertEqual(members.count, 1)
    }
}
