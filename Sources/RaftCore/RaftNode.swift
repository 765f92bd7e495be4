/// One member's Raft state machine as a pure value.
///
/// Feed it time with `tick()`, messages from peers with `step(_:)`, and requests from the
/// host with `propose`, `proposeMembershipChange`, `readIndex` and `transferLeadership`.
/// It answers with `Raft.Ready` batches (`hasReady`, `ready()`), which the host carries out
/// and acknowledges with `advance(_:)`. It performs no I/O and reads no clock: the same
/// inputs in the same order always produce the same outputs.
public struct RaftNode: Sendable {
    public typealias NodeID = Raft.NodeID
    public typealias Term = Raft.Term
    public typealias Index = Raft.Index

    /// This member's identity.
    public let id: NodeID
    let config: Raft.Config
    var random: Raft.Random

    // MARK: Persistent state (handed to the host through `Ready.hardState`)

    public internal(set) var term: Term {
        didSet { if term != oldValue { leaderOrTermChanged() } }
    }
    public internal(set) var vote: NodeID

    // MARK: Volatile state

    public internal(set) var role: Raft.Role = .follower
    /// The leader of `term` as far as this member knows (`Raft.noNode` if unknown).
    public internal(set) var leader: NodeID = Raft.noNode {
        didSet { if leader != oldValue { leaderOrTermChanged() } }
    }
    var log: Raft.Log
    /// The membership in force: the latest one in the log, committed or not (thesis §4.1).
    public internal(set) var membership: Raft.Membership
    /// Membership entries after the snapshot, ascending by index.
    var membershipHistory: [(index: Index, membership: Raft.Membership)] = []
    /// The newest snapshot the host holds (for sending) or installed.
    var snapshotMeta: Raft.SnapshotMeta

    /// Monotonic count of ticks since creation.
    var ticks: UInt64 = 0
    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0

    // MARK: Candidate state
    var votes: [NodeID: Bool] = [:]

    // MARK: Leader state
    var progress: [NodeID: Raft.Progress] = [:]
    /// The keys of `progress`, sorted (kept in step by `followersChanged`): every loop over
    /// followers goes in this order, so output never depends on a dictionary's hash seed.
    var peers: [NodeID] = []
    var leadTransferee: NodeID = Raft.noNode
    var transferElapsed = 0
    /// The index of the latest membership entry proposed by this leader (or the last index
    /// when it took office); no new change until it is committed.
    var pendingMembershipIndex: Index = 0
    /// Bytes of entries appended by this leader and not yet committed.
    var uncommittedBytes = 0
    /// Appends waiting to be sent when the next `Ready` is taken (so proposals made in one
    /// loop iteration travel together).
    var broadcastPending = false
    /// The last heartbeat round started; ReadIndex requests wait for a quorum to acknowledge one.
    var readRound: UInt64 = 0
    var readRoundPending = false
    var pendingReads: [PendingRead] = []
    var readsAwaitingTermCommit: [PendingRead] = []

    // MARK: Follower state
    /// Read requests forwarded to the leader and not answered yet.
    var forwardedReads: [UInt64] = []
    var incomingSnapshot: IncomingSnapshot?
    var snapshotToInstall: Raft.Snapshot?

    // MARK: Output for the next Ready
    var messagesNow: [Raft.Message] = []
    var messagesAfterPersist: [Raft.Message] = []
    var readStates: [Raft.ReadState] = []
    var handedHardState: Raft.HardState
    var persistedTerm: Term
    var readySequence: UInt64 = 0
    var advancedSequence: UInt64 = 0

    struct PendingRead {
        var requestID: UInt64
        var from: NodeID
        var index: Index = 0
        var round: UInt64 = 0
    }

    struct IncomingSnapshot {
        var meta: Raft.SnapshotMeta
        var from: NodeID
        var bytes: [UInt8] = []
    }

