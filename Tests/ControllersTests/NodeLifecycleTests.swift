@testable import Controllers
import Store
import XCTest

final class NodeLifecycleTests: XCTestCase {
    let now = MetaTime(unixSeconds: 5_000)

    func node(taintedAt: MetaTime? = nil, ready: String = "True") -> Node {
        var node = Fixture.node("a")
        node.metadata.resourceVersion = "9"
        node.status.conditions = [NodeCondition(type: NodeCondition.ready, status: ready)]
        if let taintedAt {
            node.spec.taints = [Taint(key: Taint.unreachableKey, effect: Taint.noExecute, timeAdded: taintedAt),
                                Taint(key: Taint.unreachableKey, effect: Taint.noSchedule)]
        }
        return node
    }

    /// A pod on node a tolerating the unreachable taint for `tolerationSeconds` (nil: for ever).
    func pod(_ name: String, tolerationSeconds: Int64? = 1) -> Pod {
        var pod = Fixture.pod(name, node: "a", phase: PodStatus.running, ready: true)
        pod.metadata.resourceVersion = "12"
        pod.spec.tolerations = [Toleration(key: Taint.unreachableKey, operator: "Exists", effect: Taint.noExecute, tolerationSeconds: tolerationSeconds)]
        return pod
    }

    func testAHeardNodeIsLeftAlone() {
        var budget = 10
        XCTAssertTrue(NodeLifecycle.reconcile(node(), overdueMilliseconds: -700, pods: [pod("p")], now: now, evictionBudget: &budget).isEmpty)
    }

