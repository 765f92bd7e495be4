// The measuring loops behind `shoal-bench wal`: the WAL's group commits, the raw
// pwrite + fdatasync reference on the same file system, and the group-commit worker.
import Foundation
import RaftCore
import RaftStorage
#if canImport(Glibc)
import Glibc
#endif

/// One timed run of a loop that makes `batch` entries durable per sync.
struct SyncRun: Codable {
    /// Entries made durable (syncs × batch).
    var entries: Int
    /// fdatasync calls in the timed loop (for the WAL: group commits).
    var syncs: Int
    /// Payload bytes made durable (entries × entry size).
    var payloadBytes: Int
    /// Bytes written to the file (for the WAL: whole frames, headers and padding included).
    var bytesWritten: Int
    /// Wall time on the monotonic clock, in seconds.
    var seconds: Double
    /// CPU time of the measuring thread, in seconds.
    var cpuSeconds: Double
    /// WAL segments created during the run (rotations); nil for the raw loops.
    var segmentsCreated: Int?

    var entriesPerSecond: Double { Double(entries) / seconds }
    var syncsPerSecond: Double { Double(syncs) / seconds }
    /// Payload megabytes (10^6 bytes) made durable per second.
    var payloadMBPerSecond: Double { Double(payloadBytes) / seconds / 1e6 }
}

/// What one configuration writes per sync and for how long it runs.
struct SyncLoopShape {
    /// Bytes of each entry's command.
    var entryBytes: Int
    /// Entries per sync.
    var batch: Int
    /// A run stops after this long...
    var seconds: Double
    /// ...or after this many syncs, whichever comes first.
    var syncsMax: Int

    /// Bytes of one WAL entry record: type (1), length (4), index (8), term (8), kind (1), data.
    var recordBytes: Int { 1 + 4 + 8 + 8 + 1 + entryBytes }
    /// Bytes of the WAL frame holding one batch: header (8) and records, padded to 8 bytes
    /// (WALFormat). The raw loops write exactly this many bytes per sync.
    var frameBytes: Int {
        let body = batch * recordBytes
        return 8 + (body + 7) / 8 * 8
    }
}

/// Appends `shape.batch` entries and commits (one flush + one fdatasync) per iteration, in a
/// fresh WAL in `directory`, until the time or sync bound. With `verify`, reopens the WAL
/// afterwards and checks that it replays exactly the entries written.
func runWAL(_ shape: SyncLoopShape, directory: String, segmentBytes: Int, verify: Bool) throws -> SyncRun {
    let fileSystem = PosixFileSystem()
    let (syncs, timing, segments) = try timedWALLoop(shape, directory: directory, fileSystem: fileSystem,
                                                     segmentBytes: segmentBytes)
    let entries = syncs * shape.batch
    if verify {  // the measured WAL is closed by now
        let (_, contents) = try WriteAheadLog.open(directory: directory, fileSystem: fileSystem, segmentBytes: segmentBytes)
        guard contents.entries.count == entries, contents.entries.last?.index ?? 0 == Raft.Index(entries),
              contents.tornTail == nil else {
            throw BenchError("the WAL replays \(contents.entries.count) entries, \(entries) were committed")
        }
    }
    return SyncRun(entries: entries, syncs: syncs, payloadBytes: entries * shape.entryBytes,
                   bytesWritten: syncs * shape.frameBytes, seconds: timing.seconds, cpuSeconds: timing.cpuSeconds,
                   segmentsCreated: segments - 1)
}

/// The timed loop of `runWAL`; the WAL is closed when it returns. Returns the syncs, the
/// timing and the number of segments at the end.
private func timedWALLoop(_ shape: SyncLoopShape, directory: String, fileSystem: PosixFileSystem,
                          segmentBytes: Int) throws -> (Int, Timing, Int) {
    let (wal, _) = try WriteAheadLog.open(directory: directory, fileSystem: fileSystem, segmentBytes: segmentBytes)
    let payload = [UInt8](repeating: 0x5A, count: shape.entryBytes)
    var nextIndex: Raft.Index = 1
    var syncs = 0
    var failure: Error?
    let firstOffset = wal.writeOffset
    let timing = measure {
        let start = ContinuousClock.now
        do {
            while syncs < shape.syncsMax && secondsSince(start) < shape.seconds {
                var entries: [Raft.Entry] = []
                entries.reserveCapacity(shape.batch)
                for offset in 0..<shape.batch {
                    entries.append(Raft.Entry(term: 1, index: nextIndex + Raft.Index(offset), payload: .command(payload)))
                }
                nextIndex += Raft.Index(shape.batch)
                wal.append(entries: entries)
                try wal.commit()
                syncs += 1
                if syncs == 1 {
                    precondition(wal.writeOffset - firstOffset == shape.frameBytes,
                                 "the WAL wrote a \(wal.writeOffset - firstOffset)-byte frame, the bench expected \(shape.frameBytes)")
                }
            }
        } catch {
            failure = error
        }
    }
    if let failure { throw failure }
    return (syncs, timing, wal.segmentPaths.count)
}

