import API
import RaftCore
import RaftStorage
import Server
import Store

/// What a run of the member simulation does.
public struct MemberSimulationOptions: Sendable {
    /// Founding members.
    public var members = 3
    public var tickMilliseconds: UInt64 = 10
    public var electionTicks = 10
    public var heartbeatTicks = 2
    /// Virtual milliseconds of faults and client writes before everything heals.
    public var faultMilliseconds: UInt64 = 3_000
    /// After healing, how long the members may take to agree and serve a write through each.
    public var convergenceMillisecondsMax: UInt64 = 6_000
    /// Mean virtual milliseconds between two client operations.
    public var operationIntervalMilliseconds: UInt64 = 6
    /// Members snapshot their store every this many entries (small: snapshots and their
    /// transfer to lagging members happen in every run).
    public var snapshotEveryEntries = 40
    /// Injected fdatasync failures (the member stops and restarts from its disk).
    public var syncFailuresPerMillion: UInt64 = 300
    /// A cut link looks up (packets vanish) this long before the members give it up.
    public var silenceTimeoutMilliseconds: UInt64 = 400
    /// A deliberately broken Raft rule in every member (mutation runs: the checkers must
    /// catch it).
    public var raftFaultyRule: Raft.FaultyRule?
    /// A deliberately broken controller rule in every member.
    public var controllerMutation: ControllerMutation?
    /// Print every event (`--trace`).
    public var traceAll = false
    /// Events kept for the report's trace tail.
    public var traceTailEvents = 60

    public init() {}
}

/// How a run ended.
public struct MemberSimulationReport: Sendable {
    public var seed: UInt64
    public var violations: [String] = []
    /// The last events before the end (or the first violation).
    public var traceTail: [String] = []
    public var virtualMilliseconds: UInt64 = 0
    /// The highest index any member applied.
    public var appliedIndex: UInt64 = 0
    public var writesAcknowledged = 0
    public var writesRefused = 0
    public var writesIndeterminate = 0
    public var readsChecked = 0
    public var crashes = 0
    public var cuts = 0
    public var storageFailures = 0
    /// The converged state's `Store.digest` (a run replays exactly when it is the same).
    public var finalStateDigest: UInt64 = 0
    public var passed: Bool { violations.isEmpty }
}

/// A seeded, deterministic simulation of a whole cluster of **real** `Member`s — their Ready
/// loop, store, forwarding and leader duties — in one process (the way TigerBeetle's simulator
/// runs its real replica): virtual time, a network of links that go silent and drop what they
/// carry, disks that lose unsynced writes and fail syncs, crashes and restarts from disk.
/// Clients write ConfigMaps through random members while the faults run; checkers hold every
/// member to one log applied the same way, every acknowledged write kept, every refused one
/// absent, linearizable reads, and after healing one state on every member.
public final class MemberSimulation {
    public let seed: UInt64
    let options: MemberSimulationOptions
    var random: Raft.Random
    /// Virtual milliseconds since the start.
    var now: UInt64 = 0
    var members: [UInt64: SimMember] = [:]
    /// Member ids in a fixed order (every loop over members uses it: no hash order leaks in).
    var ids: [UInt64] = []
    var network = SimNetworkState()
    var report: MemberSimulationReport
    var checker = MemberChecker()
    let workload = SimWorkload()
    var trace: [String] = []
    private var events = EventQueue<Event>()

    /// Wall-clock seconds at virtual time 0 (object timestamps).
    static let epochSeconds: Int64 = 1_800_000_000
    /// The data directory on each simulated disk.
    static let dataDirectory = "/data"
    /// Small WAL segments: rotation and compaction happen in every run.
    static let segmentBytes = 16 << 10
    static let peerPort: UInt16 = 7400
    /// How often the simulated node agents act, and the placement invariants are checked.
    static let agentIntervalMilliseconds: UInt64 = 50
    static let placementCheckMilliseconds: UInt64 = 100

    struct Event {
        /// The member whose run the event belongs to (0: the world's own).
        var member: UInt64
        var run: UInt64
        var body: () -> Void
    }

