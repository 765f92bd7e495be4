extension Raft {
    /// The leader's view of one follower's replication.
    struct Progress {
        enum State: String {
            /// Unsure where the follower's log matches: one AppendEntries at a time.
            case probe
            /// Matching known: stream AppendEntries optimistically, bounded by `inflights`.
            case replicate
            /// The follower needs entries we compacted: stream a snapshot in chunks.
            case snapshot
        }

        /// The highest index known to match the leader's log on the follower.
        var match: Index = 0
        /// The next index to send.
        var next: Index
        var state: State = .probe
        /// In probe state: an append is outstanding, wait for an answer or a heartbeat reply.
        var probeSent = false
        var inflights: Inflights
        /// The leader tick at which the follower last answered anything.
        var lastResponseTick: UInt64
        /// The leader tick at which `match` last moved (or replication last restarted).
        var lastProgressTick: UInt64
        /// The highest ReadIndex heartbeat round the follower acknowledged.
        var readRoundAcked: UInt64 = 0
        /// Snapshot transfer state (meaningful in `.snapshot`).
        var snapshotTransfer: SnapshotTransfer?

        struct SnapshotTransfer {
            var meta: SnapshotMeta
            /// Bytes sent (in order) so far.
            var sentBytes: Int = 0
            /// True once the chunk reaching the end has been sent (a rewind clears it).
            var lastChunkSent = false
            /// Bytes the follower has confirmed.
            var ackedBytes: Int = 0
            /// Ticks since the transfer last made progress.
            var idleTicks: Int = 0
            /// The position the leader last rewound to after a reported gap (one rewind each).
            var rewoundTo: Int = -1
        }

        init(next: Index, inflightAppendsMax: Int, inflightBytesMax: Int, nowTick: UInt64) {
            self.next = next
            self.inflights = Inflights(countMax: inflightAppendsMax, bytesMax: inflightBytesMax)
            self.lastResponseTick = nowTick
            self.lastProgressTick = nowTick
        }

        /// True when nothing more may be sent until the follower answers.
        var isPaused: Bool {
            switch state {
            case .probe: return probeSent
            case .replicate: return inflights.isFull
            case .snapshot: return true
            }
        }

        mutating func becomeProbe() {
            if state == .snapshot, let transfer = snapshotTransfer {
                next = max(match + 1, transfer.meta.index + 1)
            } else {
                next = match + 1
            }
            state = .probe
            probeSent = false
            inflights.reset()
            snapshotTransfer = nil
        }

        mutating func becomeReplicate() {
            state = .replicate
            next = match + 1
            probeSent = false
            inflights.reset()
            snapshotTransfer = nil
        }

        mutating func becomeSnapshot(_ meta: SnapshotMeta) {
            state = .snapshot
            probeSent = false
            inflights.reset()
            snapshotTransfer = SnapshotTransfer(meta: meta)
        }

        /// Records an acknowledged match; false if it told us nothing new.
        mutating func acknowledge(match newMatch: Index) -> Bool {
            var updated = false
            if newMatch > match {
                match = newMatch
                updated = true
                probeSent = false
                lastProgressTick = lastResponseTick
            }
            next = max(next, newMatch + 1)
            return updated
        }

        /// Moves `next` back after a rejection; false if the rejection is stale.
        mutating func backOff(rejected: Index, probeFrom hint: Index) -> Bool {
            switch state {
            case .replicate:
                // A rejection is stale unless it is about something above match.
                guard rejected > match else { return false }
                becomeProbe()
            case .probe:
                // Only the answer to the last probe counts.
                guard next - 1 == rejected else { return false }
            case .snapshot:
                return false  // the transfer decides where to resume
            }
            next = max(min(rejected, hint + 1), match + 1)
            probeSent = false
            return true
        }
    }

    /// AppendEntries messages in flight to one follower: their last indexes and byte sizes,
    /// in order, bounded by a count and a byte budget.
    struct Inflights {
        let countMax: Int
        let bytesMax: Int
        private var lastIndexes: [Index] = []
        private var sizes: [Int] = []
        private var head = 0
        private(set) var bytes = 0

        init(countMax: Int, bytesMax: Int) {
            self.countMax = countMax
            self.bytesMax = bytesMax
        }

        var count: Int { lastIndexes.count - head }
        var isFull: Bool { count >= countMax || bytes >= bytesMax }

        mutating func add(lastIndex: Index, bytes size: Int) {
            precondition(!isFull, "adding to full inflights")
            if let last = lastIndexes.last, count > 0 {
                precondition(lastIndex > last, "inflight appends out of order: \(lastIndex) after \(last)")
            }
            lastIndexes.append(lastIndex)
            sizes.append(size)
            bytes += size
        }

        /// Forgets every message whose entries are all at or below `index`.
        mutating func free(upTo index: Index) {
            while head < lastIndexes.count && lastIndexes[head] <= index {
                bytes -= sizes[head]
                head += 1
            }
            if head == lastIndexes.count {
                lastIndexes.removeAll(keepingCapacity: true)
                sizes.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64 && head * 2 >= lastIndexes.count {
                lastIndexes.removeFirst(head)
                sizes.removeFirst(head)
                head = 0
            }
        }

        /// Frees the oldest message's slot (it is presumed lost or late).
        mutating func freeFirst() {
            guard count > 0 else { return }
            free(upTo: lastIndexes[head])
        }

        mutating func reset() {
            lastIndexes.removeAll(keepingCapacity: true)
            sizes.removeAll(keepingCapacity: true)
            head = 0
            bytes = 0
        }
    }
}
