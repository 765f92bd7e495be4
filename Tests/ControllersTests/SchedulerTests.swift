@testable import Controllers
import Store
import XCTest

final class SchedulerTests: XCTestCase {
    func testPicksTheNodeWithTheMostRoomThenSpreadsOneOwnersPods() {
        let nodes = [Fixture.node("a", cpu: "4"), Fixture.node("b", cpu: "4"), Fixture.node("c", cpu: "4")]
        let busy = Fixture.pod("busy", cpu: "3", node: "a", phase: PodStatus.running)
        XCTAssertEqual(Scheduler.place(Fixture.pod("p", cpu: "500m"), nodes: nodes, usage: Fixture.usage([busy])), .node("b"),
                       "b and c are equally free; b sorts first")

        // Replicas of one set go to different hosts while others are free.
        let set = Fixture.replicaSet("web", replicas: 3)
        var placed: [Pod] = []
        for i in 0..<3 {
            let pod = Fixture.pod("web-\(i)", cpu: "100m", owner: set)
            guard case .node(let name) = Scheduler.place(pod, nodes: nodes, usage: Fixture.usage(placed)) else { return XCTFail("unschedulable") }
            var bound = pod
            bound.spec.nodeName = name
            placed.append(bound)
        }
        XCTAssertEqual(Set(placed.map(\.spec.nodeName)), ["a", "b", "c"])
    }

    func testLargeClustersAreSearchedInPartsThatRotateOverEveryNode() {
        // kube-scheduler's adaptive share: every node up to 100, then (50 - n/125)%, at least 5% and 100 nodes.
        XCTAssertEqual(Scheduler.feasibleNodesToFind(50), 50)
        XCTAssertEqual(Scheduler.feasibleNodesToFind(150), 100)
        XCTAssertEqual(Scheduler.feasibleNodesToFind(1_000), 420)
        XCTAssertEqual(Scheduler.feasibleNodesToFind(5_000), 500)
        XCTAssertEqual(Scheduler.feasibleNodesToFind(100_000), 5_000)

        // 1,000 equal nodes, 1,000 pods of one owner: each search looks at 420 nodes, starting
        // where the last stopped, and the spreading score sends the pods over the whole range,
        // none doubled up before most nodes have one.
        let nodes = (0..<1_000).map { Fixture.node(String(format: "n%04d", $0), cpu: "4") }
        let set = Fixture.replicaSet("web", replicas: 1_000)
        var round = Scheduler.Round(nodes: nodes, usage: [:])
        var perNode: [String: Int] = [:]
        for i in 0..<1_000 {
            guard case .node(let name) = round.place(Fixture.pod("web-\(i)", cpu: "100m", owner: set)) else { return XCTFail("unschedulable") }
            perNode[name, default: 0] += 1
        }
        XCTAssertGreaterThan(perNode.count, 900)
        XCTAssertEqual(perNode.values.max(), 2)

        // A pod that fits nowhere is still judged against every node.
        guard case .unschedulable(let message) = round.place(Fixture.pod("huge", cpu: "8")) else { return XCTFail("placed") }
        XCTAssertEqual(message, "0/1000 nodes are available: 1000 Insufficient cpu.")
    }

    func testUnschedulablePodsGetKubernetesReasons() {
        let nodes = [Fixture.node("a", cpu: "1"), Fixture.node("b", cpu: "1"), Fixture.node("c", unschedulable: true)]
        let placement = Scheduler.place(Fixture.pod("big", cpu: "2"), nodes: nodes, usage: [:])
        XCTAssertEqual(placement, .unschedulable("0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu."))
        XCTAssertEqual(Scheduler.place(Fixture.pod("p"), nodes: [], usage: [:]), .unschedulable("0/0 nodes are available: no nodes registered."))
    }

    func testFiltersTaintsSelectorsPortsPodCountsMemoryAndReadiness() {
        let tainted = Fixture.node("tainted", taints: [Taint(key: "dedicated", value: "db", effect: Taint.noSchedule)])
        XCTAssertEqual(Scheduler.place(Fixture.pod("p"), nodes: [tainted], usage: [:]),
                       .unschedulable("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: db}."))
        var tolerant = Fixture.pod("q")
        tolerant.spec.tolerations = [Toleration(key: "dedicated", operator: "Equal", value: "db", effect: Taint.noSchedule)]
        XCTAssertEqual(Scheduler.place(tolerant, nodes: [tainted], usage: [:]), .node("tainted"))

        let ssd = Fixture.node("ssd", labels: ["disk": "ssd"])
        var picky = Fixture.pod("picky")
        picky.spec.nodeSelector = ["disk": "ssd"]
        XCTAssertEqual(Scheduler.place(picky, nodes: [Fixture.node("plain"), ssd], usage: [:]), .node("ssd"))
        var affinity = Affinity()
        affinity.nodeAffinity = NodeAffinity()
        var term = NodeSelectorTerm()
        var requirement = NodeSelectorRequirement()
        requirement.key = "disk"
        requirement.operator = "NotIn"
        requirement.values = ["ssd"]
        term.matchExpressions = [requirement]
        var selector = NodeSelector()
        selector.nodeSelectorTerms = [term]
        affinity.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution = selector
        var avoider = Fixture.pod("avoider")
        avoider.spec.affinity = affinity
        XCTAssertEqual(Scheduler.place(avoider, nodes: [ssd, Fixture.node("plain")], usage: [:]), .node("plain"))

        let portTaken = Fixture.pod("web-old", node: "a", phase: PodStatus.running, hostPort: 8080)
        XCTAssertEqual(Scheduler.place(Fixture.pod("web-new", hostPort: 8080), nodes: [Fixture.node("a")], usage: Fixture.usage([portTaken])),
                       .unschedulable("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."))
        let full = Fixture.node("full", pods: 1)
        XCTAssertEqual(Scheduler.place(Fixture.pod("p"), nodes: [full], usage: Fixture.usage([Fixture.pod("x", node: "full")])),
                       .unschedulable("0/1 nodes are available: 1 Too many pods."))
        XCTAssertEqual(Scheduler.place(Fixture.pod("m", memory: "8Gi"), nodes: [Fixture.node("small")], usage: [:]),
                       .unschedulable("0/1 nodes are available: 1 Insufficient memory."))
        XCTAssertEqual(Scheduler.place(Fixture.pod("p"), nodes: [Fixture.node("down", ready: false)], usage: [:]),
                       .unschedulable("0/1 nodes are available: 1 node(s) were not ready."))
    }

    func testNodeUsageFollowsPodsInAndOut() {
        var usage = NodeUsage()
        let pod = Fixture.pod("p", cpu: "250m", memory: "64Mi", node: "a", hostPort: 80)
        usage.add(pod)
        XCTAssertEqual(usage.cpuMilli, 250)
        XCTAssertEqual(usage.memoryBytes, 64 << 20)
        XCTAssertEqual(usage.hostPorts, ["TCP/0.0.0.0/80": 1])
        usage.remove(pod)
        XCTAssertEqual(usage, NodeUsage())
    }
}
