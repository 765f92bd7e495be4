/// The file operations stable storage needs. `PosixFileSystem` implements them with system
/// calls; `FaultyFileSystem` (in SimKit) implements them in memory and can lose unsynced
/// writes at a crash, tear the last write, flip bytes and fail a sync.
///
/// Paths are plain strings; directories are created by `makeDirectory`.
public protocol FileSystem: AnyObject {
    /// Opens (and with `create`, creates) a file for reading and writing.
    func open(_ path: String, create: Bool) throws(StorageError) -> any StorageFile
    /// The names (not paths) of the entries in a directory.
    func list(_ directory: String) throws(StorageError) -> [String]
    func exists(_ path: String) -> Bool
    func makeDirectory(_ path: String) throws(StorageError)
    /// Atomically replaces `to` by `from` (rename(2)); durable once the directory is synced.
    func rename(_ from: String, to: String) throws(StorageError)
    func remove(_ path: String) throws(StorageError)
    /// Makes creations, renames and removals in the directory durable.
    func syncDirectory(_ path: String) throws(StorageError)
    /// Takes an exclusive lock on the directory for this process's lifetime (flock), or
    /// throws `StorageError.locked`.
    func lockDirectory(_ path: String) throws(StorageError) -> any DirectoryLock
}

/// An open file. Not thread-safe: one thread uses it at a time.
public protocol StorageFile: AnyObject {
    var path: String { get }
    /// The file's size in bytes.
    func size() throws(StorageError) -> Int
    /// Reads up to `count` bytes at `offset` (fewer at the end of the file).
    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8]
    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError)
    /// Makes written data durable (fdatasync). A failure is final (`StorageError.syncFailed`).
    func sync() throws(StorageError)
    func truncate(to size: Int) throws(StorageError)
    /// Reserves `size` bytes of zeros so later writes do not extend the file (fallocate).
    func preallocate(size: Int) throws(StorageError)
    func close()
}

extension StorageFile {
    public func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        // (A typed-throws closure here crashes the 6.3 compiler; carry the error out instead.)
        let failure = bytes.withUnsafeBytes { raw -> StorageError? in
            do throws(StorageError) { try write(raw, at: offset); return nil } catch { return error }
        }
        if let failure { throw failure }
    }
}

/// Held while a process owns a data directory; released by `unlock` or at exit.
public protocol DirectoryLock: AnyObject {
    func unlock()
}

/// Creates `path` if it is missing and syncs its parent, so the new directory survives a
/// crash (a directory entry is durable only once its parent is synced).
func makeDurableDirectory(_ path: String, fileSystem: any FileSystem) throws(StorageError) {
    guard !fileSystem.exists(path) else { return }
    try fileSystem.makeDirectory(path)
    try fileSystem.syncDirectory(parentDirectory(of: path))
}

/// Joins path components with `/`.
public func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
