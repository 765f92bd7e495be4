// Snapshots: compaction after the host snapshots its state machine, and InstallSnapshot in
// bounded chunks with a bounded window in flight (Raft §7).

extension RaftNode {
    /// What a snapshot taken at `index` must record (term and membership there; `sizeBytes`
    /// is left 0 for the host to fill). Nil unless `snapshotIndex <= index <= applied`.
    public func snapshotMeta(at index: Index) -> Raft.SnapshotMeta? {
        guard index >= log.snapshotIndex, index <= log.applied, let term = log.term(at: index) else { return nil }
        return Raft.SnapshotMeta(index: index, term: term, membership: membership(at: index), sizeBytes: 0)
    }

    /// Tells the core that the host saved a snapshot of its state machine as of `index`
    /// (at most the last applied index), `sizeBytes` long. The log up to `index` is dropped;
    /// followers that need older entries will be sent this snapshot. Returns its metadata,
    /// which the host stores beside the data.
    @discardableResult
    public mutating func compact(to index: Index, snapshotSizeBytes: Int) -> Raft.SnapshotMeta {
        compactHandingBack(to: index, snapshotSizeBytes: snapshotSizeBytes).meta
    }

    /// `compact`, also handing back an array that holds the last references to the dropped
    /// entries: freeing 100k entries took the event loop a measured 40 ms, so a host may
    /// drop the array on another thread.
    public mutating func compactHandingBack(to index: Index, snapshotSizeBytes: Int) -> (meta: Raft.SnapshotMeta, dropped: [Raft.Entry]) {
        precondition(index <= log.applied, "snapshot at \(index) beyond applied \(log.applied)")
        precondition(index >= log.snapshotIndex, "snapshot at \(index) older than \(log.snapshotIndex)")
        precondition(snapshotSizeBytes >= 0)
        let meta = Raft.SnapshotMeta(index: index, term: log.term(at: index)!, membership: membership(at: index),
                                     sizeBytes: snapshotSizeBytes)
        let dropped = log.compact(to: index)
        membershipHistory.removeAll { $0.index <= index }
        snapshotMeta = meta
        // Transfers under way keep their snapshot (the host keeps the previous one too); a
        // transfer whose chunks can no longer be filled stalls and restarts with this one.
        return (meta, dropped)
    }

    mutating func startSnapshotTransfer(to peer: NodeID) {
        guard var pr = progress[peer] else { return }
        pr.becomeSnapshot(snapshotMeta)
        progress[peer] = pr
        sendSnapshotChunks(to: peer)
    }

    /// Sends chunks until the window (`snapshotChunksInflightMax` chunks) is full.
    mutating func sendSnapshotChunks(to peer: NodeID) {
        guard var pr = progress[peer], pr.state == .snapshot, var transfer = pr.snapshotTransfer else { return }
        let chunkBytes = config.snapshotChunkBytesMax
        let windowBytes = chunkBytes * config.snapshotChunksInflightMax
        let size = transfer.meta.sizeBytes
        while !transfer.lastChunkSent && transfer.sentBytes - transfer.ackedBytes < windowBytes {
            let length = min(chunkBytes, size - transfer.sentBytes)
            send(to: peer, .snapshotChunk(.init(meta: transfer.meta, offset: transfer.sentBytes, length: length)))
            transfer.sentBytes += length
            if transfer.sentBytes >= size { transfer.lastChunkSent = true }
        }
        pr.snapshotTransfer = transfer
        progress[peer] = pr
    }

    /// Resends unacknowledged chunks of a transfer that made no progress for an election timeout.
    mutating func tickSnapshotTransfers() {
        for peer in peers {
            guard let pr = progress[peer], pr.state == .snapshot else { continue }
            guard var transfer = pr.snapshotTransfer else { continue }
            transfer.idleTicks += 1
            var updated = pr
            if transfer.idleTicks >= config.electionTimeoutTicks {
                if transfer.meta != snapshotMeta {
                    startSnapshotTransfer(to: peer)  // a newer snapshot exists: send that one
                    continue
                }
                transfer.idleTicks = 0
                transfer.sentBytes = transfer.ackedBytes
                transfer.lastChunkSent = false
                updated.snapshotTransfer = transfer
                progress[peer] = updated
                sendSnapshotChunks(to: peer)
            } else {
                updated.snapshotTransfer = transfer
                progress[peer] = updated
            }
        }
    }

