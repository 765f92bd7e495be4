// shoal under test: agents on the hosts of `scripts/cluster` (network namespaces, as root),
// written to through POST /api/v1/namespaces/default/configmaps.
//
// The agents run with `--insecure-http` (plain HTTP; HTTPS is shoal's default): the failover
// benchmark compares shoal with etcd, which it runs over plain HTTP, and drives both with
// the same small keep-alive client (KeepAliveHTTPClient.swift), so TLS on one side only would
// make the comparison unfair, and the benchmark links no shoal module (nor OpenSSL) to speak
// it. What it measures (how long writes stall around a failure) does not depend on TLS: the
// clients keep their connections, so handshakes are not on the write path.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A local shoal cluster made and torn down with `scripts/cluster`. Also owns the hosts
/// (namespaces) on which etcd runs later: `stopAgents()` leaves them in place.
final class ShoalSystem: FailoverSystem, @unchecked Sendable {
    let label = "shoal"
    let apiPort: UInt16 = 7401
    let handOverRemovesMember = true
    let timing: RaftTiming
    private(set) var hosts: [BenchHost] = []
    private(set) var version = "unknown"

    /// The repository (for scripts/cluster).
    let repository: String
    /// scripts/cluster's base directory (data dirs h1.., logs, state).
    let base: String
    let net: Int
    let hostCount: Int
    let binary: String
    /// Flags given to every `shoal agent` (after `--` of `scripts/cluster up`).
    let agentFlags: [String]

    private var apiToken = ""
    private var joinToken = ""
    private var pids: [Int32] = []
    /// Member name (from its status) to host index.
    private var memberIndex: [String: Int] = [:]
    private var agentsStopped = false

    init(repository: String, base: String, net: Int, hostCount: Int, binary: String, agentFlags: [String]) {
        self.repository = repository
        self.base = base
        self.net = net
        self.hostCount = hostCount
        self.binary = binary
        self.agentFlags = [Self.plainHTTPFlag] + agentFlags
        timing = Self.timing(flags: agentFlags)
    }

    /// See the note at the top: plain HTTP, as etcd is driven in the same run.
    static let plainHTTPFlag = "--insecure-http"

    /// The timing the agent flags give (shoal's defaults: tick 10 ms, heartbeat every 2 ticks,
    /// election after 10 ticks, randomized up to 20).
    static func timing(flags: [String]) -> RaftTiming {
        func value(_ name: String, _ fallback: Int) -> Int {
            if let i = flags.firstIndex(of: name), i + 1 < flags.count, let v = Int(flags[i + 1]) { return v }
            return fallback
        }
        let tick = value("--tick-ms", 10), heartbeat = value("--heartbeat-ticks", 2), election = value("--election-ticks", 10)
        return RaftTiming(heartbeatMs: tick * heartbeat, electionMs: tick * election, electionMaxMs: 2 * tick * election,
                          note: "tick \(tick) ms, heartbeat every \(heartbeat) ticks, election after \(election)-\(2 * election) ticks"
                              + (flags.isEmpty ? " (shoal's defaults)" : " (agent flags \(flags.joined(separator: " ")))"))
    }

    /// Runs scripts/cluster with this cluster's base directory.
    @discardableResult
    func clusterTool(_ arguments: [String], timeout: Double = 30) throws -> CommandOutput {
        try runCommand(["\(repository)/scripts/cluster", "--base", base] + arguments, timeout: timeout)
    }

