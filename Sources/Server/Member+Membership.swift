import API
import JSON
import RaftCore
import RaftStorage
import Store
import Transport

// Joining, admitting, promoting, leaving and removing members; where peers are reached.

extension Member {
    // MARK: shoal join (on the new member)

    public func joinCluster(endpoint: String, token text: String, completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        guard identity.token == nil, node == nil else {
            return completion(.failure(ServiceError.alreadyExists("this agent already belongs to a cluster")))
        }
        guard let token = ClusterToken(parsing: text) else {
            return completion(.failure(ServiceError.badRequest("malformed join token")))
        }
        let parts = endpoint.split(separator: ":")
        guard parts.count <= 2, let host = parts.first.map(String.init), !host.isEmpty else {
            return completion(.failure(ServiceError.badRequest("endpoint must be HOST or HOST:PORT")))
        }
        let port = parts.count == 2 ? UInt16(parts[1]) ?? 0 : options.apiPort
        guard port > 0 else { return completion(.failure(ServiceError.badRequest("bad port in \(endpoint)"))) }
        let bearer = identity.with(token: token).apiToken(localFallback: "")
        // The endpoint must prove it belongs to the cluster of this token before the token's
        // bearer is sent to it: its certificate must chain to the CA the token derives.
        let client: HTTPClient
        do {
            client = try memberClient(host: host, port: port, timeoutMilliseconds: 15_000, token: token)
        } catch {
            return completion(.failure(ServiceError.internalError("\(error)")))
        }
        let me = MemberContext(name: identity.name, host: identity.advertiseHost, peerPort: identity.peerPort,
                               apiPort: options.apiPort, incarnation: identity.incarnation)
        let body = JSONValue.object(JSONObject([("name", .string(me.name)), ("host", .string(me.host)),
                                                ("peerPort", .int(Int64(me.peerPort))), ("apiPort", .int(Int64(me.apiPort))),
                                                ("incarnation", .string(hex16(me.incarnation)))])).serialized()
        self.host.background(bulk: false, { () -> Result<[UInt8], ServiceError> in
            do {
                let reply = try client.send(
                    method: "POST", target: "/shoal/v1/members",
                    headers: [("Authorization", "Bearer \(bearer)"), ("Content-Type", "application/json")], body: body)
                guard reply.status == 200 || reply.status == 201 else {
                    let message = (try? JSONValue.parse(reply.body))?["message"]?.stringValue ?? String(decoding: reply.body, as: UTF8.self)
                    return .failure(ServiceError(status: reply.status, reason: "JoinRefused", message: "the cluster refused: \(message)"))
                }
                return .success(reply.body)
            } catch {
                return .failure(ServiceError.unavailable("\(error)"))
            }
        }, then: { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let body):
                self.identity.token = token
                do {
                    try self.identity.save(directory: self.options.dataDirectory)
                    try self.startRaft(state: .joining)
                    try self.writeAPIToken()
                } catch {
                    return completion(.failure(ServiceError.internalError("\(error)")))
                }
                for row in (try? JSONValue.parse(body))?.arrayValue ?? [] { self.learnAddress(fromMemberRow: row) }
                Log.info("admitted to cluster \(hex16(token.clusterID)) as a learner; catching up")
                // The cluster's CA from now on; the answer waits until the API presents it.
                self.refreshTLS { [weak self] in
                    guard let self else { return }
                    completion(.success(self.status()))
                }
            }
        })
    }

    // MARK: Admission (on the leader)

    public func admitMember(_ request: JSONValue, completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        guard let node, node.role == .leader else {
            return completion(.failure(ServiceError.unavailable("this member is not the leader")))
        }
        guard let context = MemberContext(json: request) else {
            return completion(.failure(ServiceError.badRequest("a member needs name, host, peerPort, apiPort and incarnation")))
        }
        let id = MemberID.of(host: context.host, peerPort: context.peerPort)
        if node.membership.contains(id) {
            if peerAddresses[id]?.incarnation == context.incarnation { return completion(.success(members())) }
            return completion(.failure(ServiceError.alreadyExists("\(context.host):\(context.peerPort) is already member \(name(of: id)) with other data (was its data directory wiped?): run `shoal remove \(name(of: id))` first")))
        }
        if peerAddresses.contains(where: { $0.key != id && $0.value.name == context.name }) {
            return completion(.failure(ServiceError.alreadyExists("a member named \(context.name) already exists")))
        }
        learnAddress(id, PeerAddress(host: context.host, peerPort: context.peerPort, apiPort: context.apiPort,
                                     name: context.name, incarnation: context.incarnation))
        proposeMembership(.init(.addLearner, node: id, context: context.bytes), completion: completion)
    }

    /// Proposes a membership change for a client. Changes go one at a time: while another is
    /// uncommitted (a promotion, another join) it waits its turn, up to the proposal timeout.
    func proposeMembership(_ change: Raft.MembershipChange, completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        queuedMembershipChanges.append((change, nowMilliseconds + UInt64(options.proposalTimeoutMilliseconds), completion))
        proposeQueuedMembershipChanges()
    }

    /// Proposes the oldest queued change when Raft allows one (called on every tick too).
    func proposeQueuedMembershipChanges() {
        while let next = queuedMembershipChanges.first {
            guard node != nil, node!.role == .leader else {
                queuedMembershipChanges.removeFirst()
                next.completion(.failure(ServiceError.unavailable("this member is not the leader; retry")))
                continue
            }
            do {
                let index = try node!.proposeMembershipChange(next.change)
                queuedMembershipChanges.removeFirst()
                membershipWaiters[index] = (node!.term, next.deadline, next.completion)
                pump()
            } catch .membershipChangeInProgress, .membershipChangeNotReady {
                if nowMilliseconds < next.deadline { return }  // try again at the next tick
                queuedMembershipChanges.removeFirst()
                next.completion(.failure(ServiceError.timeout("another membership change did not finish in time; retry")))
            } catch {
                queuedMembershipChanges.removeFirst()
                next.completion(.failure(Self.serviceError(error)))
            }
        }
    }

    // MARK: Removal

    public func removeMember(named name: String, completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        guard let node, node.role == .leader else {
            return completion(.failure(ServiceError.unavailable("this member is not the leader")))
        }
        guard let id = node.membership.all.first(where: { self.name(of: $0) == name }) else {
            return completion(.failure(ServiceError.notFound("no member named \(name)")))
        }
        guard node.membership.voters != [id] else {
            return completion(.failure(ServiceError.badRequest("\(name) is the last voter")))
        }
        if id == identity.nodeID {
            // The leader removing itself: hand over first, then the new leader removes it.
            return completion(.failure(ServiceError.badRequest("\(name) leads: run `shoal leave` on it to hand over and leave")))
        }
        proposeMembership(.init(.remove, node: id), completion: completion)
    }

    // MARK: shoal leave (on the leaving member)

    public func leaveCluster(completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        guard let node else {
            return completion(.failure(ServiceError.badRequest("this agent is not in a cluster")))
        }
        guard node.membership.voters != [identity.nodeID] else {
            return completion(.failure(ServiceError.badRequest("the last voter cannot leave; stop the agent instead")))
        }
        guard leave == nil else {
            return completion(.failure(ServiceError.conflict("already leaving")))
        }
        leave = LeaveProgress(completion: completion, deadline: nowMilliseconds + 30_000)
        continueLeaving()
    }

    /// Drives a leave: hand leadership over, then ask the new leader to remove this member.
    func continueLeaving() {
        guard var progress = leave, node != nil else { return }
        if nowMilliseconds > progress.deadline {
            leave = nil
            return progress.completion(.failure(ServiceError.timeout("could not leave in time; retry")))
        }
        if node!.role == .leader {
            if node!.status.leadTransferee == Raft.noNode, let heir = bestHeir() {
                try? node!.transferLeadership(to: heir)
                pump()
            }
            return
        }
        guard !progress.removalRequested, let endpoint = leaderAPIEndpoint else { return }
        progress.removalRequested = true
        leave = progress
        let bearer = apiToken
        let target = "/shoal/v1/members/\(identity.name)"
        let client: HTTPClient
        do {
            client = try memberClient(host: endpoint.host, port: endpoint.port, timeoutMilliseconds: 15_000)
        } catch {
            progress.removalRequested = false
            leave = progress
            return Log.warn("cannot ask the leader to remove this member: \(error)")
        }
        host.background(bulk: false, { () -> Result<Void, ServiceError> in
            do {
                let reply = try client.send(method: "DELETE", target: target, headers: [("Authorization", "Bearer \(bearer)")])
                if reply.status == 200 { return .success(()) }
                let message = (try? JSONValue.parse(reply.body))?["message"]?.stringValue ?? "status \(reply.status)"
                return .failure(ServiceError(status: reply.status, reason: "LeaveFailed", message: message))
            } catch {
                return .failure(ServiceError.unavailable("\(error)"))
            }
        }, then: { [weak self] result in
            guard let self, let progress = self.leave else { return }
            switch result {
            case .success:
                self.leave = nil
                self.identity.state = "left"
                try? self.identity.save(directory: self.options.dataDirectory)
                Log.info("\(self.identity.name) left the cluster; stopping")
                progress.completion(.success(.object(JSONObject([("left", .string(self.identity.name))]))))
                // Let the answer reach the client before the loop stops.
                self.host.after(milliseconds: 300) { [weak self] in self?.shutDown(exitCode: 0) }
            case .failure:
                var retry = progress
                retry.removalRequested = false  // try again on a later tick (e.g. the leader moved)
                self.leave = retry
            }
        })
    }

    /// The voter with the most of the log, to hand leadership to.
    func bestHeir() -> Raft.NodeID? {
        guard let node else { return nil }
        let status = node.status
        return status.membership.voters.filter { $0 != identity.nodeID }
            .max { (status.followers[$0]?.match ?? 0, $1) < (status.followers[$1]?.match ?? 0, $0) }
    }

    /// Ticks between sweeps of peers that left the membership.
    static let removedPeerSweepTicks: UInt64 = 50

    /// Drops the connections and addresses of peers outside the latest membership, once
    /// this member has applied everything it knows to be committed (so that its view of the
    /// membership is not an old one it is replaying). The leader is never dropped.
    ///
    /// A member that just joined knows no membership at all until the leader's first append
    /// reaches it: it keeps every peer (the admission reply told it who they are). Dropping
    /// them would refuse the leader's connection for good (peers only accept known ids).
    func forgetRemovedPeers() {
        guard let node, ticks % Self.removedPeerSweepTicks == 0 else { return }
        let status = node.status
        guard status.applied >= status.commit, !node.membership.all.isEmpty else { return }
        let members = Set(node.membership.all)
        for id in peerAddresses.keys.sorted() where !members.contains(id) && id != status.leader {
            transport?.removePeer(id)
            peerAddresses[id] = nil
        }
    }

    // MARK: Leader duties: promote caught-up learners, keep Member objects in step

    func runLeaderDuties() {
        proposeQueuedMembershipChanges()
        guard let node, node.role == .leader, queuedMembershipChanges.isEmpty, ticks - lastPromotionTick >= 10 else { return }
        lastPromotionTick = ticks
        let status = node.status
        if status.membership.voters.count < options.votersMax {
            for learner in status.membership.learners {
                guard let progress = status.followers[learner], progress.match >= status.commit else { continue }
                if (try? self.node!.proposeMembershipChange(.init(.promote, node: learner))) != nil {
                    Log.info("promoting \(name(of: learner)) to voter (caught up at \(progress.match))")
                    pump()
                }
                break  // one change at a time
            }
        }
        reconcileMemberObjects()
        runWorkloadDuties()
    }

    // MARK: Addresses

    func membershipApplied(_ change: Raft.MembershipChange, _ membership: Raft.Membership, index: Raft.Index) {
        if let context = MemberContext(bytes: change.context) {
            let id = MemberID.of(host: context.host, peerPort: context.peerPort)
            if id == identity.nodeID, context.incarnation == identity.incarnation, identity.admissionIndex < index {
                noteOwnAdmission(at: index)
            }
            learnAddress(id, PeerAddress(host: context.host, peerPort: context.peerPort, apiPort: context.apiPort,
                                         name: context.name, incarnation: context.incarnation, admissionIndex: index))
        }
        // A removed peer's connection is not dropped here: a member replaying old entries
        // (catching up after a join or a restart) would drop a peer that has since joined
        // again, possibly its leader, and never hear of the re-admission. `forgetRemovedPeers`
        // drops them once this member is caught up.
        // A member removed by `shoal remove` while alive is told nothing more (its leader stops
        // replicating to it) and stays harmless: it cannot win a pre-vote. Removal entries are
        // also replayed by a member that was removed and joined again, so none stops here.
        if change.kind == .remove && change.node == identity.nodeID && node?.membership.contains(identity.nodeID) == false {
            Log.warn("\(identity.name) is no longer a member of the cluster (removed); stop this agent, or wipe its data and join again")
        }
    }

    /// This incarnation's admission entry applied: remembered, and told to peers from now on.
    func noteOwnAdmission(at index: Raft.Index) {
        identity.admissionIndex = index
        do {
            try identity.save(directory: options.dataDirectory)
        } catch {
            Log.warn("could not record the admission index in \(options.dataDirectory): \(error)")
        }
        transport?.helloContext = helloContext()
    }

    func learnAddress(_ id: UInt64, _ address: PeerAddress) {
        guard id != identity.nodeID else { return }
        var merged = address
        if merged.incarnation == nil {
            merged.incarnation = peerAddresses[id]?.incarnation
            merged.admissionIndex = peerAddresses[id]?.admissionIndex ?? 0
        } else if let known = peerAddresses[id], known.incarnation == merged.incarnation {
            merged.admissionIndex = max(merged.admissionIndex, known.admissionIndex)
        }
        if let known = peerAddresses[id], known == merged { return }
        peerAddresses[id] = merged
        transport?.setPeer(id, host: address.host, port: address.peerPort)
    }

    func learnAddress(fromMemberRow row: JSONValue) {
        guard let name = row["name"]?.stringValue, let address = row["address"]?.stringValue else { return }
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return }
        let apiPort = row["apiPort"]?.intValue.flatMap { UInt16(exactly: $0) } ?? options.apiPort
        learnAddress(MemberID.of(host: String(parts[0]), peerPort: port),
                     PeerAddress(host: String(parts[0]), peerPort: port, apiPort: apiPort, name: name, incarnation: nil))
    }

    /// Reads every Member object (after a restart or a snapshot install).
    func learnAddressesFromStore() {
        for object in store.list(.member).items {
            guard let spec = object.json["spec"], let host = spec["address"]?.stringValue,
                  let peerPort = spec["peerPort"]?.intValue.flatMap({ UInt16(exactly: $0) }),
                  let apiPort = spec["apiPort"]?.intValue.flatMap({ UInt16(exactly: $0) }) else { continue }
            let incarnation = spec["incarnation"]?.intValue.flatMap { UInt64(exactly: $0) }
            learnAddress(MemberID.of(host: host, peerPort: peerPort),
                         PeerAddress(host: host, peerPort: peerPort, apiPort: apiPort, name: object.key.name, incarnation: incarnation))
        }
    }

    /// A peer that proved the cluster secret is refused if its incarnation differs from the
    /// one recorded for its address: its data directory was wiped (it must be removed and
    /// joined again, or it could vote twice in a term).
    func acceptPeer(_ id: UInt64, context: [UInt8]) -> Bool {
        var reader = ByteReader(context)
        guard let version = try? reader.get(UInt8.self), (1...3).contains(version),
              let incarnation = try? reader.get(UInt64.self) else { return false }
        var admission: UInt64 = 0
        if version >= 2 {
            guard let index = try? reader.get(UInt64.self) else { return false }
            admission = index
        }
        if let known = peerAddresses[id], let knownIncarnation = known.incarnation, knownIncarnation != incarnation,
           admission > known.admissionIndex {
            // Our record is older than the peer's admission (we are catching up, or were
            // down when it joined again): it was removed and admitted anew, which only a
            // committed membership entry can say. Take its word and its new incarnation.
            Log.info("\(name(of: id)) joined again since our record of it (admitted at \(admission)); accepting its new data directory")
            var updated = known
            updated.incarnation = incarnation
            updated.admissionIndex = admission
            peerAddresses[id] = updated
            return true
        }
        if let known = peerAddresses[id]?.incarnation, known != incarnation {
            metrics.refusedPeers += 1
            Log.warn("refused \(name(of: id)): its data directory changed (incarnation \(hex16(incarnation)), expected \(hex16(known))); remove it with `shoal remove \(name(of: id))` and join it again")
            return false
        }
        if peerAddresses[id]?.incarnation == nil, var address = peerAddresses[id] {
            address.incarnation = incarnation
            peerAddresses[id] = address
        }
        return true
    }
}
