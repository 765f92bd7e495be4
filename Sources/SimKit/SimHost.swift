import RaftCore
import RaftStorage

/// One simulated member: a `RaftNode` plus the host duties it delegates, carried out exactly
/// as the Ready contract says with the real storage code — `MemberStorage` (WAL, group
/// commit, lz4 snapshots, recovery) on a `FaultyFileSystem` — so a simulated crash loses
/// exactly what a real machine could lose, and the checkers see what a real member would do.
public struct SimHost {
    public let id: Raft.NodeID
    /// The member, or nil while it is down.
    public private(set) var node: RaftNode?
    /// The member's disk (it outlives crashes).
    public let disk: FaultyFileSystem
    private var storage: MemberStorage?
    public private(set) var machine = SimStateMachine()
    /// Take a snapshot once this many entries are applied after the last one (0: never).
    public var snapshotEveryEntries: Int
    public private(set) var incarnation: UInt64 = 0
    /// Readys written (buffered or flushed) and waiting for a sync.
    private var unsynced: [(ack: Raft.Ready.Ack, messages: [Raft.Message], entries: [(Raft.Entry, UInt64)])] = []
    /// How many of `unsynced` the sync in flight covers.
    private var syncCovers = 0
    /// Prefix hashes of this member's log: `chains[i]` is the hash at `chainBase + i`.
    private var chains: [UInt64] = [0]
    private var chainBase: Raft.Index = 0
    private let configTemplate: Raft.Config
    /// Read requests asked here: request id → highest committed index when asked.
    public var readsAsked: [UInt64: Raft.Index] = [:]

    /// The data directory on the simulated disk.
    public static let dataDirectory = "/data"
    /// Small segments, so the simulator exercises rotation and compaction.
    public static let segmentBytes = 16 << 10

    /// A member whose disk starts out holding `initial` (a founding or joining state).
    public init(config: Raft.Config, initial: Raft.PersistentState, snapshotEveryEntries: Int,
                diskOptions: FaultyFileSystem.Options = .init()) {
        precondition(initial.snapshot.index == 0, "simulated members start without a snapshot")
        id = config.id
        configTemplate = config
        var setupOptions = diskOptions
        setupOptions.syncFailuresPerMillion = 0  // faults start once the member is set up
        disk = FaultyFileSystem(seed: config.randomSeed ^ 0x5eed_d15c, options: setupOptions)
        self.snapshotEveryEntries = snapshotEveryEntries
        do {
            let (storage, recovered) = try MemberStorage.open(directory: Self.dataDirectory, fileSystem: disk,
                                                             segmentBytes: Self.segmentBytes)
            precondition(recovered.isEmpty)
            if initial.snapshot.membership != .empty {
                // A membership given only by the starting snapshot (index 0) must be on disk
                // too, or a restart would forget it.
                _ = try storage.saveSnapshot(meta: initial.snapshot, data: SimStateMachine().encode())
            }
            storage.append(entries: initial.entries, hardState: initial.hardState)
            try storage.wal.commit()
            self.storage = storage
            node = try RaftNode(config: config, state: initial)
        } catch {
            preconditionFailure("member \(config.id) cannot start: \(error)")
        }
        for entry in initial.entries { chains.append(Checker.chain(chains[chains.count - 1], entry)) }
        disk.options = diskOptions
    }

    public var isUp: Bool { node != nil }

    /// What one round of host work produced.
    public struct Output {
        /// Messages to put on the network now.
        public var messages: [Raft.Message] = []
        /// True if writes wait for a sync.
        public var needsSync = false
        public var readStates: [Raft.ReadState] = []
        /// What was persisted, one line per Ready, for traces.
        public var written: [String] = []
        /// Storage failed: the member stopped (crashed) and must be restarted.
        public var failure: StorageError?
    }

