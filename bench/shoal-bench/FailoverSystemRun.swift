// Everything `shoal-bench failover` does with one system: each scenario's trials (with a
// read-back of every acknowledged write at the end of each), then the steady load.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What to run against each system (from the command line).
struct SystemRunSettings {
    var scenarios: [FailoverScenario]
    var trials: Int
    var trialWriters: Int
    var sendIntervalNs: UInt64
    var requestTimeoutNs: UInt64
    var payloadBytes: Int
    var pollIntervalNs: UInt64
    var trial: TrialSettings
    /// 0: no steady load.
    var loadSeconds: Double
    var loadWarmupSeconds: Double
    var loadWriters: Int
    /// The steady load writes through every member (true) or only through the leader.
    var loadThroughAllMembers: Bool
}

/// Runs the scenarios and the load against a started system; never throws: a failure ends
/// this system's part and is recorded (the other systems still run).
func runSystem(_ system: FailoverSystem, _ settings: SystemRunSettings) -> SystemResult {
    let started = monotonicNanoseconds()
    var result = SystemResult(system: system.label, version: system.version, timing: system.timing, scenarios: [], load: nil,
                              seconds: 0, error: nil)
    let watcher = LeaderWatcher(system: system, intervalNs: 10_000_000)
    watcher.start()
    defer { watcher.stop() }
    print("\n== \(system.label) (\(system.version); \(system.timing.note))")
    fflush(nil)
    do {
        if !settings.scenarios.isEmpty {
            let pool = WriterPool(system: system, writers: settings.trialWriters, shape: .paced(intervalNs: settings.sendIntervalNs),
                                  timeoutNs: settings.requestTimeoutNs, payloadBytes: settings.payloadBytes,
                                  targets: Array(system.hosts.indices), group: WriteGroup(scenario: "warmup", trial: 0))
            pool.start()
            defer { pool.stop() }
            let trials = FailoverTrials(system: system, pool: pool, watcher: watcher, settings: settings.trial,
                                        fastPollNs: settings.pollIntervalNs)
            for scenario in settings.scenarios {
                let outcome = try runScenario(scenario, trials: trials, count: settings.trials)
                result.scenarios.append(outcome)
            }
        }
        if settings.loadSeconds > 0 {
            result.load = try runSteadyLoad(system, watcher: watcher, settings: settings)
        }
    } catch {
        result.error = "\(error)"
        print("\(system.label): stopped: \(error)")
    }
    result.seconds = Double(monotonicNanoseconds() - started) / 1e9
    return result
}

private func runScenario(_ scenario: FailoverScenario, trials: FailoverTrials, count: Int) throws -> ScenarioResult {
    let system = trials.system
    let pool = trials.pool
    let scenarioStart = monotonicNanoseconds()
    var results: [TrialResult] = []
    var timelines: [Timeline] = []
    var errors: [String] = []
    print("\(scenario.title): \(scenario.action(handOverRemovesMember: system.handOverRemovesMember))")
    for trial in 1...count {
        let (outcome, timeline) = try trials.run(scenario, trial: trial)
        results.append(outcome)
        timelines.append(timeline)
        if let error = outcome.error { errors.append("trial \(trial): \(error)") }
        var line = "  \(system.label) \(scenario.rawValue) \(trial)/\(count): \(outcome.oldLeader)→\(outcome.newLeader ?? "?")"
            + " leader \(format(outcome.newLeaderMs)) ms, writes back \(format(outcome.unavailableMs)) ms,"
            + " failed \(outcome.failed), indeterminate \(outcome.indeterminate), recovery \(format(outcome.recoveryMs)) ms"
        if outcome.electionsDuringRecovery > 0 { line += ", \(outcome.electionsDuringRecovery) election(s) during recovery" }
        if let check = outcome.stopCheck {
            line += ", stale leader \(format(check.staleLeaderMs)) ms, lost \(check.lost)/\(check.acknowledged)"
                + ", probes ok/failed/unknown \(check.probesAcknowledged)/\(check.probesFailed)/\(check.probesIndeterminate)"
            if !check.violations.isEmpty { line += ", VIOLATIONS: \(check.violations.joined(separator: "; "))" }
        }
        if let error = outcome.error { line += " [\(error)]" }
        print(line)
        for (answer, count) in trials.pool.takeFailureAnswers().prefix(3) { print("      \(count) × \(answer)") }
        fflush(nil)  // progress shows at once also when the output is a file (block-buffered)
    }
    // Every write of the scenario acknowledged before the read began must be there.
    let (leader, _) = try trials.waitHealthy()
    let readStart = monotonicNanoseconds()
    let present = try system.readKeys(scenario: scenario.rawValue, trial: nil, via: leader)
    var acknowledged = Set<String>()
    var refused = Set<String>()
    for record in pool.records(overlapping: scenarioStart, readStart) where record.endNs < readStart {
        let group = pool.group(at: record.group)
        guard group.scenario == scenario.rawValue else { continue }
        let key = group.key(writer: Int(record.writer), sequence: Int(record.sequence))
        if record.outcome == .success { acknowledged.insert(key) } else if record.outcome == .failed { refused.insert(key) }
    }
    let lost = acknowledged.subtracting(present).count
    if lost > 0 { errors.append("\(lost) acknowledged writes missing from the read-back") }
    let refusedButApplied = refused.intersection(present).count
    if refusedButApplied > 0 { errors.append("\(refusedButApplied) writes answered as refused (not applied) are in the store") }
    pool.dropRecords(endedBefore: readStart - 2_000_000_000)
    trials.watcher.dropChanges(before: readStart)

    let windows = results.compactMap(\.unavailableMs)
    let representative: Timeline? = {
        guard let median = Distribution(windows)?.median else { return timelines.first }
        return timelines.min { abs(($0.unavailableMs ?? .infinity) - median) < abs(($1.unavailableMs ?? .infinity) - median) }
    }()
    return ScenarioResult(
        scenario: scenario.rawValue, title: scenario.title, action: scenario.action(handOverRemovesMember: system.handOverRemovesMember),
        trials: results, newLeaderMs: Distribution(results.compactMap(\.newLeaderMs)), unavailableMs: Distribution(windows),
        failed: Distribution(results.map { Double($0.failed) }), indeterminate: Distribution(results.map { Double($0.indeterminate) }),
        acknowledged: acknowledged.count, lost: lost, refusedButApplied: refusedButApplied, electionsDuringRecovery: results.map(\.electionsDuringRecovery).reduce(0, +),
        timeline: representative, errors: errors)
}

