extension Raft {
    /// A batch of work the core hands to its host. Take one with `RaftNode.ready()` when
    /// `hasReady` is true, carry it out following the rules on each field, then call
    /// `RaftNode.advance(_:)` with its `ack` once the batch's persistence is durable.
    ///
    /// Batches may overlap: the host may take the next `Ready` before the previous one is
    /// durable (its storage thread then commits both in one sync), but it must make batches
    /// durable, and acknowledge them, in the order it took them.
    public struct Ready: Sendable {
        /// 1. A snapshot received from the leader. Persist it — it replaces the *entire* log
        ///    (later entries in the old log may be from another history) — and restore the
        ///    state machine from it before applying `committedEntries`.
        public var snapshot: Snapshot?

        /// 2. Entries to append to stable storage, after the snapshot. The first one's index
        ///    may be at or below the stored last index: the stored suffix from that index on is
        ///    then replaced.
        public var entries: [Entry]

        /// 3. Persist after the entries and snapshot (or atomically with them), never before:
        ///    a hard state whose commit index is durable while the entries it covers are not
        ///    would commit entries that were never committed. Must be durable before any
        ///    message in `messagesAfterPersist` of this batch is sent.
        public var hardState: HardState?

        /// True when `hardState` changes the term or vote; a change of commit index alone
        /// does not need to be synced before acknowledging.
        public var hardStateNeedsSync: Bool

        /// 4. Committed entries to apply to the state machine, in order, after those of
        ///    earlier batches. They are committed on a quorum already, so they may be applied
        ///    before this batch's own persistence completes.
        public var committedEntries: [Entry]

        /// 5. Messages that may be sent at once, in parallel with persisting this batch
        ///    (a leader's appends and heartbeats; thesis §10.2.1).
        public var messagesNow: [Message]

        /// 6. Messages that promise durable state (votes, append and snapshot acknowledgements,
        ///    anything sent under an unpersisted term). Send only after this batch and all
        ///    earlier ones are durable.
        ///
        /// Snapshot chunks, in either list, carry empty data: fill it from the stored snapshot
        /// their `meta` names before sending, and drop the chunk if that snapshot is gone (the
        /// transfer then restarts with the newest snapshot).
        public var messagesAfterPersist: [Message]

        /// 7. Answers to ReadIndex requests: serve each read once the state machine has
        ///    applied up to its index; a nil index means the read failed (retry it).
        public var readStates: [ReadState]

        /// Pass to `RaftNode.advance(_:)` once items 1–3 are durable.
        public var ack: Ack

        /// True when nothing needs persisting (the host may acknowledge without a sync).
        public var needsPersistence: Bool { hardState != nil || snapshot != nil || !entries.isEmpty }

        /// The acknowledgement token of a `Ready`.
        public struct Ack: Sendable, Equatable {
            /// The batch's position in the sequence of batches (1, 2, ...).
            public var sequence: UInt64
            /// The last index and term written by this batch (entries or snapshot), if any.
            public var lastIndex: Index?
            public var lastTerm: Term
            /// The term persisted with this batch's hard state, if any.
            public var hardStateTerm: Term?
        }
    }

    /// The outcome of a ReadIndex request.
    public struct ReadState: Equatable, Sendable {
        /// The identifier the host chose when it asked.
        public var requestID: UInt64
        /// Serve the read once applied up to here; nil means "not served" (leadership lost or
        /// no leader): retry or report an error.
        public var index: Index?

        public init(requestID: UInt64, index: Index?) {
            self.requestID = requestID
            self.index = index
        }
    }

    /// A member's role.
    public enum Role: String, Sendable {
        case follower, preCandidate, candidate, leader
    }

    /// Why a proposal was refused. Proposals are never forwarded by the core: a follower
    /// refuses with the leader it knows, and the host forwards the request (issue 4's API does).
    public enum ProposalError: Error, Equatable, Sendable {
        /// This member is not the leader; `leaderHint` is the leader it knows of, if any.
        case notLeader(leaderHint: NodeID?)
        /// A leadership transfer is in progress; retry on the new leader.
        case transferInProgress
        /// Too many bytes are proposed but not yet committed.
        case overloaded
        /// The command exceeds `Config.entryBytesMax`.
        case entryTooLarge(bytes: Int)
        /// The new leader has not committed an entry of its own term yet; retry shortly.
        case membershipChangeNotReady
        /// An earlier membership change is not committed yet.
        case membershipChangeInProgress
        /// The change does not apply to the current membership.
        case invalidMembershipChange(MembershipError)
        /// A leadership transfer target must be another voter.
        case invalidTransferTarget(NodeID)
        /// A proposal batch must hold at least one command.
        case emptyProposal
    }
}
