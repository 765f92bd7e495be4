// The tables `shoal-bench failover` prints: per system, per scenario distributions; the steady
// load; shoal/etcd ratios; and the issue's goals, each met or missed.
import Foundation

enum FailoverReport {
    /// Per scenario: new leader and write-unavailability distributions, failures, lost writes.
    static func scenarioTable(_ results: [SystemResult]) -> String {
        var table = TextTable(header: ["system", "scenario", "figure (ms)", "n", "min", "median", "p90", "p99", "max"])
        for system in results {
            for scenario in system.scenarios {
                for (name, distribution) in [("new leader", scenario.newLeaderMs), ("writes unavailable", scenario.unavailableMs)] {
                    guard let d = distribution else {
                        table.rows.append([system.system, scenario.title, name, "0", "-", "-", "-", "-", "-"])
                        continue
                    }
                    table.rows.append([system.system, scenario.title, name, String(d.count), format(d.min), format(d.median),
                                       format(d.p90), format(d.p99), format(d.max)])
                }
            }
        }
        return table.render()
    }

    /// Per scenario: failed and indeterminate requests per trial, read-back, disruptions.
    static func outcomeTable(_ results: [SystemResult]) -> String {
        var table = TextTable(header: ["system", "scenario", "failed/trial (median, max)", "indeterminate/trial (median, max)",
                                       "acked", "lost", "refused but applied", "elections in recovery", "(d) violations", "errors"])
        for system in results {
            for scenario in system.scenarios {
                let violations = scenario.trials.compactMap(\.stopCheck).flatMap(\.violations).count
                let stopLost = scenario.trials.compactMap(\.stopCheck).map(\.lost).reduce(0, +)
                table.rows.append([
                    system.system, scenario.title,
                    scenario.failed.map { "\(format($0.median)), \(format($0.max))" } ?? "-",
                    scenario.indeterminate.map { "\(format($0.median)), \(format($0.max))" } ?? "-",
                    grouped(Double(scenario.acknowledged)), String((scenario.lost ?? 0) + stopLost),
                    scenario.refusedButApplied.map(String.init) ?? "-", String(scenario.electionsDuringRecovery), scenario.scenario == "d" ? String(violations) : "-",
                    String(scenario.errors.count)])
            }
        }
        return table.render()
    }

    static func loadTable(_ results: [SystemResult]) -> String {
        var table = TextTable(header: ["system", "writers", "seconds", "writes/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
                                       "failed", "indeterminate", "term changes"])
        for system in results {
            guard let load = system.load else { continue }
            table.rows.append([system.system, String(load.writers), format(load.seconds), grouped(load.writesPerSecond),
                               format(load.p50Ms), format(load.p90Ms), format(load.p99Ms), format(load.maxMs),
                               String(load.failed), String(load.indeterminate), String(load.termChanges)])
        }
        return table.render()
    }

    /// shoal's figures divided by each etcd run's (below 1: shoal is faster, except writes/s).
    static func ratioTable(_ results: [SystemResult]) -> String? {
        guard let shoal = results.first(where: { $0.system == "shoal" }) else { return nil }
        let others = results.filter { $0.system != "shoal" }
        guard !others.isEmpty else { return nil }
        var header = ["figure", "shoal"]
        for other in others { header += [other.system, "shoal/\(other.system)"] }
        var table = TextTable(header: header)
        func row(_ name: String, _ pick: (SystemResult) -> Double?) {
            var cells = [name, format(pick(shoal))]
            for other in others {
                let mine = pick(shoal), theirs = pick(other)
                cells += [format(theirs), mine != nil && theirs != nil && theirs! > 0 ? String(format: "%.2f", mine! / theirs!) : "-"]
            }
            table.rows.append(cells)
        }
        for scenario in FailoverScenario.allCases {
            func scenarioOf(_ s: SystemResult) -> ScenarioResult? { s.scenarios.first { $0.scenario == scenario.rawValue } }
            guard scenarioOf(shoal) != nil else { continue }
            row("\(scenario.rawValue) new leader median ms") { scenarioOf($0)?.newLeaderMs?.median }
            row("\(scenario.rawValue) writes unavailable median ms") { scenarioOf($0)?.unavailableMs?.median }
            row("\(scenario.rawValue) writes unavailable p90 ms") { scenarioOf($0)?.unavailableMs?.p90 }
            row("\(scenario.rawValue) writes unavailable p99 ms") { scenarioOf($0)?.unavailableMs?.p99 }
            row("\(scenario.rawValue) failed/trial median") { scenarioOf($0)?.failed?.median }
            row("\(scenario.rawValue) indeterminate/trial median") { scenarioOf($0)?.indeterminate?.median }
        }
        row("load writes/s") { $0.load?.writesPerSecond }
        row("load p50 ms") { $0.load?.p50Ms }
        row("load p99 ms") { $0.load?.p99Ms }
        return table.render()
    }

