extension Raft {
    /// What a member must keep on stable storage before it answers for it.
    public struct HardState: Equatable, Sendable {
        /// The latest term this member has seen.
        public var term: Term
        /// Whom it voted for in `term` (`Raft.noNode` if nobody).
        public var vote: NodeID
        /// The highest index known committed (persisting it is an optimisation, not a need).
        public var commit: Index

        public init(term: Term = 0, vote: NodeID = Raft.noNode, commit: Index = 0) {
            self.term = term
            self.vote = vote
            self.commit = commit
        }
    }

    /// Describes a snapshot: the state machine after applying every entry up to `index`.
    public struct SnapshotMeta: Equatable, Sendable {
        /// The last entry the snapshot covers.
        public var index: Index
        /// The term of that entry.
        public var term: Term
        /// The membership in force at `index`.
        public var membership: Membership
        /// The size of the snapshot's data, in bytes.
        public var sizeBytes: Int

        public init(index: Index, term: Term, membership: Membership, sizeBytes: Int) {
            self.index = index
            self.term = term
            self.membership = membership
            self.sizeBytes = sizeBytes
        }
    }

    /// A whole snapshot as handed to the host for installation.
    public struct Snapshot: Equatable, Sendable {
        public var meta: SnapshotMeta
        /// The opaque state-machine bytes produced by the host.
        public var data: [UInt8]

        public init(meta: SnapshotMeta, data: [UInt8]) {
            self.meta = meta
            self.data = data
        }
    }

    /// What a member reloads from stable storage when it starts.
    public struct PersistentState: Equatable, Sendable {
        public var hardState: HardState
        /// The newest snapshot (index 0 describes the initial membership of a new cluster).
        public var snapshot: SnapshotMeta
        /// The log entries after `snapshot.index`, contiguous.
        public var entries: [Entry]

        public init(hardState: HardState, snapshot: SnapshotMeta, entries: [Entry]) {
            self.hardState = hardState
            self.snapshot = snapshot
            self.entries = entries
        }

        /// The state of a member that founds a new cluster with these voters.
        public static func bootstrap(voters: [NodeID]) -> PersistentState {
            PersistentState(
                hardState: HardState(),
                snapshot: SnapshotMeta(index: 0, term: 0, membership: Membership(voters: voters), sizeBytes: 0),
                entries: [])
        }

        /// The state of a member that will be added to an existing cluster by its leader.
        public static let joining = PersistentState(
            hardState: HardState(),
            snapshot: SnapshotMeta(index: 0, term: 0, membership: .empty, sizeBytes: 0),
            entries: [])
    }
}
