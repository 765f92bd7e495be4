import RaftStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One change to a file's data, queued until a sync carries it to the disk.
enum FaultyDataOp {
    case write(offset: Int, bytes: [UInt8])
    case truncate(size: Int)
    case preallocate(size: Int)

    /// Applies the change to `content`, as the kernel applies it to the page cache.
    func apply(to content: inout [UInt8]) {
        switch self {
        case let .write(offset, bytes): Self.write(bytes[...], at: offset, into: &content)
        case let .truncate(size):
            if size < content.count {
                content.removeLast(content.count - size)
            } else {
                content.append(contentsOf: repeatElement(0, count: size - content.count))
            }
        case let .preallocate(size):
            if size > content.count { content.append(contentsOf: repeatElement(0, count: size - content.count)) }
        }
    }

    /// pwrite: overwrites, filling any gap past the end with zeros; writing nothing
    /// changes nothing (not even the size).
    static func write(_ bytes: ArraySlice<UInt8>, at offset: Int, into content: inout [UInt8]) {
        if bytes.isEmpty { return }
        let end = offset + bytes.count
        if end > content.count { content.append(contentsOf: repeatElement(0, count: end - content.count)) }
        content[offset..<end] = bytes
    }

    /// The file's size after this change, given its size before.
    func size(after before: Int) -> Int {
        switch self {
        case let .write(offset, bytes): return bytes.isEmpty ? before : max(before, offset + bytes.count)
        case let .truncate(size): return size
        case let .preallocate(size): return max(before, size)
        }
    }

    /// Whether this change replaces the byte at `offset` of a file `before` bytes long.
    func touches(_ offset: Int, sizeBefore before: Int) -> Bool {
        let after = size(after: before)
        if offset >= after { return false }  // cut off (truncate) or never reached
        if offset >= before { return true }  // newly extended: zeros or written bytes
        switch self {
        case let .write(start, bytes): return offset >= start && offset < start + bytes.count
        case .truncate, .preallocate: return false  // they only cut or extend, handled above
        }
    }
}

/// A file or a directory of a `FaultyFileSystem`: its durable and current states.
final class FaultyNode {
    let id: Int
    let isDirectory: Bool
    /// File: the bytes on the disk.
    var durable: [UInt8] = []
    /// File: the bytes reads return (the page cache).
    var current: [UInt8] = []
    /// File: the changes made to `current` since the last sync, oldest first. A failed sync
    /// drops them (they stay in `current` but will never reach `durable`).
    var unsynced: [FaultyDataOp] = []
    /// Directory: the listing on the disk, name → node id.
    var durableEntries: [String: Int] = [:]
    /// Directory: the listing lookups see.
    var currentEntries: [String: Int] = [:]
    /// The errno the next sync fails with (`failNextSync`).
    var pendingSyncFailure: Int32?
    /// The errno the next write fails with (`failNextWrite`).
    var pendingWriteFailure: Int32?

    init(id: Int, isDirectory: Bool) {
        self.id = id
        self.isDirectory = isDirectory
    }

    /// Whether `current[offset]` still mirrors `durable[offset]`, i.e. no unsynced change
    /// replaced it (the page is clean), so corruption of the disk shows through reads.
    func isClean(at offset: Int) -> Bool {
        var size = durable.count
        for op in unsynced {
            if op.touches(offset, sizeBefore: size) { return false }
            size = op.size(after: size)
        }
        return offset < size
    }
}

/// An open file of a `FaultyFileSystem`. Like a file descriptor it follows the file, not its
/// name: it keeps working after a rename or unlink. After `close`, calls fail with EBADF
/// as a closed descriptor's would; using it after a crash of its file system is a bug.
final class FaultyFile: StorageFile {
    let path: String
    private let node: FaultyNode
    private let fileSystem: FaultyFileSystem
    private let epoch: Int
    private var isOpen = true

