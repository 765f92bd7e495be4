import RaftCore

/// One simulated member: a `RaftNode` plus the host duties it delegates — a disk
/// (`SimStorage`), a state machine, snapshots — carried out exactly as the Ready contract
/// says, so the checkers see what a real member would do.
public struct SimHost: Sendable {
    public let id: Raft.NodeID
    /// The member, or nil while it is crashed.
    public private(set) var node: RaftNode?
    public private(set) var storage: SimStorage
    public private(set) var machine = SimStateMachine()
    /// Take a snapshot once this many entries are applied after the last one (0: never).
    public var snapshotEveryEntries: Int
    public private(set) var incarnation: UInt64 = 0
    /// Readys written to storage and waiting for a sync: their acks and held-back messages.
    private var unsynced: [(ack: Raft.Ready.Ack, messages: [Raft.Message])] = []
    /// How many of `unsynced` the sync in flight covers.
    private var syncCovers = 0
    /// Prefix hashes of this member's log: `chains[i]` is the hash at `chainBase + i`.
    private var chains: [UInt64] = [0]
    private var chainBase: Raft.Index = 0
    private let configTemplate: Raft.Config
    /// Read requests asked here: request id → highest committed index when asked.
    public var readsAsked: [UInt64: Raft.Index] = [:]

    public init(config: Raft.Config, state: Raft.PersistentState, snapshotEveryEntries: Int) {
        id = config.id
        configTemplate = config
        storage = SimStorage(state: state)
        self.snapshotEveryEntries = snapshotEveryEntries
        chainBase = state.snapshot.index
        node = RaftNode(config: config, state: state)
    }

    public var isUp: Bool { node != nil }

    /// What one round of host work produced.
    public struct Output: Sendable {
        /// Messages to put on the network now.
        public var messages: [Raft.Message] = []
        /// True if writes wait for a sync.
        public var needsSync = false
        public var readStates: [Raft.ReadState] = []
    }

    /// Takes every pending Ready: writes to disk (unsynced), applies committed entries, takes
    /// snapshots, and returns the messages that may leave now.
    public mutating func process(checker: inout Checker) -> Output {
        var output = Output()
        guard node != nil else { return output }
        while node!.hasReady {
            let ready = node!.ready()
            if let snapshot = ready.snapshot { installSnapshot(snapshot, checker: &checker) }
            for entry in ready.entries { record(entry, checker: &checker) }
            storage.write(ready)
            for entry in ready.committedEntries { apply(entry, checker: &checker) }
            output.messages += ready.messagesNow.compactMap(fillSnapshotChunk)
            output.readStates += ready.readStates
            unsynced.append((ready.ack, ready.messagesAfterPersist))
            maybeSnapshot()
        }
        output.needsSync = unsynced.count > syncCovers
        return output
    }

    /// Starts a sync covering every write issued so far. Returns false if one is in flight.
    public mutating func beginSync() -> Bool {
        guard node != nil, syncCovers == 0, !unsynced.isEmpty else { return false }
        syncCovers = unsynced.count
        return true
    }

    /// Completes the sync in flight: acknowledges its Readys and releases their held messages.
    public mutating func completeSync() -> [Raft.Message] {
        guard node != nil, syncCovers > 0 else { return [] }
        storage.sync()
        var released: [Raft.Message] = []
        for (ack, messages) in unsynced.prefix(syncCovers) {
            node!.advance(ack)
            released += messages.compactMap(fillSnapshotChunk)
        }
        unsynced.removeFirst(syncCovers)
        syncCovers = 0
        return released
    }

    /// Syncs everything at once (the scenario runner's instant disk).
    public mutating func syncAll() -> [Raft.Message] {
        var released: [Raft.Message] = []
        while beginSync() { released += completeSync() }
        return released
    }

    /// Crashes the member: unsynced writes are lost except the first `survivingWrites`.
    public mutating func crash(survivingWrites: Int) {
        guard node != nil else { return }
        storage.crash(survivingWrites: survivingWrites)
        node = nil
        unsynced = []
        syncCovers = 0
        readsAsked = [:]
    }

