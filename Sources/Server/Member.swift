import API
import JSON
import RaftCore
import RaftStorage
import Store
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// One running shoal member: the shell around `RaftNode`. It owns, on one event-loop thread,
/// the Raft state, the replicated `Store`, the peer transport and the HTTP API; the WAL runs
/// on its group-commit thread and snapshots on a helper thread, both posting back to the loop.
///
/// Confinement, not locks, keeps it safe: everything runs on the loop thread, and other
/// threads only `loop.post` back to it (hence the unchecked Sendable).
public final class Member: @unchecked Sendable {
    let options: ServerOptions
    /// The world the member runs in: clocks, threads, disk writer, peers (MemberHost.swift).
    let host: any MemberHost
    var identity: AgentIdentity
    let storage: MemberStorage
    var worker: WALWriter!
    var node: RaftNode?
    var transport: PeerNetwork?
    var api: APIServer?
    public internal(set) var store = Store()
    /// Whether a `pump` runs at the end of this loop iteration (see `schedulePump`).
    var pumpScheduled = false
    var localAPIToken: String

    /// Readys handed to the WAL thread, in order, waiting to be durable.
    var awaitingDurability: [(ack: Raft.Ready.Ack, messages: [Raft.Message])] = []
    /// Writes waiting for the entry at an index to apply: this member's own proposals as
    /// leader, and writes it handed to a leader. Several can wait on one index (proposed in
    /// different terms); the term of the entry applied there decides which one it was.
    var proposals: [Raft.Index: [PendingProposal]] = [:]
    /// Writes handed to the leader, waiting for it to say where it appended them, by request id.
    var forwardsAwaitingLeader: [UInt64: ForwardedWrite] = [:]
    var nextForwardID: UInt64 = 1
    var readWaiters: [UInt64: ReadWaiter] = [:]
    var nextReadID: UInt64 = 1
    /// Linearizable reads waiting for the store to apply up to their index.
    var readsAwaitingApply: [(index: Raft.Index, completion: (Result<Void, ServiceError>) -> Void)] = []
    var subscribers: [Int: ([WatchEvent]) -> Bool] = [:]
    /// Events of entries applied in the current batch, not yet handed to the watches.
    var pendingWatchEvents: [WatchEvent] = []
    var nextSubscriberID = 1
    var snapshotInProgress = false
    /// Addresses of the other members (from founders, membership entries, Member objects).
    var peerAddresses: [UInt64: PeerAddress] = [:]
    var metrics = MetricsState()
    var lastObservedRole: Raft.Role = .follower
    var lastObservedTerm: Raft.Term = 0
    var lastObservedLeader: UInt64 = Raft.noNode
    var leave: LeaveProgress?
    var memberWritesInFlight = 0
    /// The leader's cluster-level bookkeeping under cluster version 2 (`Member+Workload.swift`).
    var workload = WorkloadDuties()
    /// The leader's controllers: their cache and the writes in flight (`Member+Controllers.swift`).
    var controllers = ControllerRunner()
    /// This member's own Node and Lease (`Member+Node.swift`).
    var nodeAgent = NodeAgentState()
    /// The pods bound to this member's Node, run by its agent (`Member+Pods.swift`).
    var pods = PodsState()
    /// This member's service proxy: Services as nftables rules (`Member+Services.swift`).
    var services = ServicesState()
    /// This member's cluster DNS server and the leader's kube-dns Service (`Member+ClusterDNS.swift`).
    var dns = ClusterDNSState()
    /// Admits typed writes off the loop (nil before the API starts; AdmissionWorker.swift).
    var admissionWorker: AdmissionWorker?
    var cachedAPIToken: (token: ClusterToken?, value: String)?
    /// The CA and serving certificate (nil with `--insecure-http`; Member+TLS.swift).
    var tls: MemberTLS?
    var tlsRenewTimer: LoopTimer?
    /// Draws the uids of objects this member creates (seeded by the host).
    var uidRandom: Raft.Random
    /// Membership changes clients asked for, waiting for their turn (one at a time).
    var queuedMembershipChanges: [(change: Raft.MembershipChange, deadline: UInt64, completion: (Result<JSONValue, ServiceError>) -> Void)] = []
    var lastPromotionTick: UInt64 = 0
    var ticks: UInt64 = 0
    /// When the last tick ran (MonotonicClock ns; 0 before the first).
    var lastTickNanoseconds: UInt64 = 0
    /// WAL writes made outside Raft's batches (founding at run time), by token.
    var controlCompletions: [UInt64: (StorageError?) -> Void] = [:]
    /// Membership changes proposed for a client, by entry index.
    var membershipWaiters: [Raft.Index: (term: Raft.Term, deadline: UInt64, completion: (Result<JSONValue, ServiceError>) -> Void)] = [:]
    /// Called after each committed entry is applied to the store, with the store's result
    /// (nil for entries that are not commands): the simulator's checkers watch every member
    /// apply the same log the same way.
    public var onApplied: ((_ entry: Raft.Entry, _ result: StoreResult?) -> Void)?
    /// Set when the member must stop (a fatal storage error, or it left the cluster).
    public private(set) var exitCode: Int32?

