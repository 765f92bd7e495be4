extension Raft {
    /// The member's log in memory: a snapshot point followed by contiguous entries, plus the
    /// positions that tell which entries are committed, applied, handed out for persistence
    /// and known durable. The host's storage holds the durable copy; this one drives the
    /// algorithm and is compacted when the host takes a snapshot.
    struct Log {
        /// The last index covered by the snapshot (0 before any).
        private(set) var snapshotIndex: Index
        /// The term of the entry at `snapshotIndex`.
        private(set) var snapshotTerm: Term
        /// Entries after the snapshot: `entries[i].index == snapshotIndex + 1 + i`.
        private(set) var entries: [Entry]
        /// The highest index known committed.
        private(set) var committed: Index
        /// The highest index handed to the host for applying.
        var applied: Index
        /// The highest index handed to the host for persisting.
        var handedForPersistence: Index
        /// The highest index known durable on this member's storage.
        var stable: Index

        init(snapshotIndex: Index, snapshotTerm: Term, entries: [Entry], committed: Index) {
            self.snapshotIndex = snapshotIndex
            self.snapshotTerm = snapshotTerm
            self.entries = entries
            for (offset, entry) in entries.enumerated() {
                precondition(entry.index == snapshotIndex + 1 + UInt64(offset),
                             "restored log is not contiguous at \(entry.index)")
            }
            let last = snapshotIndex + UInt64(entries.count)
            self.committed = min(max(committed, snapshotIndex), last)
            self.applied = snapshotIndex
            self.handedForPersistence = last
            self.stable = last
        }

        var lastIndex: Index { snapshotIndex + UInt64(entries.count) }
        var lastTerm: Term { entries.last?.term ?? snapshotTerm }
        var firstIndex: Index { snapshotIndex + 1 }

        /// The term at `index`, or nil when the index is compacted away or beyond the log.
        func term(at index: Index) -> Term? {
            if index == snapshotIndex { return snapshotTerm }
            guard index > snapshotIndex && index <= lastIndex else { return nil }
            return entries[Int(index - snapshotIndex - 1)].term
        }

        func entry(at index: Index) -> Entry? {
            guard index > snapshotIndex && index <= lastIndex else { return nil }
            return entries[Int(index - snapshotIndex - 1)]
        }

        func matchTerm(_ index: Index, _ term: Term) -> Bool { self.term(at: index) == term }

        /// Raft's "at least as up-to-date" comparison of a candidate's last entry with ours (§5.4.1).
        func isUpToDate(lastIndex candidateIndex: Index, lastTerm candidateTerm: Term) -> Bool {
            candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
        }

        /// Entries from `low` through `high`, stopping once `maxBytes` is exceeded (but always
        /// at least one entry). `low` must not be compacted.
        func entries(from low: Index, through high: Index, maxBytes: Int) -> [Entry] {
            precondition(low > snapshotIndex, "entries(from: \(low)) is compacted (snapshot \(snapshotIndex))")
            guard low <= high, low <= lastIndex else { return [] }
            let start = Int(low - snapshotIndex - 1)
            let end = Int(min(high, lastIndex) - snapshotIndex)  // exclusive
            var bytes = 0
            var stop = start
            while stop < end {
                bytes += entries[stop].sizeBytes
                if bytes > maxBytes && stop > start { break }
                stop += 1
            }
            return Array(entries[start..<stop])
        }

        /// Appends entries that continue the log directly.
        mutating func append(_ newEntries: [Entry]) {
            guard let first = newEntries.first else { return }
            precondition(first.index == lastIndex + 1, "append at \(first.index) after last \(lastIndex)")
            entries.append(contentsOf: newEntries)
        }

        /// The first entry of `incoming` that is not already in the log with the same term.
        func firstConflict(in incoming: [Entry]) -> Int? {
            for (offset, entry) in incoming.enumerated() where !matchTerm(entry.index, entry.term) {
                if entry.index <= snapshotIndex { continue }  // compacted entries are committed: they match
                return offset
            }
            return nil
        }

        /// Replaces everything from `newEntries.first.index` on with `newEntries`.
        /// Committed entries are never replaced (that would break state-machine safety).
        mutating func truncateAndAppend(_ newEntries: [Entry]) {
            guard let first = newEntries.first else { return }
            precondition(first.index > committed,
                         "truncating committed entry \(first.index) (commit \(committed))")
            precondition(first.index > snapshotIndex && first.index <= lastIndex + 1,
                         "truncation point \(first.index) outside \(snapshotIndex)...\(lastIndex + 1)")
            entries.removeSubrange(Int(first.index - snapshotIndex - 1)...)
            entries.append(contentsOf: newEntries)
            handedForPersistence = min(handedForPersistence, first.index - 1)
            stable = min(stable, first.index - 1)
        }

        /// The largest index ≤ `index` whose term is ≤ `term` (used for the conflict hint).
        func lastIndex(atOrBelow index: Index, withTermAtMost term: Term) -> Index {
            var i = min(index, lastIndex)
            while i > snapshotIndex, let t = self.term(at: i), t > term { i -= 1 }
            return i
        }

        /// Raises the commit index (never lowers it).
        mutating func commit(to index: Index) {
            precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
            if index > committed { committed = index }
        }

        /// Committed entries not yet handed out for applying, at most `maxBytes` (at least one).
        func nextCommitted(maxBytes: Int) -> [Entry] {
            let low = max(applied + 1, firstIndex)
            guard low <= committed else { return [] }
            return entries(from: low, through: committed, maxBytes: maxBytes)
        }

        var hasNextCommitted: Bool { committed > max(applied, snapshotIndex) }

        /// Entries not yet handed to the host for persisting.
        var unpersisted: [Entry] {
            guard handedForPersistence < lastIndex else { return [] }
            let low = max(handedForPersistence + 1, firstIndex)
            return Array(entries[Int(low - snapshotIndex - 1)...])
        }

        /// Drops entries up to `index` after the host took a snapshot there.
        /// Drops the entries through `index`. Returns the array that held them (the kept
        /// entries are copied out of it): whoever drops the returned array frees the dropped
        /// entries, so a host can do that off its event loop.
        @discardableResult
        mutating func compact(to index: Index) -> [Entry] {
            guard index > snapshotIndex else { return [] }
            precondition(index <= applied, "compacting to \(index) beyond applied \(applied)")
            let term = term(at: index)!
            let old = entries
            entries = Array(old[Int(index - snapshotIndex)...])
            snapshotIndex = index
            snapshotTerm = term
            return old
        }

        /// Replaces the whole log by a snapshot received from the leader.
        mutating func restore(index: Index, term: Term) {
            entries.removeAll()
            snapshotIndex = index
            snapshotTerm = term
            committed = index
            applied = index
            handedForPersistence = index
            // `stable` moves when the host acknowledges the snapshot as durable.
            stable = min(stable, index)
        }
    }
}
