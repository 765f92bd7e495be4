// Membership changes, one server at a time (thesis §4.1, with the fix from the raft-dev
// "bug in single-server membership changes" thread): a new leader commits an entry of its
// own term before any change, and at most one change is uncommitted at a time.

extension RaftNode {
    /// Proposes a membership change. Returns the index of its entry.
    @discardableResult
    public mutating func proposeMembershipChange(_ change: Raft.MembershipChange) throws(Raft.ProposalError) -> Index {
        try checkCanPropose()
        guard log.term(at: log.committed) == term else { throw .membershipChangeNotReady }
        guard pendingMembershipIndex <= log.committed else { throw .membershipChangeInProgress }
        guard change.context.count <= config.entryBytesMax else { throw .entryTooLarge(bytes: change.context.count) }
        let next: Raft.Membership
        do { next = try membership.applying(change) } catch { throw .invalidMembershipChange(error) }
        appendAsLeader([.membership(change, next)])
        pendingMembershipIndex = log.lastIndex
        return log.lastIndex
    }

    /// The index of the membership in force (its entry, or the snapshot holding it).
    var latestMembershipIndex: Index { membershipHistory.last?.index ?? snapshotMeta.index }

    /// The membership in force at `index`.
    func membership(at index: Index) -> Raft.Membership {
        membershipHistory.last(where: { $0.index <= index })?.membership ?? snapshotMeta.membership
    }

    /// A membership entry takes effect as soon as it is in the log.
    mutating func noteMembershipEntry(_ entry: Raft.Entry) {
        guard case .membership(_, let next) = entry.payload else { return }
        if let last = membershipHistory.last {
            precondition(last.index < entry.index, "membership entries out of order")
        }
        membershipHistory.append((entry.index, next))
        adopt(next)
    }

    /// A truncated log falls back to the membership of what remains.
    mutating func forgetMembershipEntries(from index: Index) {
        guard membershipHistory.contains(where: { $0.index >= index }) else { return }
        membershipHistory.removeAll { $0.index >= index }
        adopt(membershipHistory.last?.membership ?? snapshotMeta.membership)
    }

    mutating func adopt(_ next: Raft.Membership) {
        membership = next
        guard role == .leader else { return }
        for member in next.all where member != id && progress[member] == nil {
            progress[member] = Raft.Progress(next: log.lastIndex + 1, inflightAppendsMax: config.inflightAppendsMax,
                                             inflightBytesMax: config.inflightBytesMax, nowTick: ticks)
        }
        for member in peers where !next.contains(member) {
            progress[member] = nil
        }
        followersChanged()
        if leadTransferee != Raft.noNode && !next.isVoter(leadTransferee) { leadTransferee = Raft.noNode }
    }
}
