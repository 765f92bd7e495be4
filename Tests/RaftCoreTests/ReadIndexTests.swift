import RaftCore
import SimKit
import XCTest

/// Linearizable reads through ReadIndex (thesis §6.4).
final class ReadIndexTests: XCTestCase {
    func readStates(_ cluster: ManualCluster) -> [String] {
        cluster.readStates.map { "\($0.node): req=\($0.state.requestID) index=\($0.state.index.map(String.init) ?? "none")" }
    }

    func testReadIndexWaitsForHeartbeatQuorum() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.with(1) { try $0.readIndex(requestID: 7) }
        XCTAssertEqual(readStates(cluster), [], "not before a quorum confirms the leadership")
        XCTAssertEqual(trace(cluster.inFlight.filter(\.isHeartbeat)).sorted(), [
            "1->2 Heartbeat commit=2 round=1 term=2",
            "1->3 Heartbeat commit=2 round=1 term=2",
        ])

        // A write committed meanwhile does not change the answer: the read index is the commit
        // index when the read arrived.
        try cluster.propose(1, "later")
        cluster.deliver(where: { $0.to == 2 && $0.isHeartbeat })
        cluster.deliver(where: { $0.from == 2 && $0.isHeartbeatResponse })
        XCTAssertEqual(readStates(cluster), ["1: req=7 index=2"], "the leader plus 2 are a quorum")
        cluster.stabilize()
        XCTAssertEqual(readStates(cluster), ["1: req=7 index=2"], "answered once")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testReadIndexFromFollowerAsksLeader() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.with(2) { try $0.readIndex(requestID: 9) }
        XCTAssertEqual(trace(cluster.inFlight), ["2->1 ReadIndex req=9 term=2"])
        let delivered = trace(cluster.stabilize())
        let answer = try XCTUnwrap(delivered.firstIndex(of: "1->2 ReadIndexResp req=9 index=2 term=2"))
        let confirmations = delivered.indices.filter { delivered[$0].contains("HeartbeatResp round=1") }
        XCTAssertFalse(confirmations.isEmpty)
        XCTAssertLessThan(confirmations.min()!, answer, "answered only after a heartbeat round was acknowledged")
        XCTAssertEqual(readStates(cluster), ["2: req=9 index=2"])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testReadIndexDeferredUntilLeaderCommitsOwnTerm() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.with(1) { $0.campaign() }
        cluster.deliverOneByOne(until: { $0.status(1).role == .leader })
        XCTAssertEqual(cluster.status(1).commit, 1, "the new leader's no-op (index 2) is not committed yet")
        try cluster.with(1) { try $0.readIndex(requestID: 5) }
        XCTAssertEqual(cluster.inFlight.filter(\.isHeartbeat), [], "no confirmation round started yet")

        cluster.stabilize()
        XCTAssertEqual(cluster.status(1).commit, 2)
        XCTAssertEqual(readStates(cluster), ["1: req=5 index=2"], "the index covers the own-term no-op")
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testDeposedLeaderFailsPendingReads() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.with(3) { try $0.readIndex(requestID: 31) }
        cluster.deliver(where: { $0.to == 1 })
        try cluster.with(1) { try $0.readIndex(requestID: 11) }
        XCTAssertEqual(cluster.drop(where: \.isHeartbeat).count, 4, "two confirmation rounds, both lost")

        // Nobody answers for an election timeout: CheckQuorum deposes the leader.
        cluster.isolate(1)
        cluster.tick(1, times: 9)
        cluster.heal()
        XCTAssertEqual(readStates(cluster), [])
        cluster.tick(1)
        XCTAssertEqual(cluster.status(1).role, .follower)
        XCTAssertEqual(readStates(cluster), ["1: req=11 index=none"])
        XCTAssertEqual(trace(cluster.inFlight), ["1->3 ReadIndexResp req=31 index=none term=2"])
        cluster.stabilize()
        XCTAssertEqual(readStates(cluster), ["1: req=11 index=none", "3: req=31 index=none"])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testReadIndexWithoutKnownLeaderIsRefused() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        XCTAssertThrowsError(try cluster.with(2) { try $0.readIndex(requestID: 1) }) { error in
            XCTAssertEqual(error as? RaftNode.ReadError, .noLeader)
        }
        XCTAssertEqual(cluster.inFlight, [])
    }

    func testFollowerAskedForReadIndexAnswersNone() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.with(2) { $0.step(msg(3, 2, 2, .readIndex(requestID: 4))) }
        XCTAssertEqual(trace(cluster.inFlight), ["2->3 ReadIndexResp req=4 index=none term=2"])
    }

    func testPendingReadsBoundedAtLeader() throws {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.readRequestsPendingMax = 2 }
        cluster.elect(1)
        try cluster.with(1) { try $0.readIndex(requestID: 1) }
        try cluster.with(1) { try $0.readIndex(requestID: 2) }
        XCTAssertThrowsError(try cluster.with(1) { try $0.readIndex(requestID: 3) }) { error in
            XCTAssertEqual(error as? RaftNode.ReadError, .overloaded)
        }
        cluster.drop(where: \.isHeartbeat)
        cluster.with(1) { $0.step(msg(2, 1, 2, .readIndex(requestID: 4))) }
        XCTAssertEqual(trace(cluster.inFlight), ["1->2 ReadIndexResp req=4 index=none term=2"], "refused, not queued")

        cluster.drop(where: { _ in true })
        cluster.tick(1)  // the next heartbeat round confirms the two waiting reads
        cluster.stabilize()
        XCTAssertEqual(readStates(cluster), ["1: req=1 index=2", "1: req=2 index=2"])
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testSingleVoterServesReadAtOnce() throws {
        var cluster = ManualCluster(voters: [1])
        cluster.tick(1, times: 20)
        XCTAssertEqual(cluster.status(1).role, .leader)
        try cluster.with(1) { try $0.readIndex(requestID: 8) }
        XCTAssertEqual(readStates(cluster), ["1: req=8 index=2"])
    }

    func testForwardedReadFailsWhenLeaderChanges() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.with(2) { try $0.readIndex(requestID: 21) }
        XCTAssertEqual(cluster.drop(where: { _ in true }).count, 1, "the request is lost with the old leader")
        // 2 hears of a new term: the old leader's answer will never come.
        cluster.with(2) { $0.step(msg(3, 2, 3, .heartbeat(commit: 2, readRound: 0))) }
        XCTAssertEqual(readStates(cluster), ["2: req=21 index=none"])
        XCTAssertEqual(cluster.status(2).leader, 3)
    }

    func testUnsolicitedReadIndexAnswerIsIgnored() {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.with(2) { $0.step(msg(1, 2, 2, .readIndexResponse(requestID: 99, index: 2))) }
        XCTAssertEqual(readStates(cluster), [], "2 never asked for request 99")
    }

    func testForwardedReadsBoundedAtFollower() throws {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.readRequestsPendingMax = 2 }
        cluster.elect(1)
        try cluster.with(2) { try $0.readIndex(requestID: 1) }
        try cluster.with(2) { try $0.readIndex(requestID: 2) }
        XCTAssertThrowsError(try cluster.with(2) { try $0.readIndex(requestID: 3) }) { error in
            XCTAssertEqual(error as? RaftNode.ReadError, .overloaded)
        }
        cluster.stabilize()
        XCTAssertEqual(readStates(cluster), ["2: req=1 index=2", "2: req=2 index=2"])
        try cluster.with(2) { try $0.readIndex(requestID: 3) }  // answered requests free their slots
        cluster.stabilize()
        XCTAssertEqual(readStates(cluster).last, "2: req=3 index=2")
    }
}
