import RaftCore
import SimKit
import XCTest

/// Leadership transfer (thesis §3.10): catch the target up, send TimeoutNow, refuse proposals
/// meanwhile, give up after an election timeout.
final class TransferTests: XCTestCase {
    func testTransferToUpToDateVoterSendsTimeoutNow() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.with(1) { try $0.transferLeadership(to: 2) }
        XCTAssertEqual(cluster.status(1).leadTransferee, 2)
        XCTAssertEqual(trace(cluster.inFlight), ["1->2 TimeoutNow term=2"])

        let delivered = trace(cluster.stabilize())
        // The target skips pre-vote, and voters honour the campaign despite the old leader's lease.
        XCTAssertTrue(delivered.contains("2->1 Vote last=(2,2) transfer term=3"), "\(delivered)")
        XCTAssertTrue(delivered.contains("2->3 Vote last=(2,2) transfer term=3"), "\(delivered)")
        XCTAssertTrue(delivered.contains("3->2 VoteResp granted=true term=3"), "\(delivered)")
        XCTAssertFalse(delivered.contains { $0.contains("PreVote") })
        XCTAssertEqual(cluster.status(2).role, .leader)
        XCTAssertEqual(cluster.status(2).term, 3)
        XCTAssertEqual(cluster.status(1).role, .follower)
        XCTAssertEqual(cluster.status(1).leader, 2)
        XCTAssertEqual(cluster.status(1).leadTransferee, Raft.noNode)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testTransferToLaggingVoterCatchesUpFirst() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.stalledDisks = [3]  // 3 cannot make entry 3 durable, so it is not caught up
        try cluster.propose(1, "a")
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 3)
        XCTAssertEqual(cluster.status(1).followers[3]?.match, 2)

        try cluster.with(1) { try $0.transferLeadership(to: 3) }
        XCTAssertEqual(cluster.status(1).leadTransferee, 3)
        XCTAssertEqual(trace(cluster.inFlight), ["1->3 App prev=(3,2) commit=3 entries=[] term=2"], "catch up first")
        let beforeSync = cluster.stabilize()
        XCTAssertFalse(beforeSync.contains(where: \.isTimeoutNow), "\(trace(beforeSync))")
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.status(3).role, .follower)

        cluster.syncDisk(3)  // its acknowledgements leave: now it holds everything
        let delivered = trace(cluster.stabilize())
        let caughtUp = try XCTUnwrap(delivered.firstIndex(of: "3->1 AppResp match=3 term=2"))
        let timeoutNow = try XCTUnwrap(delivered.firstIndex(of: "1->3 TimeoutNow term=2"))
        XCTAssertLessThan(caughtUp, timeoutNow)
        XCTAssertEqual(cluster.status(3).role, .leader)
        XCTAssertEqual(cluster.status(3).term, 3)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testProposalsRefusedDuringTransfer() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.stalledDisks = [3]
        try cluster.propose(1, "a")
        cluster.stabilize()
        try cluster.with(1) { try $0.transferLeadership(to: 3) }

        XCTAssertProposalError(.transferInProgress, try cluster.propose(1, "b"))
        XCTAssertProposalError(.transferInProgress,
                               try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 4)) })
        XCTAssertEqual(cluster.status(1).lastIndex, 3)

        cluster.syncDisk(3)
        cluster.stabilize()
        XCTAssertProposalError(.notLeader(leaderHint: 3), try cluster.propose(1, "b"))
        XCTAssertEqual(try cluster.propose(3, "b"), 5, "the new leader takes proposals after its no-op")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testTransferAbortsAfterElectionTimeout() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.stalledDisks = [3]  // 3 never catches up while its disk is stuck
        try cluster.propose(1, "a")
        cluster.stabilize()
        try cluster.with(1) { try $0.transferLeadership(to: 3) }

        for _ in 0..<9 {
            cluster.tick(1)
            cluster.stabilize()
        }
        XCTAssertEqual(cluster.status(1).leadTransferee, 3)
        cluster.tick(1)
        XCTAssertEqual(cluster.status(1).leadTransferee, Raft.noNode, "abandoned after an election timeout")
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(try cluster.propose(1, "b"), 4)

        // Catching up later no longer triggers a hand-over.
        cluster.syncDisk(3)
        let delivered = cluster.stabilize()
        XCTAssertFalse(delivered.contains(where: \.isTimeoutNow))
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testTransferTargetMustBeAnotherVoter() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.add(4, state: .joining)
        XCTAssertProposalError(.notLeader(leaderHint: nil), try cluster.with(1) { try $0.transferLeadership(to: 2) })
        cluster.elect(1)
        try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 4)) }
        cluster.settle()
        XCTAssertProposalError(.notLeader(leaderHint: 1), try cluster.with(2) { try $0.transferLeadership(to: 3) })
        XCTAssertProposalError(.invalidTransferTarget(1), try cluster.with(1) { try $0.transferLeadership(to: 1) })
        XCTAssertProposalError(.invalidTransferTarget(9), try cluster.with(1) { try $0.transferLeadership(to: 9) })
        XCTAssertProposalError(.invalidTransferTarget(4), try cluster.with(1) { try $0.transferLeadership(to: 4) })
        XCTAssertEqual(cluster.status(1).leadTransferee, Raft.noNode)
        XCTAssertEqual(cluster.inFlight, [])
    }

    func testTimeoutNowHonouredOnlyFromCurrentLeader() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.with(2) { $0.step(msg(3, 2, 2, .timeoutNow)) }
        XCTAssertEqual(cluster.status(2).role, .follower)
        XCTAssertEqual(cluster.status(2).term, 2)
        XCTAssertEqual(cluster.inFlight, [])

        cluster.with(2) { $0.step(msg(1, 2, 2, .timeoutNow)) }
        XCTAssertEqual(cluster.status(2).role, .candidate)
        XCTAssertEqual(cluster.status(2).term, 3)
    }
}
