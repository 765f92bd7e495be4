import Agent
import Store
import XCTest

final class PodPlanTests: XCTestCase {
    func testBackoffDoublesFromTenSecondsToFiveMinutes() {
        XCTAssertEqual(PodPlan.backoffNanos(restarts: 0), 0)
        XCTAssertEqual(PodPlan.backoffNanos(restarts: 1), 10_000_000_000)
        XCTAssertEqual(PodPlan.backoffNanos(restarts: 3), 40_000_000_000)
        XCTAssertEqual(PodPlan.backoffNanos(restarts: 40), 300_000_000_000)
    }
}