/// Closed-loop writers at every member for a fixed time; counts elections meanwhile.
private func runSteadyLoad(_ system: FailoverSystem, watcher: LeaderWatcher, settings: SystemRunSettings) throws -> LoadResult {
    let (leader, _) = try waitUntilHealthy(system, watcher: watcher, seconds: TrialSettings().healthySeconds)
    let targets = settings.loadThroughAllMembers ? Array(system.hosts.indices) : [leader]
    print("steady load: \(settings.loadWriters) writers through \(targets.map { system.hosts[$0].name }.joined(separator: ", ")),"
          + " \(Int(settings.loadSeconds)) s (after \(settings.loadWarmupSeconds) s of warm-up)")
    watcher.setInterval(50_000_000)
    let pool = WriterPool(system: system, writers: settings.loadWriters, shape: .closedLoop, timeoutNs: settings.requestTimeoutNs,
                          payloadBytes: settings.payloadBytes, targets: targets, group: WriteGroup(scenario: "load", trial: 0))
    pool.start()
    let warm = monotonicNanoseconds() + UInt64(settings.loadWarmupSeconds * 1e9)
    sleepNanoseconds(warm - monotonicNanoseconds())
    let pollsBefore = watcher.pollCount
    let startTerms = watcher.views().compactMap { $0?.term }
    let from = monotonicNanoseconds()
    let to = from + UInt64(settings.loadSeconds * 1e9)
    while monotonicNanoseconds() < to { sleepNanoseconds(50_000_000) }
    pool.stop()
    let endTerms = watcher.views().compactMap { $0?.term }
    let changes = watcher.changes(since: from).filter { $0.view.atNs <= to }
    let records = pool.records(overlapping: from, to).filter { $0.startNs >= from && $0.startNs < to }
    let latencies = records.filter { $0.outcome == .success }.map { Double($0.endNs - $0.startNs) / 1e6 }.sorted()
    let termLow = startTerms.max() ?? 0
    let termHigh = max(endTerms.max() ?? 0, changes.map(\.view.term).max() ?? 0)
    let finalViews = watcher.views()
    let leaders = Set(changes.filter(\.view.leads).map(\.member) + finalViews.indices.filter { finalViews[$0]?.leads == true })
    let load = LoadResult(
        seconds: settings.loadSeconds, writers: settings.loadWriters, writesPerSecond: Double(latencies.count) / settings.loadSeconds,
        p50Ms: percentile(latencies, 50), p90Ms: percentile(latencies, 90), p99Ms: percentile(latencies, 99), maxMs: latencies.last,
        succeeded: latencies.count, failed: records.filter { $0.outcome == .failed }.count,
        indeterminate: records.filter { $0.outcome == .indeterminate }.count,
        termChanges: Int(termHigh) - Int(termLow), leadersSeen: leaders.count, statusPolls: watcher.pollCount - pollsBefore)
    print("  \(system.label) steady load: \(grouped(load.writesPerSecond)) writes/s, p50 \(format(load.p50Ms)) ms,"
          + " p99 \(format(load.p99Ms)) ms, failed \(load.failed), indeterminate \(load.indeterminate), term changes \(load.termChanges)")
    return load
}

/// "12.3", or "-" for nothing.
func format(_ value: Double?) -> String {
    guard let value else { return "-" }
    if value >= 100 { return String(Int(value.rounded())) }
    return String(format: "%.1f", value)
}
