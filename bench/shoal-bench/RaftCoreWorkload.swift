// One measured run of the raft-core benchmark: a leader streaming proposals to two followers.
import RaftCore

/// What one run of the raft-core workload asks for.
struct RaftCoreWorkload {
    /// Upper bound on consecutive delivery passes that commit nothing before the run is
    /// declared stuck (a bug in the core or the harness, not a slow machine).
    static let stalledPassesMax = 10_000

    /// Members in the cluster.
    var clusterSize: Int
    /// Commands per `propose(batch:)` call.
    var batchSize: Int
    /// Entries to commit at the leader (rounded up to whole batches).
    var entries: Int
    /// Bytes of each command.
    var payloadBytes: Int
    /// Log compaction interval in entries (0: never compact).
    var compactEveryEntries: Int

    /// The counts and time of one run.
    struct Run: Codable {
        /// Entries committed at the leader during the measured loop.
        var entriesCommitted: Int
        /// Time of the measured loop, in seconds.
        var seconds: Double
        /// CPU time the loop's thread got, in seconds (see `Timing.cpuSeconds`).
        var cpuSeconds: Double
        /// Messages delivered between members during the measured loop.
        var messages: Int
        /// `Ready` batches taken from all members during the measured loop.
        var readies: Int
        /// Proposals refused (`overloaded`) and retried on a later pass.
        var proposalsRefused: Int

        var entriesPerSecond: Double { Double(entriesCommitted) / seconds }
        var messagesPerSecond: Double { Double(messages) / seconds }
    }

    /// Builds a cluster, elects node 1, then times proposing and committing `entries`.
    func run() -> Run {
        precondition(batchSize >= 1 && entries >= 1 && payloadBytes >= 0)
        var cluster = BenchCluster(size: clusterSize, compactEveryEntries: compactEveryEntries)
        let leader = cluster.electNodeOne()
        let term = cluster.nodes[leader].term
        // One shared payload buffer: the run measures the core, not the host allocating commands.
        let batch = Array(repeating: [UInt8](repeating: 0xA5, count: payloadBytes), count: batchSize)
        let target = (entries + batchSize - 1) / batchSize * batchSize
        let messagesBefore = cluster.messagesDelivered
        let readiesBefore = cluster.readiesTaken

        var proposed = 0
        var committed = 0
        var refused = 0
        let timing = measure {
            var stalledPasses = 0
            while committed < target {
                if proposed < target {
                    do throws(Raft.ProposalError) {
                        try cluster.nodes[leader].propose(batch: batch)
                        proposed += batchSize
                    } catch .overloaded {
                        refused += 1
                    } catch {
                        preconditionFailure("proposal refused: \(error)")
                    }
                }
                let newlyCommitted = cluster.pass(countingCommittedAt: leader)
                committed += newlyCommitted
                stalledPasses = newlyCommitted > 0 ? 0 : stalledPasses + 1
                precondition(stalledPasses < Self.stalledPassesMax, "no commit in \(stalledPasses) passes")
            }
        }
        precondition(committed == target, "committed \(committed) entries, expected \(target)")
        cluster.verifyConverged(leader: leader, term: term)
        return Run(entriesCommitted: committed, seconds: timing.seconds, cpuSeconds: timing.cpuSeconds,
                   messages: cluster.messagesDelivered - messagesBefore,
                   readies: cluster.readiesTaken - readiesBefore, proposalsRefused: refused)
    }
}
