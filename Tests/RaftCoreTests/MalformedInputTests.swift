import RaftCore
import SimKit
import XCTest

/// "Nothing a peer sends can crash it": malformed, misaddressed and out-of-place messages are
/// ignored (or clamped), and the member keeps working afterwards.
final class MalformedInputTests: XCTestCase {
    /// The parts of a member's status a stray message must not change.
    struct Essentials: Equatable {
        var role: Raft.Role, term: Raft.Term, vote: Raft.NodeID, leader: Raft.NodeID
        var commit: Raft.Index, lastIndex: Raft.Index, lastTerm: Raft.Term, snapshotIndex: Raft.Index
        var membership: Raft.Membership
        var followers: [Raft.NodeID: String]

        init(_ s: Raft.Status) {
            (role, term, vote, leader) = (s.role, s.term, s.vote, s.leader)
            (commit, lastIndex, lastTerm, snapshotIndex) = (s.commit, s.lastIndex, s.lastTerm, s.snapshotIndex)
            membership = s.membership
            followers = s.followers.mapValues { "\($0.state) match=\($0.match) next=\($0.next)" }
        }
    }

    /// A three-member cluster led by 1 (term 2) with "a" committed everywhere at index 3 and
    /// nothing in flight.
    func settledCluster() throws -> ManualCluster {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.settle()
        return cluster
    }

    /// Steps `message` into its addressee and asserts that nothing changed and nothing was sent.
    func assertIgnored(_ message: Raft.Message, by id: Raft.NodeID, in cluster: inout ManualCluster,
                       file: StaticString = #filePath, line: UInt = #line) {
        let before = Essentials(cluster.status(id))
        cluster.with(id) { $0.step(message) }
        XCTAssertEqual(Essentials(cluster.status(id)), before, TraceFormat.message(message), file: file, line: line)
        XCTAssertEqual(trace(cluster.inFlight), [], TraceFormat.message(message), file: file, line: line)
        cluster.drop(where: { _ in true })
    }

    /// The cluster still commits and applies a new command everywhere.
    func assertStillWorks(_ cluster: inout ManualCluster, file: StaticString = #filePath, line: UInt = #line) throws {
        let index = try cluster.propose(1, "still works")
        cluster.settle()
        for id: Raft.NodeID in [1, 2, 3] {
            XCTAssertEqual(cluster.status(id).commit, index, "\(id)", file: file, line: line)
        }
        XCTAssertEqual(cluster.checker.violations, [], file: file, line: line)
    }

    func testAppendWithNonContiguousEntriesIsIgnored() throws {
        var cluster = try settledCluster()
        let append = { (entries: [Raft.Entry]) in
            msg(1, 2, 2, .append(.init(prevIndex: 3, prevTerm: 2, entries: entries, commit: 3)))
        }
        assertIgnored(append([entry(5, 2, "gap")]), by: 2, in: &cluster)
        assertIgnored(append([entry(4, 2, "x"), entry(6, 2, "gap")]), by: 2, in: &cluster)
        assertIgnored(append([entry(4, 2, "x"), entry(4, 2, "twice")]), by: 2, in: &cluster)
        assertIgnored(append([entry(3, 2, "backwards")]), by: 2, in: &cluster)
        assertIgnored(append([entry(4, 3, "from a term the leader has not reached")]), by: 2, in: &cluster)
        assertIgnored(append([entry(4, 2, "x"), entry(5, 1, "term goes down")]), by: 2, in: &cluster)
        assertIgnored(append([entry(4, 1, "below prevTerm")]), by: 2, in: &cluster)
        XCTAssertEqual(cluster.node(2).entries(from: 1, through: 9), cluster.node(1).entries(from: 1, through: 9))
        try assertStillWorks(&cluster)
    }

    func testSnapshotChunkWithInconsistentBoundsIsIgnored() throws {
        var cluster = try settledCluster()
        let meta = Raft.SnapshotMeta(index: 9, term: 1, membership: Raft.Membership(voters: [1, 2, 3]), sizeBytes: 32)
        let chunk = { (offset: Int, length: Int, data: Int) in
            msg(1, 2, 2, .snapshotChunk(.init(meta: meta, offset: offset, length: length,
                                               data: [UInt8](repeating: 7, count: data))))
        }
        assertIgnored(chunk(0, 16, 15), by: 2, in: &cluster)  // data shorter than its length
        assertIgnored(chunk(0, 16, 17), by: 2, in: &cluster)  // and longer
        assertIgnored(chunk(24, 16, 16), by: 2, in: &cluster)  // past the snapshot's end
        assertIgnored(chunk(-16, 16, 16), by: 2, in: &cluster)
        assertIgnored(chunk(0, -1, 0), by: 2, in: &cluster)
        assertIgnored(chunk(.max, 1, 1), by: 2, in: &cluster)  // offset + length would overflow
        var negative = meta
        negative.sizeBytes = -1
        assertIgnored(msg(1, 2, 2, .snapshotChunk(.init(meta: negative, offset: 0, length: 0))), by: 2, in: &cluster)
        try assertStillWorks(&cluster)
    }

