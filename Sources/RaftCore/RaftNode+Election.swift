// Elections: ticks, pre-vote, votes, the leader's lease and CheckQuorum (Raft §5.2, thesis §9.6).

extension RaftNode {
    mutating func tickFollower() {
        electionElapsed += 1
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            campaign(preVote: config.preVote, leadershipTransfer: false)
        }
    }

    mutating func tickLeader() {
        electionElapsed += 1
        heartbeatElapsed += 1
        if config.checkQuorum && !quorumRecentlyActive() {
            becomeFollower(term: term, leader: Raft.noNode)  // cannot reach a quorum: step down
            return
        }
        if electionElapsed >= config.electionTimeoutTicks { electionElapsed = 0 }
        if leadTransferee != Raft.noNode {
            transferElapsed += 1
            if transferElapsed >= config.electionTimeoutTicks { leadTransferee = Raft.noNode }  // abort
        }
        tickSnapshotTransfers()
        detectStalledPipelines()
        if heartbeatElapsed >= config.heartbeatIntervalTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    /// True while a quorum of voters (this leader included, if it votes) has answered within
    /// the last election timeout.
    func quorumRecentlyActive() -> Bool {
        let window = UInt64(config.electionTimeoutTicks)
        var active = 0
        for voter in membership.voters {
            if voter == id {
                active += 1
            } else if let pr = progress[voter], ticks - pr.lastResponseTick < window {
                active += 1
            }
        }
        return active >= membership.quorum
    }

    /// Starts a pre-vote round or an election.
    mutating func campaign(preVote: Bool, leadershipTransfer: Bool) {
        guard isPromotable else { return }
        let campaignTerm: Term
        if preVote {
            role = .preCandidate
            leader = Raft.noNode
            votes = [:]
            resetElectionTimer()
            campaignTerm = term + 1
        } else {
            becomeCandidate()
            campaignTerm = term
        }
        votes[id] = true
        if electionOutcome() == .won {
            if preVote { campaign(preVote: false, leadershipTransfer: leadershipTransfer) } else { becomeLeader() }
            return
        }
        for voter in membership.voters where voter != id {
            let kind: Raft.Message.Kind = preVote
                ? .preVote(lastIndex: log.lastIndex, lastTerm: log.lastTerm)
                : .vote(lastIndex: log.lastIndex, lastTerm: log.lastTerm, leadershipTransfer: leadershipTransfer)
            send(to: voter, term: campaignTerm, kind)
        }
    }

    private mutating func becomeCandidate() {
        if role == .leader { abandonLeadership() }
        term += 1
        vote = id
        role = .candidate
        leader = Raft.noNode
        votes = [:]
        resetElectionTimer()
    }

    enum ElectionOutcome { case pending, won, lost }

    func electionOutcome() -> ElectionOutcome {
        var granted = 0
        var rejected = 0
        for voter in membership.voters {
            // A candidate's own vote counts once it is durable: a member that crashed before
            // persisting it could otherwise lead the term and, restarted, vote for another.
            if voter == id && role == .candidate && persistedTerm < term { continue }
            switch votes[voter] {
            case true?: granted += 1
            case false?: rejected += 1
            case nil: break
            }
        }
        if granted >= membership.quorum { return .won }
        if membership.voters.count - rejected < membership.quorum { return .lost }
        return .pending
    }

    /// Adjusts to a message from a higher term. Returns false when the message is to be ignored.
    mutating func acceptHigherTerm(_ m: Raft.Message) -> Bool {
        switch m.kind {
        case .preVote, .vote:
            var transfer = false
            if case .vote(_, _, let flag) = m.kind { transfer = flag }
            // The lease: while we hear from a leader, a campaign is a disruption, not a need.
            let inLease = config.checkQuorum && leader != Raft.noNode
                && electionElapsed < config.electionTimeoutTicks
            if inLease && !transfer { return false }
            if case .preVote = m.kind { return true }  // a pre-vote never changes our term
            becomeFollower(term: m.term, leader: Raft.noNode)
        case .preVoteResponse(granted: true):
            return true  // carries the term we would campaign in; not a newer leader's term
        case .append, .heartbeat, .snapshotChunk:
            becomeFollower(term: m.term, leader: m.from)
        default:
            becomeFollower(term: m.term, leader: Raft.noNode)
        }
        return true
    }

    /// Answers a message from an older term so that its sender learns of the newer one.
    mutating func answerLowerTerm(_ m: Raft.Message) {
        switch m.kind {
        case .append, .heartbeat, .snapshotChunk:
            // A deposed leader (say, back from a partition) steps down when it sees our term.
            if config.checkQuorum || config.preVote { send(to: m.from, .heartbeatResponse(readRound: 0)) }
        case .preVote:
            send(to: m.from, .preVoteResponse(granted: false))
        default:
            break  // stale: drop
        }
    }

    mutating func handleVoteRequest(_ m: Raft.Message, preVote: Bool, lastIndex: Index, lastTerm: Term) {
        let canVote = vote == m.from
            || (vote == Raft.noNode && leader == Raft.noNode)
            || (preVote && m.term > term)
        let upToDate = log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm)
            || config.faultyRule == .voteIgnoringLogUpToDate
        let grant = canVote && upToDate
        if preVote {
            send(to: m.from, term: grant ? m.term : term, .preVoteResponse(granted: grant))
        } else {
            if grant {
                vote = m.from
                electionElapsed = 0
            }
            send(to: m.from, .voteResponse(granted: grant))
        }
    }

    mutating func handleVoteResponse(_ m: Raft.Message, preVote: Bool, granted: Bool) {
        if preVote {
            guard role == .preCandidate else { return }
            // Granted answers carry our campaign term, refusals our own term.
            guard m.term == (granted ? term + 1 : term) else { return }
        } else {
            guard role == .candidate, m.term == term else { return }
        }
        if votes[m.from] == nil { votes[m.from] = granted }
        switch electionOutcome() {
        case .won:
            if preVote { campaign(preVote: false, leadershipTransfer: false) } else { becomeLeader() }
        case .lost:
            becomeFollower(term: term, leader: Raft.noNode)
        case .pending:
            break
        }
    }

    /// Accepts `from` as the leader of the current term. False if this member leads it itself.
    mutating func followLeader(_ from: NodeID) -> Bool {
        if role == .leader { return false }  // two leaders in one term cannot happen; ignore a liar
        if role != .follower { becomeFollower(term: term, leader: from) }
        leader = from
        electionElapsed = 0
        return true
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        role = .leader
        leader = id
        votes = [:]
        resetElectionTimer()
        progress = [:]
        for member in membership.all where member != id {
            progress[member] = Raft.Progress(next: log.lastIndex + 1, inflightAppendsMax: config.inflightAppendsMax,
                                             inflightBytesMax: config.inflightBytesMax, nowTick: ticks)
        }
        followersChanged()
        leadTransferee = Raft.noNode
        uncommittedBytes = 0
        // No membership change until an entry of this term commits (the single-server fix).
        pendingMembershipIndex = log.lastIndex
        appendAsLeader([.noop])
    }
}
