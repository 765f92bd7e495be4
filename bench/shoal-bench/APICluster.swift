// The cluster `shoal-bench api` drives: `scripts/cluster up` with the release shoal, over
// HTTPS (shoal's default), and the credentials kubectl would use: the cluster CA and the
// bearer token from a member's data directory (docs/tls.md).
import Foundation
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// A local shoal cluster for the API benchmark, made and removed with `scripts/cluster`.
final class APICluster {
    struct Member {
        var name: String
        var address: String
        var pid: Int32
    }

    let repository: String
    let base: String
    let net: Int
    let hostCount: Int
    let binary: String
    let agentFlags: [String]
    /// Whether the members run pods (containerd); the API and scheduler benchmarks' do not.
    let workloads: Bool
    let apiPort: UInt16 = 7401

    private(set) var members: [Member] = []
    private(set) var token = ""
    private(set) var caPEM = ""
    private(set) var tls: TLSContext!

    init(repository: String, base: String, net: Int, hostCount: Int, binary: String, agentFlags: [String], workloads: Bool = false) {
        self.workloads = workloads
        self.repository = repository
        self.base = base
        self.net = net
        self.hostCount = hostCount
        self.binary = binary
        self.agentFlags = agentFlags
    }

    @discardableResult
    func clusterTool(_ arguments: [String], timeout: Double = 30) throws -> CommandOutput {
        try runCommand(["\(repository)/scripts/cluster", "--base", base] + arguments, timeout: timeout)
    }