    /// Restarts a crashed member from its disk.
    public mutating func restart(checker: inout Checker) {
        precondition(node == nil, "restarting a running member")
        incarnation += 1
        var config = configTemplate
        config.randomSeed = configTemplate.randomSeed &+ incarnation &* 0x9E37_79B9
        let state = storage.persistentState
        guard let restored = SimStateMachine.decode(storage.snapshot.data) else {
            checker.report("storage", "member \(id) cannot decode its own snapshot")
            return
        }
        machine = restored
        resetChains(base: state.snapshot.index, checker: &checker)
        for entry in state.entries { record(entry, checker: &checker) }
        node = RaftNode(config: config, state: state)
    }

    /// Replaces the member by a new, empty one that can be added to the cluster again.
    public mutating func wipe(checker: inout Checker) {
        crash(survivingWrites: 0)
        storage = SimStorage(state: .joining)
        machine = SimStateMachine()
        chains = [0]
        chainBase = 0
        restart(checker: &checker)
    }

    public mutating func withNode<T>(_ body: (inout RaftNode) throws -> T) rethrows -> T? {
        guard node != nil else { return nil }
        return try body(&node!)
    }

    // MARK: - Host duties

    private mutating func record(_ entry: Raft.Entry, checker: inout Checker) {
        guard entry.index > chainBase else { return }
        let offset = Int(entry.index - chainBase)
        precondition(offset <= chains.count, "log written with a gap at \(entry.index)")
        chains.removeSubrange(offset...)
        let chain = Checker.chain(chains[offset - 1], entry)
        chains.append(chain)
        checker.observeEntry(id, entry, chain: chain)
    }

    private mutating func apply(_ entry: Raft.Entry, checker: inout Checker) {
        let offset = Int(entry.index) - Int(chainBase)
        guard offset > 0, offset < chains.count else {
            checker.report("host", "member \(id) applied \(entry.index) outside its log \(chainBase)+\(chains.count)")
            return
        }
        checker.observeApply(id, entry, chain: chains[offset])
        machine.apply(entry)
    }

    private mutating func installSnapshot(_ snapshot: Raft.Snapshot, checker: inout Checker) {
        guard let restored = SimStateMachine.decode(snapshot.data), restored.appliedIndex == snapshot.meta.index else {
            checker.report("snapshot", "member \(id) received an undecodable snapshot at \(snapshot.meta.index)")
            return
        }
        machine = restored
        resetChains(base: snapshot.meta.index, checker: &checker)
    }

    private mutating func resetChains(base: Raft.Index, checker: inout Checker) {
        chainBase = base
        if base == 0 {
            chains = [0]
        } else if let chain = checker.committedChain(at: base) {
            chains = [chain]
        } else {
            checker.report("durability", "member \(id) holds a snapshot at \(base), beyond anything known committed")
            chains = [0]
        }
    }

    private mutating func maybeSnapshot() {
        guard snapshotEveryEntries > 0, let status = node?.status else { return }
        guard machine.appliedIndex >= status.snapshotIndex + UInt64(snapshotEveryEntries) else { return }
        let data = machine.encode()
        let meta = node!.compact(to: machine.appliedIndex, snapshotSizeBytes: data.count)
        storage.saveSnapshot(Raft.Snapshot(meta: meta, data: data))
        let drop = Int(meta.index - chainBase)
        chains.removeFirst(min(drop, chains.count - 1))
        chainBase = meta.index
    }

    /// Fills a snapshot chunk from the stored snapshot; drops it if that snapshot is gone.
    private func fillSnapshotChunk(_ message: Raft.Message) -> Raft.Message? {
        guard case .snapshotChunk(var chunk) = message.kind, chunk.data.isEmpty, chunk.length > 0 else { return message }
        guard storage.snapshot.meta == chunk.meta else { return nil }
        chunk.data = Array(storage.snapshot.data[chunk.offset..<chunk.offset + chunk.length])
        var filled = message
        filled.kind = .snapshotChunk(chunk)
        return filled
    }
}
