import RaftCore
import SimKit
import XCTest

/// `Raft.Membership` as a value, and single-server membership changes in a cluster (thesis
/// §4.1, with the fix from the raft-dev "bug in single-server membership changes" thread).
final class MembershipTests: XCTestCase {
    let three = Raft.Membership(voters: [1, 2, 3])

    func applyingError(_ membership: Raft.Membership, _ change: Raft.MembershipChange) -> Raft.MembershipError? {
        do {
            _ = try membership.applying(change)
            return nil
        } catch {
            return error
        }
    }

    func testMembershipApplyingRejectsInvalidChanges() {
        let withLearner = Raft.Membership(voters: [1, 2, 3], learners: [4])
        XCTAssertEqual(applyingError(three, .init(.addLearner, node: Raft.noNode)), .invalidNode)
        XCTAssertEqual(applyingError(three, .init(.promote, node: Raft.noNode)), .invalidNode)
        XCTAssertEqual(applyingError(three, .init(.remove, node: Raft.noNode)), .invalidNode)
        XCTAssertEqual(applyingError(three, .init(.addLearner, node: 2)), .alreadyMember(2))
        XCTAssertEqual(applyingError(withLearner, .init(.addLearner, node: 4)), .alreadyMember(4))
        XCTAssertEqual(applyingError(three, .init(.promote, node: 2)), .notALearner(2))
        XCTAssertEqual(applyingError(three, .init(.promote, node: 9)), .notALearner(9))
        XCTAssertEqual(applyingError(three, .init(.remove, node: 9)), .notAMember(9))
        XCTAssertEqual(applyingError(Raft.Membership(voters: [1], learners: [2]), .init(.remove, node: 1)), .lastVoter(1))
        XCTAssertEqual(applyingError(three, .init(.bootstrap, node: 1)), .notProposable)
    }

