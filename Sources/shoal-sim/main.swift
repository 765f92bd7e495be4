// shoal-sim: runs seeded whole-cluster simulations — of the Raft core, or (--members) of real
// shoal members with their store and clients — and reports any safety or liveness violation
// with the one-line command that replays it.
import ArgumentParser
import Dispatch
import RaftCore
import Server
import SimKit

@main
struct ShoalSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal-sim",
        abstract: "Simulate Raft clusters, or clusters of real members, under random faults, checking safety after every step.")

    @Option(help: "How many seeds to run.")
    var seeds: UInt64 = 1000

    @Option(help: "The first seed.")
    var start: UInt64 = 1

    @Option(help: "Voters each cluster starts with.")
    var nodes: Int = 3

    @Option(help: "Ticks of random faults before healing.")
    var faultTicks: Int = SimulationOptions().faultTicks

    @Option(help: "Run with a deliberately broken rule: \(Raft.FaultyRule.allCases.map(\.rawValue).joined(separator: ", ")); with --members also \(ControllerMutation.allCases.map(\.rawValue).joined(separator: ", ")).")
    var mutation: String?

    @Flag(help: "Simulate real members (Ready loop, store, forwarding, leader duties and controllers) with clients writing ConfigMaps, ReplicaSets and a Deployment, instead of the Raft core alone.")
    var members = false

    @Flag(help: "The same as --members (the leader's controllers run in every member simulation).")
    var controllers = false

    @Option(help: "With --members: virtual milliseconds of faults and writes before healing.")
    var faultMilliseconds: UInt64 = MemberSimulationOptions().faultMilliseconds

    @Flag(help: "Print every event of every run (use with --seeds 1).")
    var trace = false

    @Option(help: "Parallel workers (default: one per core).")
    var jobs: Int = System.coreCount

    mutating func validate() throws {
        guard seeds > 0 else { throw ValidationError("--seeds must be positive") }
        guard (1...9).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 9") }
        guard faultTicks > 0 else { throw ValidationError("--fault-ticks must be positive") }
        guard jobs > 0 else { throw ValidationError("--jobs must be positive") }
        if let mutation, Raft.FaultyRule(rawValue: mutation) == nil, !(members || controllers) || ControllerMutation(rawValue: mutation) == nil {
            throw ValidationError("unknown --mutation '\(mutation)'")
        }
        guard faultMilliseconds > 0 else { throw ValidationError("--fault-milliseconds must be positive") }
    }

    func run() throws {
        if members || controllers { return try runMembers() }
        var options = SimulationOptions()
        options.voters = nodes
        options.faultTicks = faultTicks
        options.traceAll = trace
        options.faultyRule = mutation.flatMap(Raft.FaultyRule.init(rawValue:))
        let reports = runAll(options: options)

        var failing = 0
        var violations = 0
        var committed: UInt64 = 0
        var leaders = 0
        for report in reports {
            committed += report.committedEntries
            leaders += report.leadersElected
            guard !report.passed else { continue }
            failing += 1
            violations += report.violations.count
            print("seed \(report.seed): \(report.violations.count) violation(s)")
            for violation in report.violations { print("  \(violation)") }
            print("  last events:")
            for line in report.traceTail.suffix(40) { print("    \(line)") }
            print("  replay: \(replayCommand(seed: report.seed))")
        }
        print("entries committed: \(committed), leaders elected: \(leaders), failing seeds: \(failing)")
        print("simulated \(seeds) seeds: \(violations) violations")
        if violations > 0 { throw ExitCode(1) }
    }

    func runMembers() throws {
        Log.muted = true  // members log starts, elections and the disk failures injected; the report says what matters
        var options = MemberSimulationOptions()
        options.raftFaultyRule = mutation.flatMap(Raft.FaultyRule.init(rawValue:))
        options.controllerMutation = mutation.flatMap(ControllerMutation.init(rawValue:))
        options.members = nodes
        options.faultMilliseconds = faultMilliseconds
        options.traceAll = trace
        let chosen = options
        let results = Collected<MemberSimulationReport>(count: Int(seeds))
        let workers = trace ? 1 : min(jobs, Int(seeds))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < Int(seeds) {
                results.store(MemberSimulation(seed: start + UInt64(index), options: chosen).run(), at: index)
                index += workers
            }
        }
        var violations = 0
        var applied: UInt64 = 0
        var acknowledged = 0
        var reads = 0
        var crashes = 0
        for report in results.all {
            applied += report.appliedIndex
            acknowledged += report.writesAcknowledged
            reads += report.readsChecked
            crashes += report.crashes
            guard !report.passed else { continue }
            violations += report.violations.count
            print("seed \(report.seed): \(report.violations.count) violation(s)")
            for violation in report.violations { print("  \(violation)") }
            print("  last events:")
            for line in report.traceTail.suffix(40) { print("    \(line)") }
            var command = "swift run -c release shoal-sim --members --seeds 1 --start \(report.seed) --nodes \(nodes)"
            if faultMilliseconds != MemberSimulationOptions().faultMilliseconds { command += " --fault-milliseconds \(faultMilliseconds)" }
            if let mutation { command += " --mutation \(mutation)" }
            print("  replay: \(command) --trace")
        }
        print("entries applied: \(applied), writes acknowledged: \(acknowledged), reads checked: \(reads), crashes: \(crashes)")
        print("simulated \(seeds) seeds of members: \(violations) violations")
        if violations > 0 { throw ExitCode(1) }
    }

    func replayCommand(seed: UInt64) -> String {
        var command = "swift run -c release shoal-sim --seeds 1 --start \(seed) --nodes \(nodes)"
        if faultTicks != SimulationOptions().faultTicks { command += " --fault-ticks \(faultTicks)" }
        if let mutation { command += " --mutation \(mutation)" }
        return command + " --trace"
    }

    func runAll(options: SimulationOptions) -> [SimulationReport] {
        let results = Collected<SimulationReport>(count: Int(seeds))
        let workers = trace ? 1 : min(jobs, Int(seeds))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < Int(seeds) {
                var simulation = Simulation(seed: start + UInt64(index), options: options)
                results.store(simulation.run(), at: index)
                index += workers
            }
        }
        return results.all
    }
}

/// Collects reports from worker threads.
final class Collected<Report>: @unchecked Sendable {
    private var reports: [Report?]
    private let lock = DispatchSemaphore(value: 1)

    init(count: Int) { reports = Array(repeating: nil, count: count) }

    func store(_ report: Report, at index: Int) {
        lock.wait()
        reports[index] = report
        lock.signal()
    }

    var all: [Report] { reports.compactMap { $0 } }
}

enum System {
    static var coreCount: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 2
        #endif
    }
}
#if canImport(Glibc)
import Glibc
#endif