    func testMessageToAnotherMemberIsIgnored() throws {
        var cluster = try settledCluster()
        assertIgnored(msg(1, 3, 5, .heartbeat(commit: 2, readRound: 9)), by: 2, in: &cluster)
        assertIgnored(msg(3, 1, 5, .vote(lastIndex: 9, lastTerm: 5, leadershipTransfer: true)), by: 2, in: &cluster)
        try assertStillWorks(&cluster)
    }

    func testMessageFromNodeZeroOrFromItselfIsIgnored() throws {
        var cluster = try settledCluster()
        assertIgnored(msg(Raft.noNode, 2, 5, .vote(lastIndex: 9, lastTerm: 5, leadershipTransfer: true)), by: 2, in: &cluster)
        assertIgnored(msg(Raft.noNode, 2, 2, .append(.init(prevIndex: 3, prevTerm: 2, entries: [entry(4, 2, "x")], commit: 4))),
                      by: 2, in: &cluster)
        assertIgnored(msg(2, 2, 5, .timeoutNow), by: 2, in: &cluster)
        assertIgnored(msg(1, 1, 2, .appendResponse(.accepted(matchIndex: 3))), by: 1, in: &cluster)
        try assertStillWorks(&cluster)
    }

    func testAcknowledgementBeyondLeadersLogIsIgnored() throws {
        var cluster = try settledCluster()
        cluster.stalledDisks = [2, 3]
        try cluster.propose(1, "pending")  // index 4, not acknowledged by anyone yet
        cluster.stabilize()
        assertIgnored(msg(2, 1, 2, .appendResponse(.accepted(matchIndex: 99))), by: 1, in: &cluster)
        assertIgnored(msg(2, 1, 2, .snapshotResponse(.init(snapshotIndex: 99, receivedBytes: 5, matchIndex: 99))),
                      by: 1, in: &cluster)
        XCTAssertEqual(cluster.status(1).commit, 3)
        cluster.syncDisk(2)
        cluster.syncDisk(3)
        try assertStillWorks(&cluster)
    }

    func testRejectionHintBeyondLeadersLogIsClamped() throws {
        var cluster = try settledCluster()
        cluster.with(1) { $0.reportUnreachable(2) }  // probe state: next = 4
        // Numbers no correct peer could send are dropped unread...
        assertIgnored(msg(2, 1, 2, .appendResponse(.rejected(rejectedIndex: 3, hintIndex: .max, hintTerm: .max))),
                      by: 1, in: &cluster)
        // ...and a hint beyond the leader's log is clamped to it.
        cluster.with(1) { $0.step(msg(2, 1, 2, .appendResponse(.rejected(rejectedIndex: 3, hintIndex: 1_000_000, hintTerm: 1_000)))) }
        XCTAssertEqual(cluster.status(1).followers[2]?.next, 4, "never beyond the leader's last index + 1")
        XCTAssertEqual(cluster.status(1).role, .leader)
        XCTAssertEqual(trace(cluster.inFlight), ["1->2 App prev=(3,2) commit=3 entries=[] term=2"])
        cluster.drop(where: { _ in true })
        try assertStillWorks(&cluster)
    }

    func testCommitIndexBeyondWhatFollowerHoldsIsCapped() throws {
        var cluster = try settledCluster()
        try cluster.propose(1, "b")
        cluster.deliver(where: \.isAppend)
        cluster.drop(where: { _ in true })  // the acknowledgements: the leader does not commit 3
        XCTAssertEqual(cluster.status(2).lastIndex, 4)
        XCTAssertEqual(cluster.status(2).commit, 3)

        cluster.with(2) { $0.step(msg(1, 2, 2, .append(.init(prevIndex: 3, prevTerm: 2, entries: [], commit: 99)))) }
        XCTAssertEqual(cluster.status(2).commit, 3, "an append commits at most through its own last entry")
        cluster.with(2) { $0.step(msg(1, 2, 2, .heartbeat(commit: 99, readRound: 0))) }
        XCTAssertEqual(cluster.status(2).commit, 4, "a heartbeat's commit is capped at the last index")
        cluster.drop(where: { _ in true })
        try assertStillWorks(&cluster)
    }

