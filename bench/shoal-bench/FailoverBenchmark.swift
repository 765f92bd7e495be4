// `shoal-bench failover`: leader loss, host loss, planned hand-over and a paused leader on a
// local three-host cluster (network namespaces), optionally beside etcd at its default
// timings and at shoal's, with a steady-load run and a timeline plot.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct FailoverBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Failover time and write unavailability on real hosts (network namespaces), optionally beside etcd.",
        discussion: "Needs root (network namespaces, iptables). Everything it starts is stopped and removed at the end, "
            + "also on failure or Ctrl-C. Method and how to read the results: docs/benchmarks.md, \"Failover\".")

    @Option(help: "Hosts (members) in the cluster.")
    var hosts = 3

    @Option(help: "Trials per scenario and system.")
    var trials = 30

    @Option(help: "Compare with another system in the same run: 'etcd' (installed with apt-get if missing).")
    var compare: String?

    @Option(help: "Scenarios to run, comma-separated: a (SIGKILL), b (host cut), c (planned hand-over), d (SIGSTOP/SIGCONT).")
    var scenarios = "a,b,c,d"

    @Option(help: "etcd timings to compare with, comma-separated: default (100/1000 ms), tuned (shoal's timings).")
    var etcdTimings = "default,tuned"

    @Option(help: ArgumentHelp("Trials per scenario for etcd at its default timings (its failovers last 1-5 s each; "
            + "fewer keeps the run under 15 minutes, and its gap to shoal is a hundredfold)."))
    var etcdDefaultTrials = 10

    @Flag(help: "Also run the steady load against etcd-tuned (timings do not change steady throughput; off to save a minute).")
    var etcdTunedLoad = false

    @Option(help: "The shoal binary (default: .build/release/shoal, built if missing).")
    var binary: String?

    @Option(parsing: .upToNextOption, help: "Extra flags for every `shoal agent` (e.g. --log-level debug).")
    var agentFlags: [String] = []

    @Option(help: "Writer threads during the trials (they share one send schedule).")
    var trialWriters = 256

    @Option(help: "During the trials, one write is sent every this many milliseconds (by whichever writer is free).")
    var sendIntervalMs = 2.0

    @Option(help: "A request not answered within this many milliseconds counts as indeterminate.")
    var requestTimeoutMs = 1000

    @Option(help: "Bytes of each written value.")
    var payloadBytes = 128

    @Option(help: "Milliseconds between status polls of each member during a failover.")
    var pollMs = 2.0

    @Option(help: "(d) Keep the leader stopped at least this multiple of the base election timeout.")
    var stopMultiple = 2.0

    @Option(help: "Seconds of steady load per system (0: none).")
    var loadSeconds = 60.0

    @Option(help: "Writers (closed loop) of the steady load.")
    var loadWriters = 64

    @Option(help: "Where the steady load writes: 'all' members (round robin) or only the 'leader'.")
    var loadThrough = "all"

    @Option(help: "Seconds of steady load before measuring.")
    var loadWarmupSeconds = 2.0

    @Option(help: "scripts/cluster --net K: the hosts are 10.88.K.1..N (pick one no other cluster uses).")
    var net = 61

    @Option(help: "Scratch directory: the cluster's data dirs and logs, and etcd's (removed at the end).")
    var base = "/tmp/shoal-bench-failover"

    @Option(help: "Copy the shoal agents' logs into this directory before the cluster is removed.")
    var keepLogs: String?

    @Option(help: "Where to write the JSON results.")
    var json = "bench/results/failover.json"

    @Option(help: "Where to write the timeline plot (PNG; empty: no plot).")
    var plot = "docs/failover-timeline.png"

    func validate() throws {
        guard hosts >= 3 else { throw ValidationError("--hosts must be at least 3") }
        guard trials >= 1, etcdDefaultTrials >= 1, trialWriters >= 1, loadWriters >= 1, sendIntervalMs > 0, requestTimeoutMs >= 10, pollMs > 0 else {
            throw ValidationError("counts, intervals and timeouts must be positive")
        }
        guard loadThrough == "all" || loadThrough == "leader" else { throw ValidationError("--load-through: all or leader") }
        guard compare == nil || compare == "etcd" else { throw ValidationError("--compare knows only 'etcd'") }
        guard (0...254).contains(net) else { throw ValidationError("--net must be in 0...254") }
        _ = try scenarioList()
        _ = try etcdTimingList()
    }

    private func scenarioList() throws -> [FailoverScenario] {
        try scenarios.split(separator: ",").filter { !$0.isEmpty }.map {
            guard let s = FailoverScenario(rawValue: String($0)) else { throw ValidationError("unknown scenario '\($0)' (a, b, c, d)") }
            return s
        }
    }

    private func etcdTimingList() throws -> [String] {
        let list = etcdTimings.split(separator: ",").map(String.init)
        for t in list where t != "default" && t != "tuned" { throw ValidationError("unknown etcd timing '\(t)' (default, tuned)") }
        return list
    }

    func run() throws {
        guard getuid() == 0 else { throw BenchFailure("failover needs root: network namespaces and iptables (scripts/cluster netns mode)") }
        let began = monotonicNanoseconds()
        let machine = Machine.current()
        print("machine: \(machine.summary)")
        if machine.buildConfiguration == "debug" { print("warning: debug build; use `swift run -c release`") }
        let repository = FileManager.default.currentDirectoryPath
        guard FileManager.default.isExecutableFile(atPath: "\(repository)/scripts/cluster") else {
            throw BenchFailure("run from the repository root (scripts/cluster not found in \(repository))")
        }
        let shoalBinary = try shoal_bench.shoalBinary(explicit: binary, repository: repository)
        if compare == "etcd" { try EtcdSystem.ensureInstalled() }
        if !plot.isEmpty { ensureMatplotlib() }

        Cleanup.shared.installSignalHandlers()
        defer { Cleanup.shared.runAll() }
        try? FileManager.default.removeItem(atPath: base)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        Cleanup.shared.add("remove \(base)") { [base] in try? FileManager.default.removeItem(atPath: base) }
        let settings = SystemRunSettings(
            scenarios: try scenarioList(), trials: trials, trialWriters: trialWriters,
            sendIntervalNs: UInt64(sendIntervalMs * 1e6), requestTimeoutNs: UInt64(requestTimeoutMs) * 1_000_000,
            payloadBytes: payloadBytes, pollIntervalNs: UInt64(pollMs * 1e6),
            trial: TrialSettings(stopMultiple: stopMultiple),
            loadSeconds: loadSeconds, loadWarmupSeconds: loadWarmupSeconds, loadWriters: loadWriters,
            loadThroughAllMembers: loadThrough == "all")

        var results: [SystemResult] = []
        let shoal = ShoalSystem(repository: repository, base: "\(base)/cluster", net: net, hostCount: hosts,
                                binary: shoalBinary, agentFlags: agentFlags)
        print("starting \(hosts) shoal hosts (scripts/cluster --net \(net))")
        try shoal.start()
        results.append(runSystem(shoal, settings))
        try writeResults(results, machine: machine, began: began, shoalBinary: shoalBinary)
        if let keepLogs { shoal.copyLogs(to: keepLogs) }
        if compare == "etcd" {
            try shoal.stopAgents()
            for timing in try etcdTimingList() {
                let etcd = timing == "default"
                    ? EtcdSystem(label: "etcd-default", network: shoal, dataRoot: "\(base)/etcd-default", heartbeatMs: nil, electionMs: nil)
                    : EtcdSystem(label: "etcd-tuned", network: shoal, dataRoot: "\(base)/etcd-tuned",
                                 heartbeatMs: shoal.timing.heartbeatMs, electionMs: shoal.timing.electionMs)
                do {
                    try etcd.start()
                    var etcdSettings = settings
                    if timing == "default" { etcdSettings.trials = min(trials, etcdDefaultTrials) }
                    if timing == "tuned" && !etcdTunedLoad { etcdSettings.loadSeconds = 0 }
                    results.append(runSystem(etcd, etcdSettings))
                } catch {
                    results.append(SystemResult(system: etcd.label, version: etcd.version, timing: etcd.timing, scenarios: [],
                                                load: nil, seconds: 0, error: "\(error)"))
                    print("\(etcd.label): \(error)")
                }
                etcd.shutDown()
                try writeResults(results, machine: machine, began: began, shoalBinary: shoalBinary)
            }
        }
        shoal.shutDown()

        print("\nFailover (ms from the fault; n trials per scenario):")
        print(FailoverReport.scenarioTable(results))
        print("\nRequests per trial, read-back and disruptions:")
        print(FailoverReport.outcomeTable(results))
        if results.contains(where: { $0.load != nil }) {
            print("\nSteady load:")
            print(FailoverReport.loadTable(results))
        }
        if let ratios = FailoverReport.ratioTable(results) {
            print("\nshoal / etcd:")
            print(ratios)
        }
        let goals = FailoverReport.goals(results)
        print("\nGoals (shoal, \(shoal.timing.note)):")
        print(FailoverReport.goalTable(goals))
        try writeResults(results, machine: machine, began: began, shoalBinary: shoalBinary)
        print("\nresults: \(json)")
        if !plot.isEmpty {
            drawPlot(script: "failover-plot.py", json: json, plot: plot, repository: repository)
        }
        print(String(format: "total %.0f s", Double(monotonicNanoseconds() - began) / 1e9))
    }

    private func writeResults(_ results: [SystemResult], machine: Machine, began: UInt64, shoalBinary: String) throws {
        let commit = gitCommit(FileManager.default.currentDirectoryPath)
        let run = FailoverRun(
            timestamp: timestampNow(), machine: machine, fileSystem: FileSystemInfo.of(base), commit: commit,
            command: CommandLine.arguments.joined(separator: " "),
            parameters: ["hosts": String(hosts), "trials": String(trials), "etcdDefaultTrials": String(etcdDefaultTrials),
                         "etcdTunedLoad": String(etcdTunedLoad), "trialWriters": String(trialWriters),
                         "sendIntervalMs": String(sendIntervalMs), "requestTimeoutMs": String(requestTimeoutMs),
                         "payloadBytes": String(payloadBytes), "pollMs": String(pollMs), "stopMultiple": String(stopMultiple),
                         "loadSeconds": String(loadSeconds), "loadWriters": String(loadWriters), "loadThrough": loadThrough, "binary": shoalBinary,
                         "agentFlags": agentFlags.joined(separator: " "), "net": String(net)],
            systems: results, goals: FailoverReport.goals(results), seconds: Double(monotonicNanoseconds() - began) / 1e9)
        try writeJSON(run, to: json)
    }
}
