import RaftCore

/// A member's data directory: an exclusive lock, the WAL (`wal/`) and the snapshots
/// (`snap/`), recovered together into what `RaftNode` restarts from.
///
///     <data-dir>/LOCK      flock'ed while a process owns the directory
///     <data-dir>/VERSION   "shoal-data 1": the layout version, checked at open
///     <data-dir>/wal/      WriteAheadLog segments (WALFormat)
///     <data-dir>/snap/     snapshot files (SnapshotFormat), the newest two kept
///
/// Persisting a Ready follows the order docs/raft.md requires: a received snapshot is made
/// durable first (file, rename, directory sync), then the WAL frame with the "snapshot
/// installed" record, the entries and the hard state is written and synced.
/// Not thread-safe: the storage thread (or the simulator) drives it.
public final class MemberStorage {
    public let directory: String
    public let wal: WriteAheadLog
    public let snapshots: SnapshotStore
    let fileSystem: any FileSystem
    private let lock: any DirectoryLock
    /// The newest snapshot on disk (what chunks are filled from), if any.
    public private(set) var newestSnapshot: SnapshotFile?
    /// The one before it, kept so that a transfer that started from it can finish.
    public private(set) var previousSnapshot: SnapshotFile?

    /// The data directory layout version this build writes and reads.
    public static let layoutVersion = 1
    static let versionLine = "shoal-data 1\n"

    /// What recovery found.
    public struct Recovered: Sendable {
        /// What `RaftNode` restarts from (the snapshot's `sizeBytes` is its file size).
        public var state: Raft.PersistentState
        /// The newest valid snapshot's file, whose data restores the state machine.
        public var snapshot: SnapshotFile?
        /// Where a torn final WAL frame was cut off, if one was.
        public var tornTail: (path: String, offset: Int)?
        /// Newer snapshot files that failed their checks and were passed over.
        public var skippedSnapshots: [SnapshotScan.Skipped]
        /// True if the directory held no state at all (a new member).
        public var isEmpty: Bool
    }

    /// Locks and recovers the data directory (creating it if needed). Throws if another
    /// process holds it, if a file is corrupt before the end of the log, or if what the WAL
    /// and the snapshots say does not fit together.
    public static func open(directory: String, fileSystem: any FileSystem,
                            segmentBytes: Int = WriteAheadLog.segmentBytesDefault) throws(StorageError) -> (MemberStorage, Recovered) {
        try makeDurableDirectory(directory, fileSystem: fileSystem)
        let lock = try fileSystem.lockDirectory(directory)
        do {
            try checkOrWriteVersion(directory: directory, fileSystem: fileSystem)
            let snapshots = try SnapshotStore(fileSystem: fileSystem, directory: joinPath(directory, "snap"))
            let scan = try snapshots.newestValid()
            let (wal, contents) = try WriteAheadLog.open(directory: joinPath(directory, "wal"), fileSystem: fileSystem,
                                                         segmentBytes: segmentBytes)
            let storage = MemberStorage(directory: directory, fileSystem: fileSystem, lock: lock, wal: wal, snapshots: snapshots)
            storage.newestSnapshot = scan.newest
            let state = try combine(snapshot: scan.newest, contents: contents)
            let walTail = contents.entries.last?.index ?? contents.installedSnapshot?.index ?? 0
            if let snapshot = scan.newest, state.entries.isEmpty, walTail != snapshot.metadata.index {
                // The log continues from the snapshot, but the WAL does not end there (a
                // snapshot from the leader became durable and the WAL record saying it
                // replaced the log did not): write that record now, or the entries that
                // follow would sit after the old log with a gap between them.
                wal.appendSnapshotInstalled(index: snapshot.metadata.index, term: snapshot.metadata.term)
                try wal.commit()
            }
            let recovered = Recovered(state: state, snapshot: scan.newest, tornTail: contents.tornTail,
                                      skippedSnapshots: scan.skipped,
                                      isEmpty: scan.newest == nil && contents.entries.isEmpty && contents.hardState == nil)
            return (storage, recovered)
        } catch {
            lock.unlock()
            throw error
        }
    }