    public init(seed: UInt64, options: MemberSimulationOptions = MemberSimulationOptions()) {
        self.seed = seed
        self.options = options
        random = Raft.Random(seed: seed)
        report = MemberSimulationReport(seed: seed)
        let addresses = (1...options.members).map { "10.0.0.\($0)" }
        for address in addresses {
            let id = MemberID.of(host: address, peerPort: Self.peerPort)
            var disk = FaultyFileSystem.Options()
            disk.syncFailuresPerMillion = 0  // faults start once the members have founded
            members[id] = SimMember(id: id, address: address, disk: FaultyFileSystem(seed: random.next(), options: disk),
                                    incarnation: 1 + random.below(1 << 62), tickOffset: random.below(options.tickMilliseconds))
            ids.append(id)
        }
        ids.sort()
        var secret: [UInt8] = []
        for _ in 0..<ClusterToken.secretBytes { secret.append(UInt8(random.below(256))) }
        token = ClusterToken(clusterID: 1 + random.below(1 << 62), secret: secret)
        founders = addresses.map { "\($0):\(Self.peerPort)" }
    }

    let token: ClusterToken
    let founders: [String]

    /// Runs the faults and the clients, heals, waits for convergence, checks, and reports.
    public func run() -> MemberSimulationReport {
        for id in ids { start(id) }
        for id in ids { members[id]!.disk.options.syncFailuresPerMillion = options.syncFailuresPerMillion }
        while now < options.faultMilliseconds && checker.violations.isEmpty {
            if now % options.tickMilliseconds == 0 { SimNemesis.act(on: self) }
            if now % SimNetworkState.maintenanceMilliseconds == 0 { maintainLinks() }
            if now % Self.agentIntervalMilliseconds == 0 { runAgents() }
            if now % Self.placementCheckMilliseconds == 0 { checkPlacement() }
            workload.maybeIssue(in: self)
            step()
        }
        if checker.violations.isEmpty { healEverything() }
        if checker.violations.isEmpty { converge() }
        if checker.violations.isEmpty { workload.checkFinalState(in: self) }
        if let member = ids.compactMap({ members[$0]!.member }).first {
            report.finalStateDigest = member.store.digest
            note("final state \(String(report.finalStateDigest, radix: 16)) at index \(member.store.revision)")
        }
        report.violations = checker.violations
        report.traceTail = trace
        report.virtualMilliseconds = now
        report.appliedIndex = checker.highestApplied
        return report
    }

    // MARK: Time and events

    /// Queues `body` as an event of `member`'s run `run`, `after` milliseconds from now.
    func schedule(_ member: UInt64, run: UInt64, after: UInt64, _ body: @escaping () -> Void) {
        events.push(Event(member: member, run: run, body: body), at: now + after)
    }

    /// Queues one of the world's own events.
    func scheduleWorld(after: UInt64, _ body: @escaping () -> Void) {
        events.push(Event(member: 0, run: 0, body: body), at: now + after)
    }

    /// One virtual millisecond: due events, then the ticks due now.
    func step() {
        while let event = events.pop(dueBy: now) {
            if event.member == 0 {
                event.body()
            } else {
                onMember(event.member, run: event.run, event.body)
            }
            if !checker.violations.isEmpty { return }
        }
        for id in ids where now % options.tickMilliseconds == members[id]!.tickOffset {
            guard let ticking = members[id]!.ticking, members[id]!.isUp else { continue }
            let run = members[id]!.run
            onMember(id, run: run, ticking.tick)
            noteLeadership(id)
        }
        now += 1
    }

    /// Runs `body` as one turn of the member's loop (if that run is still up), then what the
    /// loop does at the end of a turn (the scheduled pump).
    func onMember(_ id: UInt64, run: UInt64, _ body: () -> Void) {
        guard let member = members[id], member.run == run, member.isUp else { return }
        body()
        if member.run == run, member.isUp { member.ticking?.endOfIteration() }
    }

