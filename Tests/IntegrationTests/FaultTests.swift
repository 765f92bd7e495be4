import API
import Foundation
import JSON
import XCTest

/// Real processes under network faults, and watches across leader changes.
final class FaultTests: XCTestCase {
    /// A leader cut off from the others (packets dropped, no FIN) steps down; the majority
    /// elects a new leader and keeps committing; the cut-off member answers writes and
    /// linearizable reads with a clear error instead of hanging, and catches up after healing.
    func testCutOffMinorityCannotCommitAndAnswersClearly() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        let leader = try cluster.waitForLeader()
        try cluster.cut(leader)
        let majority = cluster.names.filter { $0 != leader }
        var next = leader
        try cluster.waitFor("the majority to elect another leader", timeout: 5) {
            next = cluster.leader(among: majority) ?? leader
            return next != leader
        }
        XCTAssertEqual(try cluster.api(next, "POST", "/api/v1/namespaces/default/configmaps", body: configMap("majority", [:])).status, 201)

        try cluster.waitFor("the cut-off member to step down", timeout: 3) {
            (try cluster.status(leader)["role"]?.stringValue) != "leader"
        }
        let write = try cluster.api(leader, "POST", "/api/v1/namespaces/default/configmaps", body: configMap("minority", [:]),
                                    timeoutMilliseconds: 15_000)
        XCTAssertTrue([503, 504].contains(write.status), "\(write)")
        XCTAssertNotNil(write.body["message"]?.stringValue)
        let read = try cluster.api(leader, "GET", "/api/v1/namespaces/default/configmaps", timeoutMilliseconds: 15_000)
        XCTAssertTrue([503, 504].contains(read.status), "\(read)")
        // Nothing on the cut-off member's loop waits for the silent peers: not at the cut, not
        // when it gives their connections up as dead (silence timeout) and dials again. A
        // blocking call there once stalled it for seconds. The bound is far above scheduling
        // noise (the loop ticks every 10 ms; a busy CI machine starves it for a few hundred).
        try cluster.waitFor("the cut-off member to give up its silent peer connections", timeout: 30) {
            try cluster.metricSum(leader, "shoal_peer_connected") == 0
        }
        let stall = try XCTUnwrap(cluster.metric(leader, "shoal_loop_stall_max_seconds"))
        XCTAssertLessThan(stall, TestCluster.loopStallSecondsMax, "the cut-off member's event loop stalled:\n\(cluster.log(leader).suffix(3000))")

        cluster.healAll()
        try cluster.waitFor("the healed member to catch up", timeout: 10) {
            try cluster.api(leader, "GET", "/api/v1/namespaces/default/configmaps/majority").status == 200
        }
        XCTAssertEqual(try cluster.api(leader, "GET", "/api/v1/namespaces/default/configmaps/minority").status, 404)
    }

    /// A watch resumed from its last resourceVersion on another member after the leader
    /// dies sees every event exactly once, in order.
    func testWatchResumesAcrossLeaderChangeWithoutLossOrDuplicates() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        let leader = try cluster.waitForLeader()
        let watcher = cluster.names.first { $0 != leader }!
        let start = try cluster.api(watcher, "GET", "/api/v1/namespaces/default/configmaps").body[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0"

        var expected: [String] = []
        func write(_ i: Int, via name: String) throws {
            try cluster.waitFor("write \(i)", timeout: 5) {
                let reply = try cluster.api(name, "POST", "/api/v1/namespaces/default/configmaps", body: configMap("cm-\(i)", [:]))
                return reply.status == 201 || reply.status == 409
            }
            expected.append("cm-\(i)")
        }
        for i in 0..<10 { try write(i, via: leader) }
        var seen = try watch(cluster, on: watcher, from: start, until: 10)
        cluster.kill(leader)
        let survivors = cluster.names.filter { $0 != leader }
        _ = try cluster.waitForLeader(among: survivors, timeout: 5)
        for i in 10..<20 { try write(i, via: survivors[0]) }
        let other = survivors.first { $0 != watcher }!
        seen += try watch(cluster, on: other, from: seen.last!.version, until: 10)
        XCTAssertEqual(seen.map(\.name), expected, "every event once, in order")
        let versions = seen.compactMap { Int($0.version) }
        XCTAssertEqual(versions, versions.sorted())
        XCTAssertEqual(Set(versions).count, versions.count)
    }

    /// Reads `count` ADDED events from a watch starting after `version`.
    func watch(_ cluster: TestCluster, on name: String, from version: String, until count: Int) throws -> [(name: String, version: String)] {
        var events: [(name: String, version: String)] = []
        var buffer: [UInt8] = []
        let client = try cluster.httpClient(name, timeoutMilliseconds: 10_000)
        _ = try client.stream(target: "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(version)",
                              headers: [("Authorization", "Bearer \(cluster.apiToken(of: name))")], timeoutMilliseconds: 10_000) { bytes in
            buffer += bytes
            while let newline = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                guard let event = try? JSONValue.parse(line), event["type"]?.stringValue == "ADDED",
                      let object = event["object"], let name = object[path: ["metadata", "name"]]?.stringValue,
                      let rv = object[path: ["metadata", "resourceVersion"]]?.stringValue else { continue }
                events.append((name, rv))
            }
            return events.count < count
        }
        return events
    }
}