    init(path: String, node: FaultyNode, fileSystem: FaultyFileSystem) {
        self.path = path
        self.node = node
        self.fileSystem = fileSystem
        epoch = fileSystem.crashCount
    }

    /// Stops the program if the file outlived a crash: the process that opened it is dead,
    /// so a simulated member still using it has not been restarted properly.
    private func checkAlive() {
        precondition(epoch == fileSystem.crashCount, "\(path) was opened before a crash and used after it")
    }

    func size() throws(StorageError) -> Int {
        checkAlive()
        guard isOpen else { throw .io(call: "fstat", path: path, errno: EBADF) }
        return node.current.count
    }

    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        precondition(offset >= 0 && count >= 0)
        checkAlive()
        guard isOpen else { throw .io(call: "pread", path: path, errno: EBADF) }
        let content = node.current
        let start = min(offset, content.count)
        return Array(content[start..<min(start + count, content.count)])
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        checkAlive()
        if bytes.isEmpty { return }  // PosixFile issues no pwrite at all
        guard isOpen else { throw .io(call: "pwrite", path: path, errno: EBADF) }
        guard offset >= 0 else { throw .io(call: "pwrite", path: path, errno: EINVAL) }
        if let code = node.pendingWriteFailure {
            // Nothing is written: an EIO or ENOSPC before any byte was accepted.
            node.pendingWriteFailure = nil
            throw .io(call: "pwrite", path: path, errno: code)
        }
        let op = FaultyDataOp.write(offset: offset, bytes: Array(bytes))
        op.apply(to: &node.current)
        node.unsynced.append(op)
    }

    func sync() throws(StorageError) {
        checkAlive()
        guard isOpen else { throw .syncFailed(path: path, errno: EBADF) }
        if let code = fileSystem.takeSyncFailure(node) {
            // Linux after a failed fsync: the dirty pages are marked clean, so reads still
            // return the data but it will never be written, and the next fsync succeeds
            // (the error is reported once). The data is lost at the next crash.
            node.unsynced = []
            throw .syncFailed(path: path, errno: code)
        }
        // Replay rather than copy `current`: data dropped by an earlier failed sync must
        // not reach the disk through a later successful one.
        for op in node.unsynced { op.apply(to: &node.durable) }
        node.unsynced = []
    }

    func truncate(to size: Int) throws(StorageError) {
        checkAlive()
        // ftruncate checks the length before the descriptor.
        guard size >= 0 else { throw .io(call: "ftruncate", path: path, errno: EINVAL) }
        guard isOpen else { throw .io(call: "ftruncate", path: path, errno: EBADF) }
        record(.truncate(size: size))
    }

    func preallocate(size: Int) throws(StorageError) {
        checkAlive()
        guard isOpen else { throw .io(call: "posix_fallocate", path: path, errno: EBADF) }
        guard size > 0 else { throw .io(call: "posix_fallocate", path: path, errno: EINVAL) }
        record(.preallocate(size: size))
    }

    func close() { isOpen = false }

    private func record(_ op: FaultyDataOp) {
        op.apply(to: &node.current)
        node.unsynced.append(op)
    }
}

/// A held `lockDirectory` lock: released by `unlock`, when dropped (as closing the
/// descriptor releases a flock), or by a crash of its file system.
final class FaultyDirectoryLock: DirectoryLock {
    private let fileSystem: FaultyFileSystem
    private let nodeID: Int
    private let token: Int
    private let epoch: Int

    init(fileSystem: FaultyFileSystem, nodeID: Int, token: Int, epoch: Int) {
        self.fileSystem = fileSystem
        self.nodeID = nodeID
        self.token = token
        self.epoch = epoch
    }

    deinit { unlock() }

    func unlock() {
        // A lock from before a crash was already released; the token keeps it from
        // releasing a lock taken since.
        if epoch == fileSystem.crashCount { fileSystem.releaseLock(nodeID: nodeID, token: token) }
    }
}
