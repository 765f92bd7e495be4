import JSON
import Store
import XCTest

/// Create, get, update and delete, and the metadata the server manages on the way.
final class ObjectLifecycleTests: XCTestCase {
    func testCreateStoresTheObjectWithServerManagedMetadata() throws {
        var h = Harness()
        let result = h.apply(create(configMap("web", labels: ["app": "web"]), uid: "u-1"))
        XCTAssertEqual(result.httpStatus, 201)
        guard case .created(let object) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(object, h.store.get(cmKey("web")))
        XCTAssertEqual(object.uid, "u-1")
        XCTAssertEqual(object.resourceVersion, 1)
        XCTAssertEqual(object.generation, 1)
        XCTAssertEqual(object.creationTimestamp, createdAt)
        XCTAssertEqual(object.labels, ["app": "web"])
        let expected: JSONValue = [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": "web", "namespace": "default", "uid": "u-1", "resourceVersion": "1",
                         "generation": 1, "creationTimestamp": .string(createdAt), "labels": ["app": "web"]],
            "data": ["k": "v"],
        ]
        XCTAssertEqual(object.json, expected)
    }

    func testCreateOfAnExistingKeyIsAlreadyExists() {
        var h = Harness()
        h.apply(create(configMap("web")))
        XCTAssertEqual(h.apply(create(configMap("web", data: ["other": "x"]))), .alreadyExists(cmKey("web")))
        XCTAssertEqual(h.store.get(cmKey("web"))?.json["data"], ["k": "v"])
        XCTAssertEqual(h.apply(create(configMap("web", namespace: "other"))).httpStatus, 201, "another namespace, another key")
    }

    func testClientValuesForServerManagedFieldsAreReplaced() throws {
        var h = Harness()
        var body = configMap("web")
        body["metadata"]?["uid"] = "client-uid"
        body["metadata"]?["generation"] = 7
        body["metadata"]?["creationTimestamp"] = "1999-01-01T00:00:00Z"
        let created = try XCTUnwrap(h.apply(.create(object: body, uid: "u-1", creationTimestamp: createdAt)).object)
        XCTAssertEqual(created.uid, "u-1")
        XCTAssertEqual(created.generation, 1)
        XCTAssertEqual(created.json["metadata"]?["creationTimestamp"], .string(createdAt))

        var update = configMap("web", data: ["k": "2"])
        update["metadata"]?["creationTimestamp"] = "2030-01-01T00:00:00Z"
        update["metadata"]?["generation"] = 99
        let updated = try XCTUnwrap(h.apply(.update(object: update)).object)
        XCTAssertEqual(updated.creationTimestamp, createdAt, "the creation time never changes")
        XCTAssertEqual(updated.generation, 2)
        XCTAssertEqual(updated.uid, "u-1", "an update without a uid keeps the stored one")
    }

    func testUpdateReplacesTheObjectAndMovesItsResourceVersion() throws {
        var h = Harness()
        h.apply(create(configMap("web", labels: ["a": "1"])))
        h.apply(create(configMap("other")))
        let result = h.apply(.update(object: configMap("web", data: ["k": "v2"])))
        guard case .updated(let object) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(object.resourceVersion, 3)
        XCTAssertEqual(object.json["metadata"]?["resourceVersion"], "3")
        XCTAssertEqual(object.json["data"], ["k": "v2"])
        XCTAssertEqual(object.labels, [:], "an update replaces the whole object, labels included")
        XCTAssertEqual(object.generation, 2)
        XCTAssertEqual(h.store.get(cmKey("other"))?.resourceVersion, 2, "other objects keep their versions")
    }

    func testMetadataOnlyUpdateKeepsTheGeneration() throws {
        var h = Harness()
        h.apply(create(configMap("web")))
        let relabeled = try XCTUnwrap(h.apply(.update(object: configMap("web", labels: ["tier": "front"]))).object)
        XCTAssertEqual(relabeled.generation, 1)
        XCTAssertEqual(relabeled.resourceVersion, 2)
        let changed = try XCTUnwrap(h.apply(.update(object: configMap("web", data: ["k": "w"], labels: ["tier": "front"]))).object)
        XCTAssertEqual(changed.generation, 2)
    }

    func testUpdateThatChangesNothingWritesNothing() {
        var h = Harness()
        let created = h.apply(create(configMap("web"))).object
        XCTAssertEqual(h.apply(.update(object: configMap("web"))), .updated(created!))
        XCTAssertEqual(h.store.get(cmKey("web"))?.resourceVersion, 1)
        XCTAssertEqual(h.events.count, 1, "no MODIFIED event for a no-op")
        XCTAssertEqual(h.store.revision, 2, "the entry was still applied")
    }

    func testUpdateOfAMissingObjectIsNotFound() {
        var h = Harness()
        XCTAssertEqual(h.apply(.update(object: configMap("web"))), .notFound(cmKey("web")))
        XCTAssertEqual(StoreResult.notFound(cmKey("web")).httpStatus, 404)
    }

    func testDeleteRemovesTheObjectAndReturnsItAtTheDeletingVersion() throws {
        var h = Harness()
        h.apply(create(configMap("web")))
        let result = h.apply(.delete(key: cmKey("web")))
        guard case .deleted(let last) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(last.resourceVersion, 2)
        XCTAssertEqual(last.json["metadata"]?["resourceVersion"], "2")
        XCTAssertNil(h.store.get(cmKey("web")))
        XCTAssertEqual(h.store.count, 0)
        XCTAssertEqual(h.apply(create(configMap("web"))).httpStatus, 201, "the name is free again")
    }

    func testDeleteOfAMissingObjectIsNotFound() {
        var h = Harness()
        XCTAssertEqual(h.apply(.delete(key: cmKey("web"))), .notFound(cmKey("web")))
    }

    func testClusterScopedKindsIgnoreANamespace() throws {
        var h = Harness()
        var body = member("host-a")
        body["metadata"]?["namespace"] = "default"
        let created = try XCTUnwrap(h.apply(create(body)).object)
        XCTAssertEqual(created.key, ObjectKey(kind: .member, name: "host-a"))
        XCTAssertNil(created.json["metadata"]?["namespace"])
        XCTAssertEqual(created.json["apiVersion"], "shoal.dev/v1")
    }

    func testEveryEntryMovesTheRevisionEvenWhenRejected() {
        var h = Harness()
        h.apply(.update(object: configMap("missing")))
        h.apply(bytes: [0xFF])
        XCTAssertEqual(h.store.revision, 2)
        h.store.advance(to: 5)
        XCTAssertEqual(h.store.revision, 5)
        XCTAssertEqual(h.store.list(.configMap).resourceVersion, 5)
        XCTAssertEqual(h.store.count, 0)
    }
}

extension ObjectLifecycleTests {
    func testUpdateToACanonicallyEquivalentStringIsStillAChange() throws {
        // Swift's String == treats "é" and "e\u{301}" as equal; the store compares bytes.
        var h = Harness()
        h.apply(create(configMap("web", data: ["k": "caf\u{E9}"])))
        XCTAssertEqual("caf\u{E9}", "cafe\u{301}")
        let updated = try XCTUnwrap(h.apply(.update(object: configMap("web", data: ["k": "cafe\u{301}"]))).object)
        XCTAssertEqual(updated.resourceVersion, 2)
        XCTAssertEqual(updated.generation, 2)
        XCTAssertEqual(updated.json["data"]?["k"]?.stringValue.map { Array($0.utf8) }, Array("cafe\u{301}".utf8))
    }
}
