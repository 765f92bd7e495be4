import Foundation
import RaftCore

/// Runs a `WriteAheadLog` on its own thread with **group commit**: everything submitted while
/// one sync is in flight is written as the next frame and made durable by the next single
/// sync — one fdatasync per group, never one per entry. The event loop therefore never waits
/// for the disk: it submits, and hears back through `onDurable`.
///
/// Batches that need no sync (a hard state whose only change is the commit index) complete
/// at once; their records travel with the next synced frame.
public final class GroupCommitWorker: @unchecked Sendable {
    /// One Ready's persistence.
    public struct Batch: Sendable {
        public var token: UInt64
        public var installedSnapshot: (index: Raft.Index, term: Raft.Term)?
        public var entries: [Raft.Entry]
        public var hardState: Raft.HardState?
        /// False when nothing in the batch must be durable before it is acknowledged.
        public var needsSync: Bool

        public init(token: UInt64, installedSnapshot: (index: Raft.Index, term: Raft.Term)? = nil,
                    entries: [Raft.Entry], hardState: Raft.HardState?, needsSync: Bool) {
            self.token = token
            self.installedSnapshot = installedSnapshot
            self.entries = entries
            self.hardState = hardState
            self.needsSync = needsSync
        }
    }

    /// Called on the worker thread with the tokens now durable, in submission order, or with
    /// the error that stopped the log (after which nothing more completes).
    public typealias Completion = @Sendable (_ tokens: [UInt64], _ error: StorageError?) -> Void

    /// Upper bound on batches waiting for the worker; `submit` blocks beyond it (back-pressure).
    public static let queuedBatchesMax = 4096

    private let wal: WriteAheadLog
    private let onDurable: Completion
    private let condition = NSCondition()
    private var queue: [Batch] = []
    /// The highest index a durable snapshot covers, for WAL compaction on this thread.
    private var compactThrough: Raft.Index?
    private var stopping = false
    private var stopped: StorageError?
    private var thread: Thread?
    // Counted on the worker thread; read through `statistics`.
    private var syncCount = 0
    private var batchCount = 0
    private var syncLatency = LatencyHistogram()

    /// Upper bounds of the sync latency histogram's buckets, in seconds.
    public static let syncLatencyBucketsSeconds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    /// Counts of syncs by duration (cumulative per `syncLatencyBucketsSeconds`), their sum and count.
    public struct LatencyHistogram: Sendable {
        public var cumulativeCounts = [UInt64](repeating: 0, count: GroupCommitWorker.syncLatencyBucketsSeconds.count)
        public var sumSeconds: Double = 0
        public var count: UInt64 = 0

        public init() {}

        mutating func record(seconds: Double) {
            for (i, bound) in GroupCommitWorker.syncLatencyBucketsSeconds.enumerated() where seconds <= bound {
                cumulativeCounts[i] += 1
            }
            sumSeconds += seconds
            count += 1
        }
    }

    /// The durations of WAL commits (write + fdatasync) so far.
    public var syncLatencyHistogram: LatencyHistogram {
        condition.lock()
        defer { condition.unlock() }
        return syncLatency
    }

    public init(wal: WriteAheadLog, onDurable: @escaping Completion) {
        self.wal = wal
        self.onDurable = onDurable
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "shoal-wal"
        self.thread = thread
        thread.start()
    }

    /// Syncs performed and batches completed so far (for metrics and the benchmark).
    public var statistics: (syncs: Int, batches: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (syncCount, batchCount)
    }

    /// Queues a batch. Thread-safe.
    public func submit(_ batch: Batch) {
        condition.lock()
        while queue.count >= Self.queuedBatchesMax && !stopping { condition.wait() }
        queue.append(batch)
        condition.signal()
        condition.unlock()
    }

    /// Asks the worker to drop WAL segments covered by a durable snapshot at `index` (the
    /// WAL belongs to the worker's thread, so compaction happens there, between groups).
    public func compact(through index: Raft.Index) {
        condition.lock()
        compactThrough = max(compactThrough ?? 0, index)
        condition.signal()
        condition.unlock()
    }

    /// Finishes what is queued and stops the thread.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while thread != nil { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && compactThrough == nil && !stopping { condition.wait() }
            let compaction = compactThrough
            compactThrough = nil
            if queue.isEmpty && compaction == nil && stopping {
                thread = nil
                condition.broadcast()  // wake `stop`
                condition.unlock()
                return
            }
            let group = queue
            queue = []
            condition.broadcast()  // wake submitters blocked on a full queue
            condition.unlock()
            if !group.isEmpty { commit(group) }
            if let compaction, stopped == nil {
                // A failure here loses nothing (old segments stay); the next compaction retries.
                _ = try? wal.compact(through: compaction)
            }
        }
    }

    /// Buffers one group's batches in the WAL, in order (one frame once committed). The
    /// simulator's writer shares this with the thread.
    public static func append(_ group: [Batch], to wal: WriteAheadLog) {
        for batch in group {
            if let snapshot = batch.installedSnapshot { wal.appendSnapshotInstalled(index: snapshot.index, term: snapshot.term) }
            wal.append(entries: batch.entries)
            if let state = batch.hardState { wal.append(hardState: state) }
        }
    }

    private func commit(_ group: [Batch]) {
        if let stopped {
            onDurable([], stopped)
            return
        }
        Self.append(group, to: wal)
        if group.contains(where: \.needsSync) {
            do {
                var start = timespec()
                clock_gettime(CLOCK_MONOTONIC, &start)
                try wal.commit()
                var end = timespec()
                clock_gettime(CLOCK_MONOTONIC, &end)
                let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
                condition.lock()
                syncCount += 1
                syncLatency.record(seconds: seconds)
                condition.unlock()
            } catch {
                stopped = error
                onDurable([], error)
                return
            }
        }
        condition.lock()
        batchCount += group.count
        condition.unlock()
        onDurable(group.map(\.token), nil)
    }
}