    /// Creates a member from what its stable storage holds; throws if that state is
    /// inconsistent (a corrupt or mis-assembled data directory).
    public init(config: Raft.Config, state: Raft.PersistentState) throws(Raft.StateError) {
        config.validate()
        try state.validate()
        self.id = config.id
        self.config = config
        self.random = Raft.Random(seed: config.randomSeed)
        // Entries reach the disk before the hard state of their batch, so a crash can leave
        // entries of a term the hard state never recorded. Such a term had a leader; adopt it
        // (with no vote: a vote in it would have been persisted before being sent).
        let logTerm = state.entries.last?.term ?? state.snapshot.term
        if logTerm > state.hardState.term {
            self.term = logTerm
            self.vote = Raft.noNode
        } else {
            self.term = state.hardState.term
            self.vote = state.hardState.vote
        }
        self.log = Raft.Log(snapshotIndex: state.snapshot.index, snapshotTerm: state.snapshot.term,
                            entries: state.entries, committed: state.hardState.commit)
        self.snapshotMeta = state.snapshot
        self.membership = state.snapshot.membership
        for entry in state.entries {
            if case .membership(_, let next) = entry.payload {
                membershipHistory.append((entry.index, next))
                membership = next
            }
        }
        self.handedHardState = state.hardState
        self.persistedTerm = state.hardState.term
        resetElectionTimer()
    }

    var hardState: Raft.HardState { Raft.HardState(term: term, vote: vote, commit: log.committed) }

    /// True when this member may campaign: it is a voter of the membership in force, or of
    /// the latest committed one. The second case matters when the newest (uncommitted)
    /// membership removes this member: if only it holds that entry, the others cannot win
    /// without its vote and it would refuse their older logs, so it must be able to campaign
    /// (votes are still counted under the newest membership, where it does not count).
    var isPromotable: Bool {
        membership.isVoter(id) || (latestMembershipIndex > log.committed && membership(at: log.committed).isVoter(id))
    }

    // MARK: Inputs

    /// Advances logical time by one tick.
    public mutating func tick() {
        ticks += 1
        if role == .leader { tickLeader() } else { tickFollower() }
    }

    /// Processes a message from a peer. Messages not addressed to this member are ignored;
    /// nothing a peer sends can crash it.
    public mutating func step(_ m: Raft.Message) {
        guard m.to == id, m.from != id, m.from != Raft.noNode, m.isWellFormed else { return }
        if m.term > term {
            guard acceptHigherTerm(m) else { return }
        } else if m.term < term {
            answerLowerTerm(m)
            return
        }
        switch m.kind {
        case let .preVote(lastIndex, lastTerm):
            handleVoteRequest(m, preVote: true, lastIndex: lastIndex, lastTerm: lastTerm)
        case let .vote(lastIndex, lastTerm, _):
            handleVoteRequest(m, preVote: false, lastIndex: lastIndex, lastTerm: lastTerm)
        case .preVoteResponse(let granted):
            handleVoteResponse(m, preVote: true, granted: granted)
        case .voteResponse(let granted):
            handleVoteResponse(m, preVote: false, granted: granted)
        case .append(let append):
            guard followLeader(m.from) else { return }
            handleAppend(from: m.from, append)
        case .heartbeat(let commit, let round):
            guard followLeader(m.from) else { return }
            handleHeartbeat(from: m.from, commit: commit, readRound: round)
        case .snapshotChunk(let chunk):
            guard followLeader(m.from) else { return }
            handleSnapshotChunk(from: m.from, chunk)
        case .appendResponse(let response):
            if role == .leader { handleAppendResponse(from: m.from, response) }
        case .heartbeatResponse(let round):
            if role == .leader { handleHeartbeatResponse(from: m.from, readRound: round) }
        case .snapshotResponse(let response):
            if role == .leader { handleSnapshotResponse(from: m.from, response) }
        case .timeoutNow:
            if role != .leader && m.from == leader && isPromotable {
                campaign(preVote: false, leadershipTransfer: true)
            }
        case .readIndex(let requestID):
            handleReadIndexRequest(from: m.from, requestID: requestID)
        case let .readIndexResponse(requestID, index):
            guard role != .leader, let position = forwardedReads.firstIndex(of: requestID) else { return }
            forwardedReads.remove(at: position)
            readStates.append(Raft.ReadState(requestID: requestID, index: index))
        }
    }

