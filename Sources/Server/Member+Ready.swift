import API
import RaftCore
import RaftStorage
import Store
import Transport

// The Ready loop: every input (a tick, a peer message, a proposal, a WAL completion) is
// followed by `pump`, which carries out the core's Ready batches in the order docs/raft.md
// prescribes.

extension Member {
    func tick() {
        ticks += 1
        noteTickGap()
        if node != nil {
            node!.tick()
            pump()
            runLeaderDuties()
            runControllers()
            runNodeAgent()
            runPods()
            checkPeerReachability()
            runServiceProxy()
            runClusterDNS()
            forgetRemovedPeers()
        }
        expireWaiters()
        continueLeaving()
    }

    /// Ticks further apart than this (in multiples of the tick) mean the loop was blocked or
    /// starved of CPU: heartbeats were late, and followers may have started an election.
    static let stalledTickMultiple: UInt64 = 5

    /// Logs and counts loop stalls (the gap between two ticks far over the tick interval).
    func noteTickGap() {
        let now = host.monotonicNanoseconds
        defer { lastTickNanoseconds = now }
        guard lastTickNanoseconds > 0 else { return }
        let gapMilliseconds = (now - lastTickNanoseconds) / 1_000_000
        let tickMilliseconds = UInt64(options.tickMilliseconds)
        guard gapMilliseconds >= tickMilliseconds * Self.stalledTickMultiple else { return }
        metrics.loopStalls += 1
        metrics.loopStallMillisecondsMax = max(metrics.loopStallMillisecondsMax, gapMilliseconds)
        Log.warn("the event loop was blocked or starved for \(gapMilliseconds) ms (ticks every \(tickMilliseconds) ms)")
    }

    func received(from peer: UInt64, _ payload: [UInt8]) {
        guard node != nil else { return }
        if ForwardMessage.isForwardMessage(payload) { return receivedForwardMessage(from: peer, payload) }
        let message: Raft.Message
        do {
            message = try MessageCodec.decode(payload)
        } catch {
            metrics.malformedMessages += 1
            Log.warn("dropped a malformed message from \(hex16(peer)): \(error)")
            return
        }
        guard message.from == peer else {
            metrics.malformedMessages += 1
            return  // a peer may only speak for itself
        }
        node!.step(message)
        schedulePump()
    }

    func peerDown(_ peer: UInt64) {
        guard node != nil else { return }
        failForwards(to: peer, because: "was handed to \(name(of: peer)), and the connection to it closed before it answered")
        node!.reportUnreachable(peer)
        pump()
    }

    /// Pumps once at the end of this loop iteration: every message, proposal and WAL
    /// completion handled in one iteration then shares one Ready (one WAL submission, one
    /// append per follower), instead of one each. Used on the hot paths; the rare ones
    /// (ticks, membership, start) pump at once.
    func schedulePump() {
        pumpScheduled = true
    }

    /// The end-of-iteration check: the scheduled pump, then the messages it queued go out
    /// now (the transport's own flush may already have run in this iteration).
    func runScheduledPump() {
        guard pumpScheduled else { return }
        pumpScheduled = false
        pump()
        transport?.flushQueued()
    }

    /// Carries out every pending Ready batch.
    /// Committed entries one Ready hands over at most, in bytes, and entries one pump applies
    /// before it lets the loop run (timers, heartbeats, sockets) and goes on in the next
    /// iteration. Applying a backlog of thousands of entries at once (a pod entry costs 20-50
    /// µs with its watch and cache work) stalled the loop past the election timeout.
    static let applyBytesPerReadyMax = 256 << 10
    static let appliedEntriesPerPumpMax = 512