    struct PendingProposal {
        var term: Raft.Term
        var deadline: UInt64
        var completion: (Result<StoreResult, ServiceError>) -> Void
    }

    struct ReadWaiter {
        var deadline: UInt64
        var completion: (Result<Void, ServiceError>) -> Void
    }

    struct PeerAddress: Equatable {
        var host: String
        var peerPort: UInt16
        var apiPort: UInt16
        var name: String
        var incarnation: UInt64?
        /// Index of the membership entry that admitted `incarnation` (0: founder or unknown).
        var admissionIndex: UInt64 = 0
    }

    struct LeaveProgress {
        var completion: (Result<JSONValue, ServiceError>) -> Void
        var deadline: UInt64
        var removalRequested = false
    }

    /// Opens the data directory, recovers, and starts transport, API and ticks on `loop`.
    /// Call on the loop thread before `loop.run()`.
    public convenience init(options: ServerOptions, loop: EventLoop) throws(ServerError) {
        try Self.makeDirectories(options.dataDirectory)
        let identity = try Self.loadOrCreateIdentity(options)
        guard identity.state != "left" else {
            throw .cluster("this member left its cluster; its data directory \(options.dataDirectory) must not be reused (remove it to start a new member)")
        }
        let storage: MemberStorage
        let recovered: MemberStorage.Recovered
        let localToken: String
        do {
            (storage, recovered) = try MemberStorage.open(directory: joinPath(options.dataDirectory, "raft"), fileSystem: PosixFileSystem())
            if let torn = recovered.tornTail { Log.warn("cut off a torn final WAL frame in \(torn.path) at byte \(torn.offset) (a write interrupted by a crash)") }
            for skipped in recovered.skippedSnapshots { Log.warn("skipped snapshot \(skipped)") }
            localToken = try Self.loadOrCreateLocalToken(options.dataDirectory)
        } catch let error as ServerError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
        self.init(options: options, host: LoopMemberHost(loop: loop), identity: identity, storage: storage, localAPIToken: localToken)
        try startCore(recovered: recovered)
        try startServing(loop: loop)
    }

    /// A founding member of a simulated cluster (SimKit), started or restarted on storage the
    /// host opened on its disk: `options` name the founders and the token. It runs Raft, the
    /// store and the leader's duties on the host's ticks, keeps its identity in memory and
    /// serves no HTTP (callers use it as a `ClusterService`).
    public static func simulated(options: ServerOptions, host: any MemberHost, storage: MemberStorage,
                                 recovered: MemberStorage.Recovered, incarnation: UInt64) throws(ServerError) -> Member {
        guard options.token != nil, !options.founders.isEmpty else { throw .usage("a simulated member needs founders and a token") }
        let identity = AgentIdentity(name: AgentIdentity.defaultName(for: options.advertiseHost), advertiseHost: options.advertiseHost,
                                     peerPort: options.peerPort, apiPort: options.apiPort, incarnation: incarnation,
                                     token: recovered.isEmpty ? nil : options.token,
                                     founders: recovered.isEmpty ? [] : try options.founderAddresses().map { "\($0.host):\($0.port)" },
                                     state: "active")
        let member = Member(options: options, host: host, identity: identity, storage: storage, localAPIToken: "")
        try member.startCore(recovered: recovered)
        return member
    }

