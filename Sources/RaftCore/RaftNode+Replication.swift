// Log replication: proposals, AppendEntries with pipelining and fast back-off, commitment
// by counting only for entries of the current term (Raft §5.3, §5.4.2; thesis §10.2.1).

extension RaftNode {
    /// Proposes one command. Returns the index it will occupy if it commits.
    @discardableResult
    public mutating func propose(_ command: [UInt8]) throws(Raft.ProposalError) -> Index {
        try propose(batch: [command]).upperBound
    }

    /// Proposes several commands as consecutive entries. Returns their indexes.
    @discardableResult
    public mutating func propose(batch commands: [[UInt8]]) throws(Raft.ProposalError) -> ClosedRange<Index> {
        guard !commands.isEmpty else { throw .emptyProposal }
        try checkCanPropose()
        var bytes = 0
        for command in commands {
            guard command.count <= config.entryBytesMax else { throw .entryTooLarge(bytes: command.count) }
            bytes += Raft.Entry.overheadBytes + command.count
        }
        guard uncommittedBytes == 0 || uncommittedBytes + bytes <= config.uncommittedBytesMax else {
            throw .overloaded
        }
        let first = log.lastIndex + 1
        appendAsLeader(commands.map { .command($0) })
        return first...log.lastIndex
    }

    func checkCanPropose() throws(Raft.ProposalError) {
        guard role == .leader else { throw .notLeader(leaderHint: leader == Raft.noNode ? nil : leader) }
        guard leadTransferee == Raft.noNode else { throw .transferInProgress }
    }

    /// Appends entries of the current term to the leader's log; they are sent with the next Ready.
    mutating func appendAsLeader(_ payloads: [Raft.Entry.Payload]) {
        precondition(role == .leader, "appendAsLeader on a \(role)")
        var index = log.lastIndex
        var entries: [Raft.Entry] = []
        entries.reserveCapacity(payloads.count)
        for payload in payloads {
            index += 1
            let entry = Raft.Entry(term: term, index: index, payload: payload)
            uncommittedBytes += entry.sizeBytes
            entries.append(entry)
        }
        log.append(entries)
        for entry in entries { noteMembershipEntry(entry) }
        broadcastPending = true
        // A single voter commits once its own copy is durable (see `advance`).
    }

    /// Sends appends to every follower that can take more.
    mutating func broadcastAppend() {
        for peer in peers { sendAppends(to: peer, allowEmpty: true) }
    }

    /// In replicate state, sends until the pipeline is full or the follower has everything.
    mutating func sendAppends(to peer: NodeID, allowEmpty: Bool) {
        var first = true
        while sendAppend(to: peer, allowEmpty: allowEmpty && first) {
            first = false
            guard progress[peer]?.state == .replicate else { break }
        }
    }

    /// Sends one AppendEntries (or starts a snapshot transfer). Returns false if nothing was sent.
    @discardableResult
    mutating func sendAppend(to peer: NodeID, allowEmpty: Bool) -> Bool {
        guard var pr = progress[peer], !pr.isPaused else { return false }
        let prevIndex = pr.next - 1
        guard prevIndex >= log.snapshotIndex, let prevTerm = log.term(at: prevIndex) else {
            startSnapshotTransfer(to: peer)  // what the follower needs is compacted away
            return true
        }
        let entries = log.entries(from: pr.next, through: log.lastIndex, maxBytes: config.appendBytesMax)
        if entries.isEmpty && !allowEmpty { return false }
        send(to: peer, .append(.init(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: log.committed)))
        if let last = entries.last {
            switch pr.state {
            case .replicate:
                pr.next = last.index + 1
                pr.inflights.add(lastIndex: last.index, bytes: entries.reduce(0) { $0 + $1.sizeBytes })
            case .probe:
                pr.probeSent = true
            case .snapshot:
                preconditionFailure("append sent while a snapshot transfer is paused")
            }
        } else if pr.state == .probe {
            pr.probeSent = true
        }
        progress[peer] = pr
        return !entries.isEmpty
    }

