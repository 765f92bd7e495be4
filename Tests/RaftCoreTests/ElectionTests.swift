import RaftCore
import SimKit
import XCTest

/// Elections: pre-vote, votes, the leader's lease, CheckQuorum, randomized timeouts (Raft §5.2,
/// thesis §9.6).
final class ElectionTests: XCTestCase {
    func testCampaignRunsPreVoteRoundThenVoteRound() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.with(1) { $0.campaign() }
        XCTAssertEqual(cluster.status(1).role, .preCandidate)
        XCTAssertEqual(cluster.status(1).term, 1, "a pre-candidate keeps its term (1, the founders' entry's)")

        let delivered = trace(cluster.stabilize())
        XCTAssertEqual(Array(delivered.prefix(8)), [
            "1->2 PreVote last=(1,1) term=2",
            "1->3 PreVote last=(1,1) term=2",
            "2->1 PreVoteResp granted=true term=2",
            "3->1 PreVoteResp granted=true term=2",
            "1->2 Vote last=(1,1) term=2",
            "1->3 Vote last=(1,1) term=2",
            "2->1 VoteResp granted=true term=2",
            "3->1 VoteResp granted=true term=2",
        ])
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.status(1).term, 2)
        // A new leader's first entry is a no-op of its own term.
        XCTAssertEqual(cluster.node(1).entries(from: 2, through: 9), [entry(2, 2)])
        XCTAssertEqual(cluster.status(1).commit, 2)
        for id: Raft.NodeID in [2, 3] {
            XCTAssertEqual(cluster.status(id).role, .follower)
            XCTAssertEqual(cluster.status(id).term, 2)
            XCTAssertEqual(cluster.status(id).vote, 1)
            XCTAssertEqual(cluster.status(id).leader, 1)
        }
        // Followers learn the commit index with the next append or heartbeat.
        cluster.tick(1)
        cluster.stabilize()
        for id: Raft.NodeID in [2, 3] { XCTAssertEqual(cluster.status(id).commit, 2, "\(id)") }
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testPreVoteDoesNotRaiseTerm() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tick(3, times: 50)  // several election timeouts
        XCTAssertEqual(cluster.status(3).role, .preCandidate)
        XCTAssertEqual(cluster.status(3).term, 2)
        XCTAssertTrue(cluster.log.contains("dropped 3->1 PreVote last=(2,2) term=3"), "\(cluster.log)")

        // Back from the partition it cannot depose the leader: it simply follows again.
        cluster.heal()
        cluster.tick(1)
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.status(1).term, 2)
        XCTAssertEqual(cluster.status(3).role, .follower)
        XCTAssertEqual(cluster.status(3).term, 2)
        XCTAssertEqual(cluster.status(3).leader, 1)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testWithoutPreVoteIsolatedMemberRaisesTermAndDeposesLeader() {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.preVote = false }
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tick(3, times: 50)
        XCTAssertEqual(cluster.status(3).role, .candidate)
        XCTAssertGreaterThan(cluster.status(3).term, 3)
        let raised = cluster.status(3).term

        cluster.heal()
        cluster.tick(1)
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).role, .follower, "the contrast pre-vote exists for")
        XCTAssertEqual(cluster.status(1).term, raised)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testPreVoteRefusedToStaleLogWithoutRaisingAnyTerm() throws {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.checkQuorum = false }
        cluster.elect(1)
        cluster.cut(1, 3)  // 3 misses entry 3
        try cluster.propose(1, "a")
        cluster.stabilize()
        cluster.heal()
        XCTAssertEqual(cluster.status(1).commit, 3)
        XCTAssertEqual(cluster.status(3).lastIndex, 2)

        cluster.with(3) { $0.campaign() }
        let replies = cluster.stabilize().filter { $0.to == 3 }
        XCTAssertEqual(trace(replies), [
            "1->3 PreVoteResp granted=false term=2",
            "2->3 PreVoteResp granted=false term=2",
        ])
        XCTAssertEqual(cluster.status(3).role, .follower)
        for id: Raft.NodeID in [1, 2, 3] { XCTAssertEqual(cluster.status(id).term, 2, "\(id)") }
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testVoterRejectsCandidateWithStaleLog() throws {
        // No pre-vote and no lease, so the stale candidate's vote requests reach the voters.
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.checkQuorum = false; $0.preVote = false }
        cluster.elect(1)
        cluster.cut(1, 3)  // 3 misses entry 3
        try cluster.propose(1, "a")
        cluster.stabilize()
        cluster.heal()
        XCTAssertEqual(cluster.status(3).lastIndex, 2)

        cluster.with(3) { $0.campaign() }
        XCTAssertEqual(trace(cluster.inFlight), [
            "3->1 Vote last=(2,2) term=3",
            "3->2 Vote last=(2,2) term=3",
        ])
        let replies = cluster.stabilize().filter { $0.to == 3 }
        XCTAssertEqual(trace(replies), [
            "1->3 VoteResp granted=false term=3",
            "2->3 VoteResp granted=false term=3",
        ])
        XCTAssertEqual(cluster.status(3).role, .follower, "a candidate refused by a majority gives up")
        for id: Raft.NodeID in [1, 2] {
            XCTAssertEqual(cluster.status(id).term, 3)
            XCTAssertEqual(cluster.status(id).vote, Raft.noNode)
        }
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testVoterGrantsAtMostOneVotePerTerm() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        let ask = { (from: Raft.NodeID) in msg(from, 1, 2, .vote(lastIndex: 1, lastTerm: 1, leadershipTransfer: false)) }
        cluster.with(1) { $0.step(ask(2)) }
        cluster.with(1) { $0.step(ask(3)) }
        cluster.with(1) { $0.step(ask(2)) }  // a retransmission is granted again
        XCTAssertEqual(trace(cluster.inFlight), [
            "1->2 VoteResp granted=true term=2",
            "1->3 VoteResp granted=false term=2",
            "1->2 VoteResp granted=true term=2",
        ])
        XCTAssertEqual(cluster.status(1).vote, 2)
    }

    func testFollowerInLeaseIgnoresPreVote() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        let preVote = msg(3, 2, 3, .preVote(lastIndex: 9, lastTerm: 2))
        cluster.with(2) { $0.step(preVote) }
        XCTAssertEqual(cluster.inFlight, [], "no answer while the leader's lease holds")
        XCTAssertEqual(cluster.status(2).term, 2)
        XCTAssertEqual(cluster.status(2).leader, 1)

        // Once it has not heard from the leader for an election timeout, the lease is over.
        cluster.tick(2, times: 10)
        cluster.with(2) { $0.step(preVote) }
        let answers = cluster.inFlight(from: 2, to: 3).filter {
            if case .preVoteResponse = $0.kind { return true } else { return false }
        }
        XCTAssertEqual(trace(answers), ["2->3 PreVoteResp granted=true term=3"])
        XCTAssertEqual(cluster.status(2).term, 2, "granting a pre-vote does not change the term")
    }

    func testVoterInLeaseIgnoresVoteUnlessLeadershipTransfer() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.with(2) { $0.step(msg(3, 2, 3, .vote(lastIndex: 2, lastTerm: 2, leadershipTransfer: false))) }
        XCTAssertEqual(cluster.inFlight, [])
        XCTAssertEqual(cluster.status(2).term, 2)

        cluster.with(2) { $0.step(msg(3, 2, 3, .vote(lastIndex: 2, lastTerm: 2, leadershipTransfer: true))) }
        XCTAssertEqual(trace(cluster.inFlight), ["2->3 VoteResp granted=true term=3"])
        XCTAssertEqual(cluster.status(2).term, 3)
        XCTAssertEqual(cluster.status(2).vote, 3)
    }

    func testLeaderIgnoresCampaignsDuringItsLease() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.with(1) { $0.step(msg(3, 1, 3, .preVote(lastIndex: 9, lastTerm: 2))) }
        cluster.with(1) { $0.step(msg(3, 1, 3, .vote(lastIndex: 9, lastTerm: 2, leadershipTransfer: false))) }
        XCTAssertEqual(cluster.inFlight, [])
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.status(1).term, 2)
    }

    func testCheckQuorumLeaderStepsDownWithinElectionTimeout() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(1)
        cluster.tick(1, times: 9)
        XCTAssertEqual(cluster.status(1).role, .leader)
        cluster.tick(1)  // the 10th tick: nobody answered for an election timeout
        XCTAssertEqual(cluster.status(1).role, .follower)
        XCTAssertEqual(cluster.status(1).term, 2, "stepping down does not raise the term")
        XCTAssertEqual(cluster.status(1).leader, Raft.noNode)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLeaderHearingFromQuorumKeepsLeadership() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(3)  // one follower missing is fine
        for _ in 0..<60 {
            cluster.tickAll()
            cluster.stabilize()
        }
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.status(1).term, 2)
        XCTAssertEqual(cluster.status(2).term, 2)
        XCTAssertEqual(cluster.status(2).leader, 1)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testElectionTimeoutIsRandomizedFromSeedWithinOneToTwoTimeouts() {
        func ticksUntilCampaign(seed: UInt64) -> Int {
            var cluster = ManualCluster(voters: [1, 2, 3]) { $0.randomSeed = seed }
            for tick in 1...100 {
                cluster.tick(1)
                if cluster.status(1).role != .follower { return tick }
            }
            return -1
        }
        let counts = (1...40).map { ticksUntilCampaign(seed: $0) }
        for count in counts { XCTAssertTrue((10..<20).contains(count), "\(count) outside 10..<20") }
        XCTAssertGreaterThan(Set(counts).count, 3, "timeouts should differ between seeds")
        XCTAssertEqual(counts, (1...40).map { ticksUntilCampaign(seed: $0) }, "same seed, same timeout")
    }

    func testDeposedLeaderStepsDownOnHearingHigherTerm() {
        // Without CheckQuorum the isolated leader keeps its role until it hears of term 3.
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.checkQuorum = false }
        cluster.elect(1)
        cluster.isolate(1)
        cluster.elect(2)
        XCTAssertEqual(cluster.status(2).role, .leader)
        XCTAssertEqual(cluster.status(2).term, 3)
        XCTAssertEqual(cluster.status(1).role, .leader)

        cluster.heal()
        cluster.tick(1)  // its heartbeats of term 2 are answered with term 3
        let answers = trace(cluster.stabilize().filter { $0.to == 1 && $0.isHeartbeatResponse })
        XCTAssertEqual(answers.sorted(), ["2->1 HeartbeatResp round=0 term=3", "3->1 HeartbeatResp round=0 term=3"])
        XCTAssertEqual(cluster.status(1).role, .follower)
        XCTAssertEqual(cluster.status(1).term, 3)
        cluster.tick(2)
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).leader, 2)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFollowerToldLeaderIsUnreachableCampaignsAtNextTick() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.with(2) { $0.reportUnreachable(1) }
        XCTAssertEqual(cluster.status(2).role, .follower)
        cluster.tick(2)
        XCTAssertEqual(cluster.status(2).role, .preCandidate)
        XCTAssertEqual(trace(cluster.inFlight), [
            "2->1 PreVote last=(2,2) term=3",
            "2->3 PreVote last=(2,2) term=3",
        ])
    }

    func testSingleVoterElectsItself() {
        var cluster = ManualCluster(voters: [1])
        cluster.tick(1, times: 20)
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.status(1).term, 2)
        XCTAssertEqual(cluster.status(1).commit, 2)
        XCTAssertEqual(cluster.inFlight, [])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    /// When the leader's connection closes on every follower at once, the followers drop its
    /// lease and campaign staggered by rank: the first one wins at its next tick, with the
    /// others' votes, and no vote is split.
    func testLeaderConnectionClosedHintElectsRankedFollowerAtOnce() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.crash(1)
        cluster.with(2) { $0.reportUnreachable(1) }
        cluster.with(3) { $0.reportUnreachable(1) }
        XCTAssertEqual(cluster.status(2).leader, Raft.noNode, "the lease of a gone leader ends")
        cluster.tick(2)
        cluster.tick(3)
        cluster.stabilize()
        XCTAssertEqual(cluster.status(2).role, .leader, "rank 0 campaigns at its next tick and wins")
        XCTAssertEqual(cluster.status(3).leader, 2)
        XCTAssertEqual(cluster.status(2).term, 3, "one election, no split vote")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    /// A wrong hint (the leader is alive and reachable by the others) disturbs nothing: the
    /// pre-vote fails against voters still inside the leader's lease.
    func testFalseLeaderUnreachableHintDoesNotDisturbTheLeader() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.with(2) { $0.reportUnreachable(1) }
        cluster.tick(2)
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(cluster.status(1).term, 2)
        XCTAssertEqual(cluster.status(3).term, 2)
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
