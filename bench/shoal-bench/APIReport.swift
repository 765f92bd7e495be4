// The results of `shoal-bench api`: the goals from the issue, the kube-apiserver SLOs as the
// reference users know, the table and the JSON file.
import Foundation

/// Everything one run of `shoal-bench api` recorded (bench/results/api.json).
struct APIRun: Codable {
    var timestamp: String
    var machine: Machine
    var commit: String
    var command: String
    var parameters: [String: String]
    var warmup: CreatePhaseResult?
    var creates: CreatePhaseResult?
    var lists: [ListFormResult]
    /// One per --watch-rate.
    var watches: [WatchPhaseResult]
    /// Elections and loop stalls per phase ("creates", "list-full", ..., "watches").
    var health: [String: PhaseHealth]
    /// CPU used by other processes (fraction of one processor) over 2 s before each phase.
    var otherLoadBefore: [String: Double]
    var rows: [APIRow]
    /// Each member's /metrics after each phase ("after creates" → text), for profiling.
    var memberMetrics: [String: [String]]
    /// Resident memory of each member after each phase, MiB.
    var memberResidentMiB: [String: [Double]]
    var seconds: Double
    var error: String?
}

/// One line of the result table.
struct APIRow: Codable {
    var phase: String
    var metric: String
    var value: String
    var goal: String
    /// nil: no goal for this line.
    var met: Bool?
}

enum APIReport {
    /// The goals from the issue.
    static let createsPerSecondGoal = 5_000.0
    static let listP99GoalMs = 100.0
    static let watchP99GoalMs = 20.0
    /// kube-apiserver's official SLOs (kubernetes/community, sig-scalability/slos/api_call_latency.md):
    /// mutating calls p99 ≤ 1 s; non-streaming reads p99 ≤ 5 s at namespace scope (30 s at cluster scope).
    static let kubeMutatingP99Ms = 1_000.0
    static let kubeNamespaceListP99Ms = 5_000.0

