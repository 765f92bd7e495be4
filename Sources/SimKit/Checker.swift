import RaftCore

/// Checks Raft's safety properties across a whole simulated cluster, incrementally, so it
/// can run after every step:
/// - election safety: at most one leader per term;
/// - log matching: two logs holding an entry with the same index and term hold the same
///   entries up to it (tracked with a hash chain over each log's prefix);
/// - leader completeness: a leader's log holds every committed entry;
/// - state-machine safety: no two members apply different entries at one index;
/// - durability: no committed entry is ever lost (a later apply, leader or restart that
///   contradicts a committed entry is reported);
/// - linearizable reads: a ReadIndex answer covers every write committed before it was asked.
public struct Checker: Sendable {
    /// A broken property, with the evidence.
    public struct Violation: Equatable, Sendable, CustomStringConvertible {
        public var property: String
        public var detail: String
        public var description: String { "\(property): \(detail)" }
    }

    public private(set) var violations: [Violation] = []
    /// The leader seen in each term.
    private var leaders: [Raft.Term: Raft.NodeID] = [:]
    /// The prefix hash of every (index, term) ever written to any log.
    private var chains: [Raft.Index: [Raft.Term: UInt64]] = [:]
    /// What was applied at each index (term and prefix hash): the committed log.
    public private(set) var committed: [(term: Raft.Term, chain: UInt64)] = [(0, 0)]
    /// For each term T, the highest index first seen applied by a member whose term was T:
    /// such an entry was committed in a term ≤ T, so every leader of a later term must hold it.
    private var committedByTerm: [Raft.Term: Raft.Index] = [:]
    public var committedIndex: Raft.Index { Raft.Index(committed.count - 1) }

    public init() {}

    mutating func fail(_ property: String, _ detail: String) {
        if violations.count < 20 { violations.append(Violation(property: property, detail: detail)) }
    }

    public mutating func observeLeader(_ node: Raft.NodeID, term: Raft.Term) {
        if let known = leaders[term], known != node {
            fail("election safety", "term \(term) has two leaders: \(known) and \(node)")
        } else {
            leaders[term] = node
        }
    }

    /// The prefix hash after `entry`, given the hash of the prefix before it.
    public static func chain(_ previous: UInt64, _ entry: Raft.Entry) -> UInt64 {
        var h = previous ^ 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        func mix64(_ value: UInt64) { for i in 0..<8 { mix(UInt8(truncatingIfNeeded: value >> (8 * i))) } }
        mix64(entry.index)
        mix64(entry.term)
        switch entry.payload {
        case .noop: mix(0)
        case .command(let data): mix(1); data.forEach(mix)
        case .membership(let change, let membership):
            mix(2); mix(change.kind.rawValue); mix64(change.node)
            membership.voters.forEach(mix64); mix(0xff); membership.learners.forEach(mix64)
        }
        return h
    }

    /// Records that `node` holds `entry` with the prefix hash `chain`.
    public mutating func observeEntry(_ node: Raft.NodeID, _ entry: Raft.Entry, chain: UInt64) {
        if let known = chains[entry.index]?[entry.term] {
            if known != chain {
                fail("log matching", "member \(node) holds (\(entry.index), term \(entry.term)) with a prefix that differs from another member's")
            }
        } else {
            chains[entry.index, default: [:]][entry.term] = chain
        }
    }

    /// Records that `node`, in `term`, applied `entry`, whose prefix hash is `chain`.
    public mutating func observeApply(_ node: Raft.NodeID, term: Raft.Term, _ entry: Raft.Entry, chain: UInt64) {
        let index = Int(entry.index)
        if index < committed.count {
            let known = committed[index]
            if known.term != entry.term || known.chain != chain {
                fail("state-machine safety", "member \(node) applied (\(entry.index), term \(entry.term)) but (\(entry.index), term \(known.term)) was applied before")
            }
        } else if index == committed.count {
            committed.append((entry.term, chain))
            committedByTerm[term] = max(committedByTerm[term] ?? 0, entry.index)
        } else {
            fail("state-machine safety", "member \(node) applied \(entry.index) before anyone applied \(committed.count)")
        }
    }

    /// Checks that a leader holds every entry committed in an earlier term (Leader
    /// Completeness): the highest such index must be in its log with the committed term
    /// (by log matching, so is everything before it).
    public mutating func checkLeaderCompleteness(_ node: RaftNode) {
        let status = node.status
        guard status.role == .leader else { return }
        var index: Raft.Index = 0
        for (term, highest) in committedByTerm where term < status.term { index = max(index, highest) }
        guard index > status.snapshotIndex else { return }  // compacted: covered by its snapshot
        let expected = committed[Int(index)].term
        if status.lastIndex < index || node.term(at: index) != expected {
            fail("leader completeness", "leader \(status.id) of term \(status.term) lacks committed entry (\(index), term \(expected))")
        }
    }

    /// The prefix hash of the committed log at `index`, if known.
    public func committedChain(at index: Raft.Index) -> UInt64? {
        Int(index) < committed.count ? committed[Int(index)].chain : nil
    }

    /// Checks a ReadIndex answer against the highest index committed before the read was asked.
    public mutating func checkRead(_ node: Raft.NodeID, index: Raft.Index, committedWhenAsked: Raft.Index) {
        if index < committedWhenAsked {
            fail("linearizable read", "member \(node) got read index \(index) but \(committedWhenAsked) was committed before the read began")
        }
    }

    /// Reports a violation found by a caller (for example a liveness bound).
    public mutating func report(_ property: String, _ detail: String) { fail(property, detail) }
}