    // MARK: Members

    /// Starts (or restarts) a member from what its disk holds.
    func start(_ id: UInt64) {
        let member = members[id]!
        member.run += 1
        member.podWritesInFlight = []  // the agent restarts with its host: nothing in flight
        checker.restarted(id)
        let host = SimMemberHost(world: self, memberID: id, run: member.run)
        var serverOptions = ServerOptions(dataDirectory: "/sim/\(member.address)", advertiseHost: member.address)
        serverOptions.peerPort = Self.peerPort
        serverOptions.founders = founders
        serverOptions.token = token
        serverOptions.tickMilliseconds = Int(options.tickMilliseconds)
        serverOptions.electionTicks = options.electionTicks
        serverOptions.heartbeatTicks = options.heartbeatTicks
        serverOptions.snapshotEveryEntries = options.snapshotEveryEntries
        serverOptions.proposalTimeoutMilliseconds = 2_000
        serverOptions.raftFaultyRule = options.raftFaultyRule
        serverOptions.controllerMutation = options.controllerMutation
        var node = NodeFacts(cpuCount: Self.nodeCPUs, memoryBytes: Self.nodeMemoryBytes)
        node.podsMax = Self.nodePods
        serverOptions.nodeFacts = node
        do {
            let (storage, recovered) = try MemberStorage.open(directory: Self.dataDirectory, fileSystem: member.disk,
                                                             segmentBytes: Self.segmentBytes)
            member.starting = true
            defer { member.starting = false }
            let started = try Member.simulated(options: serverOptions, host: host, storage: storage, recovered: recovered,
                                               incarnation: member.incarnation)
            started.onApplied = { [unowned self] entry, result in self.checker.applied(id, entry, result, at: self.now) }
            member.member = started
            note("start \(member.address) (run \(member.run))")
        } catch {
            note("\(member.address) failed to start: \(error)")
            member.member = nil
            member.network = nil
            member.ticking = nil
            member.disk.crash()
            scheduleWorld(after: 50 + random.below(200)) { [unowned self] in
                if !self.members[id]!.isUp { self.start(id) }
            }
        }
    }

    /// Kills a member: its process state is gone, its disk keeps what was synced.
    func crash(_ id: UInt64, why: String) {
        let member = members[id]!
        guard member.isUp else { return }
        note("crash \(member.address): \(why)")
        workload.memberCrashed(id, run: member.run, in: self)
        member.member = nil
        member.network = nil
        member.ticking = nil
        member.disk.crash()
        for other in ids where other != id && network.up.contains(SimLink(id, other)) { linkDown(SimLink(id, other)) }
        // Mostly a quick restart; sometimes down for seconds (the node lifecycle moves its pods).
        scheduleWorld(after: random.chance(1, in: 3) ? 1_500 + random.below(2_000) : 100 + random.below(700)) { [unowned self] in
            if !self.members[id]!.isUp { self.start(id) }
        }
    }

    /// A member stopped itself (a failed sync, or the version gate): as a crash, once its
    /// current turn is over.
    func memberExited(_ id: UInt64, run: UInt64) {
        report.storageFailures += 1
        scheduleWorld(after: 0) { [unowned self] in
            guard self.members[id]!.run == run else { return }
            self.crash(id, why: "it stopped itself")
        }
    }

    /// Traces a member's becoming leader (once per term).
    func noteLeadership(_ id: UInt64) {
        guard let member = members[id]!.member, member.isLeader else { return }
        let term = UInt64(member.status()["term"]?.intValue ?? 0)
        guard members[id]!.ledTerm != term else { return }
        members[id]!.ledTerm = term
        note("\(members[id]!.address) leads term \(term)")
    }

    func note(_ line: @autoclosure () -> String) {
        guard options.traceAll || options.traceTailEvents > 0 else { return }
        let text = "t=\(now)ms " + line()
        if options.traceAll { print(text) }
        trace.append(text)
        if trace.count > options.traceTailEvents * 2 { trace.removeFirst(trace.count - options.traceTailEvents) }
    }

