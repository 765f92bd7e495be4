// Handing work to the host and taking its acknowledgements.

extension RaftNode {
    /// True when `ready()` has something for the host.
    public var hasReady: Bool {
        broadcastPending || readRoundPending
            || !messagesNow.isEmpty || !messagesAfterPersist.isEmpty || !readStates.isEmpty
            || snapshotToInstall != nil || log.handedForPersistence < log.lastIndex
            || hardState != handedHardState || log.hasNextCommitted
    }

    /// Takes the next batch of work. See `Raft.Ready` for what the host must do with each
    /// field, and in which order.
    public mutating func ready() -> Raft.Ready {
        if broadcastPending {
            broadcastPending = false
            if role == .leader { broadcastAppend() }
        }
        if readRoundPending {
            readRoundPending = false
            if role == .leader { broadcastHeartbeat() }
        }
        readySequence += 1
        let snapshot = snapshotToInstall
        snapshotToInstall = nil
        let entries = log.unpersisted
        log.handedForPersistence = log.lastIndex
        let current = hardState
        let changedHardState: Raft.HardState? = current == handedHardState ? nil : current
        let needsSync = current.term != handedHardState.term || current.vote != handedHardState.vote
        handedHardState = current
        let committed = log.nextCommitted(maxBytes: config.applyBytesMax)
        if let last = committed.last { log.applied = last.index }

        var lastIndex: Index?
        var lastTerm: Term = 0
        if let last = entries.last {
            lastIndex = last.index
            lastTerm = last.term
        } else if let snapshot {
            lastIndex = snapshot.meta.index
            lastTerm = snapshot.meta.term
        }
        let ready = Raft.Ready(
            snapshot: snapshot, entries: entries, hardState: changedHardState, hardStateNeedsSync: needsSync,
            committedEntries: committed, messagesNow: messagesNow, messagesAfterPersist: messagesAfterPersist,
            readStates: readStates,
            ack: .init(sequence: readySequence, lastIndex: lastIndex, lastTerm: lastTerm,
                       hardStateTerm: changedHardState?.term))
        messagesNow = []
        messagesAfterPersist = []
        readStates = []
        return ready
    }

    /// Acknowledges that a `Ready`'s snapshot, entries and hard state are durable.
    /// Acknowledgements must come in the order the batches were taken.
    public mutating func advance(_ ack: Raft.Ready.Ack) {
        precondition(ack.sequence == advancedSequence + 1,
                     "Ready \(ack.sequence) acknowledged out of order (last was \(advancedSequence))")
        precondition(ack.sequence <= readySequence, "acknowledging a Ready never taken")
        advancedSequence = ack.sequence
        if let persisted = ack.hardStateTerm { persistedTerm = max(persistedTerm, persisted) }
        // Entries truncated (or replaced by a snapshot) since the batch was taken are not
        // the ones made durable: only a still-matching last entry moves `stable`.
        if let last = ack.lastIndex, log.matchTerm(last, ack.lastTerm) {
            log.stable = max(log.stable, last)
        }
        if role == .candidate && electionOutcome() == .won { becomeLeader() }  // its own vote is now durable
        if role == .leader && maybeCommit() && role == .leader { broadcastPending = true }
    }

    /// A read-only picture of this member, for hosts, tests and operators.
    public var status: Raft.Status {
        var followers: [NodeID: Raft.Status.FollowerStatus] = [:]
        for (peer, pr) in progress {  // into a dictionary: order does not matter
            followers[peer] = .init(match: pr.match, next: pr.next, state: pr.state.rawValue,
                                    ticksSinceResponse: ticks - pr.lastResponseTick)
        }
        return Raft.Status(
            id: id, role: role, term: term, vote: vote, leader: leader, commit: log.committed,
            applied: log.applied, lastIndex: log.lastIndex, lastTerm: log.lastTerm, stableIndex: log.stable,
            snapshotIndex: log.snapshotIndex, membership: membership, leadTransferee: leadTransferee,
            followers: followers)
    }

    /// The entries held in memory from `low` through `high` (for hosts and checkers).
    public func entries(from low: Index, through high: Index) -> [Raft.Entry] {
        guard low <= high else { return [] }
        return log.entries(from: max(low, log.firstIndex), through: high, maxBytes: .max)
    }

    /// The term of the entry at `index`, if it is still in memory (or is the snapshot point).
    public func term(at index: Index) -> Term? { log.term(at: index) }
}

extension Raft {
    /// A snapshot of a member's state.
    public struct Status: Equatable, Sendable {
        public var id: NodeID
        public var role: Role
        public var term: Term
        public var vote: NodeID
        public var leader: NodeID
        public var commit: Index
        public var applied: Index
        public var lastIndex: Index
        public var lastTerm: Term
        public var stableIndex: Index
        public var snapshotIndex: Index
        public var membership: Membership
        public var leadTransferee: NodeID
        /// The leader's view of each follower (empty on followers).
        public var followers: [NodeID: FollowerStatus]

        public struct FollowerStatus: Equatable, Sendable {
            public var match: Index
            public var next: Index
            /// "probe", "replicate" or "snapshot".
            public var state: String
            public var ticksSinceResponse: UInt64
        }
    }
}