    func pump() {
        guard node != nil, exitCode == nil else { return }
        var appliedHere = 0
        while node!.hasReady {
            if appliedHere >= Self.appliedEntriesPerPumpMax {
                schedulePump()
                break
            }
            let ready = node!.ready()
            var installed: (index: Raft.Index, term: Raft.Term)?
            if let snapshot = ready.snapshot {
                guard installSnapshot(snapshot) else { return }
                installed = (snapshot.meta.index, snapshot.meta.term)
            }
            // 1–3: persistence goes to the WAL thread; one sync covers whatever is queued.
            let needsSync = !ready.entries.isEmpty || ready.hardStateNeedsSync || installed != nil
            worker.submit(.init(token: ready.ack.sequence, installedSnapshot: installed, entries: ready.entries,
                                hardState: ready.hardState, needsSync: needsSync))
            awaitingDurability.append((ready.ack, ready.messagesAfterPersist))
            // 5: the leader's appends leave at once, in parallel with its own write.
            send(ready.messagesNow)
            // 4: committed entries are applied now; they are durable on a quorum already.
            // Their watch events go out together: one write per watch per batch, not one per
            // entry (a watch's cost is mostly its writes).
            for entry in ready.committedEntries { apply(entry) }
            appliedHere += ready.committedEntries.count
            flushWatchEvents()
            // 7: reads whose leadership round completed.
            for state in ready.readStates { readConfirmed(state) }
            observeRoleChanges()
        }
        maybeSnapshot()
    }

    /// The WAL thread made these batches durable (in order): acknowledge them to the core
    /// and release the messages that waited for durability.
    func walCompleted(tokens: [UInt64], error: StorageError?) {
        if let error {
            Log.error("storage failed, stopping this member: \(error)")
            for (_, done) in controlCompletions.sorted(by: { $0.key < $1.key }) { done(error) }
            controlCompletions = [:]
            shutDown(exitCode: 3)
            return
        }
        for token in tokens where token & Self.controlTokenBit != 0 { controlCompletions.removeValue(forKey: token)?(nil) }
        guard node != nil else { return }
        for token in tokens where token & Self.controlTokenBit == 0 {
            guard let first = awaitingDurability.first else { break }
            precondition(first.ack.sequence == token, "WAL completed \(token) but \(first.ack.sequence) was next")
            awaitingDurability.removeFirst()
            node!.advance(first.ack)
            send(first.messages)
        }
        metrics.walSyncs = worker.statistics.syncs
        schedulePump()
    }

    func send(_ messages: [Raft.Message]) {
        guard let transport else { return }
        for var message in messages {
            if case .snapshotChunk(let chunk) = message.kind, chunk.data.isEmpty, chunk.length > 0 {
                guard let filled = try? storage.fill(chunk) else { continue }  // gone: the transfer restarts
                message.kind = .snapshotChunk(filled)
            }
            if !transport.send(to: message.to, MessageCodec.encode(message)) { metrics.messagesDropped += 1 }
        }
    }

    /// Applies one committed entry to the store and answers whoever waits for it.
    func apply(_ entry: Raft.Entry) {
        var result: StoreResult?
        switch entry.payload {
        case .command(let bytes):
            let applied = store.apply(index: entry.index, bytes)
            result = applied.result
            pendingWatchEvents += applied.events
            if let version = store.unsupportedClusterVersion, exitCode == nil {
                Log.error("the cluster moved to version \(version); this member runs versions up to \(store.clusterVersionMax): upgrade shoal on this host (or lift --cluster-version-max) and start it again")
                shutDown(exitCode: 78)
            }
        case .noop:
            store.advance(to: entry.index)
        case let .membership(change, membership):
            store.advance(to: entry.index)
            membershipApplied(change, membership, index: entry.index)
        }
        metrics.appliedEntries += 1
        onApplied?(entry, result)
        if let waiter = membershipWaiters.removeValue(forKey: entry.index) {
            if waiter.term == entry.term, case .membership = entry.payload {
                waiter.completion(.success(members()))
            } else {
                waiter.completion(.failure(ServiceError.unavailable("leadership changed before the membership change committed; retry")))
            }
        }
        for proposal in proposals.removeValue(forKey: entry.index) ?? [] {
            if proposal.term == entry.term, let result {
                proposal.completion(.success(result))
            } else {
                proposal.completion(.failure(Self.writeNotApplied))
            }
        }
        releaseReads()
    }

    /// Hands the events of the entries applied since the last flush to the watches.
    func flushWatchEvents() {
        guard !pendingWatchEvents.isEmpty else { return }
        let events = pendingWatchEvents
        pendingWatchEvents = []
        controllersObserve(events)
        podsObserve(events)
        servicesObserve(events)
        dnsObserve(events)
        notifySubscribers(events)
    }

    func notifySubscribers(_ events: [WatchEvent]) {
        for (id, deliver) in subscribers.sorted(by: { $0.key < $1.key }) where !deliver(events) { subscribers[id] = nil }
    }

