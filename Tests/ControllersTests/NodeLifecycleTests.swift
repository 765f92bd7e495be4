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
