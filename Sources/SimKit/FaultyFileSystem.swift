import RaftCore
import RaftStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-memory `FileSystem` that models a disk behind a page cache, so the simulator can
/// crash a member and see exactly what a real machine could have kept.
///
/// Every file has *durable* content (what the disk holds) and *current* content (what
/// reads return). Writes, truncations and preallocations change the current content and are
/// queued as unsynced operations; `StorageFile.sync()` replays the queue onto the durable
/// content. Every directory likewise has a durable and a current listing (name → file);
/// creations, renames and removals change the current listing, and `syncDirectory` makes it
/// durable. `crash()` reverts everything to what is durable, except that a random prefix of
/// each file's unsynced operations may have reached the disk, the last of them possibly
/// torn (see `Options`). Faults are injected by `flipBytes`, `failNextSync`, `failNextWrite`
/// and `Options.syncFailuresPerMillion`.
///
/// All randomness comes from one `Raft.Random` seeded at construction, so the seed and the
/// sequence of calls reproduce a run exactly.
///
/// Errors name the same call, path and errno `PosixFileSystem` would report (a conformance
/// test runs both). Paths are resolved from `/` (a relative path is taken as rooted); `.`
/// components are ignored and `..` is not supported (a precondition), since storage code
/// never builds such paths. Symbolic links, permissions and hard links do not exist.
///
/// Not thread-safe, by design: the simulator is single-threaded, and confinement to one
/// thread is what makes a seeded run reproducible. Use it, its files and its locks from one
/// thread only.
public final class FaultyFileSystem: FileSystem {
    /// How a torn write is torn.
    public enum TearMode: Sendable, Equatable {
        /// A random prefix of the write's bytes reached the disk (a disk writing in order).
        case bytePrefix
        /// Each `sectorSizeBytes`-aligned sector of the write independently reached the disk
        /// or not (a disk reordering sector writes).
        case sectors
    }

    /// Which losses a crash may cause, and how often a sync fails on its own.
    public struct Options: Sendable, Equatable {
        /// At a crash, a random prefix (in issue order) of each file's unsynced operations
        /// reaches the disk; when false, every unsynced operation is lost.
        public var keepUnsyncedPrefix: Bool
        /// At a crash, the last surviving unsynced operation of a file, when it is a write,
        /// is torn with probability 1/2 (see `tearMode`).
        public var tearLastWrite: Bool
        /// How a torn write is torn.
        public var tearMode: TearMode
        /// The sector size of `TearMode.sectors`.
        public var sectorSizeBytes: Int
        /// The chance, per million, that a file or directory sync fails with EIO by itself.
        /// No random number is drawn while it is 0, so enabling other faults does not
        /// change the outcome of a seed.
        public var syncFailuresPerMillion: UInt64

        /// Options modelling an ordinary disk: unsynced writes may partly survive, torn.
        public init(
            keepUnsyncedPrefix: Bool = true, tearLastWrite: Bool = true, tearMode: TearMode = .bytePrefix,
            sectorSizeBytes: Int = 512, syncFailuresPerMillion: UInt64 = 0
        ) {
            precondition(sectorSizeBytes > 0, "sectorSizeBytes must be positive")
            precondition(syncFailuresPerMillion <= 1_000_000, "syncFailuresPerMillion is at most 1_000_000")
            self.keepUnsyncedPrefix = keepUnsyncedPrefix
            self.tearLastWrite = tearLastWrite
            self.tearMode = tearMode
            self.sectorSizeBytes = sectorSizeBytes
            self.syncFailuresPerMillion = syncFailuresPerMillion
        }
    }

    /// The losses `crash()` may cause; may be changed between operations.
    public var options: Options
    /// How many times the file system crashed; files and locks from an earlier epoch are
    /// dead (using a file opened before a crash is a bug and stops the program).
    public internal(set) var crashCount = 0

    var random: Raft.Random
    /// Every file and directory reachable from a durable or a current listing, by id.
    /// Ids are never reused, so a stale id cannot name a newer file.
    var nodes: [Int: FaultyNode] = [:]
    private var nextNodeID = 1
    let root = FaultyNode(id: 0, isDirectory: true)
    /// The LOCK file's node id → the token of the lock holding it (flock on that file).
    var heldLocks: [Int: Int] = [:]
    private var nextLockToken = 1

    /// An empty file system holding only a durable `/`, drawing randomness from `seed`.
    public init(seed: UInt64, options: Options = Options()) {
        random = Raft.Random(seed: seed)
        self.options = options
        nodes[root.id] = root
    }

    // MARK: FileSystem