    // MARK: Snapshots received from the leader

    func installSnapshot(_ snapshot: Raft.Snapshot) -> Bool {
        do {
            let file = try storage.installSnapshotFile(snapshot)
            try restoreStore(from: file)
            learnAddressesFromStore()
            for (_, deliver) in subscribers.sorted(by: { $0.key < $1.key }) { _ = deliver([]) }  // a gap: watchers must re-list
            subscribers = [:]
            Log.info("installed a snapshot from the leader at index \(snapshot.meta.index) (\(file.sizeBytes) bytes)")
            return true
        } catch {
            Log.error("cannot install the snapshot from the leader, stopping: \(error)")
            shutDown(exitCode: 3)
            return false
        }
    }

    func restoreStore(from file: SnapshotFile) throws(ServerError) {
        var restorer = Store.Restorer()
        do {
            _ = try storage.snapshots.decompress(file.path) { (piece: [UInt8]) throws(StorageError) in
                do { try restorer.feed(piece) } catch { throw StorageError.corrupt(path: file.path, offset: 0, reason: "\(error)") }
            }
            store = try restorer.finish()
            store.clusterVersionMax = options.clusterVersionMax
            rebuildBoundPods()
        } catch {
            throw .storage("cannot restore the store from \(file.path): \(error)")
        }
        guard store.revision == file.metadata.index else {
            throw .storage("snapshot \(file.path) holds revision \(store.revision), expected \(file.metadata.index)")
        }
    }

    // MARK: Reads

    func readConfirmed(_ state: Raft.ReadState) {
        guard let waiter = readWaiters.removeValue(forKey: state.requestID) else { return }
        guard let index = state.index else {
            waiter.completion(.failure(ServiceError.unavailable("leadership could not be confirmed; retry")))
            return
        }
        readsAwaitingApply.append((index, waiter.completion))
        releaseReads()
    }

    func releaseReads() {
        guard !readsAwaitingApply.isEmpty else { return }
        let revision = store.revision
        var waiting: [(index: Raft.Index, completion: (Result<Void, ServiceError>) -> Void)] = []
        for read in readsAwaitingApply {
            if read.index <= revision { read.completion(.success(())) } else { waiting.append(read) }
        }
        readsAwaitingApply = waiting
    }

    /// Another entry took the index a write was appended at: it was not, and will not be, applied.
    static let writeNotApplied = ServiceError.unavailable("leadership changed before the write committed; it was not applied, retry")

    /// Fails proposals and reads that waited too long (the client gets a 504 and may retry).
    func expireWaiters() {
        let now = nowMilliseconds
        expireForwards(now: now)
        for (index, waiting) in proposals.filter({ $0.value.contains { $0.deadline <= now } }).sorted(by: { $0.key < $1.key }) {
            let expired = waiting.filter { $0.deadline <= now }
            let kept = waiting.filter { $0.deadline > now }
            proposals[index] = kept.isEmpty ? nil : kept
            for proposal in expired {
                proposal.completion(.failure(ServiceError.timeout("the write was not committed in time; it may still be applied")))
            }
        }
        for (index, waiter) in membershipWaiters.filter({ $0.value.deadline <= now }).sorted(by: { $0.key < $1.key }) {
            membershipWaiters[index] = nil
            waiter.completion(.failure(ServiceError.timeout("the membership change was not committed in time")))
        }
        for (id, waiter) in readWaiters.filter({ $0.value.deadline <= now }).sorted(by: { $0.key < $1.key }) {
            readWaiters[id] = nil
            waiter.completion(.failure(ServiceError.timeout("could not confirm a linearizable read in time")))
        }
    }

    func observeRoleChanges() {
        guard let node else { return }
        if node.role != lastObservedRole || node.term != lastObservedTerm {
            if node.role == .leader && (lastObservedRole != .leader || node.term != lastObservedTerm) {
                metrics.leaderElectionsWon += 1
                Log.info("\(identity.name) leads term \(node.term)")
            }
            if node.term != lastObservedTerm { metrics.termChanges += 1 }
            lastObservedRole = node.role
            lastObservedTerm = node.term
        }
        if node.leader != lastObservedLeader {
            shortenForwardDeadlines(awayFrom: lastObservedLeader)
            lastObservedLeader = node.leader
        }
    }
}