    /// Takes every pending Ready: hands its writes to storage (buffered), applies committed
    /// entries, takes snapshots, and returns the messages that may leave now.
    public mutating func process(checker: inout Checker) -> Output {
        var output = Output()
        guard node != nil else { return output }
        do throws(StorageError) {
            while node!.hasReady {
                let ready = node!.ready()
                if let snapshot = ready.snapshot { try installSnapshot(snapshot, checker: &checker) }
                var written: [(Raft.Entry, UInt64)] = []
                for entry in ready.entries { written.append((entry, record(entry))) }
                storage!.append(entries: ready.entries, hardState: ready.hardState)
                if !ready.entries.isEmpty || ready.hardState != nil || ready.snapshot != nil {
                    output.written.append(describe(ready))
                }
                for entry in ready.committedEntries { apply(entry, checker: &checker) }
                output.messages += ready.messagesNow.compactMap(fillSnapshotChunk)
                output.readStates += ready.readStates
                unsynced.append((ready.ack, ready.messagesAfterPersist, written))
                try maybeSnapshot()
            }
        } catch {
            output.failure = error
            stop(checker: &checker)
            return output
        }
        output.needsSync = unsynced.count > syncCovers
        return output
    }

    /// Starts a sync covering every write issued so far: writes them as one WAL frame (not
    /// yet durable). Returns false if a sync is already in flight or there is nothing to do.
    public mutating func beginSync(checker: inout Checker) -> Result<Bool, StorageError> {
        guard node != nil, syncCovers == 0, !unsynced.isEmpty else { return .success(false) }
        do {
            try storage!.wal.flush()
        } catch {
            stop(checker: &checker)
            return .failure(error)
        }
        syncCovers = unsynced.count
        return .success(true)
    }

    /// Completes the sync in flight (fdatasync): acknowledges its Readys and releases their
    /// held-back messages. A failed sync stops the member.
    public mutating func completeSync(checker: inout Checker) -> Result<[Raft.Message], StorageError> {
        guard node != nil, syncCovers > 0 else { return .success([]) }
        do throws(StorageError) {
            try storage!.wal.sync()
            var released: [Raft.Message] = []
            for ready in unsynced.prefix(syncCovers) {
                for (entry, chain) in ready.entries { checker.observeEntry(id, entry, chain: chain) }
                node!.advance(ready.ack)
                released += ready.messages.compactMap(fillSnapshotChunk)
            }
            unsynced.removeFirst(syncCovers)
            syncCovers = 0
            return .success(released)
        } catch {
            stop(checker: &checker)
            return .failure(error)
        }
    }

    /// Syncs everything at once (the scenario runner's instant disk).
    public mutating func syncAll(checker: inout Checker) -> [Raft.Message] {
        var released: [Raft.Message] = []
        while case .success(true) = beginSync(checker: &checker) {
            guard case .success(let messages) = completeSync(checker: &checker) else { break }
            released += messages
        }
        return released
    }

    /// Crashes the member. With `losingAllUnsynced` false, a random prefix of the unsynced
    /// writes may have reached the disk, the last possibly torn (see FaultyFileSystem).
    public mutating func crash(losingAllUnsynced: Bool = false) {
        guard node != nil else { return }
        if losingAllUnsynced { disk.crashLosingAllUnsynced() } else { disk.crash() }
        node = nil
        storage = nil
        unsynced = []
        syncCovers = 0
        readsAsked = [:]
    }

    /// A storage failure: the member stops as after a crash (the PostgreSQL fsync lesson:
    /// never carry on after a failed sync).
    private mutating func stop(checker: inout Checker) {
        crash()
    }

    /// Restarts a crashed member from its disk. A failing disk (an injected sync or write
    /// error) leaves it down and is returned, to be retried; anything else that stops the
    /// restart (corruption, inconsistency) is a checker violation.
    @discardableResult
    public mutating func restart(checker: inout Checker) -> StorageError? {
        precondition(node == nil, "restarting a running member")
        incarnation += 1
        var config = configTemplate
        config.randomSeed = configTemplate.randomSeed &+ incarnation &* 0x9E37_79B9
        do {
            let (storage, recovered) = try MemberStorage.open(directory: Self.dataDirectory, fileSystem: disk,
                                                             segmentBytes: Self.segmentBytes)
            machine = SimStateMachine()
            if let file = recovered.snapshot {
                machine = try restoreMachine(from: file, storage: storage)
            }
            resetChains(base: recovered.state.snapshot.index, checker: &checker)
            for entry in recovered.state.entries { checker.observeEntry(id, entry, chain: record(entry)) }
            node = try RaftNode(config: config, state: recovered.state)
            self.storage = storage
            return nil
        } catch let error as StorageError {
            switch error {
            case .syncFailed, .io, .stopped:
                disk.crash()  // the failed start left nothing running
                return error
            default:
                checker.report("storage", "member \(id) cannot restart from its disk: \(error)")
                return error
            }
        } catch {
            checker.report("storage", "member \(id) cannot restart from its disk: \(error)")
            return nil
        }
    }

