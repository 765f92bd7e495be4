// etcd under test, for `shoal-bench failover --compare etcd`: a 3-member etcd (Debian's
// etcd-server) started in the same network namespaces as the shoal hosts, written to through
// its v3 JSON gateway (POST /v3/kv/put).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An etcd cluster on the hosts of a `ShoalSystem` (whose agents are stopped by then).
final class EtcdSystem: FailoverSystem, @unchecked Sendable {
    let label: String
    let apiPort: UInt16 = 2379
    let peerPort: UInt16 = 2380
    let handOverRemovesMember = false
    let timing: RaftTiming
    let hosts: [BenchHost]
    private(set) var version = "unknown"

    /// Where the data directories live (the same file system as shoal's).
    let dataRoot: String
    /// Flags beyond the cluster's addresses (the timing ones for the tuned run).
    let extraFlags: [String]
    /// heal through scripts/cluster (the hosts' namespaces belong to it).
    private let network: ShoalSystem
    private var processes: [Process?]
    /// Each member's id (decimal, as the gateway prints it), learned from its status.
    private var memberIDs: [String]

    /// `heartbeatMs`/`electionMs` nil: etcd's defaults (100 ms, 1000 ms), no flags passed.
    init(label: String, network: ShoalSystem, dataRoot: String, heartbeatMs: Int?, electionMs: Int?) {
        self.label = label
        self.network = network
        hosts = network.hosts
        self.dataRoot = dataRoot
        if let heartbeatMs, let electionMs {
            extraFlags = ["--heartbeat-interval", String(heartbeatMs), "--election-timeout", String(electionMs)]
            timing = RaftTiming(heartbeatMs: heartbeatMs, electionMs: electionMs, electionMaxMs: 2 * electionMs,
                                note: "--heartbeat-interval \(heartbeatMs) --election-timeout \(electionMs) (shoal's timings)")
        } else {
            extraFlags = []
            timing = RaftTiming(heartbeatMs: 100, electionMs: 1000, electionMaxMs: 2000, note: "etcd's defaults (heartbeat 100 ms, election 1000 ms)")
        }
        processes = Array(repeating: nil, count: network.hosts.count)
        memberIDs = Array(repeating: "", count: network.hosts.count)
    }

    /// Installs etcd-server and etcd-client with apt-get if `etcd` is not on PATH.
    static func ensureInstalled() throws {
        let found = try runCommand(["sh", "-c", "command -v etcd && command -v etcdctl"], timeout: 10, check: false)
        if found.status == 0 { return }
        print("installing etcd-server and etcd-client (apt-get)")
        try aptInstall(["etcd-server", "etcd-client"])
        // On a host with systemd the package starts its own etcd on localhost: stop it, it
        // would compete for the processors.
        _ = try? runCommand(["sh", "-c", "command -v systemctl >/dev/null && systemctl is-active --quiet etcd && systemctl stop etcd"],
                            timeout: 30, check: false)
    }

    private func arguments(_ member: Int) -> [String] {
        let host = hosts[member]
        let cluster = hosts.enumerated().map { "e\($0.offset + 1)=http://\($0.element.address):\(peerPort)" }.joined(separator: ",")
        return ["ip", "netns", "exec", host.namespace, "etcd", "--name", "e\(member + 1)", "--data-dir", "\(dataRoot)/e\(member + 1)",
                "--listen-client-urls", "http://\(host.address):\(apiPort)", "--advertise-client-urls", "http://\(host.address):\(apiPort)",
                "--listen-peer-urls", "http://\(host.address):\(peerPort)", "--initial-advertise-peer-urls", "http://\(host.address):\(peerPort)",
                "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", "shoal-bench-\(label)",
                "--logger", "zap", "--log-level", "warn"] + extraFlags
    }