    /// Opens the file at `path`; a created file's name is volatile until `syncDirectory`.
    public func open(_ path: String, create: Bool) throws(StorageError) -> any StorageFile {
        let node = try openNode(path, create: create)
        return FaultyFile(path: path, node: node, fileSystem: self)
    }

    /// The current (not necessarily durable) names in `directory`, sorted.
    public func list(_ directory: String) throws(StorageError) -> [String] {
        let node = try lookup(directory, call: "opendir")
        guard node.isDirectory else { throw .io(call: "opendir", path: directory, errno: ENOTDIR) }
        return node.currentEntries.keys.sorted()
    }

    /// Whether a file or directory is currently at `path`.
    public func exists(_ path: String) -> Bool {
        do { _ = try lookup(path, call: "access"); return true } catch { return false }
    }

    /// Creates an empty directory; its entry in the parent is volatile until the parent is synced.
    public func makeDirectory(_ path: String) throws(StorageError) {
        if exists(path) { return }  // as PosixFileSystem: an existing file also counts
        guard let (parent, name) = try locate(path, call: "mkdir") else { return }
        parent.currentEntries[name] = makeNode(isDirectory: true).id
    }

    /// Moves the entry; each of the two directories keeps its old listing at a crash until synced.
    public func rename(_ from: String, to: String) throws(StorageError) {
        // rename(2) reports every failure against `from`, as PosixFileSystem does.
        func failure(_ code: Int32) -> StorageError { .io(call: "rename", path: from, errno: code) }
        guard let (fromDirectory, fromName) = try locate(from, call: "rename") else { throw failure(EBUSY) }
        guard let movingID = fromDirectory.currentEntries[fromName] else { throw failure(ENOENT) }
        guard let (toDirectory, toName) = try locate(to, call: "rename", reporting: from) else { throw failure(EBUSY) }
        let moving = node(movingID)
        // The kernel's checks, in its order: first the ancestry traps, then "same file",
        // then the kinds of the two, then emptiness.
        if moving.isDirectory && isSelfOrDescendant(toDirectory, of: moving) { throw failure(EINVAL) }
        if let replacedID = toDirectory.currentEntries[toName] {
            let replaced = node(replacedID)
            if replaced.isDirectory && isSelfOrDescendant(fromDirectory, of: replaced) { throw failure(ENOTEMPTY) }
            if replacedID == movingID { return }  // both names link the same file: no-op
            if moving.isDirectory && !replaced.isDirectory { throw failure(ENOTDIR) }
            if !moving.isDirectory && replaced.isDirectory { throw failure(EISDIR) }
            if replaced.isDirectory && !replaced.currentEntries.isEmpty { throw failure(ENOTEMPTY) }
        }
        fromDirectory.currentEntries[fromName] = nil
        toDirectory.currentEntries[toName] = movingID
        collectGarbage()
    }

    /// Unlinks a file; a crash brings it back (with its durable content) until the directory is synced.
    public func remove(_ path: String) throws(StorageError) {
        guard let (directory, name) = try locate(path, call: "unlink") else {
            throw .io(call: "unlink", path: path, errno: EISDIR)
        }
        guard let id = directory.currentEntries[name] else { throw .io(call: "unlink", path: path, errno: ENOENT) }
        if node(id).isDirectory { throw .io(call: "unlink", path: path, errno: EISDIR) }
        directory.currentEntries[name] = nil
        collectGarbage()
    }

    /// Makes the directory's current listing durable, or fails as injected (nothing persisted).
    public func syncDirectory(_ path: String) throws(StorageError) {
        let directory = try lookup(path, call: "open")
        guard directory.isDirectory else { throw .io(call: "open", path: path, errno: ENOTDIR) }
        // A failed directory sync persists nothing; the listing stays volatile.
        if let code = takeSyncFailure(directory) { throw .syncFailed(path: path, errno: code) }
        directory.durableEntries = directory.currentEntries
        collectGarbage()
    }

    /// Creates `path/LOCK` and holds it exclusively until unlocked, dropped or a crash.
    public func lockDirectory(_ path: String) throws(StorageError) -> any DirectoryLock {
        // As PosixFileSystem: create and flock `path/LOCK`, so the file shows in listings.
        let lockFile = try openNode(joinPath(path, "LOCK"), create: true)
        if heldLocks[lockFile.id] != nil { throw .locked(path: path) }
        let token = nextLockToken
        nextLockToken += 1
        heldLocks[lockFile.id] = token
        return FaultyDirectoryLock(fileSystem: self, nodeID: lockFile.id, token: token, epoch: crashCount)
    }

    // MARK: Test setup