    static func rows(creates: CreatePhaseResult?, lists: [ListFormResult], watches: [WatchPhaseResult],
                     health: [String: PhaseHealth]) -> [APIRow] {
        func healthRow(_ phase: String, _ key: String) -> APIRow? {
            health[key].map { APIRow(phase: phase, metric: "elections; loop stalls ≥ 50 ms", value: $0.summary, goal: "0", met: $0.termsElapsed == 0) }
        }
        var rows: [APIRow] = []
        if let c = creates {
            rows.append(APIRow(phase: "create", metric: "objects/s (\(grouped(Double(c.objects))) pods, \(c.clients) clients)",
                               value: grouped(c.objectsPerSecond), goal: "≥ \(grouped(createsPerSecondGoal))",
                               met: c.objectsPerSecond >= createsPerSecondGoal))
            rows.append(APIRow(phase: "create", metric: "latency p50 ms", value: ms(c.latency.p50Ms), goal: "", met: nil))
            rows.append(APIRow(phase: "create", metric: "latency p99 ms", value: ms(c.latency.p99Ms),
                               goal: "kube SLO ≤ \(grouped(kubeMutatingP99Ms))", met: c.latency.p99Ms <= kubeMutatingP99Ms))
            rows.append(APIRow(phase: "create", metric: "latency max ms", value: ms(c.latency.maxMs), goal: "", met: nil))
            let failed = c.failures.values.reduce(0, +)
            rows.append(APIRow(phase: "create", metric: "answers other than 201", value: failed == 0 ? "0" : describe(c.failures),
                               goal: "0", met: failed == 0))
            let retried = c.retries.values.reduce(0, +)
            rows.append(APIRow(phase: "create", metric: "retries (429/503/lost)", value: retried == 0 ? "0" : describe(c.retries),
                               goal: "", met: nil))
            rows.append(APIRow(phase: "create", metric: "cpu", value: c.cpu.summary, goal: "", met: nil))
            if let row = healthRow("create", "creates") { rows.append(row) }
        }
        for l in lists {
            let name = l.form.label
            rows.append(APIRow(phase: "list", metric: "\(name) p50 ms", value: ms(l.latency.p50Ms), goal: "", met: nil))
            let isGoal = l.form == .full
            rows.append(APIRow(phase: "list", metric: "\(name) p99 ms (n=\(l.latency.count))", value: ms(l.latency.p99Ms),
                               goal: isGoal ? "≤ \(Int(listP99GoalMs))" : "kube SLO ≤ \(grouped(kubeNamespaceListP99Ms))",
                               met: isGoal ? l.latency.p99Ms <= listP99GoalMs : l.latency.p99Ms <= kubeNamespaceListP99Ms))
            rows.append(APIRow(phase: "list", metric: "\(name) bytes", value: byteText(l.bytesMean), goal: "", met: nil))
            let correct = l.failures.isEmpty && l.itemsChecked.allSatisfy { $0 == l.itemsChecked.first }
            rows.append(APIRow(phase: "list", metric: "\(name) items per list (per member)",
                               value: l.itemsChecked.map { grouped(Double($0)) }.joined(separator: "/")
                                   + (l.failures.isEmpty ? "" : ", \(l.failures.count) failed"),
                               goal: "all", met: correct))
            rows.append(APIRow(phase: "list", metric: "\(name) cpu", value: l.cpu.summary, goal: "", met: nil))
            if var row = healthRow("list", "list-\(l.form.rawValue)") {
                row.metric = "\(name) " + row.metric
                rows.append(row)
            }
        }
        for w in watches {
            let phase = watches.count == 1 ? "watch" : "watch @\(grouped(w.targetWritesPerSecond))/s"
            let healthKey = watches.count == 1 ? "watches" : "watches-\(Int(w.targetWritesPerSecond))"
            rows.append(APIRow(phase: phase, metric: "writes/s (target \(grouped(w.targetWritesPerSecond)), \(w.writers) writers)",
                               value: grouped(w.achievedWritesPerSecond), goal: "", met: nil))
            rows.append(APIRow(phase: phase, metric: "write latency p99 ms", value: ms(w.writeLatency.p99Ms), goal: "", met: nil))
            rows.append(APIRow(phase: phase, metric: "delivery p50 ms (arrival − 201 received)", value: ms(w.deliveryFromResponse.p50Ms),
                               goal: "", met: nil))
            rows.append(APIRow(phase: phase, metric: "delivery p99 ms (arrival − 201 received)", value: ms(w.deliveryFromResponse.p99Ms),
                               goal: "≤ \(Int(watchP99GoalMs))", met: w.deliveryFromResponse.p99Ms <= watchP99GoalMs))
            rows.append(APIRow(phase: phase, metric: "delivery p99 ms (arrival − request sent, upper bound)",
                               value: ms(w.deliveryFromSend.p99Ms), goal: "", met: nil))
            rows.append(APIRow(phase: phase, metric: "delivery max ms (arrival − 201 received)", value: ms(w.deliveryFromResponse.maxMs),
                               goal: "", met: nil))
            let exact = w.missing == 0 && w.duplicates == 0 && w.outOfOrder == 0 && w.wrongType == 0 && w.watchersWithErrors == 0
            rows.append(APIRow(phase: phase, metric: "events to \(w.watchers) watchers: received / expected",
                               value: "\(grouped(Double(w.deliveriesReceived))) / \(grouped(Double(w.deliveriesExpected)))"
                                   + (exact ? "" : " (missing \(w.missing), dup \(w.duplicates), order \(w.outOfOrder), type \(w.wrongType), errors \(w.watchersWithErrors))")
                                   + (w.unexpected == 0 ? "" : " + \(grouped(Double(w.unexpected))) of \(w.unexpectedResourceVersions) writes answered 504/lost (\(w.writesIndeterminate))")
                                   + (w.writesUnchanged == 0 ? "" : "; \(w.writesUnchanged) writes changed nothing"),
                               goal: "each once, in order", met: exact))
            let failed = w.writeFailures.values.reduce(0, +)
            rows.append(APIRow(phase: phase, metric: "failed writes", value: failed == 0 ? "0" : describe(w.writeFailures),
                               goal: "0", met: failed == 0))
            rows.append(APIRow(phase: phase, metric: "cpu", value: w.cpu.summary, goal: "", met: nil))
            if let row = healthRow(phase, healthKey) { rows.append(row) }
        }
        return rows
    }

    static func describe(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
    }

    static func table(_ rows: [APIRow]) -> String {
        TextTable(header: ["phase", "metric", "value", "goal", "met?"],
                  rows: rows.map { [$0.phase, $0.metric, $0.value, $0.goal, $0.met.map { $0 ? "yes" : "NO" } ?? ""] }).render()
    }
}
