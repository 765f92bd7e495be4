import JSON
import Store
import XCTest

/// Writes admitted once by their proposer: the same objects as the full path, and nothing
/// stored when the store moved under them.
final class AdmittedWriteTests: XCTestCase {
    func write(_ verb: TypedWrite.Verb, _ kind: String, _ apiVersion: String, name: String = "", body: JSONValue? = nil,
               patchType: TypedWrite.PatchType? = nil, subresource: Kind.Subresource? = nil, uid: String = "") -> TypedWrite {
        TypedWrite(verb: verb, kind: kind, apiVersion: apiVersion, namespace: "default", name: name, subresource: subresource,
                   body: body, patchType: patchType, fieldValidation: .strict, uid: uid, now: "2026-01-01T00:00:00Z")
    }

    func testAdmittedWritesStoreWhatTheFullPathStores() throws {
        let writes: [TypedWrite] = [
            write(.create, "Deployment", "extensions/v1beta1", body: deploymentManifest(apiVersion: "extensions/v1beta1", selector: false), uid: "d1"),
            write(.create, "Pod", "v1", body: ["metadata": ["name": "p"], "spec": ["containers": [["name": "c", "image": "busybox"]]]], uid: "p1"),
            write(.create, "ConfigMap", "v1", body: ["metadata": ["generateName": "cfg-"], "data": ["a": "b"]], uid: "c1"),
            write(.patch, "Deployment", "apps/v1", name: "web", body: ["spec": ["replicas": 3]], patchType: .merge),
            write(.update, "Deployment", "apps/v1", name: "web", body: ["status": ["replicas": 3]], subresource: .status),
            write(.patch, "Pod", "v1", name: "p", body: ["metadata": ["labels": ["x": "y"]]], patchType: .strategic),
            write(.update, "Deployment", "apps/v1", name: "web", body: deploymentManifest(image: "registry:5000/web:2.0")),
        ]
        var full = V2Harness()
        var admitted = V2Harness()
        for (i, write) in writes.enumerated() {
            let expected = full.base.apply(.typed(write))
            let admission = try XCTUnwrap(admitted.store.admit(write), "write \(i) is admitted")
            let got = admitted.base.apply(.admitted(admission))
            XCTAssertEqual(got, expected, "write \(i)")
            XCTAssertTrue(got.succeeded, "write \(i): \(got)")
        }
        XCTAssertEqual(admitted.store.snapshot(), full.store.snapshot())
        XCTAssertEqual(admitted.base.events, full.base.events)
    }