    /// Creates `path` and any missing parents durably, as if they existed before the run
    /// (`mkdir -p` followed by syncing every directory touched).
    public func makeDurableDirectories(_ path: String) {
        var directory = root
        for part in Self.components(path) {
            if let id = directory.currentEntries[part] {
                let next = node(id)
                precondition(next.isDirectory, "makeDurableDirectories(\(path)): \(part) is a file")
                directory = next
            } else {
                let created = makeNode(isDirectory: true)
                directory.currentEntries[part] = created.id
                directory.durableEntries[part] = created.id
                directory = created
            }
        }
    }

    // MARK: Internals shared with the other FaultyFileSystem files

    func node(_ id: Int) -> FaultyNode {
        guard let found = nodes[id] else { preconditionFailure("FaultyFileSystem: listing names missing node \(id)") }
        return found
    }

    private func makeNode(isDirectory: Bool) -> FaultyNode {
        let created = FaultyNode(id: nextNodeID, isDirectory: isDirectory)
        nextNodeID += 1
        nodes[created.id] = created
        return created
    }

    /// open(2) with O_RDWR (and O_CREAT): the file's node, created empty if asked.
    private func openNode(_ path: String, create: Bool) throws(StorageError) -> FaultyNode {
        guard let (directory, name) = try locate(path, call: "open") else {
            throw .io(call: "open", path: path, errno: EISDIR)
        }
        if let id = directory.currentEntries[name] {
            let found = node(id)
            if found.isDirectory { throw .io(call: "open", path: path, errno: EISDIR) }
            return found
        }
        guard create else { throw .io(call: "open", path: path, errno: ENOENT) }
        let created = makeNode(isDirectory: false)
        directory.currentEntries[name] = created.id
        return created
    }

    /// A path's components, with empty and `.` components dropped.
    static func components(_ path: String) -> [String] {
        var parts: [String] = []
        for part in path.split(separator: "/") where part != "." {
            precondition(part != "..", "FaultyFileSystem does not resolve '..' (in \(path))")
            parts.append(String(part))
        }
        return parts
    }

    /// The current directory holding the last component of `path`, and that name; nil for
    /// `/`. Fails as the kernel's path walk does: ENOENT for a missing or empty component
    /// path, ENOTDIR for a file in the middle.
    func locate(_ path: String, call: String, reporting: String? = nil) throws(StorageError) -> (FaultyNode, String)? {
        let reported = reporting ?? path
        if path.isEmpty { throw .io(call: call, path: reported, errno: ENOENT) }
        let parts = Self.components(path)
        guard let name = parts.last else { return nil }
        var directory = root
        for part in parts.dropLast() {
            guard let id = directory.currentEntries[part] else { throw .io(call: call, path: reported, errno: ENOENT) }
            let next = node(id)
            guard next.isDirectory else { throw .io(call: call, path: reported, errno: ENOTDIR) }
            directory = next
        }
        return (directory, name)
    }

    /// The file or directory currently at `path`.
    func lookup(_ path: String, call: String) throws(StorageError) -> FaultyNode {
        guard let (directory, name) = try locate(path, call: call) else { return root }
        guard let id = directory.currentEntries[name] else { throw .io(call: call, path: path, errno: ENOENT) }
        return node(id)
    }

    private func isSelfOrDescendant(_ candidate: FaultyNode, of ancestor: FaultyNode) -> Bool {
        if candidate === ancestor { return true }
        var seen: Set<Int> = [ancestor.id]
        var stack = [ancestor]
        while let directory = stack.popLast() {
            for id in directory.currentEntries.values where seen.insert(id).inserted {
                if id == candidate.id { return true }
                let child = node(id)
                if child.isDirectory { stack.append(child) }
            }
        }
        return false
    }

    /// Forgets files no durable or current listing names. An open file keeps its node
    /// alive through its handle (an unlinked open file), but it is gone after a crash.
    func collectGarbage() {
        var reachable: Set<Int> = [root.id]
        var stack = [root]
        while let directory = stack.popLast() {
            for id in Array(directory.durableEntries.values) + Array(directory.currentEntries.values)
            where reachable.insert(id).inserted {
                let child = node(id)
                if child.isDirectory { stack.append(child) }
            }
        }
        if reachable.count != nodes.count { nodes = nodes.filter { reachable.contains($0.key) } }
    }

    func releaseLock(nodeID: Int, token: Int) {
        if heldLocks[nodeID] == token { heldLocks[nodeID] = nil }
    }

    /// Whether this sync fails: an injected failure (reported once) or a random one.
    func takeSyncFailure(_ target: FaultyNode) -> Int32? {
        if let code = target.pendingSyncFailure {
            target.pendingSyncFailure = nil
            return code
        }
        if options.syncFailuresPerMillion > 0 && random.chance(options.syncFailuresPerMillion, in: 1_000_000) {
            return EIO
        }
        return nil
    }
}
