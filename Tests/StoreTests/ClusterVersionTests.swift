import JSON
import Store
import XCTest

/// The replicated cluster version: what version 1 refuses, what the move to version 2 does,
/// and a member that cannot run the version it meets.
final class ClusterVersionTests: XCTestCase {
    let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "p", "namespace": "default"],
                          "spec": ["containers": [["name": "c", "image": "busybox"]]]]

    func testVersion1KeepsTheFirstReleasesRules() {
        var h = Harness()
        XCTAssertEqual(h.store.clusterVersion, 1)
        XCTAssertEqual(h.apply(create(configMap("old"))).httpStatus, 201)
        XCTAssertEqual(h.apply(create(pod)).httpStatus, 422, "a kind of version 2 is not enabled")
        let typed = h.apply(.typed(TypedWrite(verb: .create, kind: "ConfigMap", apiVersion: "v1", namespace: "default",
                                              body: configMap("x"), uid: "u", now: createdAt)))
        XCTAssertEqual(typed.httpStatus, 400)
        XCTAssertNil(h.store.get(ObjectKey(kind: .namespace, name: "default")))
    }

    func testMovingToVersion2MigratesConfigMapsAndCreatesNamespaces() throws {
        var h = Harness()
        h.apply(create(configMap("old", namespace: "team")))
        let before = try XCTUnwrap(h.store.get(cmKey("old", namespace: "team")))
        XCTAssertEqual(before.json.objectValue?.keys.first, "apiVersion", "version 1 keeps the JSON as sent")

        XCTAssertTrue(h.apply(.setClusterVersion(version: 2, now: createdAt)).succeeded)
        XCTAssertEqual(h.store.clusterVersion, 2)
        for name in Store.systemNamespaces + ["team"] {
            let namespace = try XCTUnwrap(h.store.get(ObjectKey(kind: .namespace, name: name)), name)
            XCTAssertEqual(namespace.json[path: ["status", "phase"]], "Active")
        }
        let after = try XCTUnwrap(h.store.get(cmKey("old", namespace: "team")))
        XCTAssertEqual(after.json.objectValue?.keys.first, "kind", "rewritten in its typed form")
        XCTAssertEqual(after.resourceVersion, before.resourceVersion, "a rewrite, not a change")
        XCTAssertEqual(after.json["data"], before.json["data"])

        // Repeating the move changes nothing; going back is refused.
        let revision = h.store.revision
        XCTAssertTrue(h.apply(.setClusterVersion(version: 2, now: createdAt)).succeeded)
        XCTAssertEqual(h.store.list(.namespace).items.count, 5)
        XCTAssertFalse(h.apply(.setClusterVersion(version: 1, now: createdAt)).succeeded)
        XCTAssertEqual(h.store.revision, revision + 2)

        // Snapshots of a version-2 store say so, and restore exactly.
        let restored = try Store(restoring: h.store.snapshot())
        XCTAssertEqual(restored.clusterVersion, 2)
        XCTAssertEqual(restored.snapshot(), h.store.snapshot())
    }

    func testAnUntypedWriteInFlightAcrossTheMoveIsAdmittedByTheTypedRules() throws {
        var h = Harness()
        h.apply(.setClusterVersion(version: 2, now: createdAt))
        // Built by a member that still saw version 1.
        let created = h.apply(create(configMap("late", data: ["k": "v"])))
        XCTAssertEqual(created.httpStatus, 201, "\(created)")
        XCTAssertEqual(created.object?.json.objectValue?.keys.first, "kind")
        let updated = h.apply(.update(object: configMap("late", data: ["k": "w"])))
        XCTAssertEqual(updated.object?.json[path: ["data", "k"]], "w")
        XCTAssertEqual(h.apply(create(pod)).httpStatus, 201, "an untyped Pod gets the typed rules too")
        XCTAssertEqual(h.store.get(ObjectKey(kind: .pod, namespace: "default", name: "p"))?.json[path: ["status", "phase"]], "Pending")
        XCTAssertEqual(h.apply(.delete(key: cmKey("late"))).httpStatus, 200)
        XCTAssertNil(h.store.get(cmKey("late")))
    }

    func testAMemberHeldBackStopsAtTheVersionItCannotRun() {
        var held = Harness()
        held.store.clusterVersionMax = 1
        var current = Harness()
        for h in [0, 1] {
            var harness = h == 0 ? held : current
            harness.apply(create(configMap("a")))
            let moved = harness.apply(.setClusterVersion(version: 2, now: createdAt))
            if h == 0 {
                XCTAssertFalse(moved.succeeded)
                XCTAssertEqual(harness.store.unsupportedClusterVersion, 2)
                XCTAssertEqual(harness.store.clusterVersion, 1)
                // Nothing more applies: the member must stop, not go on by older rules.
                let count = harness.store.count
                harness.apply(create(configMap("b")))
                XCTAssertEqual(harness.store.count, count)
                held = harness
            } else {
                XCTAssertTrue(moved.succeeded)
                XCTAssertNil(harness.store.unsupportedClusterVersion)
                current = harness
            }
        }
        XCTAssertEqual(current.store.clusterVersion, 2)
    }

    func testTwoStoresApplyingTheSameTypedEntriesEndIdentical() throws {
        var entries: [StoreCommand] = [.setClusterVersion(version: 2, now: createdAt), create(configMap("c", namespace: "team"))]
        for i in 0..<20 {
            let service: JSONValue = ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string("s\(i)")],
                                      "spec": ["type": "NodePort", "ports": [["port": 80]]]]
            entries.append(.typed(TypedWrite(verb: .create, kind: "Service", apiVersion: "v1", namespace: "team",
                                             body: service, uid: "svc-\(i)", now: createdAt)))
            entries.append(.typed(TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "team",
                                             body: ["metadata": ["generateName": "p-"], "spec": pod["spec"]!],
                                             uid: "pod-\(i)", now: createdAt)))
        }
        entries.append(.typed(TypedWrite(verb: .delete, kind: "Namespace", apiVersion: "v1", name: "default", now: createdAt)))
        entries.append(.typed(TypedWrite(verb: .delete, kind: "Namespace", apiVersion: "v1", name: "team", now: createdAt)))
        var a = Harness()
        var b = Harness()
        for entry in entries {
            XCTAssertEqual(a.apply(entry), b.apply(entry))
        }
        XCTAssertEqual(a.store.snapshot(), b.store.snapshot())
        XCTAssertEqual(a.store.list(.service).items.count, 0, "deleting the namespace deleted what was in it")
        XCTAssertNil(a.store.get(ObjectKey(kind: .namespace, name: "team")))
        XCTAssertNotNil(a.store.get(ObjectKey(kind: .namespace, name: "default")), "default may not be deleted")
    }
}
