import JSON
import Store
import XCTest

/// A store at cluster version 2 (system namespaces created) and typed writes by name, so
/// workload tests read as the requests a client would make.
struct V2Harness {
    var base = Harness()
    var now = "2026-01-01T00:00:00Z"
    var nextUID = 1

    init() {
        let moved = base.apply(.setClusterVersion(version: 2, now: now))
        XCTAssertTrue(moved.succeeded, "\(moved)")
    }

    var store: Store { base.store }

    @discardableResult
    mutating func create(_ body: JSONValue, kind: String, apiVersion: String, namespace: String = "default",
                         subresource: Kind.Subresource? = nil, name: String = "",
                         validation: FieldValidation = .strict) -> StoreResult {
        defer { nextUID += 1 }
        return base.apply(.typed(TypedWrite(verb: .create, kind: kind, apiVersion: apiVersion, namespace: namespace,
                                            name: name, subresource: subresource, body: body, fieldValidation: validation,
                                            uid: "uid-\(nextUID)", now: now)))
    }

    @discardableResult
    mutating func update(_ body: JSONValue, kind: String, apiVersion: String, name: String, namespace: String = "default",
                         subresource: Kind.Subresource? = nil) -> StoreResult {
        base.apply(.typed(TypedWrite(verb: .update, kind: kind, apiVersion: apiVersion, namespace: namespace, name: name,
                                     subresource: subresource, body: body, now: now)))
    }

    @discardableResult
    mutating func patch(_ patch: JSONValue, type: TypedWrite.PatchType, kind: String, apiVersion: String, name: String,
                        namespace: String = "default", subresource: Kind.Subresource? = nil) -> StoreResult {
        base.apply(.typed(TypedWrite(verb: .patch, kind: kind, apiVersion: apiVersion, namespace: namespace, name: name,
                                     subresource: subresource, body: patch, patchType: type, now: now)))
    }

    @discardableResult
    mutating func delete(kind: String, apiVersion: String, name: String, namespace: String = "default",
                         propagation: TypedWrite.Propagation? = nil, grace: Int64? = nil) -> StoreResult {
        base.apply(.typed(TypedWrite(verb: .delete, kind: kind, apiVersion: apiVersion, namespace: namespace, name: name,
                                     propagation: propagation, gracePeriodSeconds: grace, now: now)))
    }

    func get(_ kind: Kind, _ name: String, namespace: String = "default") -> StoredObject? {
        store.get(ObjectKey(kind: kind, namespace: kind.namespaced ? namespace : "", name: name))
    }
}

/// A Deployment manifest as kubectl would send it (apps/v1 unless `apiVersion` says otherwise).
func deploymentManifest(_ name: String = "web", apiVersion: String = "apps/v1", image: String = "registry:5000/web:1.0",
                        replicas: Int64? = 1, selector: Bool = true) -> JSONValue {
    var spec: JSONObject = [
        "template": ["metadata": ["labels": ["app": .string(name)]],
                     "spec": ["containers": [["name": .string(name), "image": .string(image), "ports": [["containerPort": 80]]]]]],
    ]
    if let replicas { spec["replicas"] = .int(replicas) }
    if selector { spec["selector"] = ["matchLabels": ["app": .string(name)]] }
    return ["apiVersion": .string(apiVersion), "kind": "Deployment", "metadata": ["name": .string(name)], "spec": .object(spec)]
}