    private init(options: ServerOptions, host: any MemberHost, identity: AgentIdentity, storage: MemberStorage, localAPIToken: String) {
        self.options = options
        self.host = host
        self.identity = identity
        self.storage = storage
        self.localAPIToken = localAPIToken
        uidRandom = Raft.Random(seed: host.randomSeed())
        store.clusterVersionMax = options.clusterVersionMax
    }

    /// Raft, the WAL writer and the ticks: what a member is with or without HTTP.
    private func startCore(recovered: MemberStorage.Recovered) throws(ServerError) {
        worker = host.makeWALWriter(wal: storage.wal) { [weak self] tokens, error in
            self?.walCompleted(tokens: tokens, error: error)
        }
        var state = recovered.state
        if let snapshot = recovered.snapshot { try restoreStore(from: snapshot) }
        if recovered.isEmpty {
            if options.forceNewCluster { throw .usage("--force-new-cluster needs a data directory with data") }
            if identity.token != nil {
                state = .joining  // admitted before a crash, nothing replicated yet: wait for the leader
            } else if !options.founders.isEmpty {
                state = try foundCluster()
            } else {
                Log.info("\(identity.name) is not in a cluster yet: run `shoal init` here, or `shoal join` to join one")
            }
        } else {
            guard identity.token != nil else {
                throw .storage("\(options.dataDirectory) holds Raft data but no cluster identity (agent.json)")
            }
            if options.forceNewCluster { state = try forcedNewClusterState(from: state) }
        }
        if identity.token != nil { try startRaft(state: state) }
        host.startTicking(tickMilliseconds: options.tickMilliseconds,
                          tick: { [weak self] in self?.tick() },
                          endOfIteration: { [weak self] in
                              self?.runScheduledPump()
                              // A service change goes to the kernel in the iteration that
                              // applied it, not at the next tick.
                              self?.runServiceProxy()
                          })
    }

    /// TLS, the HTTP API, the admission thread and the files the local CLI reads.
    private func startServing(loop: EventLoop) throws(ServerError) {
        try updateTLSMaterial()
        try Self.writeTLSFiles(directory: options.dataDirectory, serving: tls?.serving, ca: tls?.ca, apiURL: apiURL)
        try startAPI(loop: loop)
        prepareAPIDocuments()
        admissionWorker = AdmissionWorker(loop: loop)
        let renewal = LoopTimer(loop: loop)
        renewal.start(afterMilliseconds: Self.tlsRenewCheckMilliseconds, repeatMilliseconds: Self.tlsRenewCheckMilliseconds) { [weak self] in
            self?.refreshTLS()
        }
        tlsRenewTimer = renewal
        startPods()
        startServiceProxy()
        startClusterDNS()
        try AgentIdentity.writeSecretFile(directory: options.dataDirectory, name: AgentIdentity.apiTokenFileName,
                                          bytes: Array((apiToken + "\n").utf8))
        Log.info("\(identity.name) (id \(hex16(identity.nodeID))) serving the API at \(apiURL)"
                 + (options.insecureHTTP ? " (plain HTTP: --insecure-http is for local debugging only)" : ""))
    }

    /// The libuv loop in production (nil in the simulator, which serves no HTTP).
    var loop: EventLoop? { (host as? LoopMemberHost)?.loop }

    /// Monotonic milliseconds on the host's clock (deadlines).
    var nowMilliseconds: UInt64 { host.monotonicNanoseconds / 1_000_000 }

