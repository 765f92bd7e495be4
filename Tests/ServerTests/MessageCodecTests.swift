import RaftCore
@testable import Server
import XCTest

final class MessageCodecTests: XCTestCase {
    let membership = Raft.Membership(voters: [1, 2, 3], learners: [9])

    var samples: [Raft.Message] {
        let entries = [
            Raft.Entry(term: 2, index: 5, payload: .noop),
            Raft.Entry(term: 2, index: 6, payload: .command(Array("hello".utf8))),
            Raft.Entry(term: 2, index: 7, payload: .membership(.init(.addLearner, node: 9, context: [1, 2]), membership)),
        ]
        let meta = Raft.SnapshotMeta(index: 40, term: 3, membership: membership, sizeBytes: 1000)
        let kinds: [Raft.Message.Kind] = [
            .preVote(lastIndex: 4, lastTerm: 1), .preVoteResponse(granted: true),
            .vote(lastIndex: 4, lastTerm: 1, leadershipTransfer: true), .voteResponse(granted: false),
            .append(.init(prevIndex: 4, prevTerm: 1, entries: entries, commit: 3)),
            .append(.init(prevIndex: 4, prevTerm: 1, entries: [], commit: 3)),
            .appendResponse(.accepted(matchIndex: 7)),
            .appendResponse(.rejected(rejectedIndex: 9, hintIndex: 5, hintTerm: 1)),
            .heartbeat(commit: 3, readRound: 77), .heartbeatResponse(readRound: 77),
            .snapshotChunk(.init(meta: meta, offset: 100, length: 3, data: [7, 8, 9])),
            .snapshotResponse(.init(snapshotIndex: 40, receivedBytes: 103, matchIndex: nil)),
            .snapshotResponse(.init(snapshotIndex: 40, receivedBytes: 1000, matchIndex: 40)),
            .timeoutNow, .readIndex(requestID: 5),
            .readIndexResponse(requestID: 5, index: 12), .readIndexResponse(requestID: 6, index: nil),
        ]
        return kinds.map { Raft.Message(from: 1, to: 2, term: 3, kind: $0) }
    }

    func testEveryMessageKindRoundTrips() throws {
        for message in samples {
            XCTAssertEqual(try MessageCodec.decode(MessageCodec.encode(message)), message)
        }
    }

    /// Truncations and flipped bytes give an error or some message, never a crash.
    func testDamagedBytesAreRejectedOrDecodedWithoutCrashing() {
        var state: UInt64 = 1
        for message in samples {
            let bytes = MessageCodec.encode(message)
            for cut in 0..<bytes.count { XCTAssertThrowsError(try MessageCodec.decode(Array(bytes[0..<cut]))) }
            for _ in 0..<200 {
                state = state &* 6364136223846793005 &+ 1
                var damaged = bytes
                damaged[Int(state >> 33) % damaged.count] ^= UInt8(truncatingIfNeeded: state >> 17) | 1
                _ = try? MessageCodec.decode(damaged)
            }
        }
    }

    var forwardSamples: [ForwardMessage] {
        [.proposal(requestID: 1, command: Array("create web".utf8)), .proposal(requestID: 2, command: []),
         .appended(requestID: 3, index: 1_000_000, term: 7),
         .refused(requestID: 4, status: 503, reason: "ServiceUnavailable", message: "h1 does not lead any more; retry")]
    }

    func testForwardingMessagesRoundTripAndAreToldApartFromRaftMessages() throws {
        for message in forwardSamples {
            let bytes = message.encoded()
            XCTAssertTrue(ForwardMessage.isForwardMessage(bytes))
            XCTAssertEqual(try ForwardMessage.decode(bytes), message)
        }
        for message in samples { XCTAssertFalse(ForwardMessage.isForwardMessage(MessageCodec.encode(message))) }
    }

    func testDamagedForwardingMessagesAreRejectedOrDecodedWithoutCrashing() {
        var state: UInt64 = 7
        for message in forwardSamples {
            let bytes = message.encoded()
            for cut in 0..<bytes.count { XCTAssertThrowsError(try ForwardMessage.decode(Array(bytes[0..<cut]))) }
            XCTAssertThrowsError(try ForwardMessage.decode(bytes + [0]), "trailing bytes")
            for _ in 0..<200 {
                state = state &* 6364136223846793005 &+ 1
                var damaged = bytes
                damaged[Int(state >> 33) % damaged.count] ^= UInt8(truncatingIfNeeded: state >> 17) | 1
                _ = try? ForwardMessage.decode(damaged)
            }
        }
        // A length far beyond the bound is refused before anything is allocated.
        var huge: [UInt8] = [ForwardMessage.tag, 1] + [UInt8](repeating: 0, count: 8)
        huge += [0xff, 0xff, 0xff, 0x7f]
        XCTAssertThrowsError(try ForwardMessage.decode(huge))
    }
}
