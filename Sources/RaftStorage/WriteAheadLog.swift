import RaftCore

/// The segmented write-ahead log of one member (format: `WALFormat`).
///
/// Records are buffered by `append`; `flush` writes everything buffered as **one frame**
/// (one `pwrite`), and `sync` makes it durable (one `fdatasync`). A caller that flushes
/// only after the previous sync completed — as the group-commit worker does — never has
/// more than one unsynced frame on disk, which is what makes a torn frame recognisable as
/// the tail. Not thread-safe: one thread drives it.
public final class WriteAheadLog {
    /// Size of a preallocated segment, in bytes.
    public let segmentBytes: Int
    let fileSystem: any FileSystem
    let directory: String
    private var segments: [SegmentInfo]
    private var current: any StorageFile
    /// Records appended and not yet flushed.
    private var pending = ByteWriter(capacity: 1 << 16)
    private var pendingMaxIndex: Raft.Index = 0
    private var flushedUnsynced = false
    private var lastHardState: Raft.HardState?
    private var failure: StorageError?

    /// Default segment size: 64 MiB.
    public static let segmentBytesDefault = 64 << 20

    /// Opens (creating if needed) the WAL in `directory` and replays it. A torn final frame
    /// is cut off (zeroed) and reported in `WALContents.tornTail`; corruption before the tail
    /// throws.
    public static func open(directory: String, fileSystem: any FileSystem,
                            segmentBytes: Int = segmentBytesDefault) throws(StorageError) -> (WriteAheadLog, WALContents) {
        precondition(segmentBytes >= 4096, "segments must hold at least a page")
        try makeDurableDirectory(directory, fileSystem: fileSystem)
        for name in try fileSystem.list(directory) where name.hasPrefix("wal-") && name.hasSuffix(".tmp") {
            try fileSystem.remove(joinPath(directory, name))  // a segment whose creation was interrupted
        }
        let (contents, segments) = try WALScanner(fileSystem: fileSystem, directory: directory).scan()
        let wal: WriteAheadLog
        if let last = segments.last {
            let file = try fileSystem.open(last.path, create: false)
            wal = WriteAheadLog(fileSystem: fileSystem, directory: directory, segmentBytes: segmentBytes,
                                segments: segments, current: file)
            if let torn = contents.tornTail {
                precondition(torn.path == last.path, "a torn frame can only be in the newest segment")
                try wal.zeroTail(of: file, from: torn.offset)
            }
        } else {
            let (file, info) = try createSegment(sequence: 1, directory: directory, fileSystem: fileSystem,
                                                 segmentBytes: segmentBytes)
            wal = WriteAheadLog(fileSystem: fileSystem, directory: directory, segmentBytes: segmentBytes,
                                segments: [info], current: file)
        }
        wal.lastHardState = contents.hardState
        return (wal, contents)
    }

