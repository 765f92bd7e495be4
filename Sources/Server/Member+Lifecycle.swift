import API
import JSON
import RaftCore
import RaftStorage
import Store
import Transport

// Forming, growing and shrinking the cluster: founding from identical commands, `shoal init`,
// `shoal join`, promotion of caught-up learners, `shoal leave`, `shoal remove`.

/// A membership change's context: who the member is and where to reach it.
struct MemberContext: Equatable {
    var name: String
    var host: String
    var peerPort: UInt16
    var apiPort: UInt16
    var incarnation: UInt64

    var bytes: [UInt8] {
        JSONValue.object(JSONObject([("name", .string(name)), ("host", .string(host)), ("peerPort", .int(Int64(peerPort))),
                                     ("apiPort", .int(Int64(apiPort))), ("incarnation", .string(hex16(incarnation)))])).serialized()
    }

    init(name: String, host: String, peerPort: UInt16, apiPort: UInt16, incarnation: UInt64) {
        self.name = name
        self.host = host
        self.peerPort = peerPort
        self.apiPort = apiPort
        self.incarnation = incarnation
    }

    init?(json: JSONValue) {
        guard let name = json["name"]?.stringValue, let host = json["host"]?.stringValue,
              let peerPort = json["peerPort"]?.intValue, (1...65535).contains(peerPort),
              let apiPort = json["apiPort"]?.intValue, (1...65535).contains(apiPort),
              let incarnationText = json["incarnation"]?.stringValue, let incarnation = UInt64(incarnationText, radix: 16),
              Names.dnsSubdomainError(name) == nil, !host.isEmpty else { return nil }
        self.init(name: name, host: host, peerPort: UInt16(peerPort), apiPort: UInt16(apiPort), incarnation: incarnation)
    }

    init?(bytes: [UInt8]) {
        guard let json = try? JSONValue.parse(bytes) else { return nil }
        self.init(json: json)
    }
}

extension Member {
    static let controlTokenBit: UInt64 = 1 << 63

    // MARK: Founding

    /// The identical `shoal agent --peers a,b,c --token T` on every founder: each recognises
    /// itself in the list and they start one log.
    func foundCluster() throws(ServerError) -> Raft.PersistentState {
        guard let token = options.token ?? identity.token else {
            throw .usage("founding a cluster with --peers needs --token (make one with `shoal token --generate`)")
        }
        let addresses = try options.founderAddresses()
        let ids = addresses.map { MemberID.of(host: $0.host, peerPort: $0.port) }
        guard ids.contains(identity.nodeID) else {
            throw .usage("this member (\(identity.advertiseHost):\(identity.peerPort)) is not in --peers \(options.founders.joined(separator: ","))")
        }
        // A simulated member (no loop: no HTTP, no files of its own) has no wiped directory to
        // detect and keeps its identity in memory.
        if loop != nil { try refuseIfAlreadyMember(addresses: addresses, token: token) }
        identity.token = token
        identity.founders = addresses.map { "\($0.host):\($0.port)" }
        if loop != nil { try identity.save(directory: options.dataDirectory) }
        let state = Raft.PersistentState.bootstrap(voters: ids)
        do {
            storage.append(entries: state.entries, hardState: state.hardState)
            try storage.wal.commit()
        } catch {
            throw .storage("cannot write the founding state: \(error)")
        }
        Log.info("founding a cluster of \(ids.count) with \(options.founders.joined(separator: ", "))")
        Log.info("API bearer token: \(identity.apiToken(localFallback: "")) (also in \(options.dataDirectory)/\(AgentIdentity.apiTokenFileName) for the local CLI)")
        return state
    }

    /// A founder whose data directory was wiped must not found a second log: if another
    /// founder's cluster has a Member object for this address (it took part before, with
    /// data it no longer has), stop with instructions. A founder merely starting late has no
    /// such object yet and goes ahead.
    func refuseIfAlreadyMember(addresses: [(host: String, port: UInt16)], token: ClusterToken) throws(ServerError) {
        let bearer = identity.with(token: token).apiToken(localFallback: "")
        let target = "/apis/\(Kind.member.group)/\(Kind.member.version)/\(Kind.member.plural)/\(identity.name)?resourceVersion=0"
        for address in addresses where MemberID.of(host: address.host, peerPort: address.port) != identity.nodeID {
            let client = try memberClient(host: address.host, port: options.apiPort, timeoutMilliseconds: 300, token: token)
            guard let reply = try? client.send(method: "GET", target: target, headers: [("Authorization", "Bearer \(bearer)")]),
                  reply.status == 200, let object = try? JSONValue.parse(reply.body),
                  let recorded = object[path: ["spec", "incarnation"]]?.intValue,
                  UInt64(exactly: recorded) != identity.incarnation else { continue }
            throw .cluster("""
                this member's data directory is new, but the cluster at \(address.host) already has member \(identity.name) \
                with other data: its data was lost. Remove it on a healthy member (`shoal remove \(identity.name)`), then \
                add it again with `shoal join \(address.host):\(options.apiPort) --token ...`
                """)
        }
    }

