@testable import Controllers
import Store
import XCTest

final class DeploymentControllerTests: XCTestCase {
    let now = MetaTime(unixSeconds: 10_000)

    /// A Deployment as stored; `revision`: the revision annotation the controller gave it.
    func deployment(replicas: Int32 = 4, image: String = "app:1", strategy: String = DeploymentStrategy.rollingUpdate,
                    revision: Int64? = nil) -> Deployment {
        var d = Deployment()
        if let revision { d.metadata.annotations[DeploymentController.revisionAnnotation] = String(revision) }
        d.kind = "Deployment"
        d.apiVersion = "apps/v1"
        d.metadata.name = "web"
        d.metadata.namespace = "default"
        d.metadata.uid = "uid-web-deploy"
        d.metadata.resourceVersion = "50"
        d.metadata.generation = 1
        d.spec.replicas = replicas
        d.spec.selector = LabelSelectorSpec(matchLabels: ["app": "web"])
        d.spec.template.metadata.labels = ["app": "web"]
        var container = Container()
        container.name = "web"
        container.image = image
        d.spec.template.spec.containers = [container]
        d.spec.strategy.type = strategy
        d.applyDefaults()
        return d
    }

    /// The set the controller would create for `d`, as stored (with a uid and status).
    func storedSet(for d: Deployment, revision: Int64, replicas: Int32, available: Int32? = nil) throws -> ReplicaSet {
        let write = DeploymentController.createSet(d, hash: DeploymentController.templateHash(d.spec.template, collisionCount: 0),
                                                   revision: revision, replicas: replicas)
        var set = try XCTUnwrap(ReplicaSet(stored: write.write.body!))
        set.metadata.uid = "uid-\(set.metadata.name)"
        set.metadata.resourceVersion = "60"
        set.status.replicas = replicas
        set.status.readyReplicas = available ?? replicas
        set.status.availableReplicas = available ?? replicas
        return set
    }

    func updates(_ writes: [ControllerWrite]) -> [String: Int32] {
        var result: [String: Int32] = [:]
        for write in writes {
            guard case .update(let key) = write.effect, write.write.verb == .update, let body = write.write.body else { continue }
            result[key.name] = body[path: ["spec", "replicas"]]?.intValue.map(Int32.init) ?? 0
        }
        return result
    }

    func testANewDeploymentGetsAReplicaSetNamedByItsTemplateHash() throws {
        let d = deployment()
        let writes = DeploymentController.reconcile(d, sets: [], pods: [:], expectations: .init(), now: now)
        let create = try XCTUnwrap(writes.first { $0.effect == .createReplicaSet(owner: "uid-web-deploy") })
        let body = try XCTUnwrap(create.write.body)
        let hash = DeploymentController.templateHash(d.spec.template, collisionCount: 0)
        XCTAssertEqual(body[path: ["metadata", "name"]]?.stringValue, "web-\(hash)")
        XCTAssertEqual(body[path: ["spec", "replicas"]], 4)
        XCTAssertEqual(body[path: ["spec", "selector", "matchLabels", "pod-template-hash"]]?.stringValue, hash)
        XCTAssertEqual(body[path: ["spec", "template", "metadata", "labels", "pod-template-hash"]]?.stringValue, hash)
        XCTAssertEqual(body[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]], "1")
        XCTAssertEqual(body["metadata"]?["ownerReferences"]?[0]?["kind"], "Deployment")
        XCTAssertTrue(hash.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
        XCTAssertNotEqual(hash, DeploymentController.templateHash(deployment(image: "app:2").spec.template, collisionCount: 0))
    }

    func testAPausedRolloutScalesItsSetsInProportion() throws {
        // Paused mid-rollout with 6 old and 2 new pods: scaled to 16, the room is 16 + 25%
        // surge = 20, and the 12 more are shared 6:2 (9 and 3), as Kubernetes shares them.
        let v1 = deployment(replicas: 8, image: "app:1")
        var old = try storedSet(for: v1, revision: 1, replicas: 6)
        old.metadata.annotations[DeploymentController.desiredReplicasAnnotation] = "8"
        var d = deployment(replicas: 16, image: "app:2", revision: 2)
        d.spec.paused = true
        var new = try storedSet(for: d, revision: 2, replicas: 2)
        new.metadata.annotations[DeploymentController.desiredReplicasAnnotation] = "8"
        let writes = DeploymentController.reconcile(d, sets: [old, new], pods: [:], expectations: .init(), now: now)
        XCTAssertEqual(updates(writes), [old.metadata.name: 15, new.metadata.name: 5])

        // Sized for the current count already: nothing to scale, no rollout while paused.
        old.metadata.annotations[DeploymentController.desiredReplicasAnnotation] = "16"
        new.metadata.annotations[DeploymentController.desiredReplicasAnnotation] = "16"
        XCTAssertTrue(updates(DeploymentController.reconcile(d, sets: [old, new], pods: [:], expectations: .init(), now: now)).isEmpty)
    }