    public mutating func withNode<T>(_ body: (inout RaftNode) throws -> T) rethrows -> T? {
        guard node != nil else { return nil }
        return try body(&node!)
    }

    /// The newest snapshot file's size (0 if none), for tests.
    public var newestSnapshotBytes: Int { storage?.newestSnapshot?.sizeBytes ?? 0 }

    /// What the disk durably holds, read without changing it (for traces of a down member).
    public func durableLog() -> [Raft.Entry]? {
        guard node == nil else { return nil }
        return try? MemberStorage.peekEntries(directory: Self.dataDirectory, fileSystem: disk)
    }

    // MARK: - Host duties

    /// Extends this member's prefix hashes with `entry` and returns its hash.
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

    private mutating func installSnapshot(_ snapshot: Raft.Snapshot, checker: inout Checker) throws(StorageError) {
        try storage!.install(snapshot)
        guard let file = storage!.snapshotFile(for: snapshot.meta) else {
            throw .inconsistent("installed snapshot \(snapshot.meta.index) is not on disk")
        }
        machine = try restoreMachine(from: file, storage: storage!)
        resetChains(base: snapshot.meta.index, checker: &checker)
    }

    private func restoreMachine(from file: SnapshotFile, storage: MemberStorage) throws(StorageError) -> SimStateMachine {
        var bytes: [UInt8] = []
        _ = try storage.snapshots.decompress(file.path) { (piece: [UInt8]) throws(StorageError) in bytes += piece }
        guard let restored = SimStateMachine.decode(bytes), restored.appliedIndex == file.metadata.index else {
            throw .corrupt(path: file.path, offset: 0, reason: "state machine bytes do not decode")
        }
        return restored
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

    private mutating func maybeSnapshot() throws(StorageError) {
        guard snapshotEveryEntries > 0, let status = node?.status else { return }
        guard machine.appliedIndex >= status.snapshotIndex + UInt64(snapshotEveryEntries) else { return }
        guard let meta = node!.snapshotMeta(at: machine.appliedIndex) else { return }
        let file = try storage!.saveSnapshot(meta: meta, data: machine.encode())
        let compacted = node!.compact(to: meta.index, snapshotSizeBytes: file.sizeBytes)
        precondition(compacted == file.metadata.raftMeta, "snapshot file and core disagree: \(compacted) \(file.metadata.raftMeta)")
        let drop = Int(meta.index - chainBase)
        chains.removeFirst(min(drop, chains.count - 1))
        chainBase = meta.index
    }

    /// Fills a snapshot chunk from the file it names; drops it if that snapshot is gone or
    /// unreadable (the transfer then stalls and restarts).
    private func fillSnapshotChunk(_ message: Raft.Message) -> Raft.Message? {
        guard case .snapshotChunk(let chunk) = message.kind, chunk.data.isEmpty, chunk.length > 0 else { return message }
        guard let filled = try? storage!.fill(chunk) else { return nil }
        var out = message
        out.kind = .snapshotChunk(filled)
        return out
    }

    private func describe(_ ready: Raft.Ready) -> String {
        "writes" + (ready.snapshot.map { " snapshot@\($0.meta.index)" } ?? "")
            + (ready.entries.isEmpty ? "" : " [\(ready.entries.map(TraceFormat.entry).joined(separator: " "))]")
            + (ready.hardState.map { " hard(term=\($0.term) vote=\($0.vote) commit=\($0.commit))" } ?? "")
    }
}
