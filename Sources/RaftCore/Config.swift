extension Raft {
    /// How a member behaves; every bound is named with its unit.
    public struct Config: Sendable {
        /// This member's identity (never `Raft.noNode`).
        public var id: NodeID
        /// Ticks without hearing from a leader before a follower campaigns; the actual timeout
        /// is drawn at random from `electionTimeoutTicks ..< 2 * electionTimeoutTicks`.
        public var electionTimeoutTicks: Int = 10
        /// Ticks between a leader's heartbeats (must be well below the election timeout).
        public var heartbeatIntervalTicks: Int = 1
        /// Campaign with a pre-vote round first, so a member coming back from a partition
        /// cannot raise the term and depose a healthy leader.
        public var preVote: Bool = true
        /// A leader that has not heard from a quorum for an election timeout steps down, and
        /// voters ignore campaigns while they hear from a leader (the leader's lease).
        public var checkQuorum: Bool = true
        /// Upper bound on the entries' bytes in one AppendEntries message.
        public var appendBytesMax: Int = 1 << 20
        /// Upper bound on AppendEntries messages in flight to one follower.
        public var inflightAppendsMax: Int = 256
        /// Upper bound on entry bytes in flight to one follower.
        public var inflightBytesMax: Int = 32 << 20
        /// Upper bound on one snapshot chunk's data, in bytes.
        public var snapshotChunkBytesMax: Int = 1 << 20
        /// Upper bound on snapshot chunks in flight to one follower.
        public var snapshotChunksInflightMax: Int = 4
        /// Upper bound on a snapshot a follower will assemble, in bytes.
        public var snapshotBytesMax: Int = 4 << 30
        /// Upper bound on proposed-but-uncommitted entry bytes at the leader; proposals beyond it
        /// are refused (`ProposalError.overloaded`) until commitment catches up.
        public var uncommittedBytesMax: Int = 64 << 20
        /// Upper bound on committed entry bytes handed out in one `Ready`.
        public var applyBytesMax: Int = 16 << 20
        /// Upper bound on ReadIndex requests waiting at the leader.
        public var readRequestsPendingMax: Int = 4096
        /// Upper bound on one command entry's bytes.
        public var entryBytesMax: Int = 8 << 20
        /// Seed of the generator behind the randomized election timeouts.
        public var randomSeed: UInt64
        /// A deliberately broken rule, for proving that the simulator's checkers can fail.
        /// Never set it outside tests.
        public var faultyRule: FaultyRule?

        public init(id: NodeID, randomSeed: UInt64) {
            precondition(id != Raft.noNode, "node id 0 is reserved for 'none'")
            self.id = id
            self.randomSeed = randomSeed
        }

        /// Preconditions on a configuration, checked when a node is created.
        func validate() {
            precondition(electionTimeoutTicks >= 2, "electionTimeoutTicks must be at least 2")
            precondition(heartbeatIntervalTicks >= 1 && heartbeatIntervalTicks < electionTimeoutTicks,
                         "heartbeatIntervalTicks must be in 1 ..< electionTimeoutTicks")
            precondition(appendBytesMax > 0 && inflightAppendsMax > 0 && inflightBytesMax > 0)
            precondition(snapshotChunkBytesMax > 0 && snapshotChunksInflightMax > 0)
            precondition(uncommittedBytesMax > 0 && applyBytesMax > 0 && readRequestsPendingMax > 0)
        }
    }

    /// Rules that can be broken on purpose to show that the simulator notices.
    public enum FaultyRule: String, Sendable, CaseIterable {
        /// Commit an entry from an earlier term by counting replicas (the Figure 8 bug).
        case commitPriorTermByCounting
        /// Grant a vote without checking that the candidate's log is up to date.
        case voteIgnoringLogUpToDate
        /// Acknowledge appended entries before they are durable.
        case acknowledgeBeforeDurable
    }
}
