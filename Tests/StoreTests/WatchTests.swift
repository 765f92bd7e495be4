import JSON
import Store
import XCTest

/// The watch history: events after a version, in order, filtered, and 410 Gone once evicted.
final class WatchTests: XCTestCase {
    func summary(_ events: [WatchEvent]) -> [String] {
        events.map { "\($0.type.rawValue) \($0.key.name) \($0.resourceVersion)" }
    }

    func testEventsSinceAVersionComeInOrderWithoutDuplicates() throws {
        var h = Harness()
        h.apply(create(configMap("a")))
        h.apply(.update(object: configMap("a", data: ["k": "2"])))
        h.apply(create(configMap("b")))
        h.apply(.update(object: configMap("missing")))  // no event
        h.apply(.delete(key: cmKey("a")))
        let all = try h.store.events(since: 0, WatchFilter(kind: .configMap))
        XCTAssertEqual(summary(all), ["ADDED a 1", "MODIFIED a 2", "ADDED b 3", "DELETED a 5"])
        XCTAssertEqual(all, h.events, "the history holds exactly what apply reported")
        XCTAssertEqual(all[1].previous?.resourceVersion, 1)
        XCTAssertEqual(all[3].object.json["data"], ["k": "2"], "DELETED carries the last state")

        // A watcher resuming from the last version it saw gets each event exactly once.
        var seen: [WatchEvent] = []
        var version: UInt64 = 0
        for stop in [1, 3, 4, 5] as [UInt64] {
            let batch = try h.store.events(since: version, WatchFilter(kind: .configMap)).filter { $0.resourceVersion <= stop }
            seen += batch
            version = max(version, batch.last?.resourceVersion ?? version)
        }
        XCTAssertEqual(seen, all)
        XCTAssertEqual(summary(try h.store.events(since: 3, WatchFilter(kind: .configMap))), ["DELETED a 5"])
        XCTAssertEqual(try h.store.events(since: 5, WatchFilter(kind: .configMap)), [])
        XCTAssertEqual(try h.store.events(since: 99, WatchFilter(kind: .configMap)), [], "a future version has nothing yet")
    }

    func testWatchFromAnEvictedVersionIsGone() throws {
        var h = Harness(watchHistoryEventsMax: 3)
        for name in ["a", "b", "c", "d", "e"] { h.apply(create(configMap(name))) }
        XCTAssertEqual(h.store.oldestWatchableRevision(.configMap), 2)
        XCTAssertThrowsError(try h.store.events(since: 1, WatchFilter(kind: .configMap))) { error in
            XCTAssertEqual(error as? StoreError, .gone(requested: 1, oldest: 2))
            XCTAssertEqual((error as? StoreError)?.description, "too old resource version: 1 (2)")
        }
        XCTAssertEqual(summary(try h.store.events(since: 2, WatchFilter(kind: .configMap))), ["ADDED c 3", "ADDED d 4", "ADDED e 5"])
    }

    func testEventsFilterByKindAndNamespace() throws {
        var h = Harness()
        h.apply(create(configMap("a", namespace: "prod")))
        h.apply(create(configMap("b", namespace: "dev")))
        h.apply(create(member("host-a")))
        XCTAssertEqual(summary(try h.store.events(since: 0, WatchFilter(kind: .configMap, namespace: "dev"))), ["ADDED b 2"])
        XCTAssertEqual(summary(try h.store.events(since: 0, WatchFilter(kind: .member))), ["ADDED host-a 3"])
    }

    func testObjectsMovingAcrossASelectorBecomeAddedAndDeleted() throws {
        var h = Harness()
        h.apply(create(configMap("a", labels: ["app": "db"])))
        h.apply(.update(object: configMap("a", labels: ["app": "web"])))      // moves in
        h.apply(.update(object: configMap("a", data: ["k": "2"], labels: ["app": "web"])))  // stays in
        h.apply(.update(object: configMap("a", data: ["k": "2"], labels: ["app": "db"])))   // moves out
        h.apply(.update(object: configMap("a", data: ["k": "3"], labels: ["app": "db"])))   // stays out
        h.apply(.delete(key: cmKey("a")))                                                  // deleted while out
        let web = WatchFilter(kind: .configMap, selector: try LabelSelector(parsing: "app=web"))
        let events = try h.store.events(since: 0, web)
        XCTAssertEqual(summary(events), ["ADDED a 2", "MODIFIED a 3", "DELETED a 4"])
        XCTAssertEqual(events[2].object.labels, ["app": "db"], "the DELETED of a move-out carries the new object")
        XCTAssertNil(events[0].previous, "a synthesized ADDED carries no previous object")
    }

    func testLiveEventsFilterLikeTheHistory() throws {
        var h = Harness()
        let filter = WatchFilter(kind: .configMap, selector: try LabelSelector(parsing: "app=web"))
        var live: [WatchEvent] = []
        for command: StoreCommand in [create(configMap("a", labels: ["app": "web"])), create(configMap("b")),
                                      .update(object: configMap("b", labels: ["app": "web"])), .delete(key: cmKey("a"))] {
            h.index += 1
            live += h.store.apply(index: h.index, command).events.compactMap { $0.filtered(by: filter) }
        }
        XCTAssertEqual(live, try h.store.events(since: 0, filter))
        XCTAssertEqual(summary(live), ["ADDED a 1", "ADDED b 3", "DELETED a 4"])
    }

    func testEventsOfOneBatchShareItsVersion() throws {
        var h = Harness()
        h.apply(.batch([create(configMap("a")), create(configMap("b")), .delete(key: cmKey("a"))]))
        h.apply(create(configMap("c")))
        XCTAssertEqual(summary(try h.store.events(since: 0, WatchFilter(kind: .configMap))),
                       ["ADDED a 1", "ADDED b 1", "DELETED a 1", "ADDED c 2"])
        XCTAssertEqual(summary(try h.store.events(since: 1, WatchFilter(kind: .configMap))), ["ADDED c 2"])
    }
}
