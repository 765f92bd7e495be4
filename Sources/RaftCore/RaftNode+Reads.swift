// Linearizable reads through ReadIndex (thesis §6.4) and leadership transfer (thesis §3.10).

extension RaftNode {
    /// Why a read could not even be started.
    public enum ReadError: Error, Equatable, Sendable {
        /// No leader is known to ask; retry after an election.
        case noLeader
        /// Too many reads are waiting at this leader.
        case overloaded
    }

    /// Asks for a read index. The answer arrives in `Ready.readStates` under `requestID`
    /// (chosen by the host, unique among its outstanding reads). A follower asks its leader.
    public mutating func readIndex(requestID: UInt64) throws(ReadError) {
        if role == .leader {
            guard pendingReads.count + readsAwaitingTermCommit.count < config.readRequestsPendingMax else {
                throw .overloaded
            }
            startRead(PendingRead(requestID: requestID, from: id))
        } else {
            guard leader != Raft.noNode else { throw .noLeader }
            guard forwardedReads.count < config.readRequestsPendingMax else { throw .overloaded }
            forwardedReads.append(requestID)
            send(to: leader, .readIndex(requestID: requestID))
        }
    }

    mutating func handleReadIndexRequest(from peer: NodeID, requestID: UInt64) {
        guard role == .leader,
              pendingReads.count + readsAwaitingTermCommit.count < config.readRequestsPendingMax else {
            send(to: peer, .readIndexResponse(requestID: requestID, index: nil))
            return
        }
        startRead(PendingRead(requestID: requestID, from: peer))
    }

    /// The read index is the commit index now, valid once a heartbeat round started after
    /// this moment is acknowledged by a quorum (proving no newer leader existed meanwhile).
    mutating func startRead(_ request: PendingRead) {
        var read = request
        guard log.term(at: log.committed) == term else {
            readsAwaitingTermCommit.append(read)  // our commit index may still lag the last leader's
            return
        }
        read.index = log.committed
        read.round = readRound + 1
        pendingReads.append(read)
        readRoundPending = true
        releaseConfirmedReads()
    }

    /// Answers every pending read whose heartbeat round a quorum has acknowledged.
    mutating func releaseConfirmedReads() {
        guard !pendingReads.isEmpty else { return }
        var rounds: [UInt64] = []
        for voter in membership.voters {
            rounds.append(voter == id ? readRound : (progress[voter]?.readRoundAcked ?? 0))
        }
        guard !rounds.isEmpty else { return }
        rounds.sort(by: >)
        let confirmed = rounds[membership.quorum - 1]
        var released = 0
        while released < pendingReads.count && pendingReads[released].round <= confirmed {
            deliverRead(pendingReads[released], index: pendingReads[released].index)
            released += 1
        }
        if released > 0 { pendingReads.removeFirst(released) }
    }

    mutating func deliverRead(_ read: PendingRead, index: Index?) {
        if read.from == id {
            readStates.append(Raft.ReadState(requestID: read.requestID, index: index))
        } else {
            send(to: read.from, .readIndexResponse(requestID: read.requestID, index: index))
        }
    }

    /// Hands leadership to `target`, a voter: once it has every entry it is told to campaign
    /// at once (TimeoutNow). Proposals are refused until the transfer ends; it is abandoned
    /// after an election timeout.
    public mutating func transferLeadership(to target: NodeID) throws(Raft.ProposalError) {
        guard role == .leader else { throw .notLeader(leaderHint: leader == Raft.noNode ? nil : leader) }
        guard target != id, membership.isVoter(target), progress[target] != nil else {
            throw .invalidTransferTarget(target)
        }
        leadTransferee = target
        transferElapsed = 0
        if progress[target]?.match == log.lastIndex {
            send(to: target, .timeoutNow)
        } else {
            sendAppend(to: target, allowEmpty: true)
        }
    }
}
