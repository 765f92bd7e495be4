import RaftCore
import SimKit
import XCTest

// Shared shorthands for the RaftCore rule tests. Tests drive whole clusters through SimKit's
// `ManualCluster` (nothing happens unless a test asks), or a bare `RaftNode` value when the
// rule is about one member's Ready batches. A copy of a member's core (`cluster.node(id)`) can
// be stepped by hand to look at what it would do without the host carrying it out.

/// The bytes of a text command.
func cmd(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A log entry: a no-op, or a command holding `text`.
func entry(_ index: Raft.Index, _ term: Raft.Term, _ text: String? = nil) -> Raft.Entry {
    Raft.Entry(term: term, index: index, payload: text.map { .command(cmd($0)) } ?? .noop)
}

func msg(_ from: Raft.NodeID, _ to: Raft.NodeID, _ term: Raft.Term, _ kind: Raft.Message.Kind) -> Raft.Message {
    Raft.Message(from: from, to: to, term: term, kind: kind)
}

/// One line per message, as in scenario traces.
func trace(_ messages: [Raft.Message]) -> [String] { messages.map(TraceFormat.message) }

/// A bare member with bootstrap membership `voters`.
func makeNode(_ id: Raft.NodeID, voters: [Raft.NodeID],
              configure: (inout Raft.Config) -> Void = { _ in }) throws -> RaftNode {
    var config = Raft.Config(id: id, randomSeed: 7)
    configure(&config)
    return try RaftNode(config: config, state: .bootstrap(voters: voters))
}

/// Asserts that `body` throws exactly the proposal error `expected`.
func XCTAssertProposalError<T>(_ expected: Raft.ProposalError, _ body: @autoclosure () throws -> T,
                               file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? Raft.ProposalError, expected, file: file, line: line)
    }
}

extension Raft.Message {
    var isAppend: Bool { if case .append = kind { return true } else { return false } }
    var isAppendResponse: Bool { if case .appendResponse = kind { return true } else { return false } }
    var isHeartbeat: Bool { if case .heartbeat = kind { return true } else { return false } }
    var isHeartbeatResponse: Bool { if case .heartbeatResponse = kind { return true } else { return false } }
    var isTimeoutNow: Bool { kind == .timeoutNow }
    /// The indexes an AppendEntries carries (empty for other messages).
    var appendedIndexes: [Raft.Index] {
        if case .append(let a) = kind { return a.entries.map(\.index) } else { return [] }
    }
    /// `offset+length` of a snapshot chunk, nil for other messages.
    var chunkRange: String? {
        if case .snapshotChunk(let c) = kind { return "\(c.offset)+\(c.length)" } else { return nil }
    }
}

/// The durable state of one member when a test builds a cluster from hand-written logs.
struct MemberLog {
    var term: Raft.Term
    var commit: Raft.Index = 0
    var entries: [Raft.Entry]
}

extension ManualCluster {
    /// A cluster whose voters (the keys of `logs`) start from the given durable logs, as if
    /// earlier terms had left them there.
    static func withLogs(_ logs: [Raft.NodeID: MemberLog],
                         configure: @escaping @Sendable (inout Raft.Config) -> Void = { _ in }) -> ManualCluster {
        let voters = logs.keys.sorted()
        var cluster = ManualCluster(voters: [], configure: configure)
        for id in voters {
            let log = logs[id]!
            let state = Raft.PersistentState(
                hardState: Raft.HardState(term: log.term, vote: Raft.noNode, commit: log.commit),
                snapshot: Raft.SnapshotMeta(index: 0, term: 0, membership: Raft.Membership(voters: voters), sizeBytes: 0),
                entries: log.entries)
            cluster.add(id, state: state)
            // SimHost shows a loaded log to the checker only when it restarts (its initializer
            // has no checker), so restart each member once: nothing is unsynced, nothing lost.
            cluster.crash(id)
            cluster.restart(id)
        }
        return cluster
    }

    /// Delivers in-flight messages one at a time, oldest first, until `done` holds.
    /// Returns what it delivered; fails the test if the network empties first.
    @discardableResult
    mutating func deliverOneByOne(until done: (ManualCluster) -> Bool,
                                  file: StaticString = #filePath, line: UInt = #line) -> [Raft.Message] {
        var delivered: [Raft.Message] = []
        while !done(self) {
            guard let next = inFlight.first else {
                XCTFail("no message left in flight and the condition does not hold", file: file, line: line)
                return delivered
            }
            // Identical duplicates, if any, travel together.
            delivered += deliver(where: { $0 == next })
        }
        return delivered
    }

    /// Delivers messages until none is left, losing those that match `lost`.
    @discardableResult
    mutating func stabilize(losing lost: (Raft.Message) -> Bool) -> [Raft.Message] {
        var delivered: [Raft.Message] = []
        while !inFlight.isEmpty {
            drop(where: lost)
            delivered += deliver()
        }
        return delivered
    }

    /// Proposes one text command at member `id`; returns its index.
    @discardableResult
    mutating func propose(_ id: Raft.NodeID, _ text: String) throws -> Raft.Index {
        try with(id) { try $0.propose(cmd(text)) }
    }

    /// Delivers everything, lets the leader's next heartbeat spread the commit index, and
    /// delivers again.
    mutating func settle() {
        stabilize()
        tickAll()
        stabilize()
    }

    /// In-flight messages from `from` to `to`.
    func inFlight(from: Raft.NodeID, to: Raft.NodeID) -> [Raft.Message] {
        inFlight.filter { $0.from == from && $0.to == to }
    }
}