    private init(fileSystem: any FileSystem, directory: String, segmentBytes: Int,
                 segments: [SegmentInfo], current: any StorageFile) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.segments = segments
        self.current = current
    }

    deinit { current.close() }

    // MARK: Appending

    public func append(entries: [Raft.Entry]) {
        for entry in entries {
            WALFormat.putEntry(entry, into: &pending)
            pendingMaxIndex = max(pendingMaxIndex, entry.index)
        }
    }

    public func append(hardState: Raft.HardState) {
        WALFormat.putHardState(hardState, into: &pending)
        lastHardState = hardState
    }

    /// Records that a snapshot received from the leader replaced the whole log.
    public func appendSnapshotInstalled(index: Raft.Index, term: Raft.Term) {
        WALFormat.putSnapshot(index: index, term: term, into: &pending)
    }

    /// True when records wait to be flushed.
    public var hasPending: Bool { pending.count > 0 }

    /// Writes the buffered records as one frame. At most one flushed frame may be unsynced.
    public func flush() throws(StorageError) {
        if let failure { throw .stopped(reason: failure.description) }
        guard hasPending else { return }
        precondition(!flushedUnsynced, "flush before the previous frame was synced")
        var frameBody = pending
        let padding = (WALFormat.frameAlignmentBytes - frameBody.count % WALFormat.frameAlignmentBytes) % WALFormat.frameAlignmentBytes
        for _ in 0..<padding { frameBody.put(UInt8(0)) }  // padding record(s): type 0 ends the frame
        guard frameBody.count <= WALFormat.frameBytesMax else {
            preconditionFailure("a group commit of \(frameBody.count) bytes exceeds WALFormat.frameBytesMax")
        }
        let frameBytes = WALFormat.frameHeaderBytes + frameBody.count
        if segments[segments.count - 1].end + frameBytes > segmentBytes && segments[segments.count - 1].end > WALFormat.headerBytes {
            try rotate()
            // A new segment starts with the current hard state, so deleting older segments
            // never loses it.
            if let state = lastHardState {
                var withState = ByteWriter(capacity: frameBody.count + 32)
                WALFormat.putHardState(state, into: &withState)
                withState.put(pending.bytes)
                pending = withState
                return try flush()
            }
        }
        var frame = ByteWriter(capacity: frameBytes)
        frame.put(UInt32(frameBody.count))
        frame.put(UInt32(0))
        frame.put(frameBody.bytes)
        var crc = CRC32C.checksum(frame.bytes, from: 0, to: 4)
        crc = CRC32C.checksum(frame.bytes, from: WALFormat.frameHeaderBytes, to: frame.count, extending: crc)
        frame.patch(crc, at: 4)
        let offset = segments[segments.count - 1].end
        do {
            try current.write(frame.bytes, at: offset)
        } catch {
            failure = error
            throw error
        }
        segments[segments.count - 1].end = offset + frameBytes
        segments[segments.count - 1].maxIndex = max(segments[segments.count - 1].maxIndex, pendingMaxIndex)
        pending.removeAll()
        pendingMaxIndex = 0
        flushedUnsynced = true
    }

    /// Makes the flushed frame durable. A failure stops the WAL for good.
    public func sync() throws(StorageError) {
        if let failure { throw .stopped(reason: failure.description) }
        guard flushedUnsynced else { return }
        do {
            try current.sync()
        } catch {
            failure = error
            throw error
        }
        flushedUnsynced = false
    }

    /// `flush` then `sync`.
    public func commit() throws(StorageError) {
        try flush()
        try sync()
    }

    /// The error that stopped the WAL, if any.
    public var stoppedBy: StorageError? { failure }

    // MARK: Segments

    private func rotate() throws(StorageError) {
        precondition(!flushedUnsynced, "rotating with an unsynced frame")
        let sequence = segments[segments.count - 1].sequence + 1
        let (file, info) = try Self.createSegment(sequence: sequence, directory: directory, fileSystem: fileSystem,
                                                  segmentBytes: segmentBytes)
        current.close()
        current = file
        segments.append(info)
    }

    /// Creates a segment durably: preallocated, header written and synced, renamed into
    /// place, directory synced — so a segment that exists always has a valid header.
    static func createSegment(sequence: UInt64, directory: String, fileSystem: any FileSystem,
                              segmentBytes: Int) throws(StorageError) -> (any StorageFile, SegmentInfo) {
        let path = joinPath(directory, WALFormat.segmentName(sequence))
        let temporary = path + ".tmp"
        let file = try fileSystem.open(temporary, create: true)
        try file.truncate(to: 0)
        try file.preallocate(size: segmentBytes)
        try file.write(WALFormat.encodeHeader(sequence: sequence), at: 0)
        try file.sync()
        file.close()
        try fileSystem.rename(temporary, to: path)
        try fileSystem.syncDirectory(directory)
        let renamed = try fileSystem.open(path, create: false)  // so errors name the real file
        return (renamed, SegmentInfo(sequence: sequence, path: path, end: WALFormat.headerBytes, maxIndex: 0))
    }

    /// Zeroes a torn tail so that later frames are never followed by its debris.
    private func zeroTail(of file: any StorageFile, from offset: Int) throws(StorageError) {
        let size = try file.size()
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        var position = offset
        while position < size {
            let count = min(chunk.count, size - position)
            let existing = try file.read(at: position, count: count)
            if existing.contains(where: { $0 != 0 }) { try file.write(Array(chunk[0..<count]), at: position) }
            position += count
        }
        try file.sync()
        segments[segments.count - 1].end = offset
    }

    /// Deletes every segment, except the newest, whose entries are all at or below
    /// `index` (covered by a durable snapshot). Returns the number deleted.
    @discardableResult
    public func compact(through index: Raft.Index) throws(StorageError) -> Int {
        var deleted = 0
        while segments.count > 1 && segments[0].maxIndex <= index {
            try fileSystem.remove(segments[0].path)
            segments.removeFirst()
            deleted += 1
        }
        if deleted > 0 { try fileSystem.syncDirectory(directory) }
        return deleted
    }

    /// Where the next frame goes in the newest segment (its byte offset).
    public var writeOffset: Int { segments[segments.count - 1].end }

    /// The segments currently on disk (paths), oldest first.
    public var segmentPaths: [String] { segments.map(\.path) }
}
