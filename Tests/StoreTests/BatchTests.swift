import JSON
import Store
import XCTest

/// Batches: several commands in one entry, applied atomically at one index.
final class BatchTests: XCTestCase {
    func testBatchAppliesEveryCommandAtOneVersion() {
        var h = Harness()
        let result = h.apply(.batch([create(configMap("a")), create(member("host-a")),
                                     .update(object: configMap("a", data: ["k": "2"]))]))
        guard case .batch(let results) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(results.map(\.httpStatus), [201, 201, 200])
        XCTAssertEqual(h.store.get(cmKey("a"))?.resourceVersion, 1)
        XCTAssertEqual(h.store.get(cmKey("a"))?.generation, 2)
        XCTAssertEqual(h.store.count, 2)
    }

    func testBatchIsAllOrNothing() {
        var h = Harness()
        h.apply(create(configMap("keep")))
        let before = h.store.list(.configMap).items
        let result = h.apply(.batch([.delete(key: cmKey("keep")), create(configMap("new")),
                                     .update(object: configMap("new", data: ["k": "2"])), create(configMap("new"))]))
        XCTAssertEqual(result, .batchAborted(position: 3, result: .alreadyExists(cmKey("new"))))
        XCTAssertEqual(result.httpStatus, 409)
        XCTAssertNotNil(h.store.get(cmKey("keep")))
        XCTAssertNil(h.store.get(cmKey("new")))
        XCTAssertEqual(h.events.count, 1, "an aborted batch produces no events")
        XCTAssertEqual(h.store.list(.configMap).items, before, "the objects are exactly as before")
    }

    func testEmptyBatchSucceeds() {
        var h = Harness()
        XCTAssertEqual(h.apply(.batch([])), .batch([]))
    }

    func testBatchesDoNotNestAndAreBounded() {
        var h = Harness()
        XCTAssertEqual(h.apply(.batch([.batch([])])).httpStatus, 400)
        let tooMany = StoreCommand.batch(Array(repeating: .delete(key: cmKey("a")), count: Store.batchCommandsMax + 1))
        XCTAssertTrue(h.apply(tooMany).invalidReason?.contains("exceeds") == true)
    }
}
