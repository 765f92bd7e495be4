import RaftCore
import RaftStorage

/// A seeded, deterministic simulation of a whole cluster in one process: virtual time, a
/// network that drops, duplicates, delays and reorders, partitions, crashes that lose
/// unsynced writes, membership changes, transfers and reads — with every safety property
/// checked after every step, and liveness checked after the faults heal.
public struct Simulation {
    public let seed: UInt64
    public let options: SimulationOptions
    var random: Raft.Random
    var checker = Checker()
    var hosts: [Raft.NodeID: SimHost] = [:]
    /// Each member ticks at `tickOffset` units into every tick (skewed clocks).
    var tickOffset: [Raft.NodeID: UInt64] = [:]
    var events = EventQueue<Event>()
    var now: UInt64 = 0
    var network = NetworkFaults()
    var syncing: Set<Raft.NodeID> = []
    /// The term each member last led, to count elections.
    var ledTerm: [Raft.NodeID: Raft.Term] = [:]
    var nextNodeID: Raft.NodeID
    var nextCommand: UInt64 = 0
    var nextReadID: UInt64 = 0
    var trace: [String] = []
    var report: SimulationReport

    enum Event {
        case deliver(Raft.Message)
        case syncDone(Raft.NodeID, incarnation: UInt64)
        case restart(Raft.NodeID)
        /// A crash aimed at a moment (a leader right after its election).
        case crash(Raft.NodeID, incarnation: UInt64)
    }

    struct NetworkFaults {
        var cut: Set<ManualCluster.Link> = []
        var dropPercent: UInt64 = 0
        var duplicatePercent: UInt64 = 0
    }

    public init(seed: UInt64, options: SimulationOptions = SimulationOptions()) {
        self.seed = seed
        self.options = options
        random = Raft.Random(seed: seed)
        nextNodeID = Raft.NodeID(options.voters) + 1
        report = SimulationReport(seed: seed, violations: [], traceTail: [], ticks: 0, committedEntries: 0,
                                  leadersElected: 0, crashes: 0, partitions: 0, membershipChanges: 0,
                                  transfers: 0, readsServed: 0, messagesDelivered: 0)
        let voters = (1...Raft.NodeID(options.voters)).map { $0 }
        for id in voters { addHost(id, state: .bootstrap(voters: voters)) }
    }

    mutating func addHost(_ id: Raft.NodeID, state: Raft.PersistentState) {
        var config = Raft.Config(id: id, randomSeed: random.next())
        config.electionTimeoutTicks = options.electionTimeoutTicks
        config.heartbeatIntervalTicks = options.heartbeatIntervalTicks
        config.snapshotChunkBytesMax = options.snapshotChunkBytes
        config.snapshotChunksInflightMax = 3
        config.appendBytesMax = options.appendBytesMax
        config.inflightAppendsMax = 8
        config.faultyRule = options.faultyRule
        var disk = FaultyFileSystem.Options()
        disk.syncFailuresPerMillion = options.syncFailuresPerMillion
        hosts[id] = SimHost(config: config, initial: state, snapshotEveryEntries: options.snapshotEveryEntries,
                            diskOptions: disk)
        tickOffset[id] = random.below(options.unitsPerTick)
    }

    /// Runs the faults, heals, checks liveness, and reports.
    public mutating func run() -> SimulationReport {
        let faultEnd = UInt64(options.faultTicks) * options.unitsPerTick
        while now < faultEnd && checker.violations.isEmpty {
            if now % options.unitsPerTick == 0 { Nemesis.act(on: &self) }
            step()
        }
        if checker.violations.isEmpty { healEverything() }
        if checker.violations.isEmpty { checkLiveness() }
        report.violations = checker.violations
        report.traceTail = trace
        report.ticks = Int(now / options.unitsPerTick)
        report.committedEntries = checker.committedIndex
        return report
    }

    /// Advances virtual time by one unit: due events, then member ticks.
    mutating func step() {
        while let event = events.pop(dueBy: now) {
            handle(event)
            if !checker.violations.isEmpty { return }
        }
        for id in hosts.keys.sorted() where now % options.unitsPerTick == tickOffset[id]! {
            guard hosts[id]!.isUp else { continue }
            hosts[id]!.withNode { $0.tick() }
            process(id)
        }
        now += 1
    }

    mutating func handle(_ event: Event) {
        switch event {
        case .deliver(let m):
            guard hosts[m.to]?.isUp == true, !network.cut.contains(.init(m.from, m.to)) else { return }
            note("deliver \(TraceFormat.message(m))")
            report.messagesDelivered += 1
            hosts[m.to]!.withNode { $0.step(m) }
            process(m.to)
        case let .syncDone(id, incarnation):
            syncing.remove(id)
            guard hosts[id]?.isUp == true, hosts[id]!.incarnation == incarnation else { return }
            switch hosts[id]!.completeSync(checker: &checker) {
            case .success(let released):
                for m in released { send(m) }
                process(id)
            case .failure(let error):
                storageFailed(id, error)
            }
        case .restart(let id):
            guard hosts[id]?.isUp == false else { return }
            note("restart \(id)")
            if let error = hosts[id]!.restart(checker: &checker) {
                note("\(id) failed to start: \(error)")
                Nemesis.scheduleRestart(id, &self)
                return
            }
            process(id)
        case let .crash(id, incarnation):
            guard hosts[id]?.isUp == true, hosts[id]!.incarnation == incarnation else { return }
            Nemesis.crash(id, &self)
        }
    }

