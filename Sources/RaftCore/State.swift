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

    /// Why reloaded stable state cannot be used (storage corruption or a host bug).
    public enum StateError: Error, Equatable, Sendable {
        case entriesNotContiguous(expected: Index, found: Index)
        case termsDecrease(at: Index)
        case commitBeyondLog(commit: Index, lastIndex: Index)
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

        /// Checks what storage handed back: contiguous entries after the snapshot, terms that
        /// never decrease, a commit index within the log.
        public func validate() throws(StateError) {
            var expected = snapshot.index + 1
            var previousTerm = snapshot.term
            for entry in entries {
                guard entry.index == expected else { throw .entriesNotContiguous(expected: expected, found: entry.index) }
                guard entry.term >= previousTerm else { throw .termsDecrease(at: entry.index) }
                expected += 1
                previousTerm = entry.term
            }
            let last = snapshot.index + UInt64(entries.count)
            guard hardState.commit <= last else { throw .commitBeyondLog(commit: hardState.commit, lastIndex: last) }
        }

        /// The state of a member that founds a new cluster with these voters: every founder
        /// holds the same committed first entry (index 1, term 1) naming the founding voters,
        /// so the membership is in the log from the start and reaches later members with it.
        public static func bootstrap(voters: [NodeID]) -> PersistentState {
            let founders = Membership(voters: voters)
            precondition(!founders.voters.isEmpty, "a cluster needs at least one founding voter")
            let first = Entry(term: 1, index: 1,
                              payload: .membership(MembershipChange(.bootstrap, node: founders.voters[0]), founders))
            return PersistentState(
                hardState: HardState(term: 1, vote: Raft.noNode, commit: 1),
                snapshot: SnapshotMeta(index: 0, term: 0, membership: .empty, sizeBytes: 0),
                entries: [first])
        }

        /// The state of a member that will be added to an existing cluster by its leader.
        public static let joining = PersistentState(
            hardState: HardState(),
            snapshot: SnapshotMeta(index: 0, term: 0, membership: .empty, sizeBytes: 0),
            entries: [])
    }
}
