@testable import Server
import XCTest

final class ServicesStateTests: XCTestCase {
    /// A rebuild's model comes from a snapshot; services that changed while it was built
    /// must still be refreshed by the sync that compares everything (they were dropped once,
    /// and a restarted member kept its stale endpoints).
    func testServicesChangedDuringARebuildAreRefreshedByTheComparingSync() {
        var state = ServicesState()
        state.rebuild = false
        state.changedServices = ["default/web"]
        state.compareAll = true
        let plan = state.takeSyncPlan()
        XCTAssertEqual(plan.changed, ["default/web"])
        XCTAssertTrue(plan.compareAll)
        XCTAssertTrue(state.changedServices.isEmpty)
        XCTAssertFalse(state.compareAll)
        XCTAssertFalse(state.isDue, "taken: nothing left for the next tick")
    }
}
