import RaftCore
import SimKit
import XCTest

/// What must be durable before what may be sent or counted (the `Raft.Ready` contract), and
/// what a member keeps across a crash.
final class DurabilityTests: XCTestCase {
    func testLeaderDoesNotCountItselfUntilDurable() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.stalledDisks = [1, 3]
        try cluster.propose(1, "a")
        // The appends leave at once, in parallel with the leader's own write (thesis §10.2.1).
        XCTAssertEqual(cluster.inFlight.filter(\.isAppend).map(\.to).sorted(), [2, 3])
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).followers[2]?.match, 3)
        XCTAssertEqual(cluster.status(1).stableIndex, 2)
        XCTAssertEqual(cluster.status(1).commit, 2, "2 alone, without the leader's own copy, is no quorum")

        cluster.syncDisk(1)
        XCTAssertEqual(cluster.status(1).stableIndex, 3)
        XCTAssertEqual(cluster.status(1).commit, 3)
        cluster.syncDisk(3)
        cluster.settle()
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func acknowledgementsBeforeSync(faulty: Bool) throws -> (before: [String], after: [String]) {
        var cluster = ManualCluster(voters: [1, 2, 3]) { config in
            if faulty { config.faultyRule = .acknowledgeBeforeDurable }
        }
        cluster.elect(1)
        cluster.stalledDisks = [2]
        try cluster.propose(1, "a")
        cluster.deliver(where: { $0.to == 2 })
        XCTAssertEqual(cluster.status(2).lastIndex, 3)
        XCTAssertEqual(cluster.status(2).stableIndex, 2)
        let before = trace(cluster.inFlight.filter { $0.from == 2 })
        cluster.syncDisk(2)
        let after = trace(cluster.inFlight.filter { $0.from == 2 })
        return (before, after)
    }

    func testFollowerAcknowledgesOnlyAfterPersist() throws {
        let (before, after) = try acknowledgementsBeforeSync(faulty: false)
        XCTAssertEqual(before, [])
        XCTAssertEqual(after, ["2->1 AppResp match=3 term=2"])
        // With the rule broken on purpose the acknowledgement leaves before the sync.
        XCTAssertEqual(try acknowledgementsBeforeSync(faulty: true).before, ["2->1 AppResp match=3 term=2"])
    }

    func testVoteIsSentOnlyAfterItIsDurable() throws {
        var node = try makeNode(2, voters: [1, 2, 3])
        node.step(msg(1, 2, 2, .vote(lastIndex: 1, lastTerm: 1, leadershipTransfer: false)))
        let ready = node.ready()
        XCTAssertEqual(ready.hardState, Raft.HardState(term: 2, vote: 1, commit: 1))
        XCTAssertTrue(ready.hardStateNeedsSync)
        XCTAssertEqual(ready.messagesNow, [])
        XCTAssertEqual(trace(ready.messagesAfterPersist), ["2->1 VoteResp granted=true term=2"])
        XCTAssertEqual(ready.ack.hardStateTerm, 2)

        // Also when the term was durable already and only the vote is new.
        let state = Raft.PersistentState(
            hardState: Raft.HardState(term: 1),
            snapshot: Raft.SnapshotMeta(index: 0, term: 0, membership: Raft.Membership(voters: [1, 2, 3]), sizeBytes: 0),
            entries: [])
        var restarted = try RaftNode(config: Raft.Config(id: 2, randomSeed: 7), state: state)
        restarted.step(msg(3, 2, 1, .vote(lastIndex: 0, lastTerm: 0, leadershipTransfer: false)))
        let second = restarted.ready()
        XCTAssertEqual(second.hardState, Raft.HardState(term: 1, vote: 3, commit: 0))
        XCTAssertTrue(second.hardStateNeedsSync)
        XCTAssertEqual(second.messagesNow, [])
        XCTAssertEqual(trace(second.messagesAfterPersist), ["2->3 VoteResp granted=true term=1"])
    }

    func testMessagesUnderUnpersistedTermWaitForPersist() throws {
        var node = try makeNode(2, voters: [1, 2, 3])
        node.step(msg(1, 2, 2, .heartbeat(commit: 1, readRound: 1)))
        let first = node.ready()
        XCTAssertEqual(first.hardState?.term, 2)
        XCTAssertEqual(first.messagesNow, [], "even a heartbeat answer speaks for term 2")
        XCTAssertEqual(trace(first.messagesAfterPersist), ["2->1 HeartbeatResp round=1 term=2"])

        node.advance(first.ack)
        node.step(msg(1, 2, 2, .heartbeat(commit: 1, readRound: 2)))
        let second = node.ready()
        XCTAssertNil(second.hardState, "hard state is handed out only when it changes")
        XCTAssertEqual(trace(second.messagesNow), ["2->1 HeartbeatResp round=2 term=2"])
        XCTAssertFalse(second.needsPersistence)
    }

    func testCommitOnlyHardStateChangeNeedsNoSync() throws {
        var node = try makeNode(2, voters: [1, 2, 3])
        node.step(msg(1, 2, 2, .append(.init(prevIndex: 1, prevTerm: 1, entries: [entry(2, 2)], commit: 1))))
        node.advance(node.ready().ack)
        node.step(msg(1, 2, 2, .heartbeat(commit: 2, readRound: 1)))
        let ready = node.ready()
        XCTAssertEqual(ready.hardState, Raft.HardState(term: 2, vote: Raft.noNode, commit: 2))
        XCTAssertFalse(ready.hardStateNeedsSync, "losing a commit index costs nothing: it is learnt again")
        XCTAssertEqual(trace(ready.messagesNow), ["2->1 HeartbeatResp round=1 term=2"])
        XCTAssertEqual(ready.committedEntries, [entry(2, 2)])
    }

    func testSingleVoterCommitsOnlyWhenDurable() throws {
        var node = try makeNode(1, voters: [1])
        node.campaign()
        XCTAssertEqual(node.status.role, .candidate, "its own vote counts once durable")
        let vote = node.ready()
        XCTAssertEqual(vote.hardState, Raft.HardState(term: 2, vote: 1, commit: 1))
        node.advance(vote.ack)
        XCTAssertEqual(node.status.role, .leader)
        let first = node.ready()
        XCTAssertEqual(first.entries, [entry(2, 2)])
        XCTAssertEqual(vote.committedEntries.map(\.index), [1], "the founders' entry")
        XCTAssertEqual(node.status.commit, 1)
        node.advance(first.ack)
        XCTAssertEqual(node.status.commit, 2)

        XCTAssertEqual(try node.propose(cmd("a")), 3)
        let second = node.ready()
        XCTAssertEqual(second.entries, [entry(3, 2, "a")])
        XCTAssertEqual(second.committedEntries, [entry(2, 2)])
        XCTAssertEqual(node.status.commit, 2)
        node.advance(second.ack)
        XCTAssertEqual(node.status.commit, 3)
        XCTAssertEqual(node.ready().committedEntries, [entry(3, 2, "a")])
    }

    func testCommittedEntriesHandedOutInBatchesBoundedByApplyBytes() throws {
        var node = try makeNode(1, voters: [1]) { $0.applyBytesMax = 1 }
        node.campaign()
        node.advance(node.ready().ack)  // the vote is durable: it leads
        node.advance(node.ready().ack)  // its no-op is durable
        try node.propose(batch: [cmd("a"), cmd("b"), cmd("c")])
        node.advance(node.ready().ack)  // hands out entry 2 (the no-op)
        var batches: [[Raft.Index]] = []
        while node.hasReady {
            let ready = node.ready()
            batches.append(ready.committedEntries.map(\.index))
            node.advance(ready.ack)
        }
        XCTAssertEqual(batches, [[3], [4], [5]], "at least one entry per batch, in order")
        XCTAssertEqual(node.status.applied, 5)
    }

    func testAckForTruncatedEntriesDoesNotMarkTheirReplacementsDurable() throws {
        var node = try makeNode(2, voters: [1, 2, 3])
        node.step(msg(1, 2, 2, .append(.init(prevIndex: 1, prevTerm: 1, entries: [entry(2, 2, "old")], commit: 1))))
        let first = node.ready()
        // Before that write is durable, the leader of term 3 replaces the entry.
        node.step(msg(3, 2, 3, .append(.init(prevIndex: 1, prevTerm: 1, entries: [entry(2, 3, "new")], commit: 1))))
        let second = node.ready()
        XCTAssertEqual(second.entries, [entry(2, 3, "new")], "the stored suffix is to be replaced")
        node.advance(first.ack)
        XCTAssertEqual(node.status.stableIndex, 1, "the durable entry 2 is of term 2, not the one now in the log")
        node.advance(second.ack)
        XCTAssertEqual(node.status.stableIndex, 2)
    }

    func testRestartResumesTermVoteAndLog() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.settle()
        for id: Raft.NodeID in [2, 1] {
            cluster.crash(id)
            cluster.restart(id)
            let status = cluster.status(id)
            XCTAssertEqual(status.role, .follower, "\(id)")
            XCTAssertEqual(status.term, 2, "\(id)")
            XCTAssertEqual(status.vote, 1, "\(id)")
            XCTAssertEqual(status.lastIndex, 3, "\(id)")
            XCTAssertEqual(status.lastTerm, 2, "\(id)")
            XCTAssertEqual(status.commit, 3, "\(id)")
            XCTAssertEqual(cluster.hosts[id]!.machine.commands, [cmd("a")], "re-applied from the log")
        }
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testRestartedVoterDoesNotVoteTwiceInOneTerm() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        let ask = { (from: Raft.NodeID) in msg(from, 1, 2, .vote(lastIndex: 1, lastTerm: 1, leadershipTransfer: false)) }
        cluster.with(1) { $0.step(ask(2)) }
        XCTAssertEqual(trace(cluster.inFlight), ["1->2 VoteResp granted=true term=2"])
        cluster.drop(where: { _ in true })
        cluster.crash(1)
        cluster.restart(1)
        XCTAssertEqual(cluster.status(1).vote, 2)
        cluster.with(1) { $0.step(ask(3)) }
        XCTAssertEqual(trace(cluster.inFlight), ["1->3 VoteResp granted=false term=2"])
    }

    func testCrashLosesUnsyncedEntriesButNotAcknowledgedOnes() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.settle()
        cluster.stalledDisks = [2]
        try cluster.propose(1, "b")
        cluster.stabilize()
        XCTAssertEqual(cluster.status(2).lastIndex, 4)
        XCTAssertEqual(cluster.status(1).followers[2]?.match, 3, "entry 4 was never acknowledged by 2")
        XCTAssertEqual(cluster.status(1).commit, 4, "1 and 3 hold it")

        cluster.crash(2)
        cluster.stalledDisks = []
        cluster.restart(2)
        XCTAssertEqual(cluster.checker.violations, [])
        XCTAssertEqual(cluster.status(2).lastIndex, 3, "the unsynced entry is gone")
        XCTAssertEqual(cluster.hosts[2]!.machine.commands, [cmd("a")], "the acknowledged one is not")

        cluster.with(1) { $0.reportUnreachable(2) }  // as the host does when the connection drops
        cluster.settle()
        XCTAssertEqual(cluster.status(2).lastIndex, 4)
        XCTAssertEqual(cluster.hosts[2]!.machine.commands, [cmd("a"), cmd("b")])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func persistentState(term: Raft.Term, vote: Raft.NodeID = Raft.noNode, commit: Raft.Index = 0,
                         entries: [Raft.Entry]) -> Raft.PersistentState {
        Raft.PersistentState(
            hardState: Raft.HardState(term: term, vote: vote, commit: commit),
            snapshot: Raft.SnapshotMeta(index: 0, term: 0, membership: Raft.Membership(voters: [1, 2, 3]), sizeBytes: 0),
            entries: entries)
    }

    func testRestartAdoptsTermOfEntriesNewerThanItsHardState() throws {
        // Entries of term 3 reached the disk, the hard state of their batch did not.
        let state = persistentState(term: 2, vote: 1, commit: 1, entries: [entry(1, 1), entry(2, 3, "x")])
        let node = try RaftNode(config: Raft.Config(id: 2, randomSeed: 1), state: state)
        XCTAssertEqual(node.status.term, 3)
        XCTAssertEqual(node.status.vote, Raft.noNode, "no vote in term 3 was ever persisted")
        XCTAssertEqual(node.status.lastIndex, 2)
    }

    func testInconsistentStoredStateIsRefused() {
        func error(_ state: Raft.PersistentState) -> Raft.StateError? {
            do {
                _ = try RaftNode(config: Raft.Config(id: 2, randomSeed: 1), state: state)
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(error(persistentState(term: 1, entries: [entry(1, 1), entry(3, 1)])),
                       .entriesNotContiguous(expected: 2, found: 3))
        XCTAssertEqual(error(persistentState(term: 2, entries: [entry(1, 2), entry(2, 1)])), .termsDecrease(at: 2))
        XCTAssertEqual(error(persistentState(term: 1, commit: 5, entries: [entry(1, 1)])),
                       .commitBeyondLog(commit: 5, lastIndex: 1))
        XCTAssertNil(error(persistentState(term: 1, commit: 1, entries: [entry(1, 1)])))
    }
}