    mutating func broadcastHeartbeat() {
        readRound += 1
        readRoundPending = false
        for peer in peers {
            let pr = progress[peer]!
            send(to: peer, .heartbeat(commit: min(pr.match, log.committed), readRound: readRound))
        }
        releaseConfirmedReads()
    }

    mutating func handleAppendResponse(from peer: NodeID, _ response: Raft.Message.AppendResponse) {
        guard var pr = progress[peer] else { return }
        pr.lastResponseTick = ticks
        switch response {
        case let .rejected(rejectedIndex, hintIndex, hintTerm):
            let probeFrom = log.lastIndex(atOrBelow: hintIndex, withTermAtMost: hintTerm)
            let backedOff = pr.backOff(rejected: rejectedIndex, probeFrom: probeFrom)
            progress[peer] = pr
            if backedOff { sendAppend(to: peer, allowEmpty: true) }
        case .accepted(let matchIndex):
            guard matchIndex <= log.lastIndex else { progress[peer] = pr; return }  // not from our log
            let wasPaused = pr.isPaused
            let updated = pr.acknowledge(match: matchIndex)
            switch pr.state {
            case .probe where matchIndex >= pr.match:
                pr.becomeReplicate()
            case .replicate:
                pr.inflights.free(upTo: matchIndex)
            case .snapshot:
                if let transfer = pr.snapshotTransfer, pr.match >= transfer.meta.index { pr.becomeProbe() }
            default:
                break
            }
            progress[peer] = pr
            let committed = updated && maybeCommit()
            if committed {
                guard role == .leader else { return }  // it removed itself and stepped down
                broadcastPending = true  // carry the new commit index with the next Ready
            }
            // A follower that was paused may have missed a commit advance: tell it now
            // (unless the coming broadcast will).
            sendAppends(to: peer, allowEmpty: wasPaused && !committed)
            if peer == leadTransferee, progress[peer]?.match == log.lastIndex {
                send(to: peer, .timeoutNow)
            }
        }
    }

    mutating func handleHeartbeatResponse(from peer: NodeID, readRound round: UInt64) {
        guard var pr = progress[peer] else { return }
        pr.lastResponseTick = ticks
        pr.readRoundAcked = max(pr.readRoundAcked, round)
        switch pr.state {
        case .probe:
            pr.probeSent = false  // the probe may have been lost: send another
            progress[peer] = pr
            if pr.match < log.lastIndex { sendAppend(to: peer, allowEmpty: true) }
        case .replicate:
            // The follower is alive; let one more append out of a full pipeline (acks wait
            // for its disk, heartbeat answers do not). Lost appends surface as a rejection
            // of the next one, or through `detectStalledPipelines`.
            if pr.inflights.isFull { pr.inflights.freeFirst() }
            progress[peer] = pr
            sendAppends(to: peer, allowEmpty: false)
        case .snapshot:
            progress[peer] = pr
        }
        releaseConfirmedReads()
    }

    /// A follower in replicate state whose match has not moved for half an election timeout
    /// while entries are outstanding lost some appends (the last ones, so no later append
    /// exposes the gap): probe again from its match.
    mutating func detectStalledPipelines() {
        let window = UInt64(max(2 * config.heartbeatIntervalTicks, config.electionTimeoutTicks / 2))
        for peer in peers {
            guard let pr = progress[peer], pr.state == .replicate, pr.match < log.lastIndex else { continue }
            guard ticks - pr.lastProgressTick >= window else { continue }
            var updated = pr
            updated.becomeProbe()
            updated.lastProgressTick = ticks
            progress[peer] = updated
            sendAppend(to: peer, allowEmpty: true)
        }
    }