    /// Starts a campaign now instead of waiting for the election timeout (with a pre-vote
    /// round first when `Config.preVote` is on). Hosts use it to bootstrap a cluster quickly.
    public mutating func campaign() {
        guard role != .leader else { return }
        campaign(preVote: config.preVote, leadershipTransfer: false)
    }

    /// Tells the core that the connection to `peer` broke. A follower whose leader became
    /// unreachable campaigns at the next tick instead of after a full election timeout; a
    /// leader stops assuming that what it sent to `peer` arrived.
    public mutating func reportUnreachable(_ peer: NodeID) {
        if role == .leader {
            guard var pr = progress[peer] else { return }
            if pr.state == .replicate { pr.becomeProbe() }
            pr.probeSent = false
            progress[peer] = pr
        } else if peer == leader && leader != Raft.noNode {
            // The leader's connection closed: it is most likely gone. Stop honouring its lease
            // (so our pre-votes are granted by others who saw the same) and campaign soon —
            // staggered by rank among the remaining voters, so the followers that all got
            // this hint at once do not split the vote. If the hint was wrong, the pre-vote
            // fails against voters still hearing from the leader, and nothing is disturbed.
            leader = Raft.noNode
            guard isPromotable else { return }
            let remaining = membership.voters.filter { $0 != peer }
            let rank = remaining.firstIndex(of: id) ?? remaining.count
            let delay = rank * Self.unreachableLeaderStaggerTicks
            electionElapsed = max(electionElapsed, randomizedElectionTimeout - 1 - delay)
        }
    }

    /// Ticks between the campaigns of successive followers after their leader's connection
    /// closed (rank order among the remaining voters).
    public static let unreachableLeaderStaggerTicks = 2

    // MARK: Sending

    /// Queues a message from this member, choosing whether it may leave before persistence.
    mutating func send(to peer: NodeID, term messageTerm: Term? = nil, _ kind: Raft.Message.Kind) {
        let m = Raft.Message(from: id, to: peer, term: messageTerm ?? term, kind: kind)
        var mustWait = m.promisesDurability || term != persistedTerm
        if config.faultyRule == .acknowledgeBeforeDurable, case .appendResponse = kind { mustWait = false }
        if mustWait { messagesAfterPersist.append(m) } else { messagesNow.append(m) }
    }

    // MARK: Role changes

    mutating func resetElectionTimer() {
        electionElapsed = 0
        heartbeatElapsed = 0
        let timeout = UInt64(config.electionTimeoutTicks)
        randomizedElectionTimeout = Int(timeout + random.below(timeout))
    }

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
        // Fail leader-only work first, so its answers still carry the term they belong to.
        if role == .leader { abandonLeadership() }
        if newTerm > term {
            term = newTerm
            vote = Raft.noNode
        }
        role = .follower
        leader = newLeader
        votes = [:]
        resetElectionTimer()
    }

    mutating func followersChanged() {
        peers = progress.keys.sorted()
    }

    /// Answers that were expected from the old leader or term will not come: fail forwarded
    /// reads (the host retries them) and drop a half-received snapshot.
    mutating func leaderOrTermChanged() {
        for requestID in forwardedReads { readStates.append(Raft.ReadState(requestID: requestID, index: nil)) }
        forwardedReads = []
        incomingSnapshot = nil
    }

    /// Drops all leader-only state, failing the reads that were waiting on it.
    mutating func abandonLeadership() {
        for read in readsAwaitingTermCommit + pendingReads { deliverRead(read, index: nil) }
        readsAwaitingTermCommit = []
        pendingReads = []
        progress = [:]
        followersChanged()
        leadTransferee = Raft.noNode
        broadcastPending = false
        readRoundPending = false
        uncommittedBytes = 0
    }
}