    /// Creates the RaftNode and the peer transport for `state`.
    func startRaft(state: Raft.PersistentState) throws(ServerError) {
        guard let token = identity.token else { preconditionFailure("startRaft without a token") }
        var config = Raft.Config(id: identity.nodeID, randomSeed: host.randomSeed())
        config.electionTimeoutTicks = options.electionTicks
        config.heartbeatIntervalTicks = options.heartbeatTicks
        config.faultyRule = options.raftFaultyRule
        config.applyBytesMax = Self.applyBytesPerReadyMax
        do {
            node = try RaftNode(config: config, state: state)
        } catch {
            throw .storage("the recovered Raft state is inconsistent: \(error)")
        }
        let handlers = PeerTransport.Handlers(
            onMessage: { [weak self] from, payload in self?.received(from: from, payload) },
            onPeerUp: { [weak self] id in self?.metrics.peerConnections += 1; _ = id },
            onPeerDown: { [weak self] id in self?.peerDown(id) },
            acceptPeer: { [weak self] id, context in self?.acceptPeer(id, context: context) ?? false })
        do {
            transport = try host.makePeerNetwork(localID: identity.nodeID, listenHost: options.listenHost ?? options.advertiseHost,
                                                 listenPort: options.peerPort, clusterSecret: token.peerSecret,
                                                 helloContext: helloContext(), handlers: handlers)
        } catch {
            throw .usage("cannot listen for peers on \(options.advertiseHost):\(options.peerPort): \(error)")
        }
        for founder in identity.founders {
            let parts = founder.split(separator: ":")
            guard parts.count == 2, let port = UInt16(parts[1]) else { continue }
            learnAddress(MemberID.of(host: String(parts[0]), peerPort: port),
                         PeerAddress(host: String(parts[0]), peerPort: port, apiPort: options.apiPort,
                                     name: AgentIdentity.defaultName(for: String(parts[0])), incarnation: nil))
        }
        learnAddressesFromStore()
        lastObservedTerm = node!.term
        pump()
    }

    func startAPI(loop: EventLoop) throws(ServerError) {
        do {
            api = try APIServer(loop: loop, host: options.listenHost ?? options.advertiseHost, port: options.apiPort, service: self,
                                tls: try apiTLSSettings())
        } catch let error as ServerError {
            throw error
        } catch {
            throw .usage("cannot serve the API on \(options.advertiseHost):\(options.apiPort): \(error)")
        }
    }

    /// The address this member's own connections leave from (the one it advertises).
    var localAddress: String? {
        let host = options.listenHost ?? options.advertiseHost
        return host == "0.0.0.0" ? nil : host
    }

    /// What a peer tells us in its handshake: its incarnation, its admission index, and the
    /// newest cluster version its build runs (the leader moves the cluster to a version only
    /// once every member reports it).
    func helloContext() -> [UInt8] {
        // Version 2 added the admission index, version 3 the cluster version; peers read every
        // earlier version too (a missing cluster version means 1).
        var w = ByteWriter()
        w.put(UInt8(3))
        w.put(identity.incarnation)
        w.put(identity.admissionIndex)
        w.put(UInt32(options.clusterVersionMax))
        return w.bytes
    }

    /// Stops everything (after a fatal error or a leave); `loop.run()` then returns.
    func shutDown(exitCode: Int32) {
        guard self.exitCode == nil else { return }
        self.exitCode = exitCode
        tlsRenewTimer?.close()
        transport?.close()
        worker?.stop()
        admissionWorker?.stop()
        stopPods()
        host.stop()
    }

    // MARK: Start-up helpers

    static func makeDirectories(_ path: String) throws(ServerError) {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if access(prefix, F_OK) != 0 && mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw .storage("cannot create \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func loadOrCreateIdentity(_ options: ServerOptions) throws(ServerError) -> AgentIdentity {
        if let identity = try AgentIdentity.load(directory: options.dataDirectory) {
            guard identity.advertiseHost == options.advertiseHost, identity.peerPort == options.peerPort else {
                throw .usage("\(options.dataDirectory) belongs to member \(identity.name) at \(identity.advertiseHost):\(identity.peerPort); start it with that --advertise address (or use another data directory)")
            }
            return identity
        }
        let identity = AgentIdentity(name: AgentIdentity.defaultName(for: options.advertiseHost),
                                     advertiseHost: options.advertiseHost, peerPort: options.peerPort,
                                     apiPort: options.apiPort, incarnation: AgentIdentity.newIncarnation(),
                                     token: nil, founders: [], state: "active")
        try identity.save(directory: options.dataDirectory)
        return identity
    }

    static func loadOrCreateLocalToken(_ directory: String) throws(ServerError) -> String {
        let path = joinPath(directory, "local-token")
        if let text = try? String(decoding: PosixFileSystem().open(path, create: false).read(at: 0, count: 256), as: UTF8.self),
           text.trimmingWhitespace().count >= 32 {
            return text.trimmingWhitespace()
        }
        var random = SystemRandomNumberGenerator()
        let token = encodeHex((0..<20).map { _ in UInt8.random(in: 0...255, using: &random) })
        try AgentIdentity.writeSecretFile(directory: directory, name: "local-token", bytes: Array((token + "\n").utf8))
        return token
    }
}
