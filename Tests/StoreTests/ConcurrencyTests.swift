import JSON
import Store
import XCTest

/// Optimistic concurrency (resourceVersion and uid preconditions) and the fields an update
/// may not change.
final class ConcurrencyTests: XCTestCase {
    func testUpdateWithAStaleResourceVersionIsAConflict() {
        var h = Harness()
        h.apply(create(configMap("web")))
        h.apply(.update(object: configMap("web", data: ["k": "2"])))
        let result = h.apply(.update(object: configMap("web", data: ["k": "3"]), expectedResourceVersion: 1))
        guard case .conflict(let key, let reason) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(key, cmKey("web"))
        XCTAssertTrue(reason.contains("the object has been modified"), reason)
        XCTAssertEqual(result.httpStatus, 409)
        XCTAssertEqual(h.store.get(cmKey("web"))?.json["data"], ["k": "2"])
        XCTAssertEqual(h.apply(.update(object: configMap("web", data: ["k": "3"]), expectedResourceVersion: 2)).httpStatus, 200)
    }

    func testResourceVersionInTheBodyIsAPrecondition() {
        var h = Harness()
        h.apply(create(configMap("web")))
        h.apply(.update(object: configMap("web", data: ["k": "2"])))
        var stale = configMap("web", data: ["k": "3"])
        stale["metadata"]?["resourceVersion"] = "1"
        guard case .conflict = h.apply(.update(object: stale)) else { return XCTFail("stale body version must conflict") }
        stale["metadata"]?["resourceVersion"] = "2"
        XCTAssertEqual(h.apply(.update(object: stale)).object?.resourceVersion, 4)
        stale["metadata"]?["resourceVersion"] = "04"
        XCTAssertNotNil(h.apply(.update(object: stale)).invalidReason, "resourceVersion must be canonical decimal")
    }

    func testUpdateWithoutPreconditionsIsUnconditional() {
        var h = Harness()
        h.apply(create(configMap("web")))
        h.apply(.update(object: configMap("web", data: ["k": "2"])))
        XCTAssertEqual(h.apply(.update(object: configMap("web", data: ["k": "3"]))).httpStatus, 200)
    }

    func testDeleteWithAStaleResourceVersionIsAConflict() {
        var h = Harness()
        h.apply(create(configMap("web")))
        h.apply(.update(object: configMap("web", data: ["k": "2"])))
        guard case .conflict = h.apply(.delete(key: cmKey("web"), expectedResourceVersion: 1)) else { return XCTFail() }
        XCTAssertNotNil(h.store.get(cmKey("web")))
        XCTAssertEqual(h.apply(.delete(key: cmKey("web"), expectedResourceVersion: 2)).httpStatus, 200)
    }

    func testUIDPreconditionSparesARecreatedObject() {
        var h = Harness()
        h.apply(create(configMap("web"), uid: "first"))
        h.apply(.delete(key: cmKey("web")))
        h.apply(create(configMap("web"), uid: "second"))
        let result = h.apply(.delete(key: cmKey("web"), expectedUID: "first"))
        guard case .conflict(_, let reason) = result else { return XCTFail("\(result)") }
        XCTAssertTrue(reason.contains("UID in precondition: first"), reason)
        guard case .conflict = h.apply(.update(object: configMap("web", data: [:]), expectedUID: "first")) else { return XCTFail() }
        XCTAssertEqual(h.apply(.delete(key: cmKey("web"), expectedUID: "second")).httpStatus, 200)
    }

    func testUpdateMayNotChangeTheUID() {
        var h = Harness()
        h.apply(create(configMap("web"), uid: "u-1"))
        var body = configMap("web", data: ["k": "2"])
        body["metadata"]?["uid"] = "u-2"
        let reason = h.apply(.update(object: body)).invalidReason
        XCTAssertTrue(reason?.contains("metadata.uid: Invalid value: \"u-2\": field is immutable") == true, reason ?? "not invalid")
        body["metadata"]?["uid"] = "u-1"
        XCTAssertEqual(h.apply(.update(object: body)).httpStatus, 200, "repeating the stored uid is fine")
    }

    func testUpdateAddressesItsObjectByKindNamespaceAndName() {
        // The key comes from the body, so a "renamed" body addresses another object: the
        // update can never move an object to another name, namespace or kind.
        var h = Harness()
        h.apply(create(configMap("web")))
        XCTAssertEqual(h.apply(.update(object: configMap("web2"))), .notFound(cmKey("web2")))
        XCTAssertEqual(h.apply(.update(object: configMap("web", namespace: "prod"))), .notFound(cmKey("web", namespace: "prod")))
        XCTAssertEqual(h.apply(.update(object: member("web"))), .notFound(ObjectKey(kind: .member, name: "web")))
        var wrongVersion = configMap("web")
        wrongVersion["apiVersion"] = "v2"
        XCTAssertNotNil(h.apply(.update(object: wrongVersion)).invalidReason)
        XCTAssertEqual(h.store.get(cmKey("web"))?.resourceVersion, 1)
    }

    func testAnImmutableConfigMapKeepsItsData() {
        var h = Harness()
        var body = configMap("web")
        body["immutable"] = true
        h.apply(create(body))
        var changed = body
        changed["data"] = ["k": "other"]
        XCTAssertTrue(h.apply(.update(object: changed)).invalidReason?.contains("data: Forbidden") == true)
        var mutable = body
        mutable["immutable"] = false
        XCTAssertTrue(h.apply(.update(object: mutable)).invalidReason?.contains("immutable: Forbidden") == true)
        var relabeled = configMap("web", labels: ["a": "b"])
        relabeled["immutable"] = true
        XCTAssertEqual(h.apply(.update(object: relabeled)).httpStatus, 200, "metadata stays mutable")
        XCTAssertEqual(h.apply(.delete(key: cmKey("web"))).httpStatus, 200)
    }
}
