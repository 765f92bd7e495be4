import RaftCore
import RaftStorage
import Server
import Transport

/// The world one run of a simulated member sees (`MemberHost`): the simulation's virtual
/// clock, its seeded randomness, background work and timers as events in its queue, a WAL
/// writer on the member's `FaultyFileSystem`, and the simulated network. Everything it calls
/// back runs as an event of this run; a crashed run's events are dropped.
final class SimMemberHost: MemberHost {
    unowned let world: MemberSimulation
    let memberID: UInt64
    /// Which start of the member this is (events of earlier runs are dropped).
    let run: UInt64

    init(world: MemberSimulation, memberID: UInt64, run: UInt64) {
        self.world = world
        self.memberID = memberID
        self.run = run
    }

    var monotonicNanoseconds: UInt64 { world.now * 1_000_000 }
    var unixSeconds: Int64 { MemberSimulation.epochSeconds + Int64(world.now / 1_000) }
    var unixMicroseconds: Int64 { MemberSimulation.epochSeconds * 1_000_000 + Int64(world.now) * 1_000 }

    func randomSeed() -> UInt64 { world.random.next() }

    func background<T: Sendable>(bulk: Bool, _ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void) {
        // Helper threads finish in a few milliseconds, bulk work (snapshots) sometimes later.
        let delay = 1 + world.random.below(bulk ? 30 : 5)
        world.schedule(memberID, run: run, after: delay) { then(work()) }
    }

    func after(milliseconds: UInt64, _ body: @escaping () -> Void) {
        world.schedule(memberID, run: run, after: max(1, milliseconds), body)
    }

    func startTicking(tickMilliseconds: Int, tick: @escaping () -> Void, endOfIteration: @escaping () -> Void) {
        precondition(UInt64(tickMilliseconds) == world.options.tickMilliseconds, "the simulation ticks every \(world.options.tickMilliseconds) ms")
        world.members[memberID]!.ticking = (tick, endOfIteration)
    }

    func makeWALWriter(wal: WriteAheadLog, onDurable: @escaping ([UInt64], StorageError?) -> Void) -> WALWriter {
        SimWALWriter(host: self, wal: wal, onDurable: onDurable)
    }

    func makePeerNetwork(localID: UInt64, listenHost: String, listenPort: UInt16, clusterSecret: [UInt8],
                         helloContext: [UInt8], handlers: PeerTransport.Handlers) throws -> PeerNetwork {
        precondition(localID == memberID, "a simulated member listens under its own id")
        let network = SimPeerNetwork(world: world, memberID: memberID, run: run, helloContext: helloContext, handlers: handlers)
        world.members[memberID]!.network = network
        return network
    }

    func stop() {
        world.memberExited(memberID, run: run)
    }
}

/// Group commit on the simulated disk: batches queue while a sync is in flight; each sync
/// writes the queued batches as one frame and makes them durable, after a disk delay that is
/// mostly short and sometimes long (an fsync under load).
final class SimWALWriter: WALWriter {
    unowned let host: SimMemberHost
    let wal: WriteAheadLog
    let onDurable: ([UInt64], StorageError?) -> Void
    private var queue: [GroupCommitWorker.Batch] = []
    private var syncing = false
    private var compactThrough: Raft.Index?
    private var failed = false
    private(set) var statistics: (syncs: Int, batches: Int) = (0, 0)
    var syncLatencyHistogram = GroupCommitWorker.LatencyHistogram()

    init(host: SimMemberHost, wal: WriteAheadLog, onDurable: @escaping ([UInt64], StorageError?) -> Void) {
        self.host = host
        self.wal = wal
        self.onDurable = onDurable
    }

    func submit(_ batch: GroupCommitWorker.Batch) {
        guard !failed else { return }
        queue.append(batch)
        if !syncing { scheduleCommit() }
    }

    func compact(through index: Raft.Index) {
        compactThrough = max(compactThrough ?? 0, index)
        if !syncing { scheduleCommit() }
    }

    func stop() { failed = true }

    private func scheduleCommit() {
        syncing = true
        let world = host.world
        let delay = world.random.chance(1, in: 20) ? 10 + world.random.below(60) : 1 + world.random.below(3)
        host.world.schedule(host.memberID, run: host.run, after: delay) { [weak self] in self?.commitQueued() }
    }

    private func commitQueued() {
        syncing = false
        guard !failed else { return }
        let group = queue
        queue = []
        if !group.isEmpty {
            GroupCommitWorker.append(group, to: wal)
            if group.contains(where: \.needsSync) {
                do {
                    try wal.commit()
                    statistics.syncs += 1
                } catch {
                    failed = true
                    onDurable([], error)
                    return
                }
            }
            statistics.batches += group.count
        }
        if let through = compactThrough {
            compactThrough = nil
            _ = try? wal.compact(through: through)
        }
        if !group.isEmpty { onDurable(group.map(\.token), nil) }
        if !queue.isEmpty && !syncing { scheduleCommit() }
    }
}

/// A member's peer connections in the simulation: payloads travel as events over links the
/// world brings up and down (crashes, cuts and their silence timeout, reconnects), in order
/// per link as over TCP, vanishing while a link is cut.
final class SimPeerNetwork: PeerNetwork {
    unowned let world: MemberSimulation
    let memberID: UInt64
    let run: UInt64
    let handlers: PeerTransport.Handlers
    var helloContext: [UInt8]
    private(set) var failedHandshakes: UInt64 = 0
    private(set) var refusedHandshakes: UInt64 = 0
    /// Peers this member was told about (`setPeer`).
    private(set) var known: Set<UInt64> = []
    /// When a message from each peer was last delivered here (virtual milliseconds).
    private var heardAt: [UInt64: UInt64] = [:]

    init(world: MemberSimulation, memberID: UInt64, run: UInt64, helloContext: [UInt8], handlers: PeerTransport.Handlers) {
        self.world = world
        self.memberID = memberID
        self.run = run
        self.helloContext = helloContext
        self.handlers = handlers
    }

    func send(to peer: UInt64, _ payload: [UInt8]) -> Bool {
        world.send(from: memberID, to: peer, payload)
    }

    func flushQueued() {}

    func setPeer(_ id: UInt64, host: String, port: UInt16) {
        guard id != memberID else { return }
        known.insert(id)
    }

    func removePeer(_ id: UInt64) {
        known.remove(id)
        world.dropLink(memberID, id)
    }

    func isConnected(_ id: UInt64) -> Bool { world.linkUp(memberID, id) }

    func remoteContext(of id: UInt64) -> [UInt8]? {
        guard world.linkUp(memberID, id) else { return nil }
        return world.members[id]?.network?.helloContext
    }

    var stats: [UInt64: PeerTransport.PeerStats] {
        var result: [UInt64: PeerTransport.PeerStats] = [:]
        for id in known {
            var stats = PeerTransport.PeerStats()
            stats.connected = world.linkUp(memberID, id)
            result[id] = stats
        }
        return result
    }

    func noteRefused() { refusedHandshakes += 1 }

    /// The world delivered a message from `peer` at virtual time `now`.
    func noteHeard(from peer: UInt64, now: UInt64) { heardAt[peer] = now }

    func silenceMilliseconds(of peer: UInt64) -> UInt64? {
        guard let heard = heardAt[peer] else { return nil }
        return world.now >= heard ? world.now - heard : 0
    }

    func close() {}
}