    func testBoundsRoundTheSurgeUpAndTheUnavailabilityDown() {
        XCTAssertEqual(DeploymentController.rollingBounds(deployment(replicas: 10)).maxSurge, 3)
        XCTAssertEqual(DeploymentController.rollingBounds(deployment(replicas: 10)).maxUnavailable, 2)
        var zero = deployment(replicas: 3)
        zero.spec.strategy.rollingUpdate = RollingUpdateDeployment()
        zero.spec.strategy.rollingUpdate!.maxSurge = .int(0)
        zero.spec.strategy.rollingUpdate!.maxUnavailable = .string("0%")
        XCTAssertEqual(DeploymentController.rollingBounds(zero).maxUnavailable, 1, "both zero would never move")
    }

    func testARollingUpdateSurgesThenScalesOldDownKeepingAvailability() throws {
        let v1 = deployment()
        let old = try storedSet(for: v1, revision: 1, replicas: 4)
        let v2 = deployment(image: "app:2", revision: 2)
        // The new template: a new set of revision 2, sized to the surge (4 + 1 - 4).
        let first = DeploymentController.reconcile(v2, sets: [old], pods: [:], expectations: .init(), now: now)
        let create = try XCTUnwrap(first.first { $0.effect == .createReplicaSet(owner: "uid-web-deploy") })
        XCTAssertEqual(create.write.body?[path: ["spec", "replicas"]], 1)
        XCTAssertEqual(create.write.body?[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]], "2")

