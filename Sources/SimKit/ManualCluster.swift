import RaftCore

/// A cluster stepped by hand, for unit tests and scenario scripts: nothing happens unless a
/// test asks. Disks are instant (each Ready is synced when processed, unless a member's disk
/// is `stalled`); messages wait in one queue until delivered or dropped; links can be cut.
public struct ManualCluster {
    public private(set) var hosts: [Raft.NodeID: SimHost] = [:]
    public var checker = Checker()
    /// Messages sent and not yet delivered, in send order.
    public private(set) var inFlight: [Raft.Message] = []
    /// Directed links that drop everything (from, to).
    public private(set) var cutLinks: Set<Link> = []
    /// Members whose disks do not sync until released (their held-back messages wait too).
    public var stalledDisks: Set<Raft.NodeID> = []
    /// Read states returned to hosts, in order.
    public private(set) var readStates: [(node: Raft.NodeID, state: Raft.ReadState)] = []
    /// Every notable event, one line each.
    public private(set) var log: [String] = []
    private let configure: @Sendable (inout Raft.Config) -> Void

    public struct Link: Hashable, Sendable {
        public var from: Raft.NodeID
        public var to: Raft.NodeID
        public init(_ from: Raft.NodeID, _ to: Raft.NodeID) { self.from = from; self.to = to }
    }

    /// A cluster whose members `voters` bootstrap together. `configure` adjusts every
    /// member's configuration (pre-vote, timeouts, limits...).
    public init(voters: [Raft.NodeID], snapshotEveryEntries: Int = 0,
                configure: @escaping @Sendable (inout Raft.Config) -> Void = { _ in }) {
        self.configure = configure
        for id in voters {
            add(id, state: .bootstrap(voters: voters), snapshotEveryEntries: snapshotEveryEntries)
        }
    }

    /// Adds a member process with the given durable state (e.g. `.joining`).
    public mutating func add(_ id: Raft.NodeID, state: Raft.PersistentState, snapshotEveryEntries: Int = 0) {
        var config = Raft.Config(id: id, randomSeed: id &* 7919)
        config.electionTimeoutTicks = 10
        configure(&config)
        hosts[id] = SimHost(config: config, initial: state, snapshotEveryEntries: snapshotEveryEntries)
    }

    public func node(_ id: Raft.NodeID) -> RaftNode {
        guard let node = hosts[id]?.node else { preconditionFailure("member \(id) is not running") }
        return node
    }

    public func status(_ id: Raft.NodeID) -> Raft.Status { node(id).status }

    /// Runs `body` on a member's core (to propose, campaign, transfer...), then processes its Ready.
    @discardableResult
    public mutating func with<T>(_ id: Raft.NodeID, _ body: (inout RaftNode) throws -> T) rethrows -> T {
        guard hosts[id]?.isUp == true else { preconditionFailure("member \(id) is not running") }
        let result = try hosts[id]!.withNode(body)!
        process(id)
        return result
    }

    public mutating func tick(_ id: Raft.NodeID, times: Int = 1) {
        for _ in 0..<times {
            guard hosts[id]?.isUp == true else { return }
            hosts[id]!.withNode { $0.tick() }
            process(id)
        }
    }

    public mutating func tickAll(times: Int = 1) {
        for _ in 0..<times {
            for id in hosts.keys.sorted() { tick(id) }
        }
    }

    /// Takes a member's Ready batches; syncs at once unless its disk is stalled.
    public mutating func process(_ id: Raft.NodeID) {
        guard hosts[id]?.isUp == true else { return }
        let before = hosts[id]!.node!.status
        let output = hosts[id]!.process(checker: &checker)
        var outgoing = output.messages
        if !stalledDisks.contains(id) { outgoing += hosts[id]!.syncAll(checker: &checker) }
        for state in output.readStates { readStates.append((id, state)) }
        let after = hosts[id]!.node!.status
        if after.role != before.role || after.term != before.term {
            log.append("\(id) became \(after.role.rawValue) at term \(after.term)")
        }
        if after.role == .leader { checker.observeLeader(id, term: after.term) }
        checker.checkLeaderCompleteness(hosts[id]!.node!)
        for m in outgoing { send(m) }
    }

    private mutating func send(_ m: Raft.Message) {
        if cutLinks.contains(Link(m.from, m.to)) {
            log.append("dropped \(TraceFormat.message(m))")
        } else {
            inFlight.append(m)
        }
    }

    /// Releases a stalled disk: syncs it and sends what it held back.
    public mutating func syncDisk(_ id: Raft.NodeID) {
        stalledDisks.remove(id)
        guard hosts[id]?.isUp == true else { return }
        let released = hosts[id]!.syncAll(checker: &checker)
        for m in released { send(m) }
        process(id)
    }

    /// Delivers the in-flight messages matching `filter` (all by default), in order, and
    /// returns them. Messages they cause stay in flight.
    @discardableResult
    public mutating func deliver(where filter: (Raft.Message) -> Bool = { _ in true }) -> [Raft.Message] {
        let chosen = inFlight.filter(filter)
        inFlight.removeAll(where: filter)
        for m in chosen {
            guard hosts[m.to]?.isUp == true else {
                log.append("lost \(TraceFormat.message(m)) (member down)")
                continue
            }
            hosts[m.to]!.withNode { $0.step(m) }
            process(m.to)
        }
        return chosen
    }

    /// Drops the in-flight messages matching `filter`, returning them.
    @discardableResult
    public mutating func drop(where filter: (Raft.Message) -> Bool) -> [Raft.Message] {
        let chosen = inFlight.filter(filter)
        inFlight.removeAll(where: filter)
        return chosen
    }

    /// Delivers messages until none is left; returns everything delivered, in order.
    @discardableResult
    public mutating func stabilize(maxRounds: Int = 10_000) -> [Raft.Message] {
        var delivered: [Raft.Message] = []
        var rounds = 0
        while !inFlight.isEmpty {
            rounds += 1
            precondition(rounds <= maxRounds, "cluster did not stabilize in \(maxRounds) rounds")
            delivered += deliver()
        }
        return delivered
    }

    /// Cuts (or restores) both directions between `a` and every other member.
    public mutating func isolate(_ a: Raft.NodeID) {
        for b in hosts.keys where b != a {
            cutLinks.insert(Link(a, b))
            cutLinks.insert(Link(b, a))
        }
    }

    public mutating func cut(_ from: Raft.NodeID, _ to: Raft.NodeID) { cutLinks.insert(Link(from, to)) }

    public mutating func heal() { cutLinks = [] }

    /// Crashes a member. Unsynced writes are all lost, or with `keepSomeUnsynced` a random
    /// prefix of them (seeded by the member's id) reaches the disk, the last possibly torn.
    public mutating func crash(_ id: Raft.NodeID, keepSomeUnsynced: Bool = false) {
        hosts[id]?.crash(losingAllUnsynced: !keepSomeUnsynced)
        inFlight.removeAll { $0.to == id }
        log.append("\(id) crashed")
    }

    public mutating func restart(_ id: Raft.NodeID) {
        hosts[id]?.restart(checker: &checker)
        log.append("\(id) restarted")
        process(id)
    }

    /// Elects `id`: it campaigns and messages are delivered until quiet.
    public mutating func elect(_ id: Raft.NodeID) {
        with(id) { $0.campaign() }
        stabilize()
    }
}
