@testable import Agent
import Store
import XCTest

// The pod worker against the in-memory runtime: every path of a pod's life, step by step,
// with the clock in the test's hands.

final class PodAgentTests: XCTestCase {
    var host: FakeAgentHost!
    var runtime: FakeRuntime!
    var agent: PodAgent!

    static let second: Int64 = 1_000_000_000

    override func setUp() {
        host = FakeAgentHost()
        runtime = FakeRuntime()
        runtime.with { $0.images = ["registry:5000/web:1.0"] }
        agent = PodAgent(host: host, runtime: runtime)
    }

    func pod(_ name: String, uid: String? = nil, restartPolicy: String = "Always", image: String = "registry:5000/web:1.0",
             configure: (inout Pod) -> Void = { _ in }) -> Pod {
        var container = Container()
        container.name = "web"
        container.image = image
        container.imagePullPolicy = "IfNotPresent"
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec())
        pod.metadata.uid = uid ?? "uid-\(name)"
        pod.spec.containers = [container]
        pod.spec.restartPolicy = restartPolicy
        pod.spec.nodeName = "h1"
        pod.status.phase = PodStatus.pending
        configure(&pod)
        return pod
    }

    func add(_ pod: Pod) {
        host.pods[pod.metadata.uid] = pod
        agent.podsChanged([pod.metadata.uid])
    }

    /// Ticks and runs the background work until nothing is left to do.
    func settle(file: StaticString = #filePath, line: UInt = #line) {
        for _ in 0..<200 {
            agent.tick()
            if host.jobs.isEmpty {
                agent.tick()
                if host.jobs.isEmpty { return }
            }
            let jobs = host.jobs
            host.jobs = []
            for job in jobs { job() }
        }
        XCTFail("the agent did not settle", file: file, line: line)
    }

    func advance(seconds: Int64) {
        host.unixNanos += seconds * Self.second
        runtime.with { $0.nowNanos = self.host.unixNanos }
    }

    func status(_ name: String) -> PodStatus { host.pods["uid-\(name)"]!.status }

    func testAPodRunsAndReportsReadyWithItsAddress() {
        runtime.setNow(host.unixNanos)
        add(pod("web-1"))
        settle()
        XCTAssertEqual(runtime.calls.filter { !$0.hasPrefix("list") }, ["runSandbox web-1 0", "start web 0"])
        let status = status("web-1")
        XCTAssertEqual(status.phase, PodStatus.running)
        XCTAssertEqual(status.podIP, "10.244.0.2")
        XCTAssertEqual(status.hostIP, "10.88.0.1")
        XCTAssertEqual(status.conditions.first { $0.type == PodCondition.ready }?.status, "True")
        XCTAssertEqual(status.containerStatuses.first?.ready, true)
        XCTAssertEqual(status.containerStatuses.first?.containerID.hasPrefix("containerd://"), true)
        XCTAssertNotNil(status.containerStatuses.first?.state.running)
        XCTAssertTrue(host.events.contains("web-1 Started: Started container web"))
        // Nothing changes: nothing is written again.
        let writes = host.statusWrites
        advance(seconds: 5)
        settle()
        XCTAssertEqual(host.statusWrites, writes)
    }

    func testACrashingContainerBacksOffLongerEachTime() {
        runtime.setNow(host.unixNanos)
        add(pod("crash"))
        settle()
        // First exit: restarted at once (kubelet's first restart has no delay).
        runtime.exit(podUID: "uid-crash", name: "web", code: 1)
        advance(seconds: 1)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-crash").map(\.attempt), [1])
        XCTAssertEqual(status("crash").containerStatuses.first?.restartCount, 1)
        XCTAssertEqual(status("crash").containerStatuses.first?.lastState.terminated?.exitCode, 1)

        // Second exit: 10 s back-off, shown as CrashLoopBackOff.
        runtime.exit(podUID: "uid-crash", name: "web", code: 2)
        advance(seconds: 1)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-crash"), [])
        XCTAssertEqual(status("crash").containerStatuses.first?.state.waiting?.reason, "CrashLoopBackOff")
        XCTAssertEqual(status("crash").conditions.first { $0.type == PodCondition.ready }?.status, "False")
        advance(seconds: 8)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-crash"), [], "restarted before its 10 s back-off ended")
        advance(seconds: 2)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-crash").map(\.attempt), [2])

        // Third exit: 20 s.
        runtime.exit(podUID: "uid-crash", name: "web", code: 2)
        advance(seconds: 15)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-crash"), [])
        advance(seconds: 6)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-crash").map(\.attempt), [3])
        XCTAssertEqual(status("crash").containerStatuses.first?.restartCount, 3)
        // Only the latest and the one before it are kept.
        XCTAssertEqual(runtime.with { $0.containers.count }, 2)
    }

    func testARestartedAgentAdoptsRunningContainers() {
        runtime.setNow(host.unixNanos)
        add(pod("web-1"))
        settle()
        let before = runtime.running(podUID: "uid-web-1")
        // A new agent (the member restarted) over the same runtime.
        agent = PodAgent(host: host, runtime: runtime)
        runtime.clearCalls()
        advance(seconds: 2)
        settle()
        XCTAssertEqual(runtime.calls.filter { !$0.hasPrefix("list") }, [], "an adopted pod was touched")
        XCTAssertEqual(runtime.running(podUID: "uid-web-1"), before)
        XCTAssertEqual(status("web-1").phase, PodStatus.running)
    }

    func testOrphansGoOnlyOnceTheStoreIsCurrent() {
        runtime.setNow(host.unixNanos)
        add(pod("gone"))
        settle()
        // The pod vanishes from the store while the agent is down; the store is replaying.
        host.pods = [:]
        host.storeIsCurrent = false
        agent = PodAgent(host: host, runtime: runtime)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-gone").count, 1, "torn down before the store caught up")
        host.storeIsCurrent = true
        agent.podsChanged(["uid-gone"])
        settle()
        XCTAssertEqual(runtime.with { $0.sandboxes.count + $0.containers.count }, 0)
        XCTAssertEqual(runtime.with { $0.stopTimeouts.values.first }, 30)
    }

    func testDeletionStopsWithTheGracePeriodThenFinishes() {
        runtime.setNow(host.unixNanos)
        add(pod("web-1") {
            $0.spec.terminationGracePeriodSeconds = 7
            var lifecycle = Lifecycle()
            var preStop = LifecycleHandler()
            preStop.exec = ExecAction(command: ["/bin/sh", "-c", "sleep 1"])
            lifecycle.preStop = preStop
            $0.spec.containers[0].lifecycle = lifecycle
        })
        settle()
        let id = runtime.running(podUID: "uid-web-1")[0].id
        host.pods["uid-web-1"]!.metadata.deletionTimestamp = MetaTime(unixSeconds: 2_000_000_000)
        host.pods["uid-web-1"]!.metadata.deletionGracePeriodSeconds = 7
        agent.podsChanged(["uid-web-1"])
        settle()
        XCTAssertEqual(runtime.with { $0.execs.map(\.1) }, [["/bin/sh", "-c", "sleep 1"]])
        XCTAssertGreaterThanOrEqual(runtime.with { $0.stopTimeouts[id] } ?? 0, 6)
        XCTAssertEqual(host.deletionsFinished, ["web-1"])
        XCTAssertEqual(runtime.with { $0.sandboxes.count }, 0, "the sandbox outlived its pod")
    }

    /// A terminating pod that a Service still sends connections to keeps running until its
    /// endpoint is drained, then a moment more; never past half its grace period.
    func testATerminatingPodKeepsServingUntilItsEndpointIsDrained() {
        runtime.setNow(host.unixNanos)
        add(pod("web-1") { $0.spec.terminationGracePeriodSeconds = 30 })
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-web-1").count, 1)
        deleteWhileReceiving("web-1", graceSeconds: 30)
        advance(seconds: 2)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-web-1").count, 1, "still the Service's endpoint: not stopped")
        host.traffic["web-1"] = .drained
        agent.podsChanged(["uid-web-1"])
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-web-1").count, 1, "drained a moment ago: the other proxies may not have applied it")
        host.unixNanos += PodAgent.drainSettleNanos
        runtime.with { $0.nowNanos = self.host.unixNanos }
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-web-1").count, 0, "drained: stopped")
        XCTAssertEqual(host.deletionsFinished, ["web-1"])

        // One that stays the last endpoint is stopped halfway through its grace period.
        add(pod("web-2") { $0.spec.terminationGracePeriodSeconds = 10 })
        settle()
        deleteWhileReceiving("web-2", graceSeconds: 10)
        advance(seconds: 4)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-web-2").count, 1)
        advance(seconds: 2)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-web-2").count, 0, "half the grace period is the most a drain waits")
    }

    /// Marks pod `name` deleted now with `graceSeconds`, a Service still sending it connections.
    private func deleteWhileReceiving(_ name: String, graceSeconds: Int64) {
        let uid = "uid-" + name
        host.pods[uid]!.metadata.deletionTimestamp = MetaTime(unixSeconds: host.unixNanos / Self.second + graceSeconds)
        host.pods[uid]!.metadata.deletionGracePeriodSeconds = graceSeconds
        host.traffic[name] = .receiving
        agent.podsChanged([uid])
        settle()
    }

    /// A container created but never started (a start that failed halfway) is replaced, not
    /// left "running" forever.
    func testAContainerThatWasNeverStartedIsReplaced() {
        runtime.setNow(host.unixNanos)
        add(pod("web-1"))
        settle()
        let first = runtime.running(podUID: "uid-web-1")[0].id
        runtime.with { $0.containers[first]!.state = .created }
        agent.podsChanged(["uid-web-1"])
        advance(seconds: 1)
        settle()
        XCTAssertNotNil(runtime.with { $0.containers[first] }, "a moment after its creation it may still be starting")
        advance(seconds: 2)
        settle()
        XCTAssertNil(runtime.with { $0.containers[first] }, "never started: removed")
        XCTAssertEqual(runtime.running(podUID: "uid-web-1").count, 1, "and started afresh")
    }

    func testAFailedPullIsRetriedWithBackoff() {
        runtime.setNow(host.unixNanos)
        runtime.with { $0.failingPulls["registry:5000/missing:1"] = "not found" }
        add(pod("bad", image: "registry:5000/missing:1"))
        settle()
        XCTAssertEqual(status("bad").containerStatuses.first?.state.waiting?.reason, "ErrImagePull")
        XCTAssertEqual(status("bad").phase, PodStatus.pending)
        // The first retry comes at once (no back-off after one failure), the next after 10 s.
        advance(seconds: 1)
        settle()
        XCTAssertEqual(status("bad").containerStatuses.first?.state.waiting?.reason, "ImagePullBackOff")
        let pulls = runtime.calls.filter { $0.hasPrefix("pull") }.count
        advance(seconds: 5)
        settle()
        XCTAssertEqual(runtime.calls.filter { $0.hasPrefix("pull") }.count, pulls, "pulled again inside the back-off")
        runtime.with { $0.failingPulls = [:] }
        advance(seconds: 6)
        settle()
        XCTAssertEqual(status("bad").phase, PodStatus.running)
    }

    func testNeverRestartingPodSucceedsAndStopsItsSandbox() {
        runtime.setNow(host.unixNanos)
        add(pod("job", restartPolicy: "Never"))
        settle()
        runtime.exit(podUID: "uid-job", name: "web", code: 0)
        advance(seconds: 1)
        settle()
        XCTAssertEqual(status("job").phase, PodStatus.succeeded)
        XCTAssertEqual(status("job").containerStatuses.first?.state.terminated?.reason, "Completed")
        XCTAssertEqual(runtime.with { $0.sandboxes.values.map(\.state) }, [.notReady])
        XCTAssertEqual(runtime.calls.filter { $0.hasPrefix("start") }.count, 1)
    }

    func testOnFailureRestartsOnlyFailures() {
        runtime.setNow(host.unixNanos)
        add(pod("task", restartPolicy: "OnFailure"))
        settle()
        runtime.exit(podUID: "uid-task", name: "web", code: 3)
        advance(seconds: 1)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-task").count, 1)
        runtime.exit(podUID: "uid-task", name: "web", code: 0)
        advance(seconds: 1)
        settle()
        XCTAssertEqual(status("task").phase, PodStatus.succeeded)
    }

    func testEnvironmentFromConfigMapsAndFields() {
        runtime.setNow(host.unixNanos)
        var map = ConfigMap()
        map.metadata = ObjectMeta(name: "settings", namespace: "default")
        map.data = ["COLOR": "blue"]
        host.configMaps["default/settings"] = map
        add(pod("env") {
            var fromMap = EnvFromSource()
            fromMap.configMapRef = ConfigMapEnvSource()
            fromMap.configMapRef!.name = "settings"
            fromMap.prefix = "APP_"
            $0.spec.containers[0].envFrom = [fromMap]
            var podIP = EnvVar()
            podIP.name = "MY_IP"
            podIP.valueFrom = EnvVarSource()
            podIP.valueFrom!.fieldRef = ObjectFieldSelector()
            podIP.valueFrom!.fieldRef!.fieldPath = "status.podIP"
            var greeting = EnvVar()
            greeting.name = "GREETING"
            greeting.value = "$(APP_COLOR) at $(MY_IP), $$5"
            $0.spec.containers[0].env = [podIP, greeting]
        })
        settle()
        let id = runtime.running(podUID: "uid-env")[0].id
        let env = runtime.with { $0.envs[id] } ?? []
        XCTAssertEqual(env, [EnvEntry("APP_COLOR", "blue"), EnvEntry("MY_IP", "10.244.0.2"), EnvEntry("GREETING", "blue at 10.244.0.2, $5")])
    }

    func testAMissingConfigMapKeepsTheContainerWaiting() {
        runtime.setNow(host.unixNanos)
        add(pod("nocfg") {
            var variable = EnvVar()
            variable.name = "X"
            variable.valueFrom = EnvVarSource()
            variable.valueFrom!.configMapKeyRef = ConfigMapKeySelector()
            variable.valueFrom!.configMapKeyRef!.name = "absent"
            variable.valueFrom!.configMapKeyRef!.key = "k"
            $0.spec.containers[0].env = [variable]
        })
        settle()
        XCTAssertEqual(status("nocfg").containerStatuses.first?.state.waiting?.reason, "CreateContainerConfigError")
        XCTAssertEqual(runtime.running(podUID: "uid-nocfg"), [])
        // Once the ConfigMap exists (after the back-off), the container starts.
        var map = ConfigMap()
        map.metadata = ObjectMeta(name: "absent", namespace: "default")
        map.data = ["k": "v"]
        host.configMaps["default/absent"] = map
        advance(seconds: 1)
        agent.podsChanged(["uid-nocfg"])
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-nocfg").count, 1)
    }

    func testAChangedContainerSpecReplacesTheContainer() {
        runtime.setNow(host.unixNanos)
        add(pod("web-1"))
        settle()
        runtime.with { $0.images.insert("registry:5000/web:2.0") }
        host.pods["uid-web-1"]!.spec.containers[0].image = "registry:5000/web:2.0"
        agent.podsChanged(["uid-web-1"])
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-web-1").map(\.image), ["registry:5000/web:2.0"])
        XCTAssertEqual(status("web-1").containerStatuses.first?.restartCount, 1)
    }

    func execProbe(_ command: String, period: Int32 = 10, failureThreshold: Int32 = 3) -> Probe {
        var probe = Probe(handler: ProbeHandler())
        probe.handler.exec = ExecAction(command: ["/bin/sh", "-c", command])
        probe.periodSeconds = period
        probe.timeoutSeconds = 1
        probe.successThreshold = 1
        probe.failureThreshold = failureThreshold
        return probe
    }

    func ready(_ name: String) -> Bool {
        status(name).conditions.first { $0.type == PodCondition.ready }?.status == "True"
    }

    func testAFailingReadinessProbeKeepsThePodUnready() {
        runtime.setNow(host.unixNanos)
        runtime.with { $0.execExitCodes["/bin/sh -c check"] = 1 }
        add(pod("probe") { $0.spec.containers[0].readinessProbe = self.execProbe("check") })
        settle()
        XCTAssertEqual(status("probe").phase, PodStatus.running)
        XCTAssertFalse(ready("probe"), "ready before its readiness probe passed")
        advance(seconds: 30)
        settle()
        XCTAssertFalse(ready("probe"))
        XCTAssertTrue(host.events.contains { $0.contains("Unhealthy: Readiness probe failed") }, "\(host.events)")
        // It passes: ready at the next period.
        runtime.with { $0.execExitCodes = [:] }
        advance(seconds: 10)
        settle()
        XCTAssertTrue(ready("probe"))
        XCTAssertEqual(runtime.running(podUID: "uid-probe").map(\.attempt), [0], "a readiness failure restarted the container")
    }

    func testAFailingLivenessProbeRestartsTheContainer() {
        runtime.setNow(host.unixNanos)
        add(pod("live") { $0.spec.containers[0].livenessProbe = self.execProbe("alive", period: 5, failureThreshold: 3) })
        settle()
        runtime.with { $0.execExitCodes["/bin/sh -c alive"] = 1 }
        // Three failures 5 s apart: killed and started again (restart 1: no back-off).
        for _ in 0..<3 {
            advance(seconds: 5)
            settle()
        }
        advance(seconds: 1)
        settle()
        XCTAssertEqual(runtime.running(podUID: "uid-live").map(\.attempt), [1])
        XCTAssertTrue(host.events.contains { $0.contains("Killing: Stopping container web: container failed liveness probe") }, "\(host.events)")
        XCTAssertEqual(status("live").containerStatuses.first?.restartCount, 1)
    }

    func testReadinessWaitsForTheStartupProbe() {
        runtime.setNow(host.unixNanos)
        runtime.with { $0.execExitCodes["/bin/sh -c started"] = 1 }
        add(pod("slow") {
            $0.spec.containers[0].startupProbe = self.execProbe("started", period: 2, failureThreshold: 30)
            $0.spec.containers[0].readinessProbe = self.execProbe("ready", period: 2)
        })
        settle()
        advance(seconds: 4)
        settle()
        XCTAssertFalse(ready("slow"))
        XCTAssertEqual(status("slow").containerStatuses.first?.started, false)
        XCTAssertFalse(runtime.with { $0.execs.map { $0.1.joined(separator: " ") } }.contains("/bin/sh -c ready"), "readiness ran before startup passed")
        runtime.with { $0.execExitCodes = [:] }
        advance(seconds: 2)
        settle()
        advance(seconds: 2)
        settle()
        XCTAssertEqual(status("slow").containerStatuses.first?.started, true)
        XCTAssertTrue(ready("slow"))
    }

    func testADeadSandboxIsReplacedWithTheNextAttempt() {
        runtime.setNow(host.unixNanos)
        add(pod("web-1"))
        settle()
        let sandbox = runtime.with { $0.sandboxes.keys.first! }
        try! runtime.stopSandbox(id: sandbox)
        advance(seconds: 1)
        settle()
        XCTAssertEqual(runtime.with { $0.sandboxes.values.filter { $0.state == .ready }.map(\.attempt) }, [1])
        XCTAssertEqual(runtime.running(podUID: "uid-web-1").map(\.attempt), [1])
        XCTAssertEqual(status("web-1").phase, PodStatus.running)
    }
}
