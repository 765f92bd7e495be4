import API
import JSON
import RaftCore
import Store

#if canImport(Glibc)
import Glibc
#endif

// What the HTTP API asks of this member (API.ClusterService). All on the loop thread.

extension Member: ClusterService {
    /// Checked on every request, so derived once per identity change (see `identity`).
    public var apiToken: String {
        if let cached = cachedAPIToken, cached.token == identity.token { return cached.value }
        let value = identity.apiToken(localFallback: localAPIToken)
        cachedAPIToken = (identity.token, value)
        return value
    }
    public var memberName: String { identity.name }

    public func health() -> (ok: Bool, detail: [String]) {
        if exitCode != nil { return (false, ["stopping"]) }
        return (true, ["storage ok", node == nil ? "not in a cluster" : "raft running"])
    }

    public func readiness() -> (ok: Bool, detail: [String]) {
        guard let node else { return (false, ["not in a cluster yet"]) }
        let status = node.status
        guard status.leader != Raft.noNode else { return (false, ["no leader known"]) }
        guard status.applied >= status.commit else { return (false, ["applying: \(status.applied) of \(status.commit)"]) }
        return (true, ["leader \(name(of: status.leader))", "applied \(status.applied)"])
    }

    public var isLeader: Bool { node?.role == .leader }

    public var leaderAPIEndpoint: (host: String, port: UInt16)? {
        guard let node, node.leader != Raft.noNode, node.leader != identity.nodeID,
              let address = peerAddresses[node.leader] else { return nil }
        return (address.host, address.apiPort)
    }

    public func propose(_ write: ObjectWrite, completion: @escaping (Result<StoreResult, ServiceError>) -> Void) {
        if case .typed(let typed) = write, store.clusterVersion >= 2 {
            return proposeTyped(stamped(typed), attempt: 1, completion: completion)
        }
        proposeCommand(write, completion: completion)
    }

    /// Most times a write admitted here is admitted again after the store moved under it.
    static let admissionAttemptsMax = 5

    /// A typed write: admitted here once (`Store.admit`) and proposed as the admitted object,
    /// admitted again if the store moved under it before it applied; or, for what admission
    /// leaves to the full path, proposed as it is.
    ///
    /// Admission runs on the admission worker's thread (every typed write passes through its
    /// queue, admitted or not, so writes leave in the order they came); on the loop when the
    /// worker is missing or full.
    func proposeTyped(_ write: TypedWrite, attempt: Int, completion: @escaping (Result<StoreResult, ServiceError>) -> Void) {
        let proceed: (AdmittedWrite?) -> Void = { [weak self] admitted in
            guard let self else { return }
            guard let admitted else { return self.proposeCommand(.typed(write), completion: completion) }
            self.proposeEncoded(StoreCommand.admitted(admitted).encoded()) { [weak self] result in
                if case .success(.stale) = result, attempt < Self.admissionAttemptsMax, let self {
                    self.metrics.staleAdmissions += 1
                    return self.proposeTyped(write, attempt: attempt + 1, completion: completion)
                }
                completion(result)
            }
        }
        if let admissionWorker, admissionWorker.submit(write, view: store.admissionView, finish: proceed) { return }
        proceed(store.admit(write))
    }

    private func proposeCommand(_ write: ObjectWrite, completion: @escaping (Result<StoreResult, ServiceError>) -> Void) {
        guard node != nil else {
            return completion(.failure(ServiceError.unavailable("this agent is not in a cluster")))
        }
        let command: StoreCommand
        switch write {
        case .create(let object):
            let seconds = host.unixSeconds
            command = .create(object: object, uid: newUID(), creationTimestamp: Timestamp.format(unixSeconds: seconds))
        case let .update(object, expected):
            command = .update(object: object, expectedResourceVersion: expected)
        case let .delete(key, expected, uid):
            command = .delete(key: key, expectedResourceVersion: expected, expectedUID: uid)
        case .typed(let write):
            command = .typed(stamped(write))
        }
        proposeEncoded(command.encoded(), completion: completion)
    }

