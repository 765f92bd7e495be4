import RaftCore
import SimKit
import XCTest

/// `Raft.Log` behaviour, seen through RaftNode's public API (`entries`, `term(at:)`, `status`).
final class LogTests: XCTestCase {
    func restored(snapshotIndex: Raft.Index, snapshotTerm: Raft.Term, entries: [Raft.Entry], commit: Raft.Index) throws -> RaftNode {
        let state = Raft.PersistentState(
            hardState: Raft.HardState(term: 3, vote: 1, commit: commit),
            snapshot: Raft.SnapshotMeta(index: snapshotIndex, term: snapshotTerm,
                                        membership: Raft.Membership(voters: [1, 2, 3]), sizeBytes: 0),
            entries: entries)
        return try RaftNode(config: Raft.Config(id: 2, randomSeed: 1), state: state)
    }

    func testRestoredLogAnswersTermsAndEntriesAfterItsSnapshot() throws {
        let node = try restored(snapshotIndex: 5, snapshotTerm: 2,
                            entries: [entry(6, 2, "a"), entry(7, 3, "b"), entry(8, 3, "c")], commit: 7)
        XCTAssertEqual(node.term(at: 5), 2, "the snapshot point")
        XCTAssertNil(node.term(at: 4), "compacted")
        XCTAssertEqual(node.term(at: 7), 3)
        XCTAssertNil(node.term(at: 9), "beyond the log")
        XCTAssertEqual(node.entries(from: 1, through: 100), [entry(6, 2, "a"), entry(7, 3, "b"), entry(8, 3, "c")])
        XCTAssertEqual(node.entries(from: 7, through: 7), [entry(7, 3, "b")])
        XCTAssertEqual(node.entries(from: 8, through: 7), [])
        let status = node.status
        XCTAssertEqual(status.snapshotIndex, 5)
        XCTAssertEqual(status.lastIndex, 8)
        XCTAssertEqual(status.lastTerm, 3)
        XCTAssertEqual(status.commit, 7)
        XCTAssertEqual(status.applied, 5, "entries after the snapshot are applied again")
        XCTAssertEqual(status.stableIndex, 8, "what was loaded is durable")
        XCTAssertEqual(status.term, 3)
        XCTAssertEqual(status.vote, 1)
    }

    func testRestoredCommitIndexIsAtLeastTheSnapshot() throws {
        XCTAssertEqual(try restored(snapshotIndex: 5, snapshotTerm: 2, entries: [entry(6, 2)], commit: 1).status.commit, 5,
                       "a snapshot is always committed")
        XCTAssertEqual(try restored(snapshotIndex: 5, snapshotTerm: 2, entries: [], commit: 0).status.lastTerm, 2)
    }

    func testRestoredLogReappliesCommittedEntries() throws {
        var node = try restored(snapshotIndex: 5, snapshotTerm: 2, entries: [entry(6, 2, "a"), entry(7, 3, "b")], commit: 7)
        XCTAssertTrue(node.hasReady)
        let ready = node.ready()
        XCTAssertEqual(ready.committedEntries, [entry(6, 2, "a"), entry(7, 3, "b")])
        XCTAssertEqual(ready.entries, [], "nothing to persist again")
        XCTAssertNil(ready.hardState)
        XCTAssertEqual(node.status.applied, 7)
    }