    func testASilentNodeIsTaintedThenMarkedUnknown() throws {
        var budget = 10
        let taint = try XCTUnwrap(NodeLifecycle.reconcile(node(), overdueMilliseconds: 500, pods: [], now: now, evictionBudget: &budget).first)
        XCTAssertEqual(taint.write.expectedResourceVersion, 9)
        let taints = taint.write.body?[path: ["spec", "taints"]]?.arrayValue ?? []
        XCTAssertEqual(taints.map { "\($0["key"]?.stringValue ?? "")/\($0["effect"]?.stringValue ?? "")" },
                       ["node.kubernetes.io/unreachable/NoExecute", "node.kubernetes.io/unreachable/NoSchedule"])
        XCTAssertNotNil(taints[0]["timeAdded"])
        let status = try XCTUnwrap(NodeLifecycle.reconcile(node(taintedAt: now), overdueMilliseconds: 500, pods: [], now: now,
                                                           evictionBudget: &budget).first)
        XCTAssertEqual(status.write.subresource, .status)
        let ready = (status.write.body?[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
        XCTAssertEqual(ready?["status"], "Unknown")
        XCTAssertEqual(ready?["reason"], "NodeStatusUnknown")
    }

    func testPodsGoNotReadyAtOnceAndAreEvictedWhenTheirTolerationEnds() {
        let dead = node(taintedAt: MetaTime(unixSeconds: 4_999), ready: "Unknown")
        var budget = 10
        let early = NodeLifecycle.reconcile(dead, overdueMilliseconds: 1_000, pods: [pod("waits", tolerationSeconds: 5)], now: now, evictionBudget: &budget)
        XCTAssertEqual(early.map(\.write.subresource), [.status], "not ready, not evicted yet")
        let ready = (early[0].write.body?[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
        XCTAssertEqual(ready?["status"], "False")

        let due = NodeLifecycle.reconcile(dead, overdueMilliseconds: 1_000, pods: [pod("p1"), pod("p2"), pod("forever", tolerationSeconds: nil)],
                                          now: now, evictionBudget: &budget)
        XCTAssertEqual(due.filter { $0.write.verb == .delete }.map(\.write.name), ["p1", "p2"])
        XCTAssertEqual(due.filter { $0.write.verb == .delete }.map(\.write.expectedUID), ["uid-p1", "uid-p2"])
        XCTAssertEqual(budget, 8)

        var empty = 0
        let limited = NodeLifecycle.reconcile(dead, overdueMilliseconds: 1_000, pods: [pod("p3")], now: now, evictionBudget: &empty)
        XCTAssertFalse(limited.contains { $0.write.verb == .delete }, "no evictions without budget (a disrupted cluster)")
    }

    func testANodeThatIsNoMemberGetsItsLeasesDurationAsGrace() {
        XCTAssertEqual(NodeLifecycle.grace(leaseDurationSeconds: nil), NodeLifecycle.graceMilliseconds)
        XCTAssertEqual(NodeLifecycle.grace(leaseDurationSeconds: 0), NodeLifecycle.graceMilliseconds)
        XCTAssertEqual(NodeLifecycle.grace(leaseDurationSeconds: 40), 40_000)
    }

    func testAHostHeardAgainLosesItsTaintsThenIsReady() throws {
        var budget = 10
        let lifted = try XCTUnwrap(NodeLifecycle.reconcile(node(taintedAt: now, ready: "Unknown"), overdueMilliseconds: -900, pods: [], now: now,
                                                           evictionBudget: &budget).first)
        XCTAssertEqual(lifted.write.body?[path: ["spec", "taints"]], nil)
        let ready = try XCTUnwrap(NodeLifecycle.reconcile(node(ready: "Unknown"), overdueMilliseconds: -900, pods: [], now: now,
                                                          evictionBudget: &budget).first)
        XCTAssertEqual((ready.write.body?[path: ["status", "conditions"]]?.arrayValue ?? []).first?["status"], "True")
    }
}

final class PodGarbageCollectorTests: XCTestCase {
    func testPodsOfNodesThatAreGoneAreRemovedAtOnce() {
        let pods = [Fixture.pod("kept", node: "a", phase: PodStatus.running), Fixture.pod("orphan", node: "gone", phase: PodStatus.running),
                    Fixture.pod("pending")]
        let writes = PodGarbageCollector.reconcile(pods: pods, nodes: ["a"])
        XCTAssertEqual(writes.map(\.write.name), ["orphan"])
        XCTAssertEqual(writes.first?.write.gracePeriodSeconds, 0)
        XCTAssertEqual(writes.first?.write.expectedUID, "uid-orphan")
    }
}

final class NodeIPAMTests: XCTestCase {
    func node(_ name: String, podCIDR: String = "") -> Node {
        var node = Fixture.node(name)
        node.metadata.resourceVersion = "7"
        node.spec.podCIDR = podCIDR
        node.spec.podCIDRs = podCIDR.isEmpty ? [] : [podCIDR]
        return node
    }

    func assigned(_ writes: [ControllerWrite]) -> [String: String] {
        var result: [String: String] = [:]
        for write in writes { result[write.write.name] = write.write.body?[path: ["spec", "podCIDR"]]?.stringValue }
        return result
    }

    func testEachNodeGetsTheLowestFreeRangeInNameOrder() {
        let nodes = [node("c"), node("a", podCIDR: "10.244.0.0/24"), node("b"), node("d", podCIDR: "10.244.2.0/24")]
        let result = NodeIPAM.reconcile(nodes: nodes)
        XCTAssertEqual(assigned(result.writes), ["b": "10.244.1.0/24", "c": "10.244.3.0/24"])
        XCTAssertTrue(result.unassigned.isEmpty)
        let write = result.writes[0]
        XCTAssertEqual(write.write.expectedResourceVersion, 7, "over the version read")
        XCTAssertEqual(write.write.body?[path: ["spec", "podCIDRs"]], ["10.244.1.0/24"])
    }

    func testRangesInWritesNotYetAppliedAreTaken() {
        // The leader's own node got range 0 in a write still in flight; the cache shows no
        // range for it yet when the other nodes register.
        let nodes = [node("c"), node("a"), node("b")]
        let result = NodeIPAM.reconcile(nodes: nodes, claimed: ["c": "10.244.0.0/24"])
        XCTAssertEqual(assigned(result.writes), ["a": "10.244.1.0/24", "b": "10.244.2.0/24"], "no second write for c, and its range is not given again")
    }

    func testARangeOutsideTheClusterRangeIsLeftAloneAndAFullRangeIsReported() {
        // A /22 cut in /24s has 4 ranges; one node holds a range elsewhere, which is no loss.
        let nodes = [node("a", podCIDR: "192.168.7.0/24"), node("b"), node("c"), node("d"), node("e"), node("f")]
        let result = NodeIPAM.reconcile(nodes: nodes, clusterCIDR: "10.1.0.0/22", nodeMaskBits: 24)
        XCTAssertEqual(assigned(result.writes), ["b": "10.1.0.0/24", "c": "10.1.1.0/24", "d": "10.1.2.0/24", "e": "10.1.3.0/24"])
        XCTAssertEqual(result.unassigned.map(\.metadata.name), ["f"])
        XCTAssertEqual(NodeIPAM.exhaustedEvent(result.unassigned[0], clusterCIDR: "10.1.0.0/22").reason, "CIDRNotAvailable")
        XCTAssertTrue(NodeIPAM.reconcile(nodes: nodes, clusterCIDR: "not a cidr").writes.isEmpty)
    }
}
