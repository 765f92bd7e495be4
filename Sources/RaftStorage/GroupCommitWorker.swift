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
    private var stopping = false
    private var stopped: StorageError?
    private var thread: Thread?
    // Counted on the worker thread; read through `statistics`.
    private var syncCount = 0
    private var batchCount = 0

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
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                thread = nil
                condition.broadcast()  // wake `stop`
                condition.unlock()
                return
            }
            let group = queue
            queue = []
            condition.broadcast()  // wake submitters blocked on a full queue
            condition.unlock()
            commit(group)
        }
    }

    private func commit(_ group: [Batch]) {
        if let stopped {
            onDurable([], stopped)
            return
        }
        for batch in group {
            if let snapshot = batch.installedSnapshot { wal.appendSnapshotInstalled(index: snapshot.index, term: snapshot.term) }
            wal.append(entries: batch.entries)
            if let state = batch.hardState { wal.append(hardState: state) }
        }
        if group.contains(where: \.needsSync) {
            do {
                try wal.commit()
                condition.lock()
                syncCount += 1
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