    func testAppendBelowCommitIsAcknowledgedWithoutTouchingCommittedEntries() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.settle()
        XCTAssertEqual(cluster.status(2).commit, 3)
        // A malformed append that would overwrite committed entry 3.
        cluster.with(2) { $0.step(msg(1, 2, 2, .append(.init(prevIndex: 2, prevTerm: 2, entries: [entry(3, 3, "other")], commit: 0)))) }
        XCTAssertEqual(trace(cluster.inFlight), ["2->1 AppResp match=3 term=2"], "everything up to its commit matches")
        XCTAssertEqual(cluster.node(2).entries(from: 3, through: 3), [entry(3, 2, "a")])
        cluster.stabilize()
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLateAppendBelowSnapshotIsAcknowledgedNotRejected() throws {
        var cluster = ManualCluster(voters: [1, 2, 3], snapshotEveryEntries: 3)
        cluster.elect(1)
        try cluster.with(1) { try $0.propose(batch: (3...7).map { cmd("c\($0)") }) }
        cluster.settle()
        XCTAssertEqual(cluster.status(2).snapshotIndex, 7)
        XCTAssertNil(cluster.node(2).term(at: 2))
        // A retransmission of the first append arrives late: its entries are compacted here.
        let late = Raft.Message.Append(prevIndex: 2, prevTerm: 2, entries: [entry(3, 2, "c3")], commit: 2)
        cluster.with(2) { $0.step(msg(1, 2, 2, .append(late))) }
        XCTAssertEqual(trace(cluster.inFlight), ["2->1 AppResp match=7 term=2"])
        XCTAssertEqual(cluster.status(2).snapshotIndex, 7)
        cluster.stabilize()
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testCommitIndexNeverMovesBackward() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.settle()
        cluster.with(2) { $0.step(msg(1, 2, 2, .heartbeat(commit: 0, readRound: 0))) }
        cluster.with(2) { $0.step(msg(1, 2, 2, .append(.init(prevIndex: 3, prevTerm: 2, entries: [], commit: 1)))) }
        XCTAssertEqual(cluster.status(2).commit, 3)
    }

    func testFollowerKeepsMatchingEntriesAndTruncatesOnlyFromFirstConflict() throws {
        var node = try makeNode(2, voters: [1, 2, 3])
        node.step(msg(1, 2, 2, .append(.init(prevIndex: 1, prevTerm: 1,
                                              entries: [entry(2, 2), entry(3, 2, "a"), entry(4, 2, "b")], commit: 2))))
        node.advance(node.ready().ack)
        // A later leader resends 3 unchanged and replaces 4.
        node.step(msg(3, 2, 3, .append(.init(prevIndex: 2, prevTerm: 2,
                                              entries: [entry(3, 2, "a"), entry(4, 3, "c")], commit: 2))))
        let ready = node.ready()
        XCTAssertEqual(ready.entries, [entry(4, 3, "c")], "only the suffix from the conflict is rewritten")
        XCTAssertEqual(node.entries(from: 2, through: 4), [entry(2, 2), entry(3, 2, "a"), entry(4, 3, "c")])
        XCTAssertEqual(trace(ready.messagesAfterPersist), ["2->3 AppResp match=4 term=3"])

        // A duplicate of an older, shorter append does not truncate the newer entries.
        node.advance(ready.ack)
        node.step(msg(3, 2, 3, .append(.init(prevIndex: 2, prevTerm: 2, entries: [entry(3, 2, "a")], commit: 2))))
        XCTAssertEqual(node.status.lastIndex, 4)
        XCTAssertEqual(trace(node.ready().messagesAfterPersist), ["2->3 AppResp match=3 term=3"])
    }

    func testRejectionNamesTheEntryToProbeFrom() throws {
        let node = try restored(snapshotIndex: 0, snapshotTerm: 0,
                            entries: [entry(1, 1), entry(2, 1, "a"), entry(3, 2, "b"), entry(4, 2, "c")], commit: 1)
        var follower = node
        // The leader's entry 4 is of term 3, ours of term 2: the hint is our (4, 2), from which
        // the leader goes back to its own last entry of a term <= 2.
        follower.step(msg(1, 2, 3, .append(.init(prevIndex: 4, prevTerm: 3, entries: [], commit: 1))))
        XCTAssertEqual(trace(follower.ready().messagesAfterPersist), ["2->1 AppResp reject=4 hint=(4,2) term=3"])
        // The leader's entry 9 is of term 1: the hint is the last entry of term <= 1.
        var shorter = node
        shorter.step(msg(1, 2, 3, .append(.init(prevIndex: 9, prevTerm: 1, entries: [], commit: 1))))
        XCTAssertEqual(trace(shorter.ready().messagesAfterPersist), ["2->1 AppResp reject=9 hint=(2,1) term=3"])
    }
}
