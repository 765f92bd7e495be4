import RaftCore

/// A member's disk in the simulator: what is durable, and the writes issued since the last
/// sync, which a crash loses (all of them, or a random prefix that happened to reach the disk).
public struct SimStorage: Sendable {
    public private(set) var hardState = Raft.HardState()
    public private(set) var snapshot: Raft.Snapshot
    /// Durable entries after `snapshot.meta.index`, contiguous.
    public private(set) var entries: [Raft.Entry] = []
    private var unsynced: [Write] = []

    enum Write: Sendable {
        case hardState(Raft.HardState)
        case installSnapshot(Raft.Snapshot)
        case entries([Raft.Entry])
    }

    /// A disk holding `state` durably (the data of a non-empty snapshot must be given).
    public init(state: Raft.PersistentState, snapshotData: [UInt8] = []) {
        precondition(state.snapshot.sizeBytes == snapshotData.count, "snapshot data does not match its size")
        hardState = state.hardState
        snapshot = Raft.Snapshot(meta: state.snapshot, data: snapshotData)
        entries = state.entries
    }

    /// What the member reloads at start.
    public var persistentState: Raft.PersistentState {
        Raft.PersistentState(hardState: hardState, snapshot: snapshot.meta, entries: entries)
    }

    public var hasUnsyncedWrites: Bool { !unsynced.isEmpty }

    /// Issues (without syncing) the writes a Ready asks for.
    public mutating func write(_ ready: Raft.Ready) {
        if let snapshot = ready.snapshot { unsynced.append(.installSnapshot(snapshot)) }
        if !ready.entries.isEmpty { unsynced.append(.entries(ready.entries)) }
        if let hardState = ready.hardState { unsynced.append(.hardState(hardState)) }
    }

    /// Makes every issued write durable.
    public mutating func sync() {
        for write in unsynced { apply(write) }
        unsynced = []
    }

    /// A crash: writes not yet synced are lost, except a prefix of `survivingWrites` of them.
    public mutating func crash(survivingWrites: Int) {
        for write in unsynced.prefix(survivingWrites) { apply(write) }
        unsynced = []
    }

    /// The number of writes a crash could lose.
    public var unsyncedWriteCount: Int { unsynced.count }

    /// Saves a snapshot the host took of its own state machine (written, synced and renamed
    /// at once, as the real storage does); entries after it are kept.
    public mutating func saveSnapshot(_ new: Raft.Snapshot) {
        guard new.meta.index > snapshot.meta.index else { return }
        let drop = min(Int(new.meta.index - snapshot.meta.index), entries.count)
        entries.removeFirst(drop)
        snapshot = new
    }

    private mutating func apply(_ write: Write) {
        switch write {
        case .hardState(let state):
            hardState = state
        case .installSnapshot(let new):
            snapshot = new
            entries = []
        case .entries(let new):
            guard let first = new.first else { return }
            let base = snapshot.meta.index
            guard first.index > base else {
                // Entries the snapshot already covers: keep only the part after it.
                let tail = new.filter { $0.index > base }
                if !tail.isEmpty { apply(.entries(tail)) }
                return
            }
            let keep = Int(first.index - base - 1)
            precondition(keep <= entries.count, "gap in simulated log: write at \(first.index), have \(base + UInt64(entries.count))")
            entries.removeSubrange(keep...)
            entries.append(contentsOf: new)
        }
    }
}