    /// Proposes an encoded command here as the leader, or hands it to the leader.
    private func proposeEncoded(_ bytes: [UInt8], completion: @escaping (Result<StoreResult, ServiceError>) -> Void) {
        guard node != nil else {
            return completion(.failure(ServiceError.unavailable("this agent is not in a cluster")))
        }
        guard node!.role == .leader else { return forwardToLeader(bytes, completion: completion) }
        do {
            let index = try node!.propose(bytes)
            proposals[index, default: []].append(PendingProposal(term: node!.term, deadline: nowMilliseconds + UInt64(options.proposalTimeoutMilliseconds),
                                               completion: completion))
            metrics.proposals += 1
            schedulePump()
        } catch {
            completion(.failure(Self.serviceError(error)))
        }
    }

    public func dryRun(_ write: TypedWrite) -> StoreResult {
        var scratch = store
        return scratch.apply(index: scratch.revision + 1, .typed(stamped(write))).result
    }

    /// A typed write with what the store must not invent: a fresh uid for a create, and the
    /// time on this member's clock.
    func stamped(_ write: TypedWrite) -> TypedWrite {
        var write = write
        if write.verb == .create && write.uid.isEmpty { write.uid = newUID() }
        let seconds = host.unixSeconds
        write.now = Timestamp.format(unixSeconds: seconds)
        return write
    }

    public func awaitLinearizableRead(completion: @escaping (Result<Void, ServiceError>) -> Void) {
        guard node != nil else {
            return completion(.failure(ServiceError.unavailable("this agent is not in a cluster")))
        }
        let id = nextReadID
        nextReadID += 1
        do {
            try node!.readIndex(requestID: id)
            readWaiters[id] = ReadWaiter(deadline: nowMilliseconds + UInt64(options.proposalTimeoutMilliseconds), completion: completion)
            schedulePump()
        } catch {
            completion(.failure(ServiceError.unavailable(error == .noLeader ? "no leader is known; retry" : "too many reads waiting; retry")))
        }
    }

    public func subscribe(_ deliver: @escaping ([WatchEvent]) -> Bool) -> WatchSubscription {
        let id = nextSubscriberID
        nextSubscriberID += 1
        subscribers[id] = deliver
        return WatchSubscription { [weak self] in self?.subscribers[id] = nil }
    }

    public func status() -> JSONValue {
        var o = JSONObject()
        o["name"] = .string(identity.name)
        o["id"] = .string(hex16(identity.nodeID))
        o["address"] = .string("\(identity.advertiseHost):\(identity.peerPort)")
        o["api"] = .string("\(identity.advertiseHost):\(options.apiPort)")
        guard let node else {
            o["clustered"] = .bool(false)
            return .object(o)
        }
        let s = node.status
        o["clustered"] = .bool(true)
        o["clusterID"] = identity.token.map { .string(hex16($0.clusterID)) } ?? .null
        o["role"] = .string(s.role.rawValue)
        o["term"] = .int(Int64(s.term))
        o["leader"] = s.leader == Raft.noNode ? .null : .string(name(of: s.leader))
        o["commitIndex"] = .int(Int64(s.commit))
        o["appliedIndex"] = .int(Int64(s.applied))
        o["lastIndex"] = .int(Int64(s.lastIndex))
        o["snapshotIndex"] = .int(Int64(s.snapshotIndex))
        o["voters"] = .array(s.membership.voters.map { .string(name(of: $0)) })
        o["learners"] = .array(s.membership.learners.map { .string(name(of: $0)) })
        o["storeRevision"] = .int(Int64(store.revision))
        o["clusterVersion"] = .int(Int64(store.clusterVersion))
        // The newest version every member runs, as this member heard in their handshakes (what
        // the leader would move the cluster to); null until it heard from all of them.
        o["clusterVersionEveryMemberRuns"] = clusterVersionEveryMemberRuns().map { .int(Int64($0)) } ?? .null
        o["objects"] = .int(Int64(store.count))
        return .object(o)
    }