    /// Starts the hosts, waits for a leader, reads the credentials and checks that every
    /// member answers over verified HTTPS.
    func start() throws {
        Cleanup.shared.add("scripts/cluster down (\(base))") { [base, repository] in
            _ = try? runCommandIgnoringAbort(["\(repository)/scripts/cluster", "--base", base, "down"], timeout: 60)
        }
        // A cluster left behind by an interrupted run of this benchmark (same base) goes first.
        _ = try? runCommand(["\(repository)/scripts/cluster", "--base", base, "down"], timeout: 60, check: false)
        try clusterTool(["up", String(hostCount), "--net", String(net), "--mode", "netns", "--binary", binary, "--timeout", "60"]
                        + ["--"] + (workloads ? [] : ["--no-workloads"]) + agentFlags, timeout: 120)
        members = try (1...hostCount).map { i in
            let name = "h\(i)"
            let address = try clusterTool(["addr", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let pidText = try clusterTool(["pid", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let pid = Int32(pidText) else { throw BenchFailure("scripts/cluster pid \(name) printed '\(pidText)'") }
            return Member(name: name, address: address, pid: pid)
        }
        let dir = try clusterTool(["dir", "h1"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        token = try String(contentsOfFile: "\(dir)/api-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        caPEM = try String(contentsOfFile: "\(dir)/ca.crt", encoding: .utf8)
        do {
            tls = try TLSContext.client(trustedRootsPEM: caPEM)
        } catch {
            throw BenchFailure("cannot trust h1's ca.crt: \(error)")
        }
        for member in members {
            let connection = HTTPSConnection(host: member.address, port: apiPort, tls: tls)
            let result = connection.exchange(head: "GET /version HTTP/1.1\r\n\(authorization)", deadline: monotonicNanoseconds() + 10_000_000_000)
            guard case .response(200, _) = result else {
                throw BenchFailure("\(member.name) (\(member.address)) did not answer GET /version over verified HTTPS: \(result)")
            }
        }
    }

    /// "Authorization: Bearer <token>\r\n".
    var authorization: String { "Authorization: Bearer \(token)\r\n" }

    func connection(to member: Int) -> HTTPSConnection {
        HTTPSConnection(host: members[member].address, port: apiPort, tls: tls)
    }

    /// The member's log file (scripts/cluster keeps it as `<base>/hN.log`).
    func logPath(_ member: Int) -> String { "\(base)/\(members[member].name).log" }

    /// Copies every member's log into `directory`.
    func copyLogs(to directory: String) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for i in members.indices {
            let target = "\(directory)/\(members[i].name).log"
            try? FileManager.default.removeItem(atPath: target)
            try? FileManager.default.copyItem(atPath: logPath(i), toPath: target)
        }
    }

    /// Leaves the cluster running (for a look at it after a run): no cleanup will remove it.
    func keepRunning() {
        Cleanup.shared.remove("scripts/cluster down (\(base))")
    }

    func shutDown() {
        _ = try? runCommandIgnoringAbort(["\(repository)/scripts/cluster", "--base", base, "down"], timeout: 60)
        Cleanup.shared.remove("scripts/cluster down (\(base))")
    }

    /// Waits (up to `seconds`) until processes other than the members and this
    /// benchmark use less than 10% of one processor over 2 s: other sessions' builds and
    /// tests on a shared machine take processors from the members. Returns the last
    /// measured share (of one processor).
    func waitForQuiet(seconds waitQuietSeconds: Double) -> Double {
        let giveUp = monotonicNanoseconds() + UInt64(waitQuietSeconds * 1e9)
        var waited = false
        while true {
            let meter = CPUMeter(self)
            sleepNanoseconds(2_000_000_000)
            let other = meter.finish().others
            if other < 0.10 || monotonicNanoseconds() >= giveUp || waitQuietSeconds <= 0 {
                if waited || other >= 0.10 {
                    say("  other work on the machine: \(percent(other)) of a processor" + (other >= 0.10 ? " (not quiet; going on)" : ""))
                }
                return other
            }
            if !waited { say("  waiting for other work on the machine to stop (\(percent(other)) of a processor)") }
            waited = true
        }
    }

    /// Creates the namespaces that do not exist yet. The first write also waits for the
    /// cluster to accept typed objects (the leader moves it to cluster version 2 shortly
    /// after it is elected).
    func ensureNamespaces(_ names: [String], timeoutNs: UInt64) throws {
        let connection = self.connection(to: 0)
        let giveUp = monotonicNanoseconds() + 60_000_000_000
        for name in names {
            var last = ""
            while true {
                let result = connection.exchange(
                    head: "POST /api/v1/namespaces HTTP/1.1\r\n\(authorization)Content-Type: application/json\r\n",
                    body: APIPods.namespaceBody(name), deadline: monotonicNanoseconds() + timeoutNs)
                if case .response(let status, let body) = result {
                    if status == 201 || status == 409 { break }
                    last = "\(status) \(excerpt(body))"
                } else {
                    last = "\(result)"
                }
                guard monotonicNanoseconds() < giveUp else { throw BenchFailure("cannot create namespace \(name): \(last)") }
                sleepNanoseconds(200_000_000)
            }
        }
    }

    /// CPU seconds (user + system) each member process has used so far.
    func memberCPUSeconds() -> [Double] { members.map { processCPUSeconds($0.pid) } }

    /// Resident memory of each member, in MiB (from /proc/PID/status VmRSS).
    func memberResidentMiB() -> [Double] {
        members.map { member in
            guard let text = try? String(contentsOfFile: "/proc/\(member.pid)/status", encoding: .utf8) else { return 0 }
            for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
                let kb = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
                return kb / 1024
            }
            return 0
        }
    }

    /// Raft terms and event-loop stalls of every member, from /metrics (nil where a member
    /// does not answer).
    func health() -> [MemberHealth?] {
        members.indices.map { m in metrics(m).map(MemberHealth.init(metrics:)) }
    }

    /// The text of a member's /metrics (nil when it does not answer).
    func metrics(_ member: Int) -> String? {
        let connection = self.connection(to: member)
        guard case .response(200, let body) = connection.exchange(head: "GET /metrics HTTP/1.1\r\n\(authorization)",
                                                                  deadline: monotonicNanoseconds() + 10_000_000_000) else { return nil }
        return String(decoding: body, as: UTF8.self)
    }
}

/// CPU seconds (user + system) a process has used, from /proc/PID/stat (0 if unreadable).
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime 14 and stime 15 (1-based, man proc).
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// CPU seconds (user + system) this process has used so far.
func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
}

/// Where CPU time went during one phase: each member and the load generator (this process),
/// as a fraction of one processor, over the phase's wall time.
struct CPUShare: Codable {
    var seconds: Double
    /// Per member, CPU seconds ÷ wall seconds (1.0 = one processor busy throughout).
    var members: [Double]
    /// This benchmark process (clients, watchers), likewise.
    var loadGenerator: Double
    /// Everything on the machine (from /proc/stat), likewise; the machine has `processors`.
    var machine: Double
    var processors: Int

    /// Everything else on the machine (other processes, the kernel's own threads).
    var others: Double { max(0, machine - members.reduce(0, +) - loadGenerator) }

    var summary: String {
        let parts = members.enumerated().map { "h\($0.offset + 1) \(percent($0.element))" }
        return parts.joined(separator: ", ") + ", bench \(percent(loadGenerator)), other \(percent(others)) (of \(processors * 100)%)"
    }
}

/// Measures the CPU each party uses between `init` and `finish`.
struct CPUMeter {
    private let cluster: APICluster
    private let startNs: UInt64
    private let startMembers: [Double]
    private let startOwn: Double
    private let startMachine: Double

    init(_ cluster: APICluster) {
        self.cluster = cluster
        startNs = monotonicNanoseconds()
        startMembers = cluster.memberCPUSeconds()
        startOwn = ownCPUSeconds()
        startMachine = machineBusySeconds()
    }

    func finish() -> CPUShare {
        let wall = max(1e-9, Double(monotonicNanoseconds() - startNs) / 1e9)
        let members = zip(cluster.memberCPUSeconds(), startMembers).map { ($0 - $1) / wall }
        return CPUShare(seconds: wall, members: members, loadGenerator: (ownCPUSeconds() - startOwn) / wall,
                        machine: (machineBusySeconds() - startMachine) / wall,
                        processors: ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// Seconds all processors spent not idle since boot (/proc/stat "cpu" line).
func machineBusySeconds() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
    let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard values.count >= 5 else { return 0 }
    // user nice system idle iowait irq softirq steal ...: busy = all - idle - iowait.
    let total = values.prefix(8).reduce(0, +)
    return (total - values[3] - values[4]) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// What a member's /metrics says about elections and its event loop.
struct MemberHealth: Codable {
    var term: Int
    var isLeader: Bool
    /// Times the member's loop ran its tick at least 5 ticks (50 ms) late, since it started.
    var loopStalls: Int
    var loopStallMaxSeconds: Double
    var appliedIndex: Int

    init(metrics text: String) {
        func value(_ name: String) -> Double {
            for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
                return Double(line.dropFirst(name.count + 1)) ?? 0
            }
            return 0
        }
        term = Int(value("shoal_raft_term"))
        isLeader = value("shoal_raft_is_leader") == 1
        loopStalls = Int(value("shoal_loop_stalls_total"))
        loopStallMaxSeconds = value("shoal_loop_stall_max_seconds")
        appliedIndex = Int(value("shoal_raft_applied_index"))
    }
}

/// Elections and loop stalls during one phase (from the members' /metrics before and after).
struct PhaseHealth: Codable {
    /// Terms the cluster moved through (highest term after minus before): 0 = no election.
    var termsElapsed: Int
    /// Loop stalls of 50 ms or more, per member.
    var loopStalls: [Int]
    /// The longest stall any member ever had, at the end of the phase (a lifetime gauge).
    var loopStallMaxSecondsEver: Double
    var leaderAfter: Int?

    init(before: [MemberHealth?], after: [MemberHealth?]) {
        let termBefore = before.compactMap { $0?.term }.max() ?? 0
        let termAfter = after.compactMap { $0?.term }.max() ?? 0
        termsElapsed = termAfter - termBefore
        loopStalls = zip(before, after).map { ($1?.loopStalls ?? 0) - ($0?.loopStalls ?? 0) }
        loopStallMaxSecondsEver = after.compactMap { $0?.loopStallMaxSeconds }.max() ?? 0
        leaderAfter = after.firstIndex { $0?.isLeader == true }
    }

    var summary: String {
        "\(termsElapsed) election(s); loop stalls ≥ 50 ms: " + loopStalls.enumerated().map { "h\($0.offset + 1) \($0.element)" }.joined(separator: ", ")
    }
}

/// `perf record -g` of the members and this process during one phase (`--perf-dir`).
final class PerfRecording {
    private let process: Process
    private let cleanupName: String
    let path: String

    init(cluster: APICluster, directory: String, label: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = "\(directory)/\(label).perf.data"
        let pids = (cluster.members.map(\.pid) + [getpid()]).map(String.init).joined(separator: ",")
        process = try spawnBackground(["perf", "record", "-F", "499", "-g", "-p", pids, "-o", path],
                                      logPath: "\(directory)/perf.log")
        cleanupName = "perf record (\(label))"
        Cleanup.shared.add(cleanupName) { [process] in stopProcess(process) }
        sleepNanoseconds(300_000_000)  // perf attaches
    }

    func stop() {
        kill(process.processIdentifier, SIGINT)
        let giveUp = monotonicNanoseconds() + 30_000_000_000
        while process.isRunning && monotonicNanoseconds() < giveUp { sleepNanoseconds(20_000_000) }
        stopProcess(process)
        Cleanup.shared.remove(cleanupName)
    }
}
