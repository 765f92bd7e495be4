import Foundation
import JSON
import XCTest

/// The local cluster tool (scripts/cluster), end to end: up, leader, kill, a new leader,
/// cut and heal, restart, down — and nothing left behind.
final class ClusterToolTests: XCTestCase {
    func testClusterToolUpFailoverCutAndDownLeavesNothing() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/cluster").path
        guard FileManager.default.isExecutableFile(atPath: TestCluster.binary) else { throw XCTSkip("shoal is not built") }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-tool-\(UUID().uuidString)").path
        let net = String(20 + getpid() % 30)
        func tool(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [script] + arguments
            var environment = ProcessInfo.processInfo.environment
            environment["SHOAL_CLUSTER_BASE"] = base
            environment["SHOAL_BINARY"] = TestCluster.binary
            process.environment = environment
            let pipe = Pipe()
            let errors = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-tool-\(UUID().uuidString).err")
            FileManager.default.createFile(atPath: errors.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: errors) }
            process.standardOutput = pipe
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let output = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if process.terminationStatus != 0 {
                let message = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
                print("scripts/cluster \(arguments.joined(separator: " ")) failed: \(message)")
            }
            return (process.terminationStatus, output)
        }
        defer { _ = try? tool(["down"]) }

        let up = try tool(["up", "3", "--net", net])
        XCTAssertEqual(up.status, 0, up.output)
        XCTAssertTrue(up.output.contains("VOTING"), "up prints `shoal members`: \(up.output)")
        let hosts = try tool(["hosts"]).output.split(whereSeparator: \.isNewline).map(String.init)
        XCTAssertEqual(hosts, ["h1", "h2", "h3"])

        let leader = try tool(["leader"]).output
        XCTAssertTrue(hosts.contains(leader), leader)
        XCTAssertEqual(try tool(["kill", leader]).status, 0)
        let next = try tool(["leader", "--wait", "10", "--exclude", leader])
        XCTAssertEqual(next.status, 0)
        XCTAssertNotEqual(next.output, leader)
        XCTAssertEqual(try tool(["restart", leader]).status, 0)

        if getuid() == 0 {
            XCTAssertEqual(try tool(["cut", next.output]).status, 0)
            let third = try tool(["leader", "--wait", "10", "--exclude", next.output])
            XCTAssertEqual(third.status, 0, "the others elect a leader while \(next.output) is cut off")
            XCTAssertEqual(try tool(["heal", next.output]).status, 0)
        }

        XCTAssertEqual(try tool(["down"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: base), "down removes the base directory")
        let leftover = try TestCluster.runCommand(["/usr/bin/pgrep", "-f", base])
        XCTAssertNotEqual(leftover.status, 0, "no agent left running: \(leftover.output)")
        if getuid() == 0 {
            let namespaces = try TestCluster.runCommand(["/usr/sbin/ip", "netns", "list"]).output
            XCTAssertFalse(namespaces.contains("shoal\(net)-"), namespaces)
        }
    }

    /// The member's own metrics are served without a token, in Prometheus' text format.
    func testMetricsExposeRaftAndStorage() throws {
        let cluster = try TestCluster(hostCount: 1)
        defer { cluster.shutDown() }
        try cluster.start("h1")
        _ = try cluster.waitForLeader()
        XCTAssertEqual(try cluster.api("h1", "POST", "/api/v1/namespaces/default/configmaps", body: configMap("m", [:])).status, 201)
        // The leader writes its own Member object, the system namespaces and the kubernetes
        // Service on its own schedule (every 10 ticks), so the count settles shortly after the
        // write returns: it must then equal the store's own count, and hold the ConfigMap.
        func objects(_ text: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix("shoal_store_objects ") }.flatMap { Int($0.split(separator: " ")[1]) }
        }
        var (status, body) = try cluster.api("h1", "GET", "/metrics", token: "")
        let deadline = Date().addingTimeInterval(5)
        while objects(body.stringValue ?? "") != (try cluster.status("h1"))["objects"]?.intValue.map(Int.init) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            (status, body) = try cluster.api("h1", "GET", "/metrics", token: "")
        }
        XCTAssertEqual(status, 200)
        let text = body.stringValue ?? ""
        // The member's families and the API server's own (requests answered so far, TLS).
        for family in ["shoal_raft_term", "shoal_raft_is_leader 1", "shoal_raft_commit_index", "shoal_wal_sync_seconds_bucket",
                       "shoal_store_objects ", "shoal_api_requests_total{method=\"POST\",code=\"201\"} ",
                       "shoal_api_request_duration_seconds_count ", "shoal_api_connections ", "shoal_api_tls_failures_total"] {
            XCTAssertTrue(text.contains(family), "missing \(family) in\n\(text)")
        }
        XCTAssertGreaterThanOrEqual(objects(text) ?? 0, 2, "the ConfigMap and the leader's Member at least")
    }
}

extension TestCluster {
    static func runCommand(_ command: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