/// The machine's own limit for the same writes: a plain loop of `pwrite` of one frame's bytes
/// and `fdatasync`, sequential, through the C library with nothing else in the way.
final class RawSyncFiles {
    /// How the files' blocks look before the loop writes them.
    enum Mode: String, Codable {
        /// Freshly reserved with posix_fallocate, in files of the WAL's segment size, as the
        /// WAL preallocates its segments: every write into a new block also turns an unwritten
        /// extent into a written one, which ext4 must journal before fdatasync returns. All
        /// files are reserved before the clock starts and the loop moves from one to the next
        /// when a frame no longer fits, so creating them costs the loop nothing (the WAL's own
        /// segment creation is part of what it is measured on).
        case preallocated
        /// One file, already written once: the loop only overwrites data, so fdatasync has no
        /// metadata to commit. The ceiling for this device; the loop wraps around at the end.
        case prewritten
    }

    let mode: Mode
    /// Bytes of each file.
    let fileBytes: Int
    private var files: [(path: String, fd: Int32)] = []

    /// Creates `count` files of `fileBytes` in `directory` (preallocated ones are reserved
    /// again before each run).
    init(directory: String, mode: Mode, fileBytes: Int, count: Int) throws {
        precondition(count >= 1 && fileBytes >= 4096)
        self.mode = mode
        self.fileBytes = fileBytes
        for number in 0..<count {
            let path = URL(fileURLWithPath: directory).appendingPathComponent("raw-\(mode.rawValue)-\(number)").path
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw BenchError("open \(path): \(String(cString: strerror(errno)))") }
            files.append((path, fd))
        }
        if mode == .prewritten {
            let chunk = [UInt8](repeating: 0xA5, count: 1 << 20)
            for file in files {
                var offset = 0
                while offset < fileBytes {
                    let count = min(chunk.count, fileBytes - offset)
                    try chunk.withUnsafeBytes { try writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<count]), file, at: offset) }
                    offset += count
                }
                guard fsync(file.fd) == 0 else { throw BenchError("fsync \(file.path): \(String(cString: strerror(errno)))") }
            }
        }
    }

    deinit {
        for file in files {
            close(file.fd)
            unlink(file.path)
        }
    }

    /// Runs the loop once: `shape.frameBytes` per pwrite, one fdatasync after each.
    func run(_ shape: SyncLoopShape) throws -> SyncRun {
        precondition(shape.frameBytes <= fileBytes, "a \(shape.frameBytes)-byte frame does not fit a \(fileBytes)-byte file")
        if mode == .preallocated {
            // Fresh unwritten extents, the reservation itself made durable before the clock starts.
            for file in files {
                guard ftruncate(file.fd, 0) == 0 else { throw BenchError("ftruncate \(file.path): \(String(cString: strerror(errno)))") }
                let code = posix_fallocate(file.fd, 0, off_t(fileBytes))
                guard code == 0 else { throw BenchError("posix_fallocate \(file.path): \(String(cString: strerror(code)))") }
                guard fsync(file.fd) == 0 else { throw BenchError("fsync \(file.path): \(String(cString: strerror(errno)))") }
            }
        }
        let frame = [UInt8](repeating: 0x5A, count: shape.frameBytes)
        var syncs = 0
        var offset = 0
        var current = 0
        var failure: Error?
        let timing = measure {
            let start = ContinuousClock.now
            do {
                try frame.withUnsafeBytes { bytes in
                    while syncs < shape.syncsMax && secondsSince(start) < shape.seconds {
                        if offset + bytes.count > fileBytes {
                            offset = 0
                            if mode == .preallocated {
                                current += 1
                                if current == files.count { break }  // sized by the caller to hold syncsMax frames
                            }
                        }
                        let file = files[current]
                        try writeAll(bytes, file, at: offset)
                        while fdatasync(file.fd) != 0 {
                            if errno == EINTR { continue }
                            throw BenchError("fdatasync \(file.path): \(String(cString: strerror(errno)))")
                        }
                        offset += bytes.count
                        syncs += 1
                    }
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        let entries = syncs * shape.batch
        return SyncRun(entries: entries, syncs: syncs, payloadBytes: entries * shape.entryBytes,
                       bytesWritten: syncs * shape.frameBytes, seconds: timing.seconds, cpuSeconds: timing.cpuSeconds,
                       segmentsCreated: nil)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, _ file: (path: String, fd: Int32), at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(file.fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw BenchError("pwrite \(file.path): \(String(cString: strerror(errno)))")
            }
            done += written
        }
    }
}

/// One timed window of the group-commit worker under concurrent submitters.
struct GroupCommitRun: Codable {
    var submitters: Int
    /// Entries made durable (and reported to their submitters) inside the window.
    var entries: Int
    /// Syncs the worker performed inside the window.
    var syncs: Int
    /// The window's length on the monotonic clock, in seconds.
    var seconds: Double

    var entriesPerSecond: Double { Double(entries) / seconds }
    var syncsPerSecond: Double { Double(syncs) / seconds }
    var entriesPerSync: Double { syncs == 0 ? 0 : Double(entries) / Double(syncs) }
}

/// The submitters' shared state: the next log index, completions, and one semaphore each.
private final class Submitters: @unchecked Sendable {
    let lock = NSLock()
    var nextIndex: Raft.Index = 1
    var completed = 0
    var stopping = false
    var failure: StorageError?
    let durable: [DispatchSemaphore]
    let finished = DispatchSemaphore(value: 0)

    init(count: Int) { durable = (0..<count).map { _ in DispatchSemaphore(value: 0) } }

    /// Called by the worker: wakes the submitter of each token (its number is the high half).
    func complete(_ tokens: [UInt64], _ error: StorageError?) {
        lock.lock()
        completed += tokens.count
        if let error { failure = error; stopping = true }
        lock.unlock()
        if error != nil {
            durable.forEach { $0.signal() }
            return
        }
        for token in tokens { durable[Int(token >> 32)].signal() }
    }
}

/// `submitters` threads each submit one entry of `entryBytes` to a `GroupCommitWorker` and
/// wait until it is durable before submitting the next; entries and syncs are counted over a
/// window of `seconds` after a short warm-up. With `verify`, the WAL is replayed afterwards.
func runGroupCommit(submitters count: Int, entryBytes: Int, seconds: Double, directory: String,
                    segmentBytes: Int, verify: Bool) throws -> GroupCommitRun {
    let fileSystem = PosixFileSystem()
    let (wal, _) = try WriteAheadLog.open(directory: directory, fileSystem: fileSystem, segmentBytes: segmentBytes)
    let shared = Submitters(count: count)
    let worker = GroupCommitWorker(wal: wal) { tokens, error in shared.complete(tokens, error) }
    let payload = [UInt8](repeating: 0x5A, count: entryBytes)
    for submitter in 0..<count {
        let thread = Thread {
            var sequence: UInt64 = 0
            while true {
                shared.lock.lock()
                if shared.stopping {
                    shared.lock.unlock()
                    break
                }
                // Indices are taken and batches queued under one lock, so the queue (and the
                // WAL) holds them in index order.
                let index = shared.nextIndex
                shared.nextIndex += 1
                worker.submit(GroupCommitWorker.Batch(
                    token: UInt64(submitter) << 32 | sequence,
                    entries: [Raft.Entry(term: 1, index: index, payload: .command(payload))],
                    hardState: nil, needsSync: true))
                shared.lock.unlock()
                sequence += 1
                shared.durable[submitter].wait()
            }
            shared.finished.signal()
        }
        thread.name = "bench-submitter-\(submitter)"
        thread.start()
    }
    Thread.sleep(forTimeInterval: 0.2)  // every submitter running
    func snapshot() -> (entries: Int, syncs: Int) {
        shared.lock.lock()
        defer { shared.lock.unlock() }
        return (shared.completed, worker.statistics.syncs)
    }
    let start = ContinuousClock.now
    let before = snapshot()
    Thread.sleep(forTimeInterval: seconds)
    let after = snapshot()
    let elapsed = secondsSince(start)
    shared.lock.lock()
    shared.stopping = true
    shared.lock.unlock()
    for _ in 0..<count { shared.finished.wait() }
    worker.stop()
    if let failure = shared.failure { throw failure }
    let submitted = Int(shared.nextIndex - 1)
    if verify {
        let (_, contents) = try WriteAheadLog.open(directory: directory, fileSystem: fileSystem, segmentBytes: segmentBytes)
        guard contents.entries.count == submitted, contents.entries.last?.index ?? 0 == Raft.Index(submitted) else {
            throw BenchError("the WAL replays \(contents.entries.count) entries, \(submitted) were made durable")
        }
    }
    return GroupCommitRun(submitters: count, entries: after.entries - before.entries, syncs: after.syncs - before.syncs,
                          seconds: elapsed)
}