    func testMembershipDecodedFromUntrustedBytesIsValidated() throws {
        func error(_ voters: [Raft.NodeID], _ learners: [Raft.NodeID]) -> Raft.MembershipError? {
            do {
                _ = try Raft.Membership(validatingVoters: voters, learners: learners)
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(try Raft.Membership(validatingVoters: [3, 1, 2], learners: [4]),
                       Raft.Membership(voters: [1, 2, 3], learners: [4]))
        XCTAssertEqual(error([1, 1], []), .malformed)
        XCTAssertEqual(error([1], [2, 2]), .malformed)
        XCTAssertEqual(error([0, 1], []), .malformed)
        XCTAssertEqual(error([1], [0]), .malformed)
        XCTAssertEqual(error([1, 2], [2]), .malformed)
    }

    func testMembershipApplyingMovesOneMemberAtATime() throws {
        let added = try three.applying(.init(.addLearner, node: 4, context: cmd("10.0.0.4")))
        XCTAssertEqual(added, Raft.Membership(voters: [1, 2, 3], learners: [4]))
        let promoted = try added.applying(.init(.promote, node: 4))
        XCTAssertEqual(promoted, Raft.Membership(voters: [1, 2, 3, 4]))
        XCTAssertEqual(try promoted.applying(.init(.remove, node: 2)), Raft.Membership(voters: [1, 3, 4]))
        XCTAssertEqual(try added.applying(.init(.remove, node: 4)), three)
        // The last voter may still shed its learners.
        XCTAssertEqual(try Raft.Membership(voters: [1], learners: [2]).applying(.init(.remove, node: 2)),
                       Raft.Membership(voters: [1]))
    }

    func testMembershipIsNormalisedAndQuorumIsStrictMajorityOfVoters() {
        let m = Raft.Membership(voters: [3, 1, 2, 1], learners: [7, 5, 7])
        XCTAssertEqual(m.voters, [1, 2, 3])
        XCTAssertEqual(m.learners, [5, 7])
        XCTAssertEqual(m.all, [1, 2, 3, 5, 7])
        XCTAssertEqual(m.count, 5)
        XCTAssertEqual(m.quorum, 2, "learners do not count")
        XCTAssertTrue(m.isVoter(2) && !m.isLearner(2) && m.contains(2))
        XCTAssertTrue(m.isLearner(5) && !m.isVoter(5) && m.contains(5))
        XCTAssertFalse(m.contains(4))
        XCTAssertEqual((1...6).map { Raft.Membership(voters: (1...$0).map { Raft.NodeID($0) }).quorum }, [1, 2, 2, 3, 3, 4])
        XCTAssertEqual(Raft.Membership.empty.count, 0)
    }

    func testLearnerDoesNotVoteOrCountTowardQuorum() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.add(4, state: .joining)
        cluster.elect(1)
        XCTAssertEqual(try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 4)) }, 3)
        cluster.settle()
        XCTAssertEqual(cluster.status(4).membership, Raft.Membership(voters: [1, 2, 3], learners: [4]))
        XCTAssertEqual(cluster.status(4).commit, 3, "the learner receives the log")

        // It never campaigns...
        cluster.tick(4, times: 50)
        XCTAssertEqual(cluster.status(4).role, .follower)
        XCTAssertEqual(cluster.status(4).term, 2)
        XCTAssertEqual(cluster.inFlight, [])
        // ...and candidates do not ask it.
        cluster.with(2) { $0.campaign() }
        XCTAssertEqual(cluster.inFlight.map(\.to), [1, 3])
        cluster.drop(where: { _ in true })

        // With 2 and 3 stalled, the learner's acknowledgement does not make a quorum.
        cluster.stalledDisks = [2, 3]
        try cluster.propose(1, "x")
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).followers[4]?.match, 4)
        XCTAssertEqual(cluster.status(1).commit, 3)
        cluster.syncDisk(2)
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 4)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testPromotedLearnerCountsTowardQuorum() throws {
        var cluster = ManualCluster(voters: [1, 2])
        cluster.add(3, state: .joining)
        cluster.elect(1)
        try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 3)) }
        cluster.settle()

        // As a learner, 3 does not make {1, 3} a quorum of the voters {1, 2}.
        cluster.stalledDisks = [2]
        try cluster.propose(1, "a")
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).followers[3]?.match, 4)
        XCTAssertEqual(cluster.status(1).commit, 3)
        cluster.syncDisk(2)
        cluster.settle()
        XCTAssertEqual(cluster.status(1).commit, 4)

        XCTAssertEqual(try cluster.with(1) { try $0.proposeMembershipChange(.init(.promote, node: 3)) }, 5)
        cluster.settle()
        XCTAssertEqual(cluster.status(1).membership, Raft.Membership(voters: [1, 2, 3]))
        XCTAssertEqual(cluster.status(3).membership, Raft.Membership(voters: [1, 2, 3]))

        // As a voter it does: {1, 3} is a quorum of {1, 2, 3}.
        cluster.stalledDisks = [2]
        try cluster.propose(1, "b")
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 6)
        cluster.syncDisk(2)
        cluster.settle()
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testNewLeaderRefusesMembershipChangeUntilOwnTermCommitted() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.with(1) { $0.campaign() }
        cluster.deliverOneByOne(until: { $0.status(1).role == .leader })
        XCTAssertEqual(cluster.status(1).commit, 1, "only the founders' entry, of term 1")
        XCTAssertProposalError(.membershipChangeNotReady,
                               try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 4)) })
        XCTAssertEqual(try cluster.propose(1, "commands are not held back"), 3)

        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 3)
        XCTAssertEqual(try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 4)) }, 4)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testOnlyOneUncommittedMembershipChange() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.stalledDisks = [2, 3]  // nothing commits for now
        XCTAssertEqual(try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 4)) }, 3)
        cluster.stabilize()
        XCTAssertProposalError(.membershipChangeInProgress,
                               try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 5)) })
        XCTAssertProposalError(.membershipChangeInProgress,
                               try cluster.with(1) { try $0.proposeMembershipChange(.init(.remove, node: 4)) })
        XCTAssertEqual(cluster.status(1).lastIndex, 3)

        cluster.syncDisk(2)
        cluster.syncDisk(3)
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 3)
        XCTAssertEqual(try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 5)) }, 4)
        XCTAssertEqual(cluster.status(1).membership, Raft.Membership(voters: [1, 2, 3], learners: [4, 5]))
    }

    func testInvalidMembershipChangeIsRefusedWithReason() {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.entryBytesMax = 8 }
        cluster.elect(1)
        XCTAssertProposalError(.invalidMembershipChange(.notALearner(9)),
                               try cluster.with(1) { try $0.proposeMembershipChange(.init(.promote, node: 9)) })
        XCTAssertProposalError(.invalidMembershipChange(.alreadyMember(2)),
                               try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 2)) })
        XCTAssertProposalError(.invalidMembershipChange(.notProposable),
                               try cluster.with(1) { try $0.proposeMembershipChange(.init(.bootstrap, node: 1)) })
        XCTAssertProposalError(.entryTooLarge(bytes: 9), try cluster.with(1) {
            try $0.proposeMembershipChange(.init(.addLearner, node: 4, context: cmd("123456789")))
        })
        XCTAssertEqual(cluster.status(1).lastIndex, 2)
    }

    func testMembershipTakesEffectAtAppendAndRollsBackOnTruncation() throws {
        var cluster = ManualCluster(voters: [1, 2, 3, 4, 5]) { $0.checkQuorum = false }
        cluster.elect(1)
        for peer: Raft.NodeID in [2, 3, 4, 6] { cluster.cut(1, peer) }  // only 5 will hear of the change
        try cluster.with(1) { try $0.proposeMembershipChange(.init(.addLearner, node: 6)) }
        let withSix = Raft.Membership(voters: [1, 2, 3, 4, 5], learners: [6])
        XCTAssertEqual(cluster.status(1).membership, withSix, "the leader adopts it when appending")
        cluster.deliver(where: { $0.to == 5 })
        XCTAssertEqual(cluster.status(5).membership, withSix, "so does a follower, uncommitted")
        XCTAssertEqual(cluster.status(5).commit, 2)

        // 1 vanishes; 2 wins term 3 with 3 and 4, whose logs lack the change.
        cluster.isolate(1)
        cluster.drop(where: { _ in true })
        cluster.elect(2)
        XCTAssertEqual(cluster.status(2).role, .leader)
        XCTAssertEqual(cluster.status(2).term, 3)
        let five = Raft.Membership(voters: [1, 2, 3, 4, 5])
        XCTAssertEqual(cluster.status(5).membership, five, "truncating the entry undoes the change")
        XCTAssertEqual(cluster.node(5).term(at: 3), 3)

        cluster.heal()
        cluster.tick(2)
        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).role, .follower)
        XCTAssertEqual(cluster.status(1).membership, five)
        XCTAssertEqual(cluster.status(1).lastIndex, 3)
        XCTAssertEqual(cluster.node(1).term(at: 3), 3)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    /// Removes leader 1 and returns a copy of its core together with the cluster, with both
    /// followers' acknowledgements of the removal held back for stepping by hand.
    func removeLeader() throws -> (leader: RaftNode, acks: [Raft.Message], cluster: ManualCluster) {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        XCTAssertEqual(try cluster.with(1) { try $0.proposeMembershipChange(.init(.remove, node: 1)) }, 3)
        cluster.deliver(where: { $0.from == 1 })
        let acks = cluster.drop(where: { $0.to == 1 }).sorted { $0.from < $1.from }
        XCTAssertEqual(trace(acks), ["2->1 AppResp match=3 term=2", "3->1 AppResp match=3 term=2"])
        return (cluster.node(1), acks, cluster)
    }

    func testLeaderRemovingItselfStepsDownWhenCommitted() throws {
        // The removal is stepped on a copy of the leader's core, to look at its hand-over.
        var (leader, acks, cluster) = try removeLeader()
        XCTAssertEqual(leader.status.membership, Raft.Membership(voters: [2, 3]))
        XCTAssertEqual(leader.status.role, .leader, "it leads until the removal commits")

        leader.step(acks[0])
        XCTAssertEqual(leader.status.commit, 2, "no longer a voter, it does not count itself: 2 alone is no quorum of {2, 3}")
        XCTAssertEqual(leader.status.role, .leader)

        leader.step(acks[1])
        XCTAssertEqual(leader.status.commit, 3)
        XCTAssertEqual(leader.status.role, .follower)
        XCTAssertEqual(leader.status.term, 2)
        let handOver = leader.ready().messagesNow
        XCTAssertEqual(trace(handOver), ["1->2 TimeoutNow term=2"], "to the first voter holding everything")

        // 2 takes over at once, asking only the remaining voter.
        cluster.with(2) { $0.step(handOver[0]) }
        XCTAssertEqual(trace(cluster.stabilize().filter { $0.from == 2 }).first, "2->3 Vote last=(3,2) transfer term=3")
        XCTAssertEqual(cluster.status(2).role, .leader)
        XCTAssertEqual(cluster.status(2).term, 3)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    /// Once it stepped down, a leader that removed itself has no leader work left over (before
    /// the fix `hasReady` stayed true forever and the host's Ready loop spun).
    func testLeaderThatRemovedItselfHasNoEndlessReady() throws {
        var (leader, acks, _) = try removeLeader()
        for ack in acks { leader.step(ack) }
        XCTAssertEqual(leader.status.role, .follower)
        _ = leader.ready()
        XCTAssertFalse(leader.hasReady)
    }

    func testRemovedMemberCannotDisruptTheCluster() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.with(1) { try $0.proposeMembershipChange(.init(.remove, node: 3)) }
        cluster.settle()
        XCTAssertEqual(cluster.status(1).membership, Raft.Membership(voters: [1, 2]))
        XCTAssertEqual(cluster.status(1).commit, 3)
        XCTAssertEqual(cluster.status(1).followers[3], nil, "the leader stops replicating to it")

        // 3 never learnt of its removal and keeps campaigning, but pre-vote and the lease
        // keep its campaigns from raising anybody's term.
        for _ in 0..<60 {
            cluster.tickAll()
            cluster.stabilize()
        }
        XCTAssertEqual(cluster.status(1).role, .leader)
        for id: Raft.NodeID in [1, 2, 3] { XCTAssertEqual(cluster.status(id).term, 2, "\(id)") }
        XCTAssertEqual(cluster.status(3).lastIndex, 2)
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