    /// Advances the commit index to the highest index held durably by a quorum of voters,
    /// provided that entry is of the current term. Returns true if it moved.
    @discardableResult
    mutating func maybeCommit() -> Bool {
        precondition(role == .leader)
        var matches: [Index] = []
        matches.reserveCapacity(membership.voters.count)
        for voter in membership.voters {
            matches.append(voter == id ? log.stable : (progress[voter]?.match ?? 0))
        }
        guard !matches.isEmpty else { return false }
        matches.sort(by: >)
        let candidate = matches[membership.quorum - 1]
        guard candidate > log.committed else { return false }
        // Raft §5.4.2: never commit an earlier term's entry by counting replicas.
        guard log.term(at: candidate) == term || config.faultyRule == .commitPriorTermByCounting else { return false }
        let old = log.committed
        log.commit(to: candidate)
        var released = 0
        for index in (max(old, log.snapshotIndex) + 1)...candidate {
            if let entry = log.entry(at: index), entry.term == term { released += entry.sizeBytes }
        }
        uncommittedBytes = max(0, uncommittedBytes - released)
        leaderCommitAdvanced()
        return true
    }

    /// Work that waits for the leader's commit index.
    mutating func leaderCommitAdvanced() {
        if !readsAwaitingTermCommit.isEmpty && log.term(at: log.committed) == term {
            let waiting = readsAwaitingTermCommit
            readsAwaitingTermCommit = []
            for read in waiting { startRead(read) }
        }
        // A leader that removed itself steps down once the removal is committed.
        if !membership.isVoter(id) && log.committed >= latestMembershipIndex {
            // Hand over at once to a voter that has everything, rather than leaving the
            // cluster to wait out an election timeout.
            if let heir = membership.voters.first(where: { progress[$0]?.match == log.lastIndex }) {
                send(to: heir, .timeoutNow)
            }
            becomeFollower(term: term, leader: Raft.noNode)
        }
    }

    mutating func handleAppend(from leaderID: NodeID, _ a: Raft.Message.Append) {
        if a.prevIndex < log.committed {
            // Everything up to our commit index matches any current leader's log.
            send(to: leaderID, .appendResponse(.accepted(matchIndex: log.committed)))
            return
        }
        guard log.matchTerm(a.prevIndex, a.prevTerm) else {
            let hintIndex = log.lastIndex(atOrBelow: min(a.prevIndex, log.lastIndex), withTermAtMost: a.prevTerm)
            let hintTerm = log.term(at: hintIndex) ?? 0
            send(to: leaderID, .appendResponse(.rejected(rejectedIndex: a.prevIndex, hintIndex: hintIndex, hintTerm: hintTerm)))
            return
        }
        var previousTerm = a.prevTerm
        for (offset, entry) in a.entries.enumerated() {
            // A peer's entries must be contiguous after prevIndex, with terms that never
            // decrease and never exceed the leader's; drop a malformed message.
            guard entry.index == a.prevIndex + 1 + UInt64(offset), entry.term >= previousTerm,
                  entry.term <= term else { return }
            previousTerm = entry.term
        }
        let lastNew = a.prevIndex + UInt64(a.entries.count)
        if let conflict = log.firstConflict(in: a.entries) {
            let newEntries = Array(a.entries[conflict...])
            if newEntries[0].index <= log.lastIndex {
                log.truncateAndAppend(newEntries)
                forgetMembershipEntries(from: newEntries[0].index)
            } else {
                log.append(newEntries)
            }
            for entry in newEntries { noteMembershipEntry(entry) }
        }
        log.commit(to: min(a.commit, lastNew))
        send(to: leaderID, .appendResponse(.accepted(matchIndex: lastNew)))
    }

    mutating func handleHeartbeat(from leaderID: NodeID, commit: Index, readRound round: UInt64) {
        // The leader sends min(its commit, our match), so this never commits an unmatched entry.
        log.commit(to: min(commit, log.lastIndex))
        send(to: leaderID, .heartbeatResponse(readRound: round))
    }
}