        // New set at 1, not yet available: the old may lose only what keeps 3 available.
        let new = try storedSet(for: v2, revision: 2, replicas: 1, available: 0)
        XCTAssertEqual(updates(DeploymentController.reconcile(v2, sets: [old, new], pods: [:], expectations: .init(), now: now)),
                       [old.metadata.name: 3])
        // Old at 3: 4 in all, room for one more: the new set grows to 2.
        var oldAt3 = old
        oldAt3.spec.replicas = 3
        oldAt3.status.availableReplicas = 3
        XCTAssertEqual(updates(DeploymentController.reconcile(v2, sets: [oldAt3, new], pods: [:], expectations: .init(), now: now)),
                       [new.metadata.name: 2])
        // 5 in all, the 2 new ones unavailable: no room to surge and none to lose.
        let newAt2 = try storedSet(for: v2, revision: 2, replicas: 2, available: 0)
        XCTAssertEqual(updates(DeploymentController.reconcile(v2, sets: [oldAt3, newAt2], pods: [:], expectations: .init(), now: now)), [:])
        // Once they are available, two old pods may go.
        let newAvailable = try storedSet(for: v2, revision: 2, replicas: 2, available: 2)
        XCTAssertEqual(updates(DeploymentController.reconcile(v2, sets: [oldAt3, newAvailable], pods: [:], expectations: .init(), now: now)),
                       [old.metadata.name: 1])
        // Nothing moves while a write to one of its sets is in flight.
        var busy = DeploymentController.Expectations()
        busy.writingSets = [old.metadata.name]
        XCTAssertTrue(DeploymentController.reconcile(v2, sets: [old, new], pods: [:], expectations: busy, now: now).isEmpty)
    }

    func testRecreateEmptiesTheOldSetBeforeTheNewOneGrows() throws {
        let v1 = deployment(strategy: DeploymentStrategy.recreate)
        let old = try storedSet(for: v1, revision: 1, replicas: 4)
        let v2 = deployment(image: "app:2", strategy: DeploymentStrategy.recreate, revision: 2)
        let new = try storedSet(for: v2, revision: 2, replicas: 0)
        XCTAssertEqual(updates(DeploymentController.reconcile(v2, sets: [old, new], pods: [:], expectations: .init(), now: now)),
                       [old.metadata.name: 0])
        var oldEmpty = old
        oldEmpty.spec.replicas = 0
        let stopping = Fixture.pod("old-1", owner: oldEmpty, phase: PodStatus.running)
        XCTAssertEqual(updates(DeploymentController.reconcile(v2, sets: [oldEmpty, new], pods: [oldEmpty.metadata.uid: [stopping]],
                                                              expectations: .init(), now: now)), [:], "an old pod still runs")
        XCTAssertEqual(updates(DeploymentController.reconcile(v2, sets: [oldEmpty, new], pods: [:], expectations: .init(), now: now)),
                       [new.metadata.name: 4])
    }

    func testTheDeploymentCarriesItsCurrentRevision() throws {
        let d = deployment()
        let set = try storedSet(for: d, revision: 1, replicas: 4)
        let writes = DeploymentController.reconcile(d, sets: [set], pods: [:], expectations: .init(), now: now)
        XCTAssertEqual(writes.count, 1)
        XCTAssertEqual(writes.first?.effect, .update(ObjectKey(kind: .deployment, namespace: "default", name: "web")))
        XCTAssertEqual(writes.first?.write.body?[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]], "1")
        XCTAssertEqual(writes.first?.write.expectedResourceVersion, 50)
    }

    func testARollbackReusesTheOldSetUnderTheNextRevision() throws {
        let v1 = deployment()
        var first = try storedSet(for: v1, revision: 1, replicas: 0)
        first.status = ReplicaSetStatus()
        let second = try storedSet(for: deployment(image: "app:2"), revision: 2, replicas: 4)
        let writes = DeploymentController.reconcile(v1, sets: [first, second], pods: [:], expectations: .init(), now: now)
        let update = try XCTUnwrap(writes.first { $0.effect == .update(ObjectKey(kind: .replicaSet, namespace: "default", name: first.metadata.name)) })
        XCTAssertEqual(update.write.body?[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]], "3")
        XCTAssertFalse(writes.contains { $0.effect == .createReplicaSet(owner: "uid-web-deploy") })
    }

    func testStatusAndConditionsTellRolloutStatusWhenItIsDone() throws {
        let d = deployment(revision: 1)
        let set = try storedSet(for: d, revision: 1, replicas: 4)
        let writes = DeploymentController.reconcile(d, sets: [set], pods: [:], expectations: .init(), now: now)
        let status = try XCTUnwrap(writes.first { if case .status = $0.effect { return true } else { return false } })
        XCTAssertEqual(status.write.expectedResourceVersion, 50)
        let written = try XCTUnwrap(status.write.body?["status"])
        XCTAssertEqual(written["observedGeneration"], 1)
        XCTAssertEqual(written["updatedReplicas"], 4)
        XCTAssertEqual(written["availableReplicas"], 4)
        let conditions = written["conditions"]?.arrayValue ?? []
        XCTAssertEqual(conditions.map { $0["type"]?.stringValue ?? "" }, ["Available", "Progressing"])
        XCTAssertEqual(conditions[1]["reason"], "NewReplicaSetAvailable")
        XCTAssertEqual(conditions[1]["message"]?.stringValue, "ReplicaSet \"\(set.metadata.name)\" has successfully progressed.")
    }

    func testAStalledRolloutExceedsItsProgressDeadline() throws {
        var d = deployment(image: "app:2", revision: 2)
        d.spec.progressDeadlineSeconds = 60
        var progressing = DeploymentCondition(type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: "x", now: MetaTime(unixSeconds: 9_000))
        progressing.lastUpdateTime = MetaTime(unixSeconds: 9_000)
        d.status.conditions = [progressing]
        let new = try storedSet(for: d, revision: 2, replicas: 4, available: 0)
        d.status.observedGeneration = 1
        d.status.replicas = 4
        d.status.updatedReplicas = 4
        let writes = DeploymentController.reconcile(d, sets: [new], pods: [:], expectations: .init(), now: now)
        let written = try XCTUnwrap(writes.compactMap { $0.write.subresource == .status ? $0.write.body?["status"] : nil }.first)
        let condition = (written["conditions"]?.arrayValue ?? []).first { $0["type"] == "Progressing" }
        XCTAssertEqual(condition?["reason"], "ProgressDeadlineExceeded")
        XCTAssertEqual(condition?["status"], "False")
    }

    func testHistoryBeyondTheLimitIsDeleted() throws {
        var d = deployment(image: "app:4", revision: 4)
        d.spec.revisionHistoryLimit = 1
        var old: [ReplicaSet] = []
        for (i, image) in ["app:1", "app:2", "app:3"].enumerated() {
            var set = try storedSet(for: deployment(image: image), revision: Int64(i + 1), replicas: 0)
            set.status = ReplicaSetStatus()
            old.append(set)
        }
        let current = try storedSet(for: d, revision: 4, replicas: 4)
        let deletes = DeploymentController.reconcile(d, sets: old + [current], pods: [:], expectations: .init(), now: now)
            .filter { $0.write.verb == .delete }.map(\.write.name)
        XCTAssertEqual(deletes, [old[0].metadata.name, old[1].metadata.name])
    }
}
