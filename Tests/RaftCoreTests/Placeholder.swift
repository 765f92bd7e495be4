import XCTest
import RaftCore
import SimKit

final class SmokeTests: XCTestCase {
    func testElectProposeCommit() throws {
        var cluster = ManualCluster(voters: [1, 2, 3])
        cluster.elect(1)
        XCTAssertEqual(cluster.status(1).role, .leader)
        try cluster.with(1) { try $0.propose(Array("hello".utf8)) }
        cluster.stabilize()
        cluster.tickAll()
        cluster.stabilize()
        for id: Raft.NodeID in [1, 2, 3] {
            XCTAssertEqual(cluster.status(id).commit, 2, "\(id)")
            XCTAssertEqual(cluster.hosts[id]!.machine.commands, [Array("hello".utf8)])
        }
        XCTAssertEqual(cluster.checker.violations, [])
    }
}