    func start() throws {
        version = (try? runCommand(["etcd", "--version"], timeout: 10, check: false).stdout.split(separator: "\n").first.map(String.init)) ?? "unknown"
        try? FileManager.default.removeItem(atPath: dataRoot)
        try FileManager.default.createDirectory(atPath: dataRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        Cleanup.shared.add("stop \(label)") { [weak self] in self?.shutDown() }
        for member in hosts.indices { try spawn(member) }
        for member in hosts.indices {
            guard let view = try waitForStatus(member, seconds: 30) else { continue }
            _ = view
        }
    }

    private func spawn(_ member: Int) throws {
        processes[member] = try spawnBackground(arguments(member), logPath: "\(dataRoot)/e\(member + 1).log")
    }

    /// Waits until the member answers its status (learning its id); nil if it never does.
    @discardableResult
    private func waitForStatus(_ member: Int, seconds: Double) throws -> MemberView? {
        let client = KeepAliveHTTPClient(host: hosts[member].address, port: apiPort)
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while monotonicNanoseconds() < deadline {
            guard processes[member]?.isRunning == true else {
                throw BenchFailure("\(label): etcd on \(hosts[member].name) exited; see \(dataRoot)/e\(member + 1).log")
            }
            let request = statusRequest(member: member)
            if case .response(200, let body) = client.exchange(head: request.head, body: request.body,
                                                              deadline: monotonicNanoseconds() + 1_000_000_000),
               let header = jsonObject(body)?["header"] as? [String: Any], let id = jsonUInt64(header["member_id"]) {
                memberIDs[member] = String(id)
                return parseStatus(body, member: member, atNs: monotonicNanoseconds())
            }
            sleepNanoseconds(20_000_000)
        }
        throw BenchFailure("\(label): etcd on \(hosts[member].name) did not answer within \(seconds) s")
    }

    func shutDown() {
        for process in processes.compactMap({ $0 }) { stopProcess(process) }
        processes = Array(repeating: nil, count: hosts.count)
        try? FileManager.default.removeItem(atPath: dataRoot)
        Cleanup.shared.remove("stop \(label)")
    }

    // MARK: Requests

    func statusRequest(member: Int) -> BenchRequest {
        BenchRequest(head: "POST /v3/maintenance/status HTTP/1.1\r\nContent-Type: application/json\r\n", body: Array("{}".utf8))
    }

    func parseStatus(_ body: [UInt8], member: Int, atNs: UInt64) -> MemberView? {
        guard let o = jsonObject(body), let header = o["header"] as? [String: Any],
              let id = jsonUInt64(header["member_id"]), let term = jsonUInt64(o["raftTerm"]) else { return nil }
        let leader = jsonUInt64(o["leader"]) ?? 0
        return MemberView(atNs: atNs, leads: leader != 0 && leader == id, term: term,
                          leader: leader == 0 ? nil : memberIDs.firstIndex(of: String(leader)),
                          commit: jsonUInt64(o["raftIndex"]) ?? 0, applied: jsonUInt64(o["raftAppliedIndex"]) ?? 0, voters: nil)
    }

    func writeRequest(group: WriteGroup, writer: Int, sequence: Int, value: String) -> BenchRequest {
        let key = "fo/\(group.scenario)/\(group.trial)/\(writer)-\(sequence)"
        let body = "{\"key\":\"\(Data(key.utf8).base64EncodedString())\",\"value\":\"\(Data(value.utf8).base64EncodedString())\"}"
        return BenchRequest(head: "POST /v3/kv/put HTTP/1.1\r\nContent-Type: application/json\r\n", body: Array(body.utf8))
    }

    func classifyWrite(status: Int, body: [UInt8]) -> WriteOutcome {
        if status == 200 { return .success }
        // "etcdserver: request timed out" and "... leader changed" may have been applied.
        let text = String(decoding: body.prefix(512), as: UTF8.self)
        return text.contains("timed out") || text.contains("leader changed") ? .indeterminate : .failed
    }

    func readKeys(scenario: String, trial: Int?, via member: Int) throws -> Set<String> {
        let prefix = "fo/\(scenario)/" + (trial.map { "\($0)/" } ?? "")
        var end = Array(prefix.utf8)
        end[end.count - 1] += 1
        let body = "{\"key\":\"\(Data(prefix.utf8).base64EncodedString())\",\"range_end\":\"\(Data(end).base64EncodedString())\",\"keys_only\":true}"
        let client = KeepAliveHTTPClient(host: hosts[member].address, port: apiPort)
        switch client.exchange(head: "POST /v3/kv/range HTTP/1.1\r\nContent-Type: application/json\r\n", body: Array(body.utf8),
                               deadline: monotonicNanoseconds() + 30_000_000_000) {
        case .response(200, let answer):
            var keys = Set<String>()
            for encoded in scanStringValues(field: "key", in: answer) {
                guard let data = Data(base64Encoded: encoded), let key = String(data: data, encoding: .utf8) else { continue }
                // fo/<scenario>/<trial>/<writer>-<sequence> → fo-<scenario>-<trial>-<writer>-<sequence>
                keys.insert(key.replacingOccurrences(of: "/", with: "-"))
            }
            return keys
        case .response(let status, let answer):
            throw BenchFailure("\(label): reading back \(scenario): \(status) \(String(decoding: answer.prefix(300), as: UTF8.self))")
        case .notSent(let why), .lost(let why):
            throw BenchFailure("\(label): reading back \(scenario): \(why)")
        }
    }

    // MARK: Faults

    private func signal(_ member: Int, _ number: Int32) throws {
        guard let process = processes[member], process.isRunning else { throw BenchFailure("\(label): \(hosts[member].name) is not running") }
        guard Glibc.kill(process.processIdentifier, number) == 0 else { throw BenchFailure("\(label): kill(\(number)) failed") }
    }

    func kill(_ member: Int) throws {
        try signal(member, SIGKILL)
        let giveUp = monotonicNanoseconds() + 5_000_000_000
        while processes[member]?.isRunning == true && monotonicNanoseconds() < giveUp { sleepNanoseconds(1_000_000) }
        if processes[member]?.isRunning == true { throw BenchFailure("\(label): \(hosts[member].name) survived SIGKILL") }
    }

    func restart(_ member: Int) throws {
        if let old = processes[member], old.isRunning { stopProcess(old) }
        try spawn(member)
        try waitForStatus(member, seconds: 30)
    }

    func pause(_ member: Int) throws { try signal(member, SIGSTOP) }
    func resume(_ member: Int) throws { try signal(member, SIGCONT) }
    func heal(_ member: Int) throws { try network.clusterTool(["heal", hosts[member].name]) }

    /// etcdctl move-leader's request (Maintenance.MoveLeader), sent through the gateway so that
    /// its start is timed like shoal's leave request (no CLI start-up in the measurement).
    func handOverRequest(leader: Int, heir: Int) -> BenchRequest {
        BenchRequest(head: "POST /v3/maintenance/transfer-leadership HTTP/1.1\r\nContent-Type: application/json\r\n",
                     body: Array("{\"targetID\":\"\(memberIDs[heir])\"}".utf8))
    }

    func restoreAfterHandOver(_ member: Int, leader: Int) throws {}
}