    /// `--force-new-cluster`: this survivor becomes a one-member cluster with its data, by a
    /// membership entry of a new term that only it holds. Every other old member must be
    /// wiped and joined again (docs/operations.md).
    func forcedNewClusterState(from state: Raft.PersistentState) throws(ServerError) -> Raft.PersistentState {
        var state = state
        let last = state.entries.last?.index ?? state.snapshot.index
        let lastTerm = state.entries.last?.term ?? state.snapshot.term
        let term = max(state.hardState.term, lastTerm) + 1
        let membership = Raft.Membership(voters: [identity.nodeID])
        let context = MemberContext(name: identity.name, host: identity.advertiseHost, peerPort: identity.peerPort,
                                    apiPort: options.apiPort, incarnation: identity.incarnation)
        let entry = Raft.Entry(term: term, index: last + 1,
                               payload: .membership(.init(.bootstrap, node: identity.nodeID, context: context.bytes), membership))
        state.entries.append(entry)
        state.hardState = Raft.HardState(term: term, vote: Raft.noNode, commit: last + 1)
        do {
            storage.append(entries: [entry], hardState: state.hardState)
            try storage.wal.commit()
        } catch {
            throw .storage("cannot write the forced membership: \(error)")
        }
        Log.warn("forced a new one-member cluster at index \(last + 1), term \(term): every other former member must be wiped and joined again")
        return state
    }

    // MARK: shoal init

    public func initializeCluster(completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        guard identity.token == nil, node == nil else {
            return completion(.failure(ServiceError.alreadyExists("this agent already belongs to a cluster")))
        }
        let token = ClusterToken.generate()
        identity.token = token
        identity.founders = ["\(identity.advertiseHost):\(identity.peerPort)"]
        do { try identity.save(directory: options.dataDirectory) } catch {
            identity.token = nil
            return completion(.failure(ServiceError.internalError("\(error)")))
        }
        let state = Raft.PersistentState.bootstrap(voters: [identity.nodeID])
        persistControl(entries: state.entries, hardState: state.hardState) { [weak self] error in
            guard let self else { return }
            if let error { return completion(.failure(ServiceError.internalError("\(error)"))) }
            do {
                try self.startRaft(state: state)
                try self.writeAPIToken()
            } catch {
                return completion(.failure(ServiceError.internalError("\(error)")))
            }
            self.node?.campaign()
            self.pump()
            Log.info("initialized a one-member cluster \(hex16(token.clusterID)); API bearer token: \(self.apiToken) (also in \(self.options.dataDirectory)/\(AgentIdentity.apiTokenFileName))")
            // The new cluster's CA from now on; the answer waits until the API presents it.
            self.refreshTLS { [weak self] in
                guard let self else { return }
                completion(.success(.object(JSONObject([("token", .string(token.description)), ("apiToken", .string(self.apiToken)),
                                                         ("endpoint", .string("\(self.identity.advertiseHost):\(self.options.apiPort)"))]))))
            }
        }
    }

    /// Writes entries and a hard state through the WAL thread outside Raft's own batches
    /// (founding a cluster at run time), then calls `done` on the loop.
    func persistControl(entries: [Raft.Entry], hardState: Raft.HardState, done: @escaping (StorageError?) -> Void) {
        let token = Self.controlTokenBit | UInt64(controlCompletions.count + 1)
        controlCompletions[token] = done
        worker.submit(.init(token: token, entries: entries, hardState: hardState, needsSync: true))
    }

    func writeAPIToken() throws(ServerError) {
        try AgentIdentity.writeSecretFile(directory: options.dataDirectory, name: AgentIdentity.apiTokenFileName,
                                          bytes: Array((apiToken + "\n").utf8))
    }
}

extension AgentIdentity {
    func with(token: ClusterToken) -> AgentIdentity {
        var copy = self
        copy.token = token
        return copy
    }
}
