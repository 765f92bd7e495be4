import RaftCore
import SimKit
import XCTest

/// Log replication: proposals, commitment, AppendEntries back-off, pipelining and its bounds
/// (Raft §5.3, §5.4.2; thesis §10.2.1).
final class ReplicationTests: XCTestCase {
    func testProposalIsCommittedAndAppliedEverywhere() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        XCTAssertEqual(try cluster.propose(1, "hello"), 3, "after the founders' entry and the leader's no-op")
        cluster.settle()
        for id: Raft.NodeID in [1, 2, 3] {
            XCTAssertEqual(cluster.status(id).commit, 3, "\(id)")
            XCTAssertEqual(cluster.status(id).applied, 3, "\(id)")
            XCTAssertEqual(cluster.hosts[id]!.machine.commands, [cmd("hello")])
        }
        XCTAssertEqual(cluster.checker.violations, [])
    }

    /// Raft Figure 8: index 2 (term 1) reaches all three members under the leader of term 3,
    /// which must not commit it by counting replicas; it commits with the leader's own no-op.
    func figure8(faulty: Bool) -> (commitWhenOldEntryEverywhere: Raft.Index, cluster: ManualCluster) {
        var cluster = ManualCluster.withLogs([
            1: MemberLog(term: 2, commit: 1, entries: [entry(1, 1), entry(2, 1, "x")]),
            2: MemberLog(term: 2, commit: 1, entries: [entry(1, 1)]),
            3: MemberLog(term: 2, commit: 1, entries: [entry(1, 1)]),
        ]) { config in
            config.appendBytesMax = 1  // one entry per AppendEntries, so index 2 travels alone
            if faulty { config.faultyRule = .commitPriorTermByCounting }
        }
        cluster.with(1) { $0.campaign() }
        cluster.deliverOneByOne(until: { c in
            c.status(1).role == .leader && c.status(1).followers.values.allSatisfy { $0.match == 2 }
        })
        return (cluster.status(1).commit, cluster)
    }

    func testLeaderCommitsOnlyCurrentTermEntriesByCounting() {
        let result = figure8(faulty: false)
        let commit = result.commitWhenOldEntryEverywhere
        var cluster = result.cluster
        XCTAssertEqual(cluster.status(1).term, 3)
        XCTAssertEqual(cluster.status(1).lastIndex, 3, "entry 3 is the new leader's no-op")
        XCTAssertEqual(cluster.status(2).lastIndex, 2)
        XCTAssertEqual(cluster.status(3).lastIndex, 2)
        XCTAssertEqual(commit, 1, "index 2 is on every member but of term 1")

        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 3, "the no-op of term 3 commits, and index 2 with it")
        XCTAssertEqual(cluster.hosts[1]!.machine.commands, [cmd("x")])
        XCTAssertEqual(cluster.checker.violations, [])

        // The same scenario with the rule broken on purpose commits index 2 at that moment.
        XCTAssertEqual(figure8(faulty: true).commitWhenOldEntryEverywhere, 2)
    }

    func testConflictHintSkipsWholeTerm() {
        // Follower 2 holds five entries of term 2 that the new leader (term 3) does not have.
        let stale = (2...6).map { entry($0, 2, "old\($0)") }
        let kept = (2...6).map { entry($0, 1, "new\($0)") }
        var cluster = ManualCluster.withLogs([
            1: MemberLog(term: 2, commit: 1, entries: [entry(1, 1)] + kept),
            2: MemberLog(term: 2, commit: 1, entries: [entry(1, 1)] + stale),
            3: MemberLog(term: 2, commit: 1, entries: [entry(1, 1)]),
        ])
        cluster.with(1) { $0.campaign() }
        let delivered = cluster.stabilize()
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.status(1).term, 3)
        let exchange = trace(delivered.filter {
            ($0.from == 1 && $0.to == 2 && $0.isAppend) || ($0.from == 2 && $0.to == 1 && $0.isAppendResponse)
        })
        XCTAssertEqual(Array(exchange.prefix(4)), [
            "1->2 App prev=(6,1) commit=1 entries=[7/3 noop] term=3",
            "2->1 AppResp reject=6 hint=(1,1) term=3",  // every term-2 entry skipped at once
            "1->2 App prev=(1,1) commit=1 entries=[2/1 \"new2\" 3/1 \"new3\" 4/1 \"new4\" 5/1 \"new5\" 6/1 \"new6\" 7/3 noop] term=3",
            "2->1 AppResp match=7 term=3",
        ])
        XCTAssertEqual(exchange.filter { $0.contains("reject") }.count, 1)
        // The follower's conflicting, uncommitted suffix is replaced by the leader's.
        XCTAssertEqual(cluster.node(2).entries(from: 2, through: 7), cluster.node(1).entries(from: 2, through: 7))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testConflictHintLetsLeaderSkipItsOwnWholeTerm() {
        // Now the follower is behind with entries of an older term (2) than the leader's (3).
        var cluster = ManualCluster.withLogs([
            1: MemberLog(term: 3, commit: 1, entries: [entry(1, 1)] + (2...6).map { entry($0, 3, "n\($0)") }),
            2: MemberLog(term: 3, commit: 1, entries: [entry(1, 1), entry(2, 2, "o2"), entry(3, 2, "o3")]),
            3: MemberLog(term: 3, commit: 1, entries: [entry(1, 1)]),
        ])
        cluster.with(1) { $0.campaign() }
        let delivered = cluster.stabilize()
        let exchange = trace(delivered.filter {
            ($0.from == 1 && $0.to == 2 && $0.isAppend) || ($0.from == 2 && $0.to == 1 && $0.isAppendResponse)
        })
        XCTAssertEqual(exchange.first, "1->2 App prev=(6,3) commit=1 entries=[7/4 noop] term=4")
        XCTAssertEqual(exchange.dropFirst().first, "2->1 AppResp reject=6 hint=(3,2) term=4")
        // The leader has no entry of term ≤ 2 above index 1: it skips its term 3 in one step.
        XCTAssertTrue(exchange.dropFirst(2).first?.hasPrefix("1->2 App prev=(1,1) commit=1 entries=[2/3") == true,
                      "\(exchange)")
        XCTAssertEqual(exchange.filter { $0.contains("reject") }.count, 1)
        XCTAssertEqual(cluster.status(2).lastIndex, 7)
        XCTAssertEqual(cluster.node(2).term(at: 3), 3)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testPipelineBoundedByInflightCount() throws {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.inflightAppendsMax = 2; $0.appendBytesMax = 1 }
        cluster.elect(1)
        XCTAssertEqual(cluster.status(1).followers[2]?.state, "replicate")
        try cluster.with(1) { try $0.propose(batch: (3...7).map { cmd("c\($0)") }) }
        let toTwo = cluster.inFlight(from: 1, to: 2)
        XCTAssertEqual(toTwo.map(\.appendedIndexes), [[3], [4]], "two appends in flight, not five")

        // Each acknowledgement frees one slot.
        cluster.deliver(where: { $0 == toTwo[0] })
        cluster.deliver(where: { $0.from == 2 })
        XCTAssertEqual(cluster.inFlight(from: 1, to: 2).map(\.appendedIndexes), [[4], [5]])

        cluster.settle()
        for id: Raft.NodeID in [1, 2, 3] { XCTAssertEqual(cluster.status(id).commit, 7, "\(id)") }
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testPipelineBoundedByInflightBytes() throws {
        // 76-byte commands are 100-byte entries; 150 bytes of budget admit two messages.
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.inflightBytesMax = 150; $0.appendBytesMax = 1 }
        cluster.elect(1)
        let command = [UInt8](repeating: 0x61, count: 76)
        XCTAssertEqual(Raft.Entry(term: 2, index: 3, payload: .command(command)).sizeBytes, 100)
        try cluster.with(1) { try $0.propose(batch: Array(repeating: command, count: 5)) }
        XCTAssertEqual(cluster.inFlight(from: 1, to: 2).map(\.appendedIndexes), [[3], [4]])

        cluster.settle()
        for id: Raft.NodeID in [1, 2, 3] { XCTAssertEqual(cluster.status(id).commit, 7, "\(id)") }
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testAppendMessagesBoundedByAppendBytes() throws {
        // 50-byte commands are 74-byte entries: two fit in 150 bytes, three do not.
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.appendBytesMax = 150 }
        cluster.elect(1)
        try cluster.with(1) { try $0.propose(batch: Array(repeating: [UInt8](repeating: 0x62, count: 50), count: 5)) }
        XCTAssertEqual(cluster.inFlight(from: 1, to: 2).map(\.appendedIndexes), [[3, 4], [5, 6], [7]])
        cluster.settle()
        XCTAssertEqual(cluster.status(2).commit, 7)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testProbeStateSendsOneAppendAtATime() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.with(1) { $0.reportUnreachable(2) }  // the leader no longer knows what 2 received
        XCTAssertEqual(cluster.status(1).followers[2]?.state, "probe")
        for text in ["a", "b", "c"] { try cluster.propose(1, text) }
        XCTAssertEqual(cluster.inFlight(from: 1, to: 2).map(\.appendedIndexes), [[3]])
        XCTAssertEqual(cluster.inFlight(from: 1, to: 3).count, 3, "3 is still streamed to")

        cluster.deliver(where: { $0.to == 2 })
        cluster.deliver(where: { $0.from == 2 })
        XCTAssertEqual(cluster.status(1).followers[2]?.state, "replicate")
        // The rest in one append, then an empty one carrying the new commit index.
        XCTAssertEqual(cluster.inFlight(from: 1, to: 2).map(\.appendedIndexes), [[4, 5], []])
        cluster.settle()
        XCTAssertEqual(cluster.status(2).commit, 5)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFullPipelineAnsweredOnlyByHeartbeatsLetsOneMoreAppendOut() throws {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.inflightAppendsMax = 2; $0.appendBytesMax = 1 }
        cluster.elect(1)
        cluster.stalledDisks = [2]  // 2 receives, but its acknowledgements wait for its disk
        try cluster.with(1) { try $0.propose(batch: (3...6).map { cmd("c\($0)") }) }
        XCTAssertEqual(cluster.inFlight(from: 1, to: 2).map(\.appendedIndexes), [[3], [4]])
        cluster.deliver(where: { $0.to == 2 })
        cluster.tick(1)
        cluster.deliver(where: { $0.to == 2 && $0.isHeartbeat })
        cluster.deliver(where: { $0.from == 2 && $0.isHeartbeatResponse })
        XCTAssertEqual(cluster.status(1).followers[2]?.state, "replicate")
        XCTAssertEqual(cluster.inFlight(from: 1, to: 2).filter(\.isAppend).map(\.appendedIndexes), [[5]],
                       "the follower is alive: one slot is freed")
        cluster.syncDisk(2)
        cluster.settle()
        XCTAssertEqual(cluster.status(2).commit, 6)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testStalledPipelineFallsBackToProbeAfterHalfAnElectionTimeout() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.stalledDisks = [3]  // no commit, so no later append exposes the gap
        try cluster.propose(1, "a")
        XCTAssertEqual(cluster.drop(where: { $0.to == 2 }).map(\.appendedIndexes), [[3]], "the last append to 2 is lost")
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 2)
        var resentAt: Int?
        for tick in 1...10 {
            cluster.tick(1)
            if resentAt == nil, cluster.inFlight(from: 1, to: 2).contains(where: { $0.appendedIndexes == [3] }) {
                resentAt = tick
                XCTAssertEqual(cluster.status(1).followers[2]?.state, "probe")
            }
            cluster.stabilize()
        }
        XCTAssertEqual(resentAt, 5, "resent once the follower's match stood still for half an election timeout")
        XCTAssertEqual(cluster.status(2).lastIndex, 3)
        XCTAssertEqual(cluster.status(1).commit, 3)
        XCTAssertEqual(cluster.status(1).followers[2]?.state, "replicate")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testHeartbeatCommitIsCappedAtFollowersMatch() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.stalledDisks = [3]  // 3 holds entry 3 but cannot acknowledge it
        try cluster.propose(1, "a")
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 3)
        XCTAssertEqual(cluster.status(1).followers[3]?.match, 2)

        cluster.tick(1)
        XCTAssertEqual(trace(cluster.inFlight.filter(\.isHeartbeat)).sorted(), [
            "1->2 Heartbeat commit=3 round=1 term=2",
            "1->3 Heartbeat commit=2 round=1 term=2",  // never beyond what 3 is known to match
        ])
        cluster.syncDisk(3)
        cluster.settle()
        XCTAssertEqual(cluster.status(3).commit, 3)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFollowerRefusesProposalWithLeaderHint() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        XCTAssertProposalError(.notLeader(leaderHint: nil), try cluster.propose(2, "a"))
        cluster.elect(1)
        XCTAssertProposalError(.notLeader(leaderHint: 1), try cluster.propose(2, "a"))
        XCTAssertProposalError(.notLeader(leaderHint: 1),
                               try cluster.with(3) { try $0.proposeMembershipChange(.init(.addLearner, node: 4)) })
        XCTAssertEqual(cluster.status(2).lastIndex, 2)
        XCTAssertEqual(cluster.inFlight, [], "the core never forwards a proposal itself")
    }

    func testOverloadedLeaderRefusesProposals() throws {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.uncommittedBytesMax = 100 }
        cluster.elect(1)
        let sixty = [UInt8](repeating: 0x63, count: 60)  // an 84-byte entry
        try cluster.with(1) { try $0.propose(sixty) }
        XCTAssertProposalError(.overloaded, try cluster.with(1) { try $0.propose(sixty) })
        XCTAssertProposalError(.overloaded, try cluster.propose(1, ""))
        XCTAssertEqual(cluster.status(1).lastIndex, 3)

        cluster.stabilize()  // commitment releases the budget
        XCTAssertEqual(cluster.status(1).commit, 3)
        XCTAssertEqual(try cluster.with(1) { try $0.propose(sixty) }, 4)
        cluster.stabilize()
        // With nothing uncommitted, even one proposal larger than the whole budget is admitted.
        XCTAssertEqual(try cluster.with(1) { try $0.propose([UInt8](repeating: 0x64, count: 500)) }, 5)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testOversizedEntryRefused() throws {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.entryBytesMax = 8 }
        cluster.elect(1)
        XCTAssertProposalError(.entryTooLarge(bytes: 9), try cluster.propose(1, "123456789"))
        XCTAssertProposalError(.entryTooLarge(bytes: 9),
                               try cluster.with(1) { try $0.propose(batch: [cmd("ok"), cmd("123456789")]) })
        XCTAssertProposalError(.emptyProposal, try cluster.with(1) { try $0.propose(batch: []) })
        XCTAssertEqual(cluster.status(1).lastIndex, 2, "a refused batch appends nothing")
        XCTAssertEqual(try cluster.propose(1, "12345678"), 3)
    }

    /// A follower in replicate state whose append was lost rejects the next one; the leader
    /// must go back (to probing from the follower's match) and resend, not trap. (Before the
    /// fix it tripped the "inflight appends out of order" precondition.)
    func testLeaderResendsAfterLostPipelinedAppendIsRejected() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.propose(1, "a")
        XCTAssertEqual(cluster.drop(where: { $0.to == 3 }).count, 1)
        try cluster.propose(1, "b")
        cluster.settle()
        XCTAssertEqual(cluster.status(3).lastIndex, 4)
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
