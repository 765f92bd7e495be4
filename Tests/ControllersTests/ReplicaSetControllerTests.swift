@testable import Controllers
import Store
import XCTest

final class ReplicaSetControllerTests: XCTestCase {
    let now = MetaTime(unixSeconds: 1_000)

    func testCreatesTheMissingPodsFromTheTemplateOwnedByTheSet() {
        let set = Fixture.replicaSet("web", replicas: 3)
        let existing = Fixture.pod("web-a", owner: set)
        let writes = ReplicaSetController.reconcile(set, pods: [existing], expectations: .init(), now: now)
        let creates = writes.filter { $0.effect == .createPod(owner: "uid-web") }
        XCTAssertEqual(creates.count, 2)
        let body = creates[0].write.body!
        XCTAssertEqual(body[path: ["metadata", "generateName"]], "web-")
        XCTAssertEqual(body[path: ["metadata", "labels", "app"]], "web")
        XCTAssertEqual(body["metadata"]?["ownerReferences"]?[0]?["uid"], "uid-web")
        XCTAssertEqual(body["metadata"]?["ownerReferences"]?[0]?["controller"], true)
        XCTAssertEqual(body[path: ["spec", "containers"]]?[0]?["image"], "registry.local/app:1")
    }

    func testCreatesInFlightAreNotCreatedAgain() {
        let set = Fixture.replicaSet("web", replicas: 3)
        var expectations = ReplicaSetController.Expectations()
        expectations.creates = 2
        let writes = ReplicaSetController.reconcile(set, pods: [Fixture.pod("web-a", owner: set)], expectations: expectations, now: now)
        XCTAssertTrue(writes.allSatisfy { if case .createPod = $0.effect { return false } else { return true } },
                      "one pod and two creates in flight make three")
    }

    func testDeletesTheSurplusInKubernetesOrderAndOnlyOnce() {
        let set = Fixture.replicaSet("web", replicas: 2)
        let pods = [
            Fixture.pod("running-old", node: "a", owner: set, phase: PodStatus.running, ready: true, readySince: 100, created: 1),
            Fixture.pod("running-new", node: "a", owner: set, phase: PodStatus.running, ready: true, readySince: 500, created: 2),
            Fixture.pod("pending", node: "b", owner: set, created: 3),
            Fixture.pod("unscheduled", owner: set, created: 4),
        ]
        let deletes = ReplicaSetController.reconcile(set, pods: pods, expectations: .init(), now: now).compactMap { write -> String? in
            if case .deletePod(_, let pod) = write.effect { return pod }
            return nil
        }
        XCTAssertEqual(deletes, ["uid-unscheduled", "uid-pending"])
        var expectations = ReplicaSetController.Expectations()
        expectations.deletes = ["uid-unscheduled", "uid-pending"]
        let again = ReplicaSetController.reconcile(set, pods: pods, expectations: expectations, now: now)
        XCTAssertFalse(again.contains { if case .deletePod = $0.effect { return true } else { return false } })
        XCTAssertEqual(ReplicaSetController.deletionOrder([pods[0], pods[1]], now: now).map(\.metadata.name), ["running-new", "running-old"],
                       "the pod ready for less time goes first")
    }

    func testTerminatingAndFinishedPodsDoNotCount() {
        let set = Fixture.replicaSet("web", replicas: 1)
        var leaving = Fixture.pod("leaving", owner: set, phase: PodStatus.running)
        leaving.metadata.deletionTimestamp = MetaTime(unixSeconds: 900)
        let done = Fixture.pod("done", owner: set, phase: PodStatus.succeeded)
        let writes = ReplicaSetController.reconcile(set, pods: [leaving, done], expectations: .init(), now: now)
        XCTAssertEqual(writes.filter { $0.effect == .createPod(owner: "uid-web") }.count, 1)
    }

    func testStatusCountsReadyAndAvailablePodsAndIsConditional() throws {
        let set = Fixture.replicaSet("web", replicas: 3, minReadySeconds: 10)
        let pods = [
            Fixture.pod("a", owner: set, phase: PodStatus.running, ready: true, readySince: 995),
            Fixture.pod("b", owner: set, phase: PodStatus.running, ready: true, readySince: 500),
            Fixture.pod("c", owner: set, phase: PodStatus.pending),
        ]
        let status = try XCTUnwrap(ReplicaSetController.reconcile(set, pods: pods, expectations: .init(), now: now).first {
            if case .status = $0.effect { return true } else { return false }
        })
        XCTAssertEqual(status.write.subresource, .status)
        XCTAssertEqual(status.write.expectedResourceVersion, 7)
        let written = status.write.body!["status"]!
        XCTAssertEqual(written["replicas"], 3)
        XCTAssertEqual(written["readyReplicas"], 2)
        XCTAssertEqual(written["availableReplicas"], 1, "a has been ready for 5 s of the 10 needed, b for 500")
        XCTAssertEqual(written["observedGeneration"], 1)

        var settled = set
        settled.status.replicas = 3
        settled.status.fullyLabeledReplicas = 0
        settled.status.readyReplicas = 2
        settled.status.availableReplicas = 1
        settled.status.observedGeneration = 1
        XCTAssertNil(ReplicaSetController.statusWrite(settled, pods: pods, now: now), "an unchanged status is not written")
    }
}
