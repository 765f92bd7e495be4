@testable import Server
import XCTest

final class PeerReachabilityTests: XCTestCase {
    func testPeersSilentBeyondTheBoundAreUnreachable() {
        let bound = PeerReachability.silenceMillisecondsMax
        XCTAssertEqual(PeerReachability.unreachable(silences: ["a": 0, "b": bound, "c": bound + 1, "d": 60_000]), ["c", "d"])
        XCTAssertEqual(PeerReachability.unreachable(silences: [:]), [], "peers never heard from are the leader's to judge")
    }

    func testChecksAreSpacedAndTheFirstAfterAStallIsSkipped() {
        let millisecond: UInt64 = 1_000_000
        var reachability = PeerReachability()
        let start: UInt64 = 1_000 * millisecond
        XCTAssertFalse(reachability.due(nowNanoseconds: start), "the first check only starts the clock")
        XCTAssertFalse(reachability.due(nowNanoseconds: start + 10 * millisecond), "not due before the interval")
        let next = start + PeerReachability.checkIntervalMilliseconds * millisecond
        XCTAssertTrue(reachability.due(nowNanoseconds: next))
        // The loop was held: the check that finally runs has not read what peers sent meanwhile.
        let stalled = next + (PeerReachability.stalledCheckGapMilliseconds + 1) * millisecond
        XCTAssertFalse(reachability.due(nowNanoseconds: stalled), "after a stall the silences are not believed")
        XCTAssertTrue(reachability.due(nowNanoseconds: stalled + PeerReachability.checkIntervalMilliseconds * millisecond),
                      "the next check, after the loop has read, is")
    }
}
