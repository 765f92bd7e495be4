import Store
import XCTest

/// Lists: one kind, in key order, filtered by namespace and selector, at the store's revision.
final class ListTests: XCTestCase {
    func populated() -> Harness {
        var h = Harness()
        h.apply(create(configMap("b", namespace: "prod", labels: ["app": "web", "tier": "front"])))
        h.apply(create(configMap("a", namespace: "prod", labels: ["app": "db"])))
        h.apply(create(configMap("c", namespace: "dev", labels: ["app": "web"])))
        h.apply(create(configMap("a", namespace: "default")))
        h.apply(create(member("host-b")))
        h.apply(create(member("host-a")))
        return h
    }

    func names(_ items: [StoredObject]) -> [String] {
        items.map { $0.key.namespace.isEmpty ? $0.key.name : "\($0.key.namespace)/\($0.key.name)" }
    }

    func testListReturnsOneKindInKeyOrderAtTheStoreRevision() {
        let h = populated()
        let list = h.store.list(.configMap)
        XCTAssertEqual(names(list.items), ["default/a", "dev/c", "prod/a", "prod/b"])
        XCTAssertEqual(list.resourceVersion, 6)
        XCTAssertEqual(names(h.store.list(.member).items), ["host-a", "host-b"])
    }

    func testListFiltersByNamespace() {
        let h = populated()
        XCTAssertEqual(names(h.store.list(.configMap, namespace: "prod").items), ["prod/a", "prod/b"])
        XCTAssertEqual(names(h.store.list(.configMap, namespace: "dev").items), ["dev/c"])
        XCTAssertEqual(names(h.store.list(.configMap, namespace: "de").items), [])
        XCTAssertEqual(names(h.store.list(.configMap, namespace: "zzz").items), [])
        XCTAssertEqual(names(Store().list(.configMap, namespace: "prod").items), [])
    }

    func testListFiltersByLabelSelector() throws {
        let h = populated()
        let web = try LabelSelector(parsing: "app=web")
        XCTAssertEqual(names(h.store.list(.configMap, selector: web).items), ["dev/c", "prod/b"])
        XCTAssertEqual(names(h.store.list(.configMap, namespace: "prod", selector: web).items), ["prod/b"])
        XCTAssertEqual(names(h.store.list(.configMap, selector: try LabelSelector(parsing: "!app")).items), ["default/a"])
    }

    func testListReflectsDeletes() {
        var h = populated()
        h.apply(.delete(key: cmKey("a", namespace: "prod")))
        XCTAssertEqual(names(h.store.list(.configMap, namespace: "prod").items), ["prod/b"])
        XCTAssertEqual(h.store.list(.configMap).resourceVersion, 7)
    }
}
