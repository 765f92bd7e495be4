import JSON
import XCTest

final class JSONObjectTests: XCTestCase {
    func testObjectKeepsInsertionOrderAndReplacesInPlace() {
        var o = JSONObject([("b", .int(1)), ("a", .int(2))])
        o["b"] = .string("x")
        o["c"] = .null
        XCTAssertEqual(o.keys, ["b", "a", "c"])
        o["a"] = nil
        XCTAssertEqual(o.keys, ["b", "c"])
        XCTAssertEqual(o["b"], .string("x"))
    }
}
