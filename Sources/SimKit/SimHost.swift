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
    private var unsynced: [UnsyncedReady] = []
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
        for entry in state.entries { chains.append(Checker.chain(chains[chains.count - 1], entry)) }
        do {
            node = try RaftNode(config: config, state: state)
        } catch {
            preconditionFailure("member \(config.id) cannot start from the state it was given: \(error)")
        }
    }

    public var isUp: Bool { node != nil }

    /// A Ready written to disk but not yet synced.
    private struct UnsyncedReady {
        var ack: Raft.Ready.Ack
        /// Messages held back until the sync.
        var messages: [Raft.Message]
        /// Its entries with their prefix hashes: shown to the checker once durable. (An
        /// entry that never reached the disk and never left the member may be re-created
        /// differently after a crash; that is not a log-matching violation.)
        var entries: [(entry: Raft.Entry, chain: UInt64)]
        /// Storage writes it issued, and the position of its entries write among them.
        var writes: Int
        var entriesWrite: Int
    }

    /// What one round of host work produced.
    public struct Output: Sendable {
        /// Messages to put on the network now.
        public var messages: [Raft.Message] = []
        /// True if writes wait for a sync.
        public var needsSync = false
        public var readStates: [Raft.ReadState] = []
        /// What was written to disk, one line per Ready, for traces.
        public var written: [String] = []
    }

    /// Takes every pending Ready: writes to disk (unsynced), applies committed entries, takes
    /// snapshots, and returns the messages that may leave now.
    public mutating func process(checker: inout Checker) -> Output {
        var output = Output()
        guard node != nil else { return output }
        while node!.hasReady {
            let ready = node!.ready()
            if let snapshot = ready.snapshot { installSnapshot(snapshot, checker: &checker) }
            var written: [(Raft.Entry, UInt64)] = []
            for entry in ready.entries { written.append((entry, record(entry))) }
            if !ready.entries.isEmpty || ready.hardState != nil || ready.snapshot != nil {
                output.written.append("writes" + (ready.snapshot.map { " snapshot@\($0.meta.index)" } ?? "")
                    + (ready.entries.isEmpty ? "" : " [\(ready.entries.map(TraceFormat.entry).joined(separator: " "))]")
                    + (ready.hardState.map { " hard(term=\($0.term) vote=\($0.vote) commit=\($0.commit))" } ?? ""))
            }
            storage.write(ready)
            for entry in ready.committedEntries { apply(entry, checker: &checker) }
            output.messages += ready.messagesNow.compactMap(fillSnapshotChunk)
            output.readStates += ready.readStates
            let snapshotWrites = ready.snapshot == nil ? 0 : 1
            let writes = snapshotWrites + (ready.entries.isEmpty ? 0 : 1) + (ready.hardState == nil ? 0 : 1)
            unsynced.append(UnsyncedReady(ack: ready.ack, messages: ready.messagesAfterPersist, entries: written,
                                          writes: writes, entriesWrite: snapshotWrites))
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
    public mutating func completeSync(checker: inout Checker) -> [Raft.Message] {
        guard node != nil, syncCovers > 0 else { return [] }
        storage.sync()
        var released: [Raft.Message] = []
        for ready in unsynced.prefix(syncCovers) {
            for (entry, chain) in ready.entries { checker.observeEntry(id, entry, chain: chain) }
            node!.advance(ready.ack)
            released += ready.messages.compactMap(fillSnapshotChunk)
        }
        unsynced.removeFirst(syncCovers)
        syncCovers = 0
        return released
    }

    /// Syncs everything at once (the scenario runner's instant disk).
    public mutating func syncAll(checker: inout Checker) -> [Raft.Message] {
        var released: [Raft.Message] = []
        while beginSync() { released += completeSync(checker: &checker) }
        return released
    }

    /// Crashes the member: unsynced writes are lost except the first `survivingWrites`.
    public mutating func crash(survivingWrites: Int, checker: inout Checker) {
        guard node != nil else { return }
        storage.crash(survivingWrites: survivingWrites)
        var writesLeft = survivingWrites
        for ready in unsynced where writesLeft > 0 {
            if ready.entriesWrite < writesLeft {
                for (entry, chain) in ready.entries { checker.observeEntry(id, entry, chain: chain) }
            }
            writesLeft -= ready.writes
        }
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
        for entry in state.entries { checker.observeEntry(id, entry, chain: record(entry)) }
        do {
            node = try RaftNode(config: config, state: state)
        } catch {
            checker.report("storage", "member \(id) cannot restart from its disk: \(error)")
        }
    }

    public mutating func withNode<T>(_ body: (inout RaftNode) throws -> T) rethrows -> T? {
        guard node != nil else { return nil }
        return try body(&node!)
    }

    // MARK: - Host duties

    /// Extends this member's prefix hashes with `entry` (replacing any suffix from its index)
    /// and returns its hash.
    private mutating func record(_ entry: Raft.Entry) -> UInt64 {
        guard entry.index > chainBase else { return 0 }
        let offset = Int(entry.index - chainBase)
        precondition(offset <= chains.count, "log written with a gap at \(entry.index)")
        chains.removeSubrange(offset...)
        let chain = Checker.chain(chains[offset - 1], entry)
        chains.append(chain)
        return chain
    }

    private mutating func apply(_ entry: Raft.Entry, checker: inout Checker) {
        let offset = Int(entry.index) - Int(chainBase)
        guard offset > 0, offset < chains.count else {
            checker.report("host", "member \(id) applied \(entry.index) outside its log \(chainBase)+\(chains.count)")
            return
        }
        checker.observeApply(id, term: node?.term ?? 0, entry, chain: chains[offset])
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
