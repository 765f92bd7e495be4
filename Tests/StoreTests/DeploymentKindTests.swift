import JSON
import Store
import XCTest

/// Deployments and ReplicaSets: the versions they are served at and their defaults, the
/// rules of apps/v1, generation, scale, and deletion of what they own.
final class DeploymentKindTests: XCTestCase {
    func testExtensionsV1beta1DefaultsSelectorLabelsAndItsOwnRollingUpdate() throws {
        var h = V2Harness()
        let result = h.create(deploymentManifest(apiVersion: "extensions/v1beta1", selector: false),
                              kind: "Deployment", apiVersion: "extensions/v1beta1")
        let stored = try XCTUnwrap(result.object, "\(result)")
        XCTAssertEqual(stored.json["apiVersion"], "apps/v1", "stored in the storage version")
        XCTAssertEqual(stored.json["spec"]?["selector"], ["matchLabels": ["app": "web"]])
        XCTAssertEqual(stored.json["metadata"]?["labels"], ["app": "web"])
        XCTAssertEqual(stored.json["spec"]?["strategy"], ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": 1]])
        XCTAssertEqual(stored.json["spec"]?["revisionHistoryLimit"], .int(Int64(Int32.max)))
        XCTAssertEqual(stored.json["spec"]?["progressDeadlineSeconds"], .int(Int64(Int32.max)))
        // Presented through the old version, it says so.
        let presented = DeploymentVersionsProbe.present(stored, apiVersion: "extensions/v1beta1")
        XCTAssertEqual(presented["apiVersion"], "extensions/v1beta1")
    }

    func testAppsV1DefaultsAndRequiresItsSelector() throws {
        var h = V2Harness()
        let stored = try XCTUnwrap(h.create(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1").object)
        XCTAssertEqual(stored.json["spec"]?["strategy"], ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]])
        XCTAssertEqual(stored.json["spec"]?["revisionHistoryLimit"], 10)
        XCTAssertEqual(stored.json["spec"]?["progressDeadlineSeconds"], 600)
        XCTAssertEqual(stored.json["status"], .object(JSONObject()))
        XCTAssertEqual(stored.generation, 1)

        let missing = h.create(deploymentManifest("db", selector: false), kind: "Deployment", apiVersion: "apps/v1")
        guard case .rejected(let rejection) = missing else { return XCTFail("\(missing)") }
        XCTAssertEqual(rejection.code, 422)
        XCTAssertEqual(rejection.causes.map(\.description), ["spec.selector: Required value"])
        XCTAssertTrue(rejection.message.hasPrefix("Deployment.apps \"db\" is invalid: "), rejection.message)
    }

    func testFieldErrorsCarryPaths() {
        var h = V2Harness()
        var manifest = deploymentManifest(replicas: -1)
        manifest[path: ["spec", "template", "spec", "containers", 0, "image"]] = nil
        manifest[path: ["spec", "selector", "matchLabels", "app"]] = "other"
        let result = h.create(manifest, kind: "Deployment", apiVersion: "apps/v1")
        guard case .rejected(let rejection) = result else { return XCTFail("\(result)") }
        let fields = Set(rejection.causes.map(\.field))
        XCTAssertTrue(fields.contains("spec.replicas"), "\(rejection.causes)")
        XCTAssertTrue(fields.contains("spec.template.metadata.labels"), "\(rejection.causes)")
        XCTAssertTrue(fields.contains("spec.template.spec.containers[0].image"), "\(rejection.causes)")
    }

    func testUnknownFieldsAreStrictErrorsOrDroppedAndTypeErrorsAre400() {
        var h = V2Harness()
        var manifest = deploymentManifest()
        manifest[path: ["spec", "replicaz"]] = 3
        let strict = h.create(manifest, kind: "Deployment", apiVersion: "apps/v1")
        guard case .rejected(let rejection) = strict else { return XCTFail("\(strict)") }
        XCTAssertEqual(rejection.code, 400)
        XCTAssertTrue(rejection.message.contains("strict decoding error: unknown field \"spec.replicaz\""), rejection.message)

        let ignored = h.create(manifest, kind: "Deployment", apiVersion: "apps/v1", validation: .ignore)
        XCTAssertNil(ignored.object?.json["spec"]?["replicaz"], "\(ignored)")

        var wrongType = deploymentManifest("typed")
        wrongType[path: ["spec", "replicas"]] = "three"
        guard case .rejected(let typeError) = h.create(wrongType, kind: "Deployment", apiVersion: "apps/v1") else {
            return XCTFail("a string for replicas must fail")
        }
        XCTAssertEqual(typeError.code, 400)
        XCTAssertEqual(typeError.causes.first?.field, "spec.replicas")
    }

    func testSelectorIsImmutableInAppsV1ButNotInExtensions() throws {
        var h = V2Harness()
        try XCTUnwrap(h.create(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1").object)
        var changed = deploymentManifest()
        changed[path: ["spec", "selector", "matchLabels", "tier"]] = "front"
        changed[path: ["spec", "template", "metadata", "labels", "tier"]] = "front"
        let refused = h.update(changed, kind: "Deployment", apiVersion: "apps/v1", name: "web")
        guard case .rejected(let rejection) = refused else { return XCTFail("\(refused)") }
        XCTAssertEqual(rejection.causes.first?.field, "spec.selector")

        changed["apiVersion"] = "extensions/v1beta1"
        let allowed = h.update(changed, kind: "Deployment", apiVersion: "extensions/v1beta1", name: "web")
        XCTAssertEqual(allowed.httpStatus, 200, "\(allowed)")
    }

    func testGenerationMovesOnSpecAndAnnotationsNotOnStatusOrLabels() throws {
        var h = V2Harness()
        try XCTUnwrap(h.create(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1").object)
        let same = h.update(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1", name: "web")
        XCTAssertEqual(same.object?.generation, 1)
        XCTAssertEqual(same.object?.resourceVersion, h.get(.deployment, "web")?.resourceVersion, "an unchanged update writes nothing")

        let image = h.update(deploymentManifest(image: "registry:5000/web:2.0"), kind: "Deployment", apiVersion: "apps/v1", name: "web")
        XCTAssertEqual(image.object?.generation, 2)

        let status = h.update(["status": ["observedGeneration": 2, "replicas": 1]], kind: "Deployment", apiVersion: "apps/v1",
                              name: "web", subresource: .status)
        XCTAssertEqual(status.object?.generation, 2, "\(status)")
        XCTAssertEqual(status.object?.json["status"]?["observedGeneration"], 2)
        XCTAssertEqual(status.object?.json[path: ["spec", "template", "spec", "containers", 0, "image"]], "registry:5000/web:2.0")

        let labelled = h.patch(["metadata": ["labels": ["team": "a"]]], type: .merge, kind: "Deployment", apiVersion: "apps/v1", name: "web")
        XCTAssertEqual(labelled.object?.generation, 2, "\(labelled)")
        XCTAssertEqual(labelled.object?.json["status"]?["replicas"], 1, "a main-resource write keeps the status")
        let annotated = h.patch(["metadata": ["annotations": ["note": "x"]]], type: .merge, kind: "Deployment", apiVersion: "apps/v1", name: "web")
        XCTAssertEqual(annotated.object?.generation, 3)
    }

    func testStrategicPatchChangesOneContainerAndScaleSetsReplicas() throws {
        var h = V2Harness()
        try XCTUnwrap(h.create(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1").object)
        let patch: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "web", "image": "registry:5000/web:2.0"]]]]]]
        let patched = try XCTUnwrap(h.patch(patch, type: .strategic, kind: "Deployment", apiVersion: "apps/v1", name: "web").object)
        let container = patched.json[path: ["spec", "template", "spec", "containers", 0]]
        XCTAssertEqual(container?["image"], "registry:5000/web:2.0")
        XCTAssertEqual(container?["ports"]?[0]?["containerPort"], 80, "merged by name: the ports stay")

        let scaled = try XCTUnwrap(h.patch(["spec": ["replicas": 3]], type: .merge, kind: "Deployment", apiVersion: "apps/v1",
                                           name: "web", subresource: .scale).object)
        XCTAssertEqual(scaled.json["spec"]?["replicas"], 3)
        XCTAssertEqual(Store.scaleJSON(of: scaled)?["spec"]?["replicas"], 3)
        XCTAssertEqual(Store.scaleJSON(of: scaled)?["status"]?["selector"], "app=web")
        let negative = h.update(["apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": ["name": "web"], "spec": ["replicas": -2]],
                                kind: "Deployment", apiVersion: "apps/v1", name: "web", subresource: .scale)
        XCTAssertEqual(negative.httpStatus, 422)
    }

    func testDeletingAnOwnerCascadesInTheBackgroundOrphansOrWaitsInTheForeground() throws {
        var h = V2Harness()
        let deployment = try XCTUnwrap(h.create(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1").object)
        func replicaSet(_ name: String, owner: StoredObject) -> JSONValue {
            var manifest = deploymentManifest(name)
            manifest["kind"] = "ReplicaSet"
            manifest[path: ["metadata", "ownerReferences"]] = [["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(owner.key.name),
                                                                "uid": .string(owner.uid), "controller": true, "blockOwnerDeletion": true]]
            return manifest
        }
        let rs = try XCTUnwrap(h.create(replicaSet("web-1", owner: deployment), kind: "ReplicaSet", apiVersion: "apps/v1").object)
        XCTAssertNotNil(rs.json["metadata"]?["ownerReferences"])

        // Orphan: the ReplicaSet stays, without its owner reference.
        XCTAssertEqual(h.delete(kind: "Deployment", apiVersion: "apps/v1", name: "web", propagation: .orphan).httpStatus, 200)
        XCTAssertNil(h.get(.deployment, "web"))
        XCTAssertNil(h.get(.replicaSet, "web-1")?.json["metadata"]?["ownerReferences"])

        // Background: the owner goes at once, its dependents after it, in the same entry.
        let second = try XCTUnwrap(h.create(deploymentManifest("api"), kind: "Deployment", apiVersion: "apps/v1").object)
        try XCTUnwrap(h.create(replicaSet("api-1", owner: second), kind: "ReplicaSet", apiVersion: "apps/v1").object)
        h.delete(kind: "Deployment", apiVersion: "apps/v1", name: "api")
        XCTAssertNil(h.get(.deployment, "api"))
        XCTAssertNil(h.get(.replicaSet, "api-1"))

        // Foreground: the owner waits, marked, until its blocking dependents are gone.
        let third = try XCTUnwrap(h.create(deploymentManifest("db"), kind: "Deployment", apiVersion: "apps/v1").object)
        var pinned = replicaSet("db-1", owner: third)
        pinned[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        try XCTUnwrap(h.create(pinned, kind: "ReplicaSet", apiVersion: "apps/v1").object)
        h.delete(kind: "Deployment", apiVersion: "apps/v1", name: "db", propagation: .foreground)
        let waiting = try XCTUnwrap(h.get(.deployment, "db"))
        XCTAssertNotNil(waiting.json["metadata"]?["deletionTimestamp"])
        XCTAssertEqual(waiting.json["metadata"]?["finalizers"], ["foregroundDeletion"])
        XCTAssertNotNil(h.get(.replicaSet, "db-1")?.json["metadata"]?["deletionTimestamp"])
        // Its finalizer done, the ReplicaSet goes, and so does the deployment that waited for it.
        h.patch(["metadata": ["finalizers": nil]], type: .merge, kind: "ReplicaSet", apiVersion: "apps/v1", name: "db-1")
        XCTAssertNil(h.get(.replicaSet, "db-1"))
        XCTAssertNil(h.get(.deployment, "db"))
    }

    func testDeploymentRoundTripKeepsKubernetesFieldOrder() throws {
        var h = V2Harness()
        let stored = try XCTUnwrap(h.create(deploymentManifest(), kind: "Deployment", apiVersion: "apps/v1").object)
        XCTAssertEqual(stored.json.objectValue?.keys, ["kind", "apiVersion", "metadata", "spec", "status"])
        XCTAssertEqual(stored.json["spec"]?.objectValue?.keys,
                       ["replicas", "selector", "template", "strategy", "revisionHistoryLimit", "progressDeadlineSeconds"])
        // A snapshot of the typed store restores byte for byte.
        let restored = try Store(restoring: h.store.snapshot())
        XCTAssertEqual(restored.snapshot(), h.store.snapshot())
        XCTAssertEqual(restored.clusterVersion, 2)
    }
}

/// Reaches `ServedVersion.present` for a test.
enum DeploymentVersionsProbe {
    static func present(_ object: StoredObject, apiVersion: String) -> JSONValue {
        Kind.deployment.served(apiVersion: apiVersion)!.present(object.json)
    }
}
