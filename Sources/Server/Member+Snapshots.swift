import RaftCore
import RaftStorage
import Store

// Snapshots this member takes of its store: serialized and compressed on a helper thread
// from a copy of the store (a value: the copy is free until the loop writes again), then
// the log is compacted on the loop and the WAL on its own thread.

extension Member {
    func maybeSnapshot() {
        guard let node, !snapshotInProgress, exitCode == nil else { return }
        let index = store.revision
        // At least `snapshotEveryEntries` entries, and at least as many entries as the store
        // holds objects: a snapshot costs time in proportion to the state, so spacing them by
        // its size keeps the cost per write constant as the state grows (a store of 500k
        // objects written 8k times a second would otherwise be serialized every 12 s).
        let spacing = UInt64(max(options.snapshotEveryEntries, store.count))
        guard index >= node.status.snapshotIndex + spacing, let meta = node.snapshotMeta(at: index) else { return }
        snapshotInProgress = true
        let copy = store
        let snapshots = storage.snapshots
        host.background(bulk: true, { () -> Result<SnapshotFile, StorageError> in
            var writer = copy.snapshotWriter()
            do throws(StorageError) {
                return .success(try snapshots.save(meta: meta) { writer.next() })
            } catch {
                return .failure(error)
            }
        }, then: { [weak self] result in
            guard let self else { return }
            self.snapshotInProgress = false
            switch result {
            case .success(let file):
                guard self.node != nil else { return }
                // While this one was written, the leader may have sent a newer snapshot and
                // this member installed it: the log is already compacted past this one, which
                // is then of no use (its file stays until retention removes it).
                let installed = self.node!.status.snapshotIndex
                guard meta.index > installed else {
                    Log.info("dropped the snapshot at index \(meta.index): the one at \(installed) was installed while it was written")
                    return
                }
                self.storage.noteSnapshot(file)
                // The dropped entries are freed on a background thread (tens of ms for 100k
                // entries), not on the loop.
                let dropped = DroppedValue(self.node!.compactHandingBack(to: meta.index, snapshotSizeBytes: file.sizeBytes).dropped)
                self.host.background(bulk: true, { dropped.free() }, then: { _ in })
                self.worker.compact(through: meta.index)
                self.metrics.snapshots += 1
                Log.info("snapshot at index \(meta.index): \(file.sizeBytes) bytes")
            case .failure(let error):
                Log.warn("snapshot at index \(meta.index) failed (will retry): \(error)")
            }
        })
    }
}