    func testWhatMustTakeTheFullPath() {
        var h = V2Harness()
        h.create(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1")
        let service: JSONValue = ["metadata": ["name": "s"], "spec": ["ports": [["port": 80]]]]
        XCTAssertNil(h.store.admit(write(.create, "Service", "v1", body: service, uid: "s1")), "allocation reads other services")
        XCTAssertNil(h.store.admit(write(.delete, "Deployment", "apps/v1", name: "web")))
        XCTAssertNil(h.store.admit(write(.patch, "Deployment", "apps/v1", name: "web", body: ["spec": ["replicas": 3]],
                                         patchType: .merge, subresource: .scale)))
        XCTAssertNil(h.store.admit(write(.update, "Deployment", "apps/v1", name: "web", body: deploymentManifest())),
                     "an update that changes nothing writes nothing")
        XCTAssertNil(h.store.admit(write(.create, "Deployment", "apps/v1", body: deploymentManifest(selector: false), uid: "x")),
                     "a refusal comes from the entry, with its answer")
        XCTAssertNil(Store().admit(write(.create, "ConfigMap", "v1", body: ["metadata": ["name": "a"]], uid: "a")),
                     "cluster version 1 has no typed writes")
    }

    func testAWriteAdmittedBeforeTheStoreMovedAppliesNothing() throws {
        var h = V2Harness()
        h.create(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1")
        let patch = try XCTUnwrap(h.store.admit(write(.patch, "Deployment", "apps/v1", name: "web",
                                                      body: ["spec": ["replicas": 5]], patchType: .merge)))
        h.patch(["metadata": ["labels": ["moved": "yes"]]], type: .merge, kind: "Deployment", apiVersion: "apps/v1", name: "web")
        let before = h.store.snapshot()
        guard case .stale = h.base.apply(.admitted(patch)) else { return XCTFail("a write admitted from an old version is stale") }
        XCTAssertEqual(h.store.get(ObjectKey(kind: .deployment, namespace: "default", name: "web"))?.json[path: ["spec", "replicas"]], 1)
        XCTAssertNotEqual(before, h.store.snapshot(), "only the revision moved")
        XCTAssertEqual(h.store.list(.deployment).items.count, 1)

        // A create whose name was taken meanwhile gets the answer the full path gives.
        let create = try XCTUnwrap(h.store.admit(write(.create, "ConfigMap", "v1", body: ["metadata": ["name": "taken"]], uid: "u1")))
        h.create(["metadata": ["name": "taken"]], kind: "ConfigMap", apiVersion: "v1")
        XCTAssertEqual(h.base.apply(.admitted(create)).httpStatus, 409)

        // One admitted under another cluster version is stale.
        let old = AdmittedWrite(clusterVersion: 1, expectation: .absent, object: ["kind": "ConfigMap"])
        guard case .stale = h.base.apply(.admitted(old)) else { return XCTFail("another cluster version's admission is stale") }
    }

    func testABindingAdmittedOnceStoresWhatTheFullPathStores() throws {
        let pod = write(.create, "Pod", "v1", body: ["metadata": ["name": "p"], "spec": ["containers": [["name": "c", "image": "busybox"]]]],
                        uid: "p1")
        let binding = write(.create, "Pod", "v1", name: "p", body: ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": "p"],
                                                                      "target": ["kind": "Node", "name": "n1"]], subresource: .binding)
        var full = V2Harness()
        var admitted = V2Harness()
        full.base.apply(.typed(pod))
        admitted.base.apply(.typed(pod))
        let expected = full.base.apply(.typed(binding))
        XCTAssertEqual(expected.httpStatus, 201)
        let admission = try XCTUnwrap(admitted.store.admit(binding))
        let got = admitted.base.apply(.admitted(admission))
        XCTAssertTrue(got.succeeded, "\(got)")
        XCTAssertEqual(admitted.store.snapshot(), full.store.snapshot(), "the same bound pod, in its canonical form")
        XCTAssertEqual(admitted.base.events, full.base.events)

        // Bound already: the full path answers (409); a pod that changed since is stale.
        XCTAssertNil(admitted.store.admit(binding))
        var h = V2Harness()
        h.base.apply(.typed(pod))
        let early = try XCTUnwrap(h.store.admit(binding))
        h.patch(["metadata": ["labels": ["moved": "yes"]]], type: .merge, kind: "Pod", apiVersion: "v1", name: "p")
        guard case .stale = h.base.apply(.admitted(early)) else { return XCTFail("a binding admitted before the pod moved is stale") }
    }

    func testCreatesAdmittedTogetherGenerateDifferentNames() throws {
        // A ReplicaSet's creates are admitted against one view of the store: the generated
        // names must differ (they once all came out the same, and all but one failed 409).
        var h = V2Harness()
        let view = h.store
        let admissions = try (0..<50).map { i in
            try XCTUnwrap(view.admit(write(.create, "ConfigMap", "v1", body: ["metadata": ["generateName": "web-"]], uid: "uid-\(i)")))
        }
        var names: Set<String> = []
        for admission in admissions {
            let result = h.base.apply(.admitted(admission))
            XCTAssertEqual(result.httpStatus, 201, "\(result)")
            if case .created(let stored) = result { names.insert(stored.key.name) }
        }
        XCTAssertEqual(names.count, 50)
        XCTAssertTrue(names.allSatisfy { $0.hasPrefix("web-") && $0.count == 9 })
    }

    func testAdmittedCommandsRoundTrip() throws {
        let h = V2Harness()
        let admission = try XCTUnwrap(h.store.admit(write(.create, "ConfigMap", "v1", body: ["metadata": ["name": "a"]], uid: "u")))
        let command = StoreCommand.admitted(admission)
        XCTAssertEqual(try StoreCommand.decode(command.encoded()), command)
        var bytes = command.encoded()
        bytes[3] = 9  // an unknown expectation
        XCTAssertThrowsError(try StoreCommand.decode(bytes))
    }
}
