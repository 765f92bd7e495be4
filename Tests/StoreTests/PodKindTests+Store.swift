import JSON
import Store
import XCTest

/// A pod's life in the store: create, bind, status, update rules, graceful and immediate
/// deletion, and the creates Kubernetes refuses.
extension PodKindTests {
    func testAPodsLifeInTheStore() throws {
        var store = PodStore()
        let body = try JSONValue.parse("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},\
        "spec":{"containers":[{"name":"web","image":"nginx:1.27","resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]}}
        """)
        let created = store.write(TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default", body: body,
                                             uid: "u1", now: PodStore.now))
        guard case .created(let object) = created else { return XCTFail("\(created)") }
        XCTAssertEqual(object.json["status"]?.jsonString, #"{"phase":"Pending","qosClass":"Guaranteed"}"#)
        XCTAssertEqual(object.json[path: ["spec", "containers", 0, "resources", "requests"]]?.jsonString, #"{"cpu":"1","memory":"1Gi"}"#)
        XCTAssertEqual(object.json["metadata"]?["generation"], 1)

        // The scheduler binds it.
        let binding = try JSONValue.parse(#"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"apiVersion":"v1","kind":"Node","name":"node-1"}}"#)
        let bound = store.write(TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default", name: "web",
                                           subresource: .binding, body: binding, now: "2026-01-01T00:00:02Z"))
        XCTAssertEqual(bound.httpStatus, 201, "\(bound)")
        var current = try XCTUnwrap(store.get("web"))
        XCTAssertEqual(current["spec"]?["nodeName"], "node-1")
        XCTAssertEqual(Pod(stored: current)?.condition(PodCondition.podScheduled)?.status, "True")
        XCTAssertEqual(try Store(restoring: store.store.snapshot()).digest, store.store.digest,
                       "a bound pod is in the stored form a snapshot keeps (the binding once set fields by hand)")

        // The node agent reports it running.
        current[path: ["status", "phase"]] = "Running"
        current[path: ["status", "podIP"]] = "10.244.1.9"
        current[path: ["status", "qosClass"]] = nil
        current[path: ["spec", "restartPolicy"]] = "Never"  // ignored by a status write
        let reported = store.write(TypedWrite(verb: .update, kind: "Pod", apiVersion: "v1", namespace: "default", name: "web",
                                              subresource: .status, body: current, now: PodStore.now))
        XCTAssertEqual(reported.httpStatus, 200, "\(reported)")
        let running = try XCTUnwrap(store.get("web"))
        XCTAssertEqual(running["status"]?["phase"], "Running")
        XCTAssertEqual(running["status"]?["qosClass"], "Guaranteed", "a status write keeps the QoS class")
        XCTAssertEqual(running["spec"]?["restartPolicy"], "Always")
        XCTAssertEqual(Kind.pod.fieldLabels["status.podIP"]?(running), "10.244.1.9")

        // An update may change the image, not the restart policy; it keeps the status.
        var update = running
        update[path: ["spec", "containers", 0, "image"]] = "nginx:1.28"
        update[path: ["status"]] = nil
        XCTAssertEqual(store.write(TypedWrite(verb: .update, kind: "Pod", apiVersion: "v1", namespace: "default", name: "web",
                                              body: update, now: PodStore.now)).httpStatus, 200)
        let updated = try XCTUnwrap(store.get("web"))
        XCTAssertEqual(updated[path: ["spec", "containers", 0, "image"]], "nginx:1.28")
        XCTAssertEqual(updated["status"]?["phase"], "Running")
        XCTAssertEqual(updated["metadata"]?["generation"], 1, "1.32 does not count pod generations")
        update = updated
        update[path: ["spec", "restartPolicy"]] = "Never"
        let refused = store.write(TypedWrite(verb: .update, kind: "Pod", apiVersion: "v1", namespace: "default", name: "web",
                                             body: update, now: PodStore.now))
        XCTAssertEqual(refused.httpStatus, 422)
        XCTAssertEqual(refused.podRejection?.causes.map(\.field), ["spec"])

        // A graceful delete marks it; the agent's delete with grace 0 removes it.
        let marked = store.write(TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: "default", name: "web",
                                            now: "2026-01-01T00:10:00Z"))
        XCTAssertEqual(marked.httpStatus, 200, "\(marked)")
        let terminating = try XCTUnwrap(store.get("web"))
        XCTAssertEqual(terminating["metadata"]?["deletionTimestamp"], "2026-01-01T00:10:30Z")
        XCTAssertEqual(terminating["metadata"]?["deletionGracePeriodSeconds"], 30)
        XCTAssertTrue(Pod(stored: terminating)?.isTerminating == true)
        // What the binding and the deletion mark wrote is in the stored form a snapshot keeps:
        // a member restores it (a hand-set field once made the restore refuse the pod).
        let restored = try Store(restoring: store.store.snapshot())
        XCTAssertEqual(restored.digest, store.store.digest)
        XCTAssertEqual(restored.get(ObjectKey(kind: .pod, namespace: "default", name: "web"))?.json, terminating)
        let gone = store.write(TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: "default", name: "web",
                                          gracePeriodSeconds: 0, now: "2026-01-01T00:10:05Z"))
        XCTAssertEqual(gone.httpStatus, 200, "\(gone)")
        XCTAssertNil(store.get("web"))
    }

    func testUnscheduledPodsGoAtOnceAndCreatesAreRefusedAsKubernetesRefusesThem() throws {
        var store = PodStore()
        let body = try JSONValue.parse(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"x"}]}}"#)
        XCTAssertEqual(store.write(TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default", body: body,
                                              uid: "u1", now: PodStore.now)).httpStatus, 201)
        XCTAssertEqual(store.write(TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: "default", name: "p",
                                              now: PodStore.now)).httpStatus, 200)
        XCTAssertNil(store.get("p"))

        var bogus = body
        bogus[path: ["spec", "bogus"]] = true
        let refused = store.write(TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default", body: bogus,
                                             uid: "u2", now: PodStore.now))
        XCTAssertEqual(refused.httpStatus, 400)
        XCTAssertEqual(refused.podRejection?.message,
                       #"Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.bogus""#)

        var ephemeral = body
        ephemeral[path: ["metadata", "name"]] = "e"
        ephemeral[path: ["spec", "ephemeralContainers"]] = try JSONValue.parse(#"[{"name":"debug","image":"busybox"}]"#)
        let debug = store.write(TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default", body: ephemeral,
                                           uid: "u4", now: PodStore.now))
        XCTAssertEqual(debug.podRejection?.message, #"Pod "e" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create"#)

        let invalid = try JSONValue.parse(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"},"spec":{"containers":[{"name":"a"}]}}"#)
        let rejected = store.write(TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default", body: invalid,
                                              uid: "u3", now: PodStore.now))
        XCTAssertEqual(rejected.podRejection?.message, #"Pod "q" is invalid: spec.containers[0].image: Required value"#)
    }
}

/// A store at cluster version 2 for pod and node writes.
struct PodStore {
    static let now = "2026-01-01T00:00:00Z"
    var store = Store()
    var index: UInt64 = 0

    init() { write(.setClusterVersion(version: 2, now: Self.now)) }

    @discardableResult
    mutating func write(_ command: StoreCommand) -> StoreResult {
        index += 1
        return store.apply(index: index, command.encoded()).result
    }

    @discardableResult
    mutating func write(_ typed: TypedWrite) -> StoreResult { write(.typed(typed)) }

    func get(_ name: String, kind: Kind = .pod, namespace: String = "default") -> JSONValue? {
        store.get(ObjectKey(kind: kind, namespace: kind.namespaced ? namespace : "", name: name))?.json
    }
}

extension StoreResult {
    /// The refusal of a typed write (nil otherwise).
    var podRejection: Rejection? { if case .rejected(let rejection) = self { return rejection } else { return nil } }
}
