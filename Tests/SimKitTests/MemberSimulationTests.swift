import RaftCore
import Server
import SimKit
import XCTest

/// The real member in the seeded simulation (a small share of what `shoal-sim --members`
/// runs): clean seeds pass, a seed replays exactly, and a broken Raft rule or controller rule
/// is caught through the members' stores.
final class MemberSimulationTests: XCTestCase {
    override func setUp() {
        Log.muted = true  // the members' logs (injected disk failures among them) are noise here
    }

    override func tearDown() {
        Log.muted = false
    }

    func testSeedsRunWithoutViolations() {
        for seed in UInt64(1)...10 {
            let report = MemberSimulation(seed: seed).run()
            XCTAssertEqual(report.violations, [], "seed \(seed):\n" + report.traceTail.suffix(30).joined(separator: "\n"))
            XCTAssertGreaterThan(report.writesAcknowledged, 50, "seed \(seed): the clients got writes through")
            XCTAssertGreaterThan(report.readsChecked, 5, "seed \(seed): linearizable reads were checked")
        }
    }

    func testASeedReplaysExactly() {
        let first = MemberSimulation(seed: 42).run()
        let second = MemberSimulation(seed: 42).run()
        XCTAssertEqual(first.traceTail, second.traceTail)
        XCTAssertEqual(first.finalStateDigest, second.finalStateDigest)
        XCTAssertNotEqual(first.finalStateDigest, 0)
        XCTAssertEqual(first.writesAcknowledged, second.writesAcknowledged)
    }

    func testABrokenVoteRuleIsCaught() {
        var options = MemberSimulationOptions()
        options.raftFaultyRule = .voteIgnoringLogUpToDate
        // About one seed in eight catches it; the search stops at the first.
        let caught = (UInt64(1)...60).first { !MemberSimulation(seed: $0, options: options).run().passed }
        XCTAssertNotNil(caught, "no seed caught members that vote for candidates with shorter logs")
    }

    func testAReplicaSetControllerWithoutExpectationsIsCaught() {
        var options = MemberSimulationOptions()
        options.controllerMutation = .ignoreExpectations
        let reports = (UInt64(1)...10).map { MemberSimulation(seed: $0, options: options).run() }
        XCTAssertTrue(reports.contains { $0.violations.contains { $0.hasPrefix("extra pods") || $0.hasPrefix("rollout surge") } },
                      "no seed caught a controller that creates again while its creates are in flight")
    }
}
