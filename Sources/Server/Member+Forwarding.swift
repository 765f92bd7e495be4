import API
import RaftCore
import Store

// Writes that reach a follower go to the leader over the peer connection (not over HTTP):
// the follower validates the request and builds the command, the leader only appends it and
// says where (index, term), and the follower answers its client once it applied that entry
// itself, with its own store's result. The leader so does no HTTP or JSON work for writes
// sent to followers, which spreads that cost over every member.
//
// What the client hears, and why it is true:
// - success: the entry at that index with that term was applied here;
// - 503 "not applied": the leader refused it, or another entry took its index;
// - 504 "may have been applied": the leader, or the connection to it, was lost after the
//   proposal left, or no answer came in time. A retry must read first.

extension Member {
    /// A write handed to the leader, waiting for it to say where it appended it.
    struct ForwardedWrite {
        /// The member it was sent to.
        var leader: UInt64
        /// Loop milliseconds after which the client hears 504.
        var deadline: UInt64
        var completion: (Result<StoreResult, ServiceError>) -> Void
    }

    /// After the leader changes, answers from the previous one may still be on their way
    /// (they travel on its own connection); wait this long for them before answering 504.
    static let forwardAnswerGraceMilliseconds: UInt64 = 100

    /// True when a write sent to this member can be carried out: it leads, or it knows a
    /// leader to hand the write to.
    public var canTakeWrites: Bool {
        guard let node else { return false }
        return node.role == .leader || (node.leader != Raft.noNode && node.leader != identity.nodeID)
    }

    /// Follower side: hands `command` to the current leader.
    func forwardToLeader(_ command: [UInt8], completion: @escaping (Result<StoreResult, ServiceError>) -> Void) {
        guard let node, let transport, node.leader != Raft.noNode, node.leader != identity.nodeID else {
            return completion(.failure(ServiceError.unavailable("no leader is known yet; retry")))
        }
        let leader = node.leader
        let id = nextForwardID
        nextForwardID += 1
        guard transport.send(to: leader, ForwardMessage.proposal(requestID: id, command: command).encoded()) else {
            return completion(.failure(ServiceError.unavailable("the leader \(name(of: leader)) cannot be reached from \(identity.name); retry")))
        }
        forwardsAwaitingLeader[id] = ForwardedWrite(
            leader: leader, deadline: nowMilliseconds + UInt64(options.proposalTimeoutMilliseconds), completion: completion)
        metrics.writesForwarded += 1
    }

    /// A forwarding message from an authenticated peer.
    func receivedForwardMessage(from peer: UInt64, _ payload: [UInt8]) {
        let message: ForwardMessage
        do {
            message = try ForwardMessage.decode(payload)
        } catch {
            metrics.malformedMessages += 1
            Log.warn("dropped a malformed forwarding message from \(hex16(peer)): \(error)")
            return
        }
        switch message {
        case let .proposal(id, command):
            proposeForwarded(from: peer, requestID: id, command: command)
        case let .appended(id, index, term):
            guard let waiting = forwardsAwaitingLeader[id], waiting.leader == peer else { return }  // answered already (timed out)
            forwardsAwaitingLeader[id] = nil
            awaitApply(index: index, term: term, deadline: waiting.deadline, completion: waiting.completion)
        case let .refused(id, status, reason, text):
            guard let waiting = forwardsAwaitingLeader[id], waiting.leader == peer else { return }
            forwardsAwaitingLeader[id] = nil
            waiting.completion(.failure(ServiceError(status: Int(status), reason: reason, message: text)))
        }
    }

    /// Leader side: appends a follower's write and says where; no local waiter (the follower
    /// answers its client).
    private func proposeForwarded(from peer: UInt64, requestID: UInt64, command: [UInt8]) {
        guard let transport else { return }
        func refuse(_ error: ServiceError) {
            let answer = ForwardMessage.refused(requestID: requestID, status: UInt16(clamping: error.status),
                                                reason: error.reason, message: error.message)
            if !transport.send(to: peer, answer.encoded()) { metrics.messagesDropped += 1 }
        }
        guard node != nil, node!.role == .leader else {
            return refuse(ServiceError.unavailable("\(identity.name) does not lead any more; retry"))
        }
        do {
            let index = try node!.propose(command)
            metrics.proposals += 1
            metrics.forwardedWritesAppended += 1
            // Queued before the entry's own append, on the same connection: the follower
            // knows the index before it can apply it.
            if !transport.send(to: peer, ForwardMessage.appended(requestID: requestID, index: index, term: node!.term).encoded()) {
                metrics.messagesDropped += 1
            }
            schedulePump()
        } catch {
            refuse(Self.serviceError(error))
        }
    }

    /// Completes `completion` when the entry at `index` applies here: with the store's result
    /// if it has `term`, else with "not applied".
    private func awaitApply(index: Raft.Index, term: Raft.Term, deadline: UInt64,
                            completion: @escaping (Result<StoreResult, ServiceError>) -> Void) {
        guard index > store.revision else {
            // The entry at that index was applied before the answer arrived: a deposed leader
            // answering late (it appended in its old term after a SIGSTOP, say). Another
            // entry there means this write was not applied; its own entry means it was, but
            // its result is gone.
            if let applied = node?.term(at: index), applied != term { return completion(.failure(Self.writeNotApplied)) }
            metrics.forwardsIndeterminate += 1
            return completion(.failure(Self.forwardIndeterminate("was applied here before the leader's answer arrived")))
        }
        proposals[index, default: []].append(PendingProposal(term: term, deadline: deadline, completion: completion))
    }

    /// The connection to `peer` closed: writes it had not answered may or may not be in its log.
    func failForwards(to peer: UInt64, because why: String) {
        for (id, waiting) in forwardsAwaitingLeader.sorted(by: { $0.key < $1.key }) where waiting.leader == peer {
            forwardsAwaitingLeader[id] = nil
            metrics.forwardsIndeterminate += 1
            waiting.completion(.failure(Self.forwardIndeterminate(why)))
        }
    }

    /// The leader changed: answers from the old one get a short grace period, then 504.
    func shortenForwardDeadlines(awayFrom oldLeader: UInt64) {
        let latest = nowMilliseconds + Self.forwardAnswerGraceMilliseconds
        for (id, waiting) in forwardsAwaitingLeader.sorted(by: { $0.key < $1.key }) where waiting.leader == oldLeader && waiting.deadline > latest {
            forwardsAwaitingLeader[id]!.deadline = latest
        }
    }

    /// Forwarded writes whose leader did not answer in time.
    func expireForwards(now: UInt64) {
        for (id, waiting) in forwardsAwaitingLeader.filter({ $0.value.deadline <= now }).sorted(by: { $0.key < $1.key }) {
            forwardsAwaitingLeader[id] = nil
            metrics.forwardsIndeterminate += 1
            waiting.completion(.failure(Self.forwardIndeterminate("got no answer from the leader \(name(of: waiting.leader)) in time")))
        }
    }

    static func forwardIndeterminate(_ why: String) -> ServiceError {
        ServiceError.timeout("the write \(why); it may still be applied: read before retrying")
    }
}
