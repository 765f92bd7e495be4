/// What can go wrong with a member's stable storage. Every case names the file (and, for
/// corruption, the byte offset) so an operator can act on it.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed.
    case io(call: String, path: String, errno: Int32)
    /// A sync (fdatasync/fsync) failed. The page cache can no longer be trusted to hold what
    /// it was asked to write (the PostgreSQL fsync lesson): the member must stop and recover
    /// from what is on disk, never retry and carry on.
    case syncFailed(path: String, errno: Int32)
    /// A checksum or framing failure before the end of the log: committed data may be lost,
    /// so recovery refuses to skip it.
    case corrupt(path: String, offset: Int, reason: String)
    /// Another process holds the data directory.
    case locked(path: String)
    /// A file written by a format this build does not read.
    case unsupportedFormat(path: String, version: UInt32)
    /// The recovered state does not hang together (e.g. the log does not follow its snapshot).
    case inconsistent(String)
    /// The storage stopped after an earlier failure; nothing more is written.
    case stopped(reason: String)

    public var description: String {
        switch self {
        case let .io(call, path, errno): return "\(call)(\(path)) failed: \(errnoDescription(errno))"
        case let .syncFailed(path, errno):
            return "sync of \(path) failed: \(errnoDescription(errno)); stopping: data written since the last good sync may be lost, restart to recover from disk"
        case let .corrupt(path, offset, reason): return "\(path) is corrupt at byte \(offset): \(reason)"
        case let .locked(path): return "data directory \(path) is in use by another shoal process"
        case let .unsupportedFormat(path, version): return "\(path) has format version \(version), which this build cannot read"
        case let .inconsistent(what): return "stored state is inconsistent: \(what)"
        case let .stopped(reason): return "storage stopped: \(reason)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return "\(String(cString: text)) (errno \(code))"
}