    func start() throws {
        let commit = (try? runCommand(["git", "-C", repository, "describe", "--always", "--dirty"], timeout: 10, check: false).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
        version = commit.isEmpty ? "unknown commit" : "commit \(commit)"
        Cleanup.shared.add("scripts/cluster down (\(base))") { [base, repository] in
            _ = try? runCommandIgnoringAbort(["\(repository)/scripts/cluster", "--base", base, "down"], timeout: 60)
        }
        try clusterTool(["up", String(hostCount), "--net", String(net), "--mode", "netns", "--binary", binary, "--timeout", "30"]
                        + ["--", "--no-workloads"] + agentFlags, timeout: 90)
        let prefix = net == 0 ? "shoal" : "shoal\(net)"
        hosts = try (1...hostCount).map { i in
            let address = try clusterTool(["addr", "h\(i)"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return BenchHost(name: "h\(i)", address: address, namespace: "\(prefix)-h\(i)")
        }
        let dir = try clusterTool(["dir", "h1"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        apiToken = try String(contentsOfFile: "\(dir)/api-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        pids = try (0..<hostCount).map { try pid(of: $0) }
        for (i, host) in hosts.enumerated() {
            // Member names are "shoal-" + the address with dashes; confirm with each status.
            memberIndex["shoal-" + host.address.replacingOccurrences(of: ".", with: "-")] = i
            let client = KeepAliveHTTPClient(host: host.address, port: apiPort)
            let request = statusRequest(member: i)
            if case .response(200, let body) = client.exchange(head: request.head, body: request.body,
                                                              deadline: monotonicNanoseconds() + 5_000_000_000),
               let name = jsonObject(body)?["name"] as? String {
                memberIndex[name] = i
            }
        }
        let client = KeepAliveHTTPClient(host: hosts[0].address, port: apiPort)
        guard case .response(200, let body) = client.exchange(head: "GET /shoal/v1/token HTTP/1.1\r\nAuthorization: Bearer \(apiToken)\r\n",
                                                              body: [], deadline: monotonicNanoseconds() + 5_000_000_000),
              let token = jsonObject(body)?["token"] as? String else {
            throw BenchFailure("shoal: cannot read the join token from h1")
        }
        joinToken = token
    }

    /// Kills every agent but keeps the hosts (for etcd on the same namespaces).
    func stopAgents() throws {
        for i in 0..<hostCount where processIsAlive(pids[i]) { try clusterTool(["kill", hosts[i].name]) }
        agentsStopped = true
    }

    /// Copies every agent's log (scripts/cluster keeps them as `<base>/hN.log`) into `directory`.
    func copyLogs(to directory: String) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for i in 0..<hostCount {
            let target = "\(directory)/\(hosts[i].name).log"
            try? FileManager.default.removeItem(atPath: target)
            try? FileManager.default.copyItem(atPath: "\(base)/h\(i + 1).log", toPath: target)
        }
    }

    func shutDown() {
        _ = try? runCommandIgnoringAbort(["\(repository)/scripts/cluster", "--base", base, "down"], timeout: 60)
        Cleanup.shared.remove("scripts/cluster down (\(base))")
    }

    private func pid(of member: Int) throws -> Int32 {
        let text = try clusterTool(["pid", hosts[member].name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = Int32(text) else { throw BenchFailure("scripts/cluster pid \(hosts[member].name) printed '\(text)'") }
        return pid
    }

    // MARK: Requests

    func statusRequest(member: Int) -> BenchRequest {
        BenchRequest(head: "GET /shoal/v1/status HTTP/1.1\r\nAuthorization: Bearer \(apiToken)\r\n", body: [])
    }

    func parseStatus(_ body: [UInt8], member: Int, atNs: UInt64) -> MemberView? {
        guard let o = jsonObject(body), o["clustered"] as? Bool == true, let role = o["role"] as? String,
              let term = jsonUInt64(o["term"]) else { return nil }
        let leaderName = o["leader"] as? String
        return MemberView(atNs: atNs, leads: role == "leader", term: term, leader: leaderName.flatMap { memberIndex[$0] },
                          commit: jsonUInt64(o["commitIndex"]) ?? 0, applied: jsonUInt64(o["appliedIndex"]) ?? 0,
                          voters: (o["voters"] as? [Any])?.count)
    }

    func writeRequest(group: WriteGroup, writer: Int, sequence: Int, value: String) -> BenchRequest {
        let name = group.key(writer: writer, sequence: sequence)
        let body = "{\"metadata\":{\"name\":\"\(name)\",\"labels\":{\"bench-scenario\":\"\(group.scenario)\","
            + "\"bench-trial\":\"\(group.scenario)-\(group.trial)\"}},\"data\":{\"v\":\"\(value)\"}}"
        return BenchRequest(head: "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nAuthorization: Bearer \(apiToken)\r\n"
                                + "Content-Type: application/json\r\n", body: Array(body.utf8))
    }

    func classifyWrite(status: Int, body: [UInt8]) -> WriteOutcome {
        if status == 201 || status == 200 { return .success }
        // 504: "may still have been applied" (Sources/API/APIRoute.swift).
        return status == 504 ? .indeterminate : .failed
    }

    func readKeys(scenario: String, trial: Int?, via member: Int) throws -> Set<String> {
        let selector = trial.map { "bench-trial%3D\(scenario)-\($0)" } ?? "bench-scenario%3D\(scenario)"
        let client = KeepAliveHTTPClient(host: hosts[member].address, port: apiPort)
        let head = "GET /api/v1/namespaces/default/configmaps?labelSelector=\(selector) HTTP/1.1\r\nAuthorization: Bearer \(apiToken)\r\n"
        switch client.exchange(head: head, body: [], deadline: monotonicNanoseconds() + 30_000_000_000) {
        case .response(200, let body):
            return Set(scanStringValues(field: "name", in: body).filter { $0.hasPrefix("fo-") })
        case .response(let status, let body):
            throw BenchFailure("shoal: reading back \(scenario) via \(hosts[member].name): \(status) \(String(decoding: body.prefix(300), as: UTF8.self))")
        case .notSent(let why), .lost(let why):
            throw BenchFailure("shoal: reading back \(scenario) via \(hosts[member].name): \(why)")
        }
    }

    // MARK: Faults (signals are sent directly, at the recorded instant; scripts/cluster heal)

    func kill(_ member: Int) throws {
        let pid = pids[member]
        guard Glibc.kill(pid, SIGKILL) == 0 else { throw BenchFailure("kill -KILL \(pid) (\(hosts[member].name)) failed") }
        let giveUp = monotonicNanoseconds() + 5_000_000_000
        while processIsAlive(pid) && monotonicNanoseconds() < giveUp { sleepNanoseconds(1_000_000) }
        if processIsAlive(pid) { throw BenchFailure("\(hosts[member].name) (pid \(pid)) survived SIGKILL") }
    }

    func restart(_ member: Int) throws {
        try clusterTool(["restart", hosts[member].name])
        pids[member] = try pid(of: member)
    }

    func pause(_ member: Int) throws {
        guard Glibc.kill(pids[member], SIGSTOP) == 0 else { throw BenchFailure("kill -STOP \(pids[member]) failed") }
    }

    func resume(_ member: Int) throws {
        guard Glibc.kill(pids[member], SIGCONT) == 0 else { throw BenchFailure("kill -CONT \(pids[member]) failed") }
    }

    func heal(_ member: Int) throws { try clusterTool(["heal", hosts[member].name]) }

    func handOverRequest(leader: Int, heir: Int) -> BenchRequest {
        BenchRequest(head: "POST /shoal/v1/leave HTTP/1.1\r\nAuthorization: Bearer \(apiToken)\r\n", body: [])
    }

    /// A member that left refuses to start again: wipe its data directory, start a fresh
    /// agent without --peers (with the same flags otherwise), and `join` it through the leader.
    func restoreAfterHandOver(_ member: Int, leader: Int) throws {
        let host = hosts[member]
        let oldPid = pids[member]
        let giveUp = monotonicNanoseconds() + 10_000_000_000
        while processIsAlive(oldPid) && monotonicNanoseconds() < giveUp { sleepNanoseconds(5_000_000) }
        if processIsAlive(oldPid) {
            Glibc.kill(oldPid, SIGKILL)
            sleepNanoseconds(100_000_000)
        }
        let dir = "\(base)/\(host.name)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let process = try spawnBackground(
            ["ip", "netns", "exec", host.namespace, binary, "agent", "--data-dir", dir, "--advertise", host.address,
             "--peer-port", "7400", "--api-port", String(apiPort), "--no-workloads"] + agentFlags,
            logPath: "\(base)/\(host.name).log")
        pids[member] = process.processIdentifier
        // scripts/cluster finds agents through their pid files (kill, restart, down).
        try "\(process.processIdentifier)\n".write(toFile: "\(base)/\(host.name).pid", atomically: true, encoding: .utf8)
        let localToken = try waitForFile("\(dir)/local-token", seconds: 10)
        let client = KeepAliveHTTPClient(host: host.address, port: apiPort)
        let body = "{\"endpoint\":\"\(hosts[leader].address):\(apiPort)\",\"token\":\"\(joinToken)\"}"
        let deadline = monotonicNanoseconds() + 20_000_000_000
        var last = ""
        while monotonicNanoseconds() < deadline {
            guard process.isRunning else { throw BenchFailure("shoal: the re-joining agent on \(host.name) exited; see \(base)/\(host.name).log") }
            let result = client.exchange(head: "POST /shoal/v1/join HTTP/1.1\r\nAuthorization: Bearer \(localToken)\r\nContent-Type: application/json\r\n",
                                         body: Array(body.utf8), deadline: monotonicNanoseconds() + 16_000_000_000)
            switch result {
            case .response(200, _): return
            case .response(let status, let answer): last = "\(status) \(String(decoding: answer.prefix(300), as: UTF8.self))"
            case .notSent(let why), .lost(let why): last = why
            }
            sleepNanoseconds(50_000_000)
        }
        throw BenchFailure("shoal: \(host.name) could not join again: \(last)")
    }

    private func waitForFile(_ path: String, seconds: Double) throws -> String {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while monotonicNanoseconds() < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            sleepNanoseconds(10_000_000)
        }
        throw BenchFailure("\(path) did not appear within \(seconds) s")
    }
}

/// `runCommand` that also runs while the benchmark is being interrupted (for cleanup).
@discardableResult
func runCommandIgnoringAbort(_ arguments: [String], timeout: Double) throws -> CommandOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.standardError
    process.standardError = FileHandle.standardError
    let start = monotonicNanoseconds()
    try process.run()
    let deadline = start + UInt64(timeout * 1e9)
    while process.isRunning && monotonicNanoseconds() < deadline { sleepNanoseconds(5_000_000) }
    if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return CommandOutput(status: process.terminationStatus, stdout: "", stderr: "", seconds: Double(monotonicNanoseconds() - start) / 1e9)
}
