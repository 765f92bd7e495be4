// An in-memory Raft cluster for benchmarks: instant delivery, no disk, no clock inside.
import RaftCore

/// Several `RaftNode`s in one process whose messages are delivered the moment they are taken
/// and whose persistence completes the moment it is handed out (`advance` right after `ready`).
struct BenchCluster {
    /// Upper bound on delivery passes while waiting for the cluster to go quiet.
    static let quiescePassesMax = 10_000
    /// Upper bound on ticks given to node 1 before it must have won the first election.
    static let electionTicksMax = 1_000
    /// Entries a compaction leaves in the log behind the applied index, so that a follower a
    /// little behind still gets entries rather than a snapshot (etcd keeps 5,000 likewise).
    static let compactionKeepEntries: Raft.Index = 5_000

    /// The members; node `i + 1` lives at `nodes[i]`.
    var nodes: [RaftNode]
    /// Messages delivered so far.
    private(set) var messagesDelivered = 0
    /// `Ready` batches taken so far.
    private(set) var readiesTaken = 0

    /// Compact a member's log once it has applied this many entries past its snapshot (0: never).
    let compactEveryEntries: Int
    private var appliedIndex: [Raft.Index]
    private var snapshotIndex: [Raft.Index]

    /// A fresh cluster of `size` voters, ids 1...size. Node 1 gets the shortest election
    /// timeout so that it is the one that wins when it is ticked.
    init(size: Int, compactEveryEntries: Int) {
        precondition(size >= 1 && compactEveryEntries >= 0)
        let voters = (1...size).map { Raft.NodeID($0) }
        nodes = voters.map { id in
            var config = Raft.Config(id: id, randomSeed: id)
            config.electionTimeoutTicks = id == 1 ? 2 : 10
            do {
                return try RaftNode(config: config, state: .bootstrap(voters: voters))
            } catch {
                preconditionFailure("node \(id) rejected its bootstrap state: \(error)")
            }
        }
        self.compactEveryEntries = compactEveryEntries
        appliedIndex = Array(repeating: 0, count: size)
        snapshotIndex = Array(repeating: 0, count: size)
    }

    /// Ticks node 1 until it leads, then lets its first (no-op) entry commit everywhere.
    /// Returns the leader's slot in `nodes`.
    mutating func electNodeOne() -> Int {
        var ticks = 0
        while nodes[0].status.role != .leader {
            precondition(ticks < Self.electionTicksMax, "node 1 did not win an election in \(ticks) ticks")
            nodes[0].tick()
            ticks += 1
            stabilize()
        }
        stabilize()
        return 0
    }

    /// Runs delivery passes until no member has work left.
    mutating func stabilize() {
        var passes = 0
        while nodes.indices.contains(where: { hasReady($0) }) {
            precondition(passes < Self.quiescePassesMax, "cluster did not go quiet in \(passes) passes")
            _ = pass(countingCommittedAt: nil)
            passes += 1
        }
    }

    /// Takes every member's `Ready` once, in id order: sends `messagesNow`, "persists"
    /// (advances at once), then sends `messagesAfterPersist`. Each message is stepped into its
    /// target immediately, so a later member in the same pass already sees it.
    /// Returns the number of committed entries handed to the member at `countedSlot`.
    mutating func pass(countingCommittedAt countedSlot: Int?) -> Int {
        var committedAtCounted = 0
        for slot in nodes.indices where hasReady(slot) {
            let ready = nodes[slot].ready()
            readiesTaken += 1
            deliver(ready.messagesNow)
            nodes[slot].advance(ready.ack)
            deliver(ready.messagesAfterPersist)
            if let last = ready.committedEntries.last {
                if slot == countedSlot { committedAtCounted += ready.committedEntries.count }
                appliedIndex[slot] = last.index
                compactIfDue(slot)
            }
        }
        return committedAtCounted
    }

    /// Lets the cluster go quiet, then checks that leadership never changed and that every
    /// member committed the leader's whole log: the numbers count real replication.
    mutating func verifyConverged(leader: Int, term: Raft.Term) {
        stabilize()
        let leaderStatus = nodes[leader].status
        precondition(leaderStatus.role == .leader && leaderStatus.term == term, "leadership changed during the run")
        for node in nodes {
            let status = node.status
            precondition(status.commit == leaderStatus.lastIndex,
                         "node \(status.id) committed \(status.commit), leader's last index is \(leaderStatus.lastIndex)")
        }
    }

    /// Whether the member in `slot` has work. Read through `inout` on purpose: a plain
    /// `nodes[slot].hasReady` copied the whole `RaftNode` (616 bytes, a dozen reference-counted
    /// fields) out of the array on every call, about 2% of a batch-1 profile.
    private mutating func hasReady(_ slot: Int) -> Bool {
        func check(_ node: inout RaftNode) -> Bool { node.hasReady }
        return check(&nodes[slot])
    }

    private mutating func deliver(_ messages: [Raft.Message]) {
        for message in messages {
            nodes[Int(message.to) - 1].step(message)
        }
        messagesDelivered += messages.count
    }

    /// What a host does after saving a snapshot: drop the log up to what it applied.
    private mutating func compactIfDue(_ slot: Int) {
        let applied = appliedIndex[slot]
        guard compactEveryEntries > 0, applied > Self.compactionKeepEntries else { return }
        let target = applied - Self.compactionKeepEntries
        guard target - snapshotIndex[slot] >= Raft.Index(compactEveryEntries) else { return }
        nodes[slot].compact(to: target, snapshotSizeBytes: 0)
        snapshotIndex[slot] = target
    }
}
