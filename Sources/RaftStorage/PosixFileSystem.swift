#if canImport(Glibc)
import Glibc
#endif

/// The real file system, through POSIX calls. Every call goes through `checked`, which
/// retries EINTR and turns a failure into a `StorageError` naming the call and the path.
public final class PosixFileSystem: FileSystem {
    public init() {}

    public func open(_ path: String, create: Bool) throws(StorageError) -> any StorageFile {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = try checked("open", path) { Glibc.open(path, flags, 0o644) }
        return PosixFile(path: path, fd: fd)
    }

    public func list(_ directory: String) throws(StorageError) -> [String] {
        guard let dir = opendir(directory) else { throw .io(call: "opendir", path: directory, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public func makeDirectory(_ path: String) throws(StorageError) {
        if exists(path) { return }
        _ = try checked("mkdir", path) { mkdir(path, 0o755) }
    }

    public func rename(_ from: String, to: String) throws(StorageError) {
        _ = try checked("rename", from) { Glibc.rename(from, to) }
    }

    public func remove(_ path: String) throws(StorageError) {
        _ = try checked("unlink", path) { unlink(path) }
    }

    public func syncDirectory(_ path: String) throws(StorageError) {
        let fd = try checked("open", path) { Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { Glibc.close(fd) }
        if fsync(fd) != 0 { throw .syncFailed(path: path, errno: errno) }
    }

    public func lockDirectory(_ path: String) throws(StorageError) -> any DirectoryLock {
        let lockPath = joinPath(path, "LOCK")
        let fd = try checked("open", lockPath) { Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            Glibc.close(fd)
            if code == EWOULDBLOCK { throw .locked(path: path) }
            throw .io(call: "flock", path: lockPath, errno: code)
        }
        return PosixDirectoryLock(fd: fd)
    }
}

/// Runs a system call, retrying on EINTR; a negative result becomes a `StorageError.io`.
@discardableResult
func checked<T: BinaryInteger>(_ call: String, _ path: String, _ body: () -> T) throws(StorageError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw .io(call: call, path: path, errno: code)
    }
}

final class PosixFile: StorageFile {
    let path: String
    private var fd: Int32

    init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { close() }

    func size() throws(StorageError) -> Int {
        var info = stat()
        try checked("fstat", path) { fstat(fd, &info) }
        return Int(info.st_size)
    }

    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        precondition(offset >= 0 && count >= 0)
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        var failure: StorageError?
        bytes.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .io(call: "pread", path: path, errno: errno)
                    return
                }
                if n == 0 { break }  // end of file
                done += n
            }
        }
        if let failure { throw failure }
        if done < count { bytes.removeLast(count - done) }
        return bytes
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = try checked("pwrite", path) { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            done += n
        }
    }

    func sync() throws(StorageError) {
        while fdatasync(fd) != 0 {
            if errno == EINTR { continue }
            throw .syncFailed(path: path, errno: errno)
        }
    }

    func truncate(to size: Int) throws(StorageError) {
        try checked("ftruncate", path) { ftruncate(fd, off_t(size)) }
    }

    func preallocate(size: Int) throws(StorageError) {
        // posix_fallocate returns the error instead of setting errno.
        let code = posix_fallocate(fd, 0, off_t(size))
        if code != 0 { throw .io(call: "posix_fallocate", path: path, errno: code) }
    }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}

final class PosixDirectoryLock: DirectoryLock {
    private var fd: Int32

    init(fd: Int32) { self.fd = fd }
    deinit { unlock() }

    func unlock() {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            Glibc.close(fd)
            fd = -1
        }
    }
}
