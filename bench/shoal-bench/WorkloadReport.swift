// `shoal-bench workload`'s results: per case the trials, and the tables docs/benchmarks.md
// shows ("Workload").
import Foundation

struct HostLossTrial: Codable {
    var host: String
    var podsOnHost: Int
    var requests: Int
    var failed: Int
    var reasons: [String: Int] = [:]
    /// From the loss to the start of the last request that failed (0: none failed), seconds.
    var lastFailureSeconds = 0.0
    /// From the loss to `replicas` pods Ready on the survivors, seconds.
    var replacementReadySeconds: Double?
    /// Every request of the trial, for the timeline plot.
    var requestsTimeline: [RequestPoint] = []

    init(host: String, podsOnHost: Int, requests: Int, failed: Int) {
        self.host = host
        self.podsOnHost = podsOnHost
        self.requests = requests
        self.failed = failed
    }

    var summary: String {
        String(format: "%@ (%d pods on it): last failure %.2f s after, replacement Ready %@, %d of %d requests failed", host, podsOnHost,
               lastFailureSeconds, replacementReadySeconds.map { String(format: "%.2f s", $0) } ?? "never", failed, requests)
            + WorkloadRun.reasonText(reasons)
    }
}

/// One request around a loss: sent `startMs` after it (negative: before), answered or
/// failed `latencyMs` later; `outcome` is "ok" or why it failed.
struct RequestPoint: Codable {
    var startMs: Double
    var latencyMs: Double
    var outcome: String

    init(_ outcome: WorkloadClient.Outcome, lostAt: UInt64) {
        startMs = (Double(outcome.atNanos) - Double(lostAt)) / 1e6
        latencyMs = Double(outcome.tookNanos) / 1e6
        self.outcome = outcome.ok ? "ok" : outcome.pod
    }
}

struct HostLossResult: Codable {
    var fault: String
    var victim: String
    var replicas: Int
    var trials: [HostLossTrial] = []
}

struct RollingUpdateResult: Codable {
    var replicas: Int
    var seconds: Double
    var requests: Int
    var failed: Int
    /// Failed requests by reason ("connect refused", "read timed out", ...).
    var reasons: [String: Int] = [:]

    var summary: String { String(format: "%.1f s, %d of %d requests failed", seconds, failed, requests) + WorkloadRun.reasonText(reasons) }
}

struct ScaleOutResult: Codable {
    var pods: Int
    var readySeconds: Double
    var servingSeconds: Double
    var requests: Int
    var failed: Int
    var reasons: [String: Int] = [:]

    var summary: String {
        String(format: "all Ready after %.1f s, all answering after %.1f s, %d of %d requests failed", readySeconds, servingSeconds, failed, requests)
            + WorkloadRun.reasonText(reasons)
    }
}

struct WorkloadRun: Codable {
    var timestamp: String
    var machine: Machine
    var commit: String
    var command: String
    var parameters: [String: String]
    var hostLoss: [HostLossResult] = []
    var rollingUpdates: [RollingUpdateResult] = []
    var scaleOut: ScaleOutResult?
    var seconds = 0.0

    /// Failures by reason, e.g. " (read timed out 12, connect refused 1)"; empty for none.
    static func reasonText(_ reasons: [String: Int]) -> String {
        reasons.isEmpty ? "" : " (" + reasons.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
    }

    static func reasons(_ outcomes: [WorkloadClient.Outcome]) -> [String: Int] {
        outcomes.filter { !$0.ok }.reduce(into: [:]) { $0[$1.pod, default: 0] += 1 }
    }

    /// The value at the `p`th percentile (nearest rank) of `values`.
    static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    var table: String {
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "–" }
        var lines = ["| loss | victim | replicas | trials | last failure after loss p50 / p99 (s) | replacement Ready p50 / p99 (s) | failed requests (all trials) |",
                     "| --- | --- | --- | --- | --- | --- | --- |"]
        for result in hostLoss {
            let last = result.trials.map(\.lastFailureSeconds)
            let ready = result.trials.compactMap(\.replacementReadySeconds)
            lines.append("| \(result.fault) | \(result.victim) | \(result.replicas) | \(result.trials.count) | "
                         + "\(seconds(Self.percentile(last, 50))) / \(seconds(Self.percentile(last, 99))) | "
                         + "\(seconds(Self.percentile(ready, 50))) / \(seconds(Self.percentile(ready, 99))) | "
                         + "\(result.trials.map(\.failed).reduce(0, +)) of \(result.trials.map(\.requests).reduce(0, +)) |")
        }
        lines += ["", "| rolling update | duration (s) | requests | failed |", "| --- | --- | --- | --- |"]
        for update in rollingUpdates {
            lines.append(String(format: "| replicas %d | %.1f | %d | %d |", update.replicas, update.seconds, update.requests, update.failed))
        }
        if let scaleOut {
            lines += ["", "| scale-out | all Ready (s) | all answering (s) | requests | failed |", "| --- | --- | --- | --- | --- |",
                      String(format: "| 1 → %d | %.1f | %.1f | %d | %d |", scaleOut.pods, scaleOut.readySeconds, scaleOut.servingSeconds,
                             scaleOut.requests, scaleOut.failed)]
        }
        return lines.joined(separator: "\n")
    }
}
