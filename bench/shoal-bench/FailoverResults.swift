// What `shoal-bench failover` measures, as written to bench/results/failover.json, and the
// summaries (min / median / p90 / p99 / max) the tables print.
import Foundation

/// The four faults.
enum FailoverScenario: String, CaseIterable, Codable {
    case kill = "a"
    case cut = "b"
    case handOver = "c"
    case stop = "d"

    var title: String {
        switch self {
        case .kill: return "(a) leader SIGKILL"
        case .cut: return "(b) leader host cut off"
        case .handOver: return "(c) planned hand-over"
        case .stop: return "(d) leader SIGSTOP, SIGCONT"
        }
    }

    /// What the fault is for each system.
    func action(handOverRemovesMember: Bool) -> String {
        switch self {
        case .kill: return "SIGKILL of the leader's process; restarted with its data afterwards"
        case .cut: return "the leader's host cut off with scripts/cluster cut's rules, installed at one instant (all packets dropped, no FIN/RST); scripts/cluster heal afterwards"
        case .handOver:
            return handOverRemovesMember
                ? "POST /shoal/v1/leave on the leader (what `shoal leave` sends); the member is wiped and joined again afterwards"
                : "Maintenance.MoveLeader to the most up-to-date follower (what `etcdctl move-leader` sends), through the gateway"
        case .stop: return "SIGSTOP of the leader until a new leader has acknowledged a write (and at least the stop multiple of the election timeout), then SIGCONT"
        }
    }
}

/// min / median / p90 / p99 / max of one figure over the trials.
struct Distribution: Codable {
    var count: Int
    var min: Double
    var median: Double
    var p90: Double
    var p99: Double
    var max: Double
    var mean: Double

    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        count = sorted.count
        min = sorted.first!
        median = percentile(sorted, 50)!
        p90 = percentile(sorted, 90)!
        p99 = percentile(sorted, 99)!
        max = sorted.last!
        mean = sorted.reduce(0, +) / Double(sorted.count)
    }
}

/// What the old leader did after SIGCONT (scenario d).
struct StopCheck: Codable {
    /// Writes acknowledged in the trial (writers and probes), all read back afterwards.
    var acknowledged: Int
    /// Acknowledged writes missing from a linearizable read afterwards.
    var lost: Int
    /// Writes sent to the old leader itself right after SIGCONT: acknowledged / refused / unknown.
    var probesAcknowledged: Int
    var probesFailed: Int
    var probesIndeterminate: Int
    /// How long after SIGCONT the old leader still said it led (at its old term), in ms.
    var staleLeaderMs: Double?
    /// Elections after SIGCONT (the term the survivors reached minus the new leader's).
    var electionsAfterResume: Int
    /// Anything that would mean a second leader was accepted: a member leading at the new
    /// leader's term or later other than it, a survivor following the old leader again, a
    /// term going backwards.
    var violations: [String]
}

/// One trial of one scenario.
struct TrialResult: Codable {
    var scenario: String
    var trial: Int
    var oldLeader: String
    var oldTerm: UInt64
    var newLeader: String?
    var newTerm: UInt64?
    /// How long the fault action itself took (e.g. the cut command), in ms.
    var faultActionMs: Double
    /// Fault → a member other than the old one says it leads at a higher term, in ms.
    var newLeaderMs: Double?
    /// Fault → the first acknowledged write that was sent after the fault, in ms.
    var unavailableMs: Double?
    /// Requests in flight between the fault and the end of the window (+ settle), by outcome.
    var succeeded: Int
    var failed: Int
    var indeterminate: Int
    /// (d) how long the old leader was stopped, in ms.
    var stoppedMs: Double?
    /// (c) how long the hand-over request took to answer, in ms (shoal: until removed).
    var handOverAnswerMs: Double?
    /// Elections between the new leader and the cluster being healthy again (disruption by
    /// the member coming back).
    var electionsDuringRecovery: Int
    /// Restart/heal/re-join and catch-up, in ms.
    var recoveryMs: Double
    var stopCheck: StopCheck?
    var error: String?
}

/// One request around a representative failover, times relative to the fault.
struct TimelinePoint: Codable {
    var startMs: Double
    var latencyMs: Double
    /// "ok", "failed" or "indeterminate".
    var outcome: String
    /// The host it was sent to.
    var target: String
}

/// The requests around one failover (the trial whose window is nearest the median).
struct Timeline: Codable {
    var scenario: String
    var trial: Int
    var newLeaderMs: Double?
    var unavailableMs: Double?
    /// (d) when SIGCONT was sent, relative to the fault.
    var resumedMs: Double?
    var points: [TimelinePoint]
}

struct ScenarioResult: Codable {
    var scenario: String
    var title: String
    var action: String
    var trials: [TrialResult]
    var newLeaderMs: Distribution?
    var unavailableMs: Distribution?
    var failed: Distribution?
    var indeterminate: Distribution?
    /// Every write acknowledged during the scenario, read back at its end.
    var acknowledged: Int
    var lost: Int?
    /// Writes the system refused ("failed": not applied) that the read-back found anyway:
    /// each one is a false answer.
    var refusedButApplied: Int?
    var electionsDuringRecovery: Int
    var timeline: Timeline?
    var errors: [String]
}

/// The steady-load run.
struct LoadResult: Codable {
    var seconds: Double
    var writers: Int
    var writesPerSecond: Double
    var p50Ms: Double?
    var p90Ms: Double?
    var p99Ms: Double?
    var maxMs: Double?
    var succeeded: Int
    var failed: Int
    var indeterminate: Int
    /// Term increments seen during the run (0 means no election at all).
    var termChanges: Int
    /// Distinct leaders seen during the run.
    var leadersSeen: Int
    var statusPolls: Int
}

struct SystemResult: Codable {
    var system: String
    var version: String
    var timing: RaftTiming
    var scenarios: [ScenarioResult]
    var load: LoadResult?
    var seconds: Double
    var error: String?
}

struct FailoverRun: Codable {
    var benchmark = "failover"
    var timestamp: String
    var machine: Machine
    var fileSystem: FileSystemInfo
    var commit: String
    var command: String
    var parameters: [String: String]
    var systems: [SystemResult]
    var goals: [GoalCheck]
    var seconds: Double
}

/// One goal of the issue, met or missed.
struct GoalCheck: Codable {
    var goal: String
    var measured: String
    var met: Bool?
}