    private init(directory: String, fileSystem: any FileSystem, lock: any DirectoryLock,
                 wal: WriteAheadLog, snapshots: SnapshotStore) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.lock = lock
        self.wal = wal
        self.snapshots = snapshots
    }

    deinit { lock.unlock() }

    /// Releases the directory (also released when the process exits).
    public func close() { lock.unlock() }

    private static func checkOrWriteVersion(directory: String, fileSystem: any FileSystem) throws(StorageError) {
        let path = joinPath(directory, "VERSION")
        if fileSystem.exists(path) {
            let file = try fileSystem.open(path, create: false)
            defer { file.close() }
            let text = String(decoding: try file.read(at: 0, count: 64), as: UTF8.self)
            guard text == versionLine else {
                let number = UInt32(text.split(separator: " ").last?.trimmingCharacters(in: .newlines) ?? "") ?? 0
                throw .unsupportedFormat(path: path, version: number)
            }
            return
        }
        let temporary = path + ".tmp"
        let file = try fileSystem.open(temporary, create: true)
        try file.truncate(to: 0)
        try file.write(Array(versionLine.utf8), at: 0)
        try file.sync()
        file.close()
        try fileSystem.rename(temporary, to: path)
        try fileSystem.syncDirectory(directory)
    }

    /// Joins the newest snapshot and the WAL's replay into one consistent state.
    static func combine(snapshot: SnapshotFile?, contents: WALContents) throws(StorageError) -> Raft.PersistentState {
        let meta = snapshot?.metadata.raftMeta ?? Raft.SnapshotMeta(index: 0, term: 0, membership: .empty, sizeBytes: 0)
        if let installed = contents.installedSnapshot, installed.index > meta.index {
            throw .inconsistent("the WAL records a snapshot at \(installed.index) installed, but no valid snapshot file reaches it (newest: \(meta.index))")
        }
        var entries = contents.entries
        if let atSnapshot = entries.first(where: { $0.index == meta.index }), atSnapshot.term != meta.term {
            // The snapshot came from the leader and replaced a log of another history; the WAL
            // did not record the replacement before the crash. Nothing in that log survives.
            entries = []
        }
        entries.removeAll { $0.index <= meta.index }
        if let first = entries.first, first.index != meta.index + 1 {
            throw .inconsistent("the WAL's entries start at \(first.index) but the snapshot ends at \(meta.index)")
        }
        var hardState = contents.hardState ?? Raft.HardState()
        hardState.commit = max(hardState.commit, meta.index)
        let state = Raft.PersistentState(hardState: hardState, snapshot: meta, entries: entries)
        do {
            try state.validate()
        } catch {
            throw .inconsistent("\(error)")
        }
        return state
    }

    /// The log the WAL in `directory` holds, read without locking or changing anything
    /// (for inspecting a stopped member).
    public static func peekEntries(directory: String, fileSystem: any FileSystem) throws(StorageError) -> [Raft.Entry] {
        try WALScanner(fileSystem: fileSystem, directory: joinPath(directory, "wal")).scan().0.entries
    }

    // MARK: Persisting a Ready

    /// Makes a snapshot received from the leader durable and records in the WAL (buffered)
    /// that it replaced the log.
    public func install(_ snapshot: Raft.Snapshot) throws(StorageError) {
        let file = try snapshots.install(fileBytes: snapshot.data, expected: snapshot.meta)
        remember(file)
        wal.appendSnapshotInstalled(index: snapshot.meta.index, term: snapshot.meta.term)
        _ = try snapshots.retain(keep: 2)
    }

    /// Buffers a Ready's entries and hard state (written by the next `flush`).
    public func append(entries: [Raft.Entry], hardState: Raft.HardState?) {
        wal.append(entries: entries)
        if let hardState { wal.append(hardState: hardState) }
    }

    // MARK: Snapshots the member takes

    /// Saves a snapshot whose state-machine bytes are at hand.
    public func saveSnapshot(meta: Raft.SnapshotMeta, data: [UInt8]) throws(StorageError) -> SnapshotFile {
        var pending: [UInt8]? = data
        return try saveSnapshot(meta: meta) {
            defer { pending = nil }
            return pending
        }
    }

    /// Saves a snapshot of the state machine (streamed in chunks), keeps the newest two and
    /// drops WAL segments it covers. Returns the file; pass `file.sizeBytes` to
    /// `RaftNode.compact`.
    public func saveSnapshot(meta: Raft.SnapshotMeta, nextChunk: () -> [UInt8]?) throws(StorageError) -> SnapshotFile {
        let file = try snapshots.save(meta: meta, nextChunk: nextChunk)
        remember(file)
        _ = try snapshots.retain(keep: 2)
        try wal.compact(through: meta.index)
        return file
    }

    /// Records a snapshot saved or installed through `snapshots` directly (by a thread other
    /// than the WAL's), so chunks can be filled from it.
    public func noteSnapshot(_ file: SnapshotFile) { remember(file) }

    /// Writes a snapshot received from the leader to its file (durable), without touching
    /// the WAL: the "snapshot installed" record then goes through the WAL's own thread.
    public func installSnapshotFile(_ snapshot: Raft.Snapshot) throws(StorageError) -> SnapshotFile {
        let file = try snapshots.install(fileBytes: snapshot.data, expected: snapshot.meta)
        remember(file)
        _ = try snapshots.retain(keep: 2)
        return file
    }

    private func remember(_ file: SnapshotFile) {
        if newestSnapshot?.name != file.name { previousSnapshot = newestSnapshot }
        newestSnapshot = file
    }

    /// The file holding the snapshot `meta` describes, if it is still kept.
    public func snapshotFile(for meta: Raft.SnapshotMeta) -> SnapshotFile? {
        for file in [newestSnapshot, previousSnapshot].compactMap({ $0 })
        where file.metadata.index == meta.index && file.metadata.term == meta.term && file.sizeBytes == meta.sizeBytes {
            return file
        }
        return nil
    }

    /// Fills a snapshot chunk from the file it names; nil if that snapshot is gone (the
    /// transfer then restarts with the newest one).
    public func fill(_ chunk: Raft.Message.SnapshotChunk) throws(StorageError) -> Raft.Message.SnapshotChunk? {
        guard let file = snapshotFile(for: chunk.meta) else { return nil }
        var filled = chunk
        filled.data = try snapshots.readFileRange(file.path, offset: chunk.offset, count: chunk.length)
        guard filled.data.count == chunk.length else { return nil }
        return filled
    }
}