    mutating func handleSnapshotResponse(from peer: NodeID, _ response: Raft.Message.SnapshotResponse) {
        guard var pr = progress[peer] else { return }
        pr.lastResponseTick = ticks
        if let match = response.matchIndex {
            guard match <= log.lastIndex else { progress[peer] = pr; return }
            _ = pr.acknowledge(match: match)
            // An answer about an older snapshot does not end a newer transfer it falls short of.
            if pr.state == .snapshot, let transfer = pr.snapshotTransfer, pr.match >= transfer.meta.index {
                pr.becomeProbe()
            }
            progress[peer] = pr
            if maybeCommit() {
                guard role == .leader else { return }
                broadcastPending = true
            }
            if pr.state != .snapshot { sendAppend(to: peer, allowEmpty: true) }
            return
        }
        guard pr.state == .snapshot, var transfer = pr.snapshotTransfer,
              transfer.meta.index == response.snapshotIndex,
              response.receivedBytes <= transfer.meta.sizeBytes else {
            progress[peer] = pr
            return
        }
        if response.receivedBytes > transfer.ackedBytes {
            transfer.ackedBytes = response.receivedBytes
            transfer.sentBytes = max(transfer.sentBytes, transfer.ackedBytes)
            transfer.idleTicks = 0
        } else if response.receivedBytes < transfer.ackedBytes {
            // The follower lost what it had assembled (it restarted): start over from its position.
            transfer.ackedBytes = response.receivedBytes
            transfer.sentBytes = response.receivedBytes
            transfer.rewoundTo = response.receivedBytes  // answers to older chunks must not rewind again
            transfer.lastChunkSent = false
        } else if transfer.sentBytes > transfer.ackedBytes && transfer.rewoundTo != transfer.ackedBytes {
            // The same position again while more was sent: a chunk was lost. Resend from
            // there once, rather than waiting for the idle timeout.
            transfer.rewoundTo = transfer.ackedBytes
            transfer.sentBytes = transfer.ackedBytes
            transfer.lastChunkSent = false
        }
        pr.snapshotTransfer = transfer
        progress[peer] = pr
        sendSnapshotChunks(to: peer)
    }

    mutating func handleSnapshotChunk(from leaderID: NodeID, _ chunk: Raft.Message.SnapshotChunk) {
        let meta = chunk.meta
        func answer(received: Int, match: Index?) {
            send(to: leaderID, .snapshotResponse(.init(snapshotIndex: meta.index, receivedBytes: received, matchIndex: match)))
        }
        // `step` dropped chunks whose offsets, lengths or data do not fit their snapshot.
        if meta.index <= log.committed {
            // We already have everything it covers.
            incomingSnapshot = nil
            answer(received: meta.sizeBytes, match: log.committed)
            return
        }
        guard meta.sizeBytes <= config.snapshotBytesMax else { return }  // refuse oversized transfers
        if incomingSnapshot?.meta != meta || incomingSnapshot?.from != leaderID {
            guard chunk.offset == 0 else { answer(received: 0, match: nil); return }
            incomingSnapshot = IncomingSnapshot(meta: meta, from: leaderID)
        }
        var incoming = incomingSnapshot!
        guard chunk.offset == incoming.bytes.count else {
            answer(received: incoming.bytes.count, match: nil)  // a gap or a duplicate
            return
        }
        incoming.bytes.append(contentsOf: chunk.data)
        guard chunk.isLast else {
            incomingSnapshot = incoming
            answer(received: incoming.bytes.count, match: nil)
            return
        }
        incomingSnapshot = nil
        install(Raft.Snapshot(meta: meta, data: incoming.bytes))
        answer(received: meta.sizeBytes, match: meta.index)
    }

    /// Replaces the log with a snapshot from the leader (or fast-forwards if the log has it).
    mutating func install(_ snapshot: Raft.Snapshot) {
        let meta = snapshot.meta
        if log.matchTerm(meta.index, meta.term) {
            log.commit(to: meta.index)  // the log already holds it: keep the log, skip the copy
            return
        }
        log.restore(index: meta.index, term: meta.term)
        snapshotMeta = meta
        membershipHistory = []
        membership = meta.membership
        snapshotToInstall = snapshot
    }
}