    public func members() -> JSONValue {
        guard let node else { return .array([]) }
        let s = node.status
        let tickMs = UInt64(options.tickMilliseconds)
        var rows: [JSONValue] = []
        for id in s.membership.all {
            var o = JSONObject()
            let address = id == identity.nodeID ? nil : peerAddresses[id]
            o["name"] = .string(name(of: id))
            o["id"] = .string(hex16(id))
            o["address"] = .string(id == identity.nodeID ? "\(identity.advertiseHost):\(identity.peerPort)"
                                   : address.map { "\($0.host):\($0.peerPort)" } ?? "unknown")
            if let api = id == identity.nodeID ? "\(identity.advertiseHost):\(options.apiPort)" : address.map({ "\($0.host):\($0.apiPort)" }) {
                o["api"] = .string(api)  // for `shoal kubeconfig` (one server entry per member)
            }
            o["role"] = .string(id == s.leader ? "leader" : "follower")
            o["voter"] = .bool(s.membership.isVoter(id))
            if id == identity.nodeID {
                o["matchIndex"] = .int(Int64(s.lastIndex))
                o["lastContactMilliseconds"] = .int(0)
                o["health"] = .string("healthy")
            } else if let f = s.followers[id] {
                o["matchIndex"] = .int(Int64(f.match))
                let silence = f.ticksSinceResponse * tickMs
                o["lastContactMilliseconds"] = .int(Int64(silence))
                let connected = transport?.isConnected(id) ?? false
                o["health"] = .string(connected && silence < UInt64(options.electionTicks) * tickMs ? "healthy" : "unreachable")
                o["replication"] = .string(f.state)
            } else {
                o["health"] = .string("unknown")
            }
            rows.append(.object(o))
        }
        return .array(rows)
    }

    public func joinToken() -> String? { identity.token?.description }

    // MARK: Helpers

    func name(of id: UInt64) -> String {
        if id == identity.nodeID { return identity.name }
        return peerAddresses[id]?.name ?? hex16(id)
    }

    /// A random (version 4) UUID. From a fast generator seeded once from the system: uids
    /// must be unique, not secret, and a system call per byte was a measurable cost per write.
    func newUID() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for half in 0..<2 {
            let word: UInt64 = uidRandom.next()
            for i in 0..<8 { bytes[half * 8 + i] = UInt8(truncatingIfNeeded: word >> UInt64(8 * i)) }
        }
        bytes[6] = (bytes[6] & 0x0f) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // RFC 4122 variant
        let h: [Character] = Array(encodeHex(bytes))
        var uid = String(h[0..<8])
        for (start, end) in [(8, 12), (12, 16), (16, 20), (20, 32)] {
            uid += "-"
            uid += String(h[start..<end])
        }
        return uid
    }

    static func serviceError(_ error: Raft.ProposalError) -> ServiceError {
        switch error {
        case .notLeader: return ServiceError.unavailable("this member is not the leader; retry")
        case .transferInProgress: return ServiceError.unavailable("leadership is moving; retry")
        case .overloaded: return ServiceError.tooManyRequests("too many writes in flight; retry")
        case .entryTooLarge(let bytes): return ServiceError.tooLarge("a write of \(bytes) bytes is too large")
        case .membershipChangeNotReady, .membershipChangeInProgress:
            return ServiceError.unavailable("another membership change is in progress; retry")
        case .invalidMembershipChange(let why): return ServiceError.badRequest("invalid membership change: \(why)")
        case .invalidTransferTarget(let id): return ServiceError.badRequest("cannot hand leadership to \(hex16(id))")
        case .emptyProposal: return ServiceError.badRequest("empty write")
        }
    }
}