    /// The issue's goals for shoal with its default timings.
    static func goals(_ results: [SystemResult]) -> [GoalCheck] {
        guard let shoal = results.first(where: { $0.system == "shoal" }) else { return [] }
        let etcds = results.filter { $0.system.hasPrefix("etcd") }
        let tuned = results.first { $0.system == "etcd-tuned" }
        func scenario(_ s: SystemResult, _ code: FailoverScenario) -> ScenarioResult? { s.scenarios.first { $0.scenario == code.rawValue } }
        var goals: [GoalCheck] = []
        func check(_ goal: String, _ value: Double?, atMost limit: Double, unit: String = "ms") {
            guard let value else { return goals.append(GoalCheck(goal: goal, measured: "not measured", met: nil)) }
            let met = value <= limit
            let how = met ? "" : String(format: " (missed by %.1f %@, %.0f%%)", value - limit, unit, (value / limit - 1) * 100)
            goals.append(GoalCheck(goal: goal, measured: "\(format(value)) \(unit)\(how)", met: met))
        }
        let a = scenario(shoal, .kill), b = scenario(shoal, .cut), c = scenario(shoal, .handOver), d = scenario(shoal, .stop)
        if a != nil {
            check("(a) SIGKILL: writes unavailable median ≤ 50 ms", a?.unavailableMs?.median, atMost: 50)
            check("(a) SIGKILL: writes unavailable p99 ≤ 150 ms", a?.unavailableMs?.p99, atMost: 150)
        }
        if b != nil {
            check("(b) host cut: writes unavailable median ≤ 200 ms", b?.unavailableMs?.median, atMost: 200)
            check("(b) host cut: writes unavailable p99 ≤ 400 ms", b?.unavailableMs?.p99, atMost: 400)
            if let tuned, let theirs = scenario(tuned, .cut)?.unavailableMs, let mine = b?.unavailableMs {
                check("(b) host cut: median no worse than etcd-tuned (\(format(theirs.median)) ms)", mine.median, atMost: theirs.median)
                check("(b) host cut: p99 no worse than etcd-tuned (\(format(theirs.p99)) ms)", mine.p99, atMost: theirs.p99)
            }
        }
        if c != nil { check("(c) planned hand-over: writes unavailable p99 ≤ 20 ms", c?.unavailableMs?.p99, atMost: 20) }
        if let d {
            let checks = d.trials.compactMap(\.stopCheck)
            let lost = checks.map(\.lost).reduce(0, +) + (d.lost ?? 0)
            let violations = checks.flatMap(\.violations)
            let elections = checks.map(\.electionsAfterResume).reduce(0, +)
            goals.append(GoalCheck(goal: "(d) SIGSTOP/SIGCONT: no acknowledged write lost", measured: "\(lost) lost of \(d.acknowledged) acknowledged "
                                   + "(+ \(checks.map(\.probesAcknowledged).reduce(0, +)) probes acknowledged by the old leader)", met: lost == 0))
            goals.append(GoalCheck(goal: "(d) SIGSTOP/SIGCONT: no second leader accepted",
                                   measured: violations.isEmpty ? "none in \(checks.count) trials; \(elections) election(s) after SIGCONT"
                                       : violations.prefix(5).joined(separator: "; "), met: violations.isEmpty))
        }
        if let load = shoal.load {
            for etcd in etcds {
                guard let theirs = etcd.load else { continue }
                let ratio = load.writesPerSecond / max(theirs.writesPerSecond, 1)
                goals.append(GoalCheck(goal: "steady load: writes/s ≥ 2 × \(etcd.system) (\(grouped(theirs.writesPerSecond)))",
                                       measured: "\(grouped(load.writesPerSecond)) = \(String(format: "%.2f", ratio)) ×", met: ratio >= 2))
                if let p99 = load.p99Ms, let theirP99 = theirs.p99Ms {
                    check("steady load: p99 no worse than \(etcd.system) (\(format(theirP99)) ms)", p99, atMost: theirP99)
                }
            }
            goals.append(GoalCheck(goal: "steady load: 0 spurious elections", measured: "\(load.termChanges) term change(s)",
                                   met: load.termChanges == 0))
        }
        return goals
    }

    static func goalTable(_ goals: [GoalCheck]) -> String {
        var table = TextTable(header: ["goal", "measured", "status"])
        for goal in goals { table.rows.append([goal.goal, goal.measured, goal.met.map { $0 ? "met" : "MISSED" } ?? "-"]) }
        return table.render()
    }
}