    /// Carries out a member's Ready batches and checks the cluster afterwards.
    mutating func process(_ id: Raft.NodeID) {
        guard hosts[id]?.isUp == true else { return }
        let output = hosts[id]!.process(checker: &checker)
        if let failure = output.failure {
            storageFailed(id, failure)
            return
        }
        if options.traceAll { for line in output.written { note("\(id) \(line)") } }
        for m in output.messages { send(m) }
        for state in output.readStates { checkRead(id, state) }
        if output.needsSync && !syncing.contains(id) {
            switch hosts[id]!.beginSync(checker: &checker) {
            case .success(false): break
            case .success(true): scheduleSyncCompletion(id)
            case .failure(let error): return storageFailed(id, error)
            }
        }
        guard let node = hosts[id]!.node else { return }
        if node.role == .leader {
            if ledTerm[id] != node.term {
                ledTerm[id] = node.term
                report.leadersElected += 1
                note("\(id) leads term \(node.term)")
                // Sometimes the new leader dies moments after winning, with its predecessors'
                // entries half re-replicated: the situation of the paper's Figure 8.
                if now < UInt64(options.faultTicks) * options.unitsPerTick
                    && random.below(100) < Nemesis.crashNewLeaderPercent {
                    events.push(.crash(id, incarnation: hosts[id]!.incarnation), at: now + random.below(3 * options.unitsPerTick))
                }
            }
            checker.observeLeader(id, term: node.term)
            checker.checkLeaderCompleteness(node)
        }
    }

    mutating func scheduleSyncCompletion(_ id: Raft.NodeID) {
        syncing.insert(id)
        // Disks are mostly quick, sometimes stall for many ticks (an fsync under load).
        let delay = random.chance(1, in: 20) ? 10 + random.below(10 * options.unitsPerTick) : 1 + random.below(6)
        events.push(.syncDone(id, incarnation: hosts[id]!.incarnation), at: now + delay)
    }

    /// A member whose storage failed has stopped (as a real one exits); it is restarted
    /// later, recovering from what its disk holds.
    mutating func storageFailed(_ id: Raft.NodeID, _ error: StorageError) {
        note("\(id) stopped: \(error)")
        syncing.remove(id)
        report.storageFailures += 1
        Nemesis.scheduleRestart(id, &self)
    }

    mutating func send(_ m: Raft.Message) {
        guard hosts[m.to] != nil, !network.cut.contains(.init(m.from, m.to)) else { return }
        if network.dropPercent > 0 && random.below(100) < network.dropPercent { return }
        let copies = network.duplicatePercent > 0 && random.below(100) < network.duplicatePercent ? 2 : 1
        for _ in 0..<copies {
            // Mostly short delays, sometimes long ones, which reorder messages.
            let delay = random.chance(1, in: 10) ? 5 + random.below(40) : 1 + random.below(4)
            events.push(.deliver(m), at: now + delay)
        }
    }

    mutating func checkRead(_ id: Raft.NodeID, _ state: Raft.ReadState) {
        guard let asked = hosts[id]!.readsAsked.removeValue(forKey: state.requestID) else { return }
        guard let index = state.index else { return }
        report.readsServed += 1
        checker.checkRead(id, index: index, committedWhenAsked: asked)
    }

    mutating func note(_ line: @autoclosure () -> String) {
        guard options.traceAll || options.traceTailEvents > 0 else { return }
        let text = "t=\(now / options.unitsPerTick).\(now % options.unitsPerTick) " + line()
        if options.traceAll { print(text) }
        trace.append(text)
        if trace.count > options.traceTailEvents * 2 { trace.removeFirst(trace.count - options.traceTailEvents) }
    }

    /// The leader of the highest term among running members, if any.
    var currentLeader: Raft.NodeID? {
        var best: (Raft.Term, Raft.NodeID)?
        for (id, host) in hosts {
            guard let node = host.node, node.role == .leader else { continue }
            if best == nil || node.term > best!.0 { best = (node.term, id) }
        }
        return best?.1
    }

    // MARK: - Healing and liveness

    mutating func healEverything() {
        note("heal: network whole, disks healthy, crashed members restarted")
        network = NetworkFaults()
        for id in hosts.keys.sorted() { hosts[id]!.disk.options.syncFailuresPerMillion = 0 }
        for id in hosts.keys.sorted() where !hosts[id]!.isUp {
            events.removeAll { if case .restart(id) = $0 { return true } else { return false } }
            hosts[id]!.restart(checker: &checker)
            process(id)
        }
    }

    /// After healing, a leader must emerge and a proposal must be applied everywhere in time.
    mutating func checkLiveness() {
        let deadline = now + UInt64(options.livenessTicksMax) * options.unitsPerTick
        let marker = Array("liveness-\(seed)".utf8)
        var proposedAt: Raft.Index?
        var proposedTerm: Raft.Term = 0
        while now < deadline && checker.violations.isEmpty {
            if now % options.unitsPerTick == 0, let leader = currentLeader {
                let node = hosts[leader]!.node!
                if proposedAt == nil || node.term != proposedTerm {
                    if let index = try? hosts[leader]!.withNode({ try $0.propose(marker) }) {
                        proposedAt = index
                        proposedTerm = node.term
                        process(leader)
                    }
                }
                if livenessReached(leader: leader, marker: marker) { return }
            }
            step()
        }
        guard checker.violations.isEmpty else { return }
        let states = hosts.keys.sorted().compactMap { hosts[$0]!.node.map { TraceFormat.status($0.status) } }
        checker.report("liveness", "no leader applied a proposal everywhere within \(options.livenessTicksMax) ticks of healing: \(states.joined(separator: "; "))")
    }

    func livenessReached(leader: Raft.NodeID, marker: [UInt8]) -> Bool {
        let membership = hosts[leader]!.node!.membership
        for member in membership.all {
            guard let host = hosts[member], host.isUp else { return false }
            guard host.machine.commands.last == marker || host.machine.commands.contains(marker) else { return false }
        }
        return true
    }
}