    // MARK: Healing and convergence

    func healEverything() {
        note("heal: every link whole, disks healthy, crashed members restarted")
        for id in ids { members[id]!.disk.options.syncFailuresPerMillion = 0 }
        network.cut = []
        network.cutSince = [:]
        for id in ids where !members[id]!.isUp { start(id) }
    }

    /// After healing: every member up, one leader, everyone applied what it committed, one
    /// state everywhere, and a write through every member acknowledged.
    func converge() {
        let deadline = now + options.convergenceMillisecondsMax
        var written: Set<UInt64> = []
        var asked: Set<UInt64> = []
        while now < deadline && checker.violations.isEmpty {
            if now % SimNetworkState.maintenanceMilliseconds == 0 { maintainLinks() }
            if now % Self.agentIntervalMilliseconds == 0 { runAgents() }
            if now % 50 == 0 {
                for id in ids where members[id]!.isUp && !asked.contains(id) && members[id]!.member!.store.clusterVersion >= 2 {
                    asked.insert(id)
                    workload.finalWrite(through: id, in: self) { ok in
                        if ok { written.insert(id) } else { asked.remove(id) }
                    }
                }
                if written.count == ids.count && converged() { return }
            }
            step()
        }
        guard checker.violations.isEmpty else { return }
        let states = ids.map { id -> String in
            guard let member = members[id]!.member else { return "\(members[id]!.address) down" }
            return "\(members[id]!.address) \(member.status()["role"]?.stringValue ?? "?") applied \(member.store.revision)"
        }
        checker.report("convergence", "the healed cluster did not agree, run every ReplicaSet's pods and serve a write through every member within \(options.convergenceMillisecondsMax) ms (\(written.count) of \(ids.count) wrote): \(states.joined(separator: "; ")); \(ids.compactMap { members[$0]!.member }.first.map(replicaSetSummary) ?? "")")
    }

    /// Every member up, at the same applied index (the leader's commit), with one state.
    func converged() -> Bool {
        var revision: UInt64?
        var digest: UInt64?
        for id in ids {
            guard let member = members[id]!.member else { return false }
            let applied = member.store.revision
            if revision == nil { revision = applied }
            guard applied == revision else { return false }
        }
        guard let leader = ids.first(where: { members[$0]!.member?.isLeader == true }),
              members[leader]!.member!.status()["commitIndex"]?.intValue.map(UInt64.init) == revision,
              replicaSetsConverged(members[leader]!.member!), deploymentConverged(members[leader]!.member!) else { return false }
        for id in ids {
            let state = members[id]!.member!.store.digest
            if digest == nil { digest = state }
            if state != digest {
                checker.report("divergence", "members applied the log up to \(revision!) and hold different states: "
                               + ids.map { "\(members[$0]!.address) \(String(members[$0]!.member!.store.digest, radix: 16))" }.joined(separator: ", "))
                return false
            }
        }
        return true
    }
}

/// One simulated host: its disk outlives the runs of its member.
final class SimMember {
    let id: UInt64
    let address: String
    let disk: FaultyFileSystem
    /// The data directory's incarnation (kept across restarts).
    let incarnation: UInt64
    let tickOffset: UInt64
    /// Starts so far; events carry the run they belong to.
    var run: UInt64 = 0
    var member: Member?
    var network: SimPeerNetwork?
    var ticking: (tick: () -> Void, endOfIteration: () -> Void)?
    /// True while `Member.simulated` runs (the member is not reachable yet).
    var starting = false
    /// The last term this member was seen leading (for the trace).
    var ledTerm: UInt64 = 0
    /// Pods whose status the agent is writing.
    var podWritesInFlight: Set<ObjectKey> = []

    var isUp: Bool { member != nil }

    init(id: UInt64, address: String, disk: FaultyFileSystem, incarnation: UInt64, tickOffset: UInt64) {
        self.id = id
        self.address = address
        self.disk = disk
        self.incarnation = incarnation
        self.tickOffset = tickOffset
    }
}