    func testMessagesForAnotherRoleAreIgnored() throws {
        var cluster = try settledCluster()
        assertIgnored(msg(3, 2, 2, .appendResponse(.accepted(matchIndex: 3))), by: 2, in: &cluster)
        assertIgnored(msg(3, 2, 2, .heartbeatResponse(readRound: 4)), by: 2, in: &cluster)
        assertIgnored(msg(3, 2, 2, .snapshotResponse(.init(snapshotIndex: 3, receivedBytes: 0, matchIndex: 3))), by: 2, in: &cluster)
        assertIgnored(msg(3, 2, 2, .voteResponse(granted: true)), by: 2, in: &cluster)
        assertIgnored(msg(3, 2, 2, .preVoteResponse(granted: true)), by: 2, in: &cluster)
        assertIgnored(msg(2, 1, 2, .readIndexResponse(requestID: 1, index: 3)), by: 1, in: &cluster)
        XCTAssertEqual(cluster.readStates.count, 0)
        // Another "leader" of the leader's own term cannot exist: the leader ignores it.
        assertIgnored(msg(2, 1, 2, .append(.init(prevIndex: 3, prevTerm: 2, entries: [entry(4, 2, "liar")], commit: 4))),
                      by: 1, in: &cluster)
        assertIgnored(msg(2, 1, 2, .heartbeat(commit: 3, readRound: 1)), by: 1, in: &cluster)
        try assertStillWorks(&cluster)
    }

    func testVotesFromNonMembersDoNotElect() {
        var cluster = ManualCluster(voters: [1, 2, 3]) { $0.preVote = false }
        cluster.with(1) { $0.campaign() }
        cluster.drop(where: { _ in true })
        for stranger: Raft.NodeID in [7, 8, 9] {
            cluster.with(1) { $0.step(msg(stranger, 1, 2, .voteResponse(granted: true))) }
        }
        XCTAssertEqual(cluster.status(1).role, .candidate)
        cluster.with(1) { $0.step(msg(2, 1, 2, .voteResponse(granted: true))) }
        XCTAssertEqual(cluster.status(1).role, .leader)
    }

    func testNumbersBeyondAnyRealTermOrIndexAreDropped() throws {
        var cluster = try settledCluster()
        // A term this large would overflow `term + 1` at the next campaign.
        assertIgnored(msg(1, 2, .max, .heartbeat(commit: 3, readRound: 0)), by: 2, in: &cluster)
        assertIgnored(msg(3, 2, .max / 2, .vote(lastIndex: 3, lastTerm: 2, leadershipTransfer: true)), by: 2, in: &cluster)
        assertIgnored(msg(1, 2, 2, .append(.init(prevIndex: .max, prevTerm: 2, entries: [], commit: 3))), by: 2, in: &cluster)
        assertIgnored(msg(3, 2, 3, .preVote(lastIndex: .max, lastTerm: 2)), by: 2, in: &cluster)
        for _ in 0..<40 { cluster.tick(2) }  // would trap if the huge term had been adopted
        cluster.drop(where: { _ in true })
        XCTAssertLessThan(cluster.status(2).term, 10)
    }

    func testSnapshotResponseWithNegativeByteCountIsIgnored() throws {
        // A transfer to 3 in progress (as in SnapshotTests), stepped on a copy of the leader's core.
        var cluster = ManualCluster(voters: [1, 2, 3], snapshotEveryEntries: 5) { $0.snapshotChunkBytesMax = 16 }
        cluster.elect(1)
        cluster.isolate(3)
        try cluster.with(1) { try $0.propose(batch: (0..<10).map { cmd("c\($0)") }) }
        cluster.stabilize()
        cluster.heal()
        for _ in 0..<20 where cluster.status(1).followers[3]?.state != "snapshot" {
            cluster.tick(1)
            cluster.stabilize(losing: { $0.chunkRange != nil })
        }
        XCTAssertEqual(cluster.status(1).followers[3]?.state, "snapshot")

        var leader = cluster.node(1)
        leader.step(msg(3, 1, 2, .snapshotResponse(.init(snapshotIndex: 12, receivedBytes: -100, matchIndex: nil))))
        let offsets = leader.ready().messagesNow.compactMap { m -> Int? in
            if case .snapshotChunk(let c) = m.kind { return c.offset } else { return nil }
        }
        XCTAssertEqual(offsets.filter { $0 < 0 }, [], "chunks with negative offsets: \(offsets)")
        XCTAssertEqual(offsets, [], "the response is dropped unread")
    }
}
