@testable import Agent
import Foundation
import Store
import Synchronization
import XCTest

// The agent against a real containerd (Debian's, with its CRI plugin, runc and the CNI
// plugins), started by `ManagedContainerd` inside a network namespace of the test's own, so
// its pods' bridge and addresses never touch the host's. Needs root and the packages
// (.ci/run installs them); skipped otherwise.

final class ContainerdTests: XCTestCase {
    static let namespace = "shoal-agent-test"
    static let podCIDR = "10.99.0.0/24"
    static let helloImage = "shoal.local/hello:1.0"

    var directory = ""
    var containerd: ManagedContainerd!
    var runtime: CRIRuntime!
    var host: ThreadedAgentHost!

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (network namespaces, containerd)") }
        for binary in ["/usr/bin/containerd", "/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/bin/umoci", "/usr/bin/skopeo"]
        where !FileManager.default.isExecutableFile(atPath: binary) {
            throw XCTSkip("\(binary) is missing (scripts/setup installs it)")
        }
        directory = NSTemporaryDirectory() + "shoal-agent-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try Self.run("/usr/sbin/ip", "netns", "delete", Self.namespace, allowFailure: true)
        _ = try Self.run("/usr/sbin/ip", "netns", "add", Self.namespace)
        _ = try Self.run("/usr/sbin/ip", "-n", Self.namespace, "link", "set", "lo", "up")

        let images = try Self.images()
        var settings = ContainerdSettings(directory: directory + "/containerd", cniConfigDirectory: directory + "/cni/net.d")
        settings.sandboxImageArchive = images.pause
        // nsenter, not `ip netns exec`: that remounts /sys, and runc then finds no cgroups.
        settings.launcher = ["/usr/bin/nsenter", "--net=/run/netns/\(Self.namespace)", "--"]
        containerd = ManagedContainerd(settings: settings)
        try containerd.start()
        try PodNetworkSettings(podCIDR: Self.podCIDR, ipamDataDirectory: directory + "/cni/ipam").write(into: settings.cniConfigDirectory)
        runtime = try CRIRuntime(socketPath: settings.socketPath)
        try Self.waitFor("containerd to answer", seconds: 30) { (try? self.runtime.version()) != nil }
        try ManagedContainerd.importSandboxImage(settings: settings, runtime: runtime)
        if try !runtime.imagePresent(Self.helloImage) {
            _ = try Self.run("/usr/bin/ctr", "--address", settings.socketPath, "--namespace", "k8s.io", "images", "import", images.hello)
        }
        host = ThreadedAgentHost()
    }

    override func tearDownWithError() throws {
        if let runtime {
            for sandbox in (try? runtime.listSandboxes()) ?? [] {
                try? runtime.stopSandbox(id: sandbox.id)
                try? runtime.removeSandbox(id: sandbox.id)
            }
            runtime.client.close()
        }
        containerd?.stop()
        _ = try? Self.run("/usr/sbin/ip", "netns", "delete", Self.namespace, allowFailure: true)
        if !directory.isEmpty {
            // Mounts a killed shim may have left behind come off before the files go.
            _ = try? Self.run("/bin/sh", "-c", "grep -o ' \(directory)[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l", allowFailure: true)
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// A probe that fetches `path` from inside the container (exec). HTTP and TCP probes
    /// connect from the agent's network namespace, which is not the pods' here (the
    /// three-host cluster tests run them where they belong).
    func fetchProbe(_ path: String) -> Probe {
        var probe = Probe(handler: ProbeHandler())
        probe.handler.exec = ExecAction(command: ["wget", "-qO-", "http://127.0.0.1\(path)"])
        probe.periodSeconds = 1
        probe.timeoutSeconds = 1
        probe.successThreshold = 1
        probe.failureThreshold = 1
        return probe
    }

    func helloPod(_ name: String, command: [String] = [], restartPolicy: String = "Always") -> Pod {
        var container = Container()
        container.name = "hello"
        container.image = Self.helloImage
        container.imagePullPolicy = "IfNotPresent"
        container.command = command
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: "default"), spec: PodSpec())
        pod.metadata.uid = "uid-\(name)-\(UInt32.random(in: 0...UInt32.max))"
        pod.spec.containers = [container]
        pod.spec.restartPolicy = restartPolicy
        pod.spec.terminationGracePeriodSeconds = 5
        pod.spec.nodeName = "h1"
        return pod
    }

    func testAPodRunsWithAnAddressFromTheNodeRangeAndServes() throws {
        let agent = PodAgent(host: host, runtime: runtime)
        var pod = helloPod("web")
        pod.spec.containers[0].readinessProbe = fetchProbe("/healthz")
        host.add(pod)
        agent.podsChanged([pod.metadata.uid])
        let started = Date()
        try host.run(agent, until: "the pod is ready", seconds: 60) { $0.pods[pod.metadata.uid]?.status.isReadyNow == true }
        let startSeconds = Date().timeIntervalSince(started)
        let status = host.pods[pod.metadata.uid]!.status
        XCTAssertTrue(status.podIP.hasPrefix("10.99.0."), "pod IP \(status.podIP) is not from \(Self.podCIDR)")
        XCTAssertEqual(status.phase, PodStatus.running)
        print("pod ready \(String(format: "%.2f", startSeconds)) s after it was bound; IP \(status.podIP)")

        // The container serves on its address: asked from inside the pod's namespace...
        let id = agent.containerID(podUID: pod.metadata.uid, name: "hello")!
        let answer = try runtime.exec(containerID: id, command: ["wget", "-qO-", "http://127.0.0.1/"], timeoutSeconds: 10)
        XCTAssertEqual(String(decoding: answer.stdout, as: UTF8.self), "hello from \(status.podIP) version 1.0\n")
        // ...and from the host's namespace, over the bridge.
        let fromHost = try Self.run("/usr/sbin/ip", "netns", "exec", Self.namespace, "/bin/busybox", "wget", "-qO-", "http://\(status.podIP)/")
        XCTAssertEqual(fromHost, "hello from \(status.podIP) version 1.0\n")

        // Deleted: stopped within its grace period, then gone from the runtime.
        host.markDeleted(pod.metadata.uid, graceSeconds: 5)
        agent.podsChanged([pod.metadata.uid])
        try host.run(agent, until: "the pod's deletion finishes", seconds: 30) { $0.deleted.contains(pod.metadata.uid) }
        try host.run(agent, until: "the sandbox is removed", seconds: 30) { _ in (try? self.runtime.listSandboxes().isEmpty) == true }
    }

    func testAFailingReadinessProbeKeepsThePodUnready() throws {
        let agent = PodAgent(host: host, runtime: runtime)
        var pod = helloPod("unready")
        pod.spec.containers[0].readinessProbe = fetchProbe("/missing")
        host.add(pod)
        agent.podsChanged([pod.metadata.uid])
        try host.run(agent, until: "the probe failed", seconds: 30) { host in
            host.events.contains { $0.contains("Readiness probe failed: command [\"wget\", \"-qO-\", \"http://127.0.0.1/missing\"] exited with 1") }
        }
        try host.run(agent, for: 1.5)
        let status = host.pods[pod.metadata.uid]!.status
        XCTAssertEqual(status.phase, PodStatus.running)
        XCTAssertFalse(status.isReadyNow)
        XCTAssertEqual(status.containerStatuses.first?.ready, false)
    }

    func testACrashingContainerIsRestartedAndBacksOff() throws {
        let agent = PodAgent(host: host, runtime: runtime)
        let pod = helloPod("crash", command: ["/bin/sh", "-c", "echo crashing; exit 3"])
        host.add(pod)
        agent.podsChanged([pod.metadata.uid])
        try host.run(agent, until: "the container restarted once and backs off", seconds: 60) { host in
            guard let status = host.pods[pod.metadata.uid]?.status.containerStatuses.first else { return false }
            return status.restartCount >= 1 && status.state.waiting?.reason == "CrashLoopBackOff"
        }
        let status = host.pods[pod.metadata.uid]!.status.containerStatuses[0]
        XCTAssertEqual(status.lastState.terminated?.exitCode, 3)
        XCTAssertEqual(status.lastState.terminated?.reason, "Error")
    }

    func testARestartedAgentAndContainerdAdoptRunningContainers() throws {
        var agent = PodAgent(host: host, runtime: runtime)
        let pod = helloPod("adopted")
        host.add(pod)
        agent.podsChanged([pod.metadata.uid])
        try host.run(agent, until: "the pod is ready", seconds: 60) { $0.pods[pod.metadata.uid]?.status.isReadyNow == true }
        let id = agent.containerID(podUID: pod.metadata.uid, name: "hello")!

        // containerd restarts (the supervisor starts it again), and a new agent starts.
        containerd.stop()
        let settings = containerd.settings
        containerd = ManagedContainerd(settings: settings)
        try containerd.start()
        try Self.waitFor("containerd to answer again", seconds: 30) { (try? self.runtime.version()) != nil }
        agent = PodAgent(host: host, runtime: runtime)
        try host.run(agent, until: "the new agent has listed the runtime", seconds: 10) { _ in agent.view(ofPod: pod.metadata.uid) != nil }
        try host.run(agent, for: 2)
        XCTAssertEqual(agent.containerID(podUID: pod.metadata.uid, name: "hello"), id, "the running container was replaced")
        XCTAssertEqual(host.pods[pod.metadata.uid]?.status.containerStatuses.first?.restartCount, 0)
    }

    // MARK: Helpers

    /// The archives of the pause and hello images (scripts/images builds them, cached).
    static func images() throws -> (pause: String, hello: String) {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repository.appendingPathComponent("scripts/images").path
        let pause = try run("/bin/bash", script, "pause-archive").trimmingCharacters(in: .whitespacesAndNewlines)
        let imagesDirectory = URL(fileURLWithPath: pause).deletingLastPathComponent().path
        let hello = imagesDirectory + "/hello-1.0.tar"
        if !FileManager.default.fileExists(atPath: hello) {
            _ = try run("/usr/bin/skopeo", "copy", "--quiet", "oci:\(imagesDirectory)/hello:1.0", "docker-archive:\(hello):\(helloImage)")
        }
        return (pause, hello)
    }

    @discardableResult
    static func run(_ arguments: String..., allowFailure: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus != 0, !allowFailure {
            throw RuntimeError(.failed, "\(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
        }
        return text
    }

    static func waitFor(_ what: String, seconds: Double, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw RuntimeError(.failed, "timed out waiting for \(what)") }
            usleep(50_000)
        }
    }
}

extension PodStatus {
    var isReadyNow: Bool { conditions.contains { $0.type == PodCondition.ready && $0.status == "True" } }
}

/// The member, as the agent sees it, for tests with a real runtime: background work on real
/// threads, its answers run on the test's thread (the "loop") when `run` pumps.
final class ThreadedAgentHost: AgentHost, @unchecked Sendable {
    var nodeName = "h1"
    var nodeIP = "10.99.0.1"
    var storeIsCurrent = true
    var pods: [String: Pod] = [:]
    var deleted: Set<String> = []
    var events: [String] = []
    private let finished = FinishedWork()

    var unixNanos: Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000_000) }

    func add(_ pod: Pod) { pods[pod.metadata.uid] = pod }

    func markDeleted(_ uid: String, graceSeconds: Int64) {
        pods[uid]?.metadata.deletionTimestamp = MetaTime(unixSeconds: Int64(Date().timeIntervalSince1970) + graceSeconds)
        pods[uid]?.metadata.deletionGracePeriodSeconds = graceSeconds
    }

    func boundPods() -> [String: Pod] { pods }

    func background<T: Sendable>(_ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void) {
        let deliver = UncheckedBox(then)
        let finished = self.finished
        Foundation.Thread.detachNewThread {
            let result = work()
            finished.append(UncheckedBox { deliver.value(result) })
        }
    }

    func writePodStatus(_ pod: Pod, _ status: PodStatus, done: @escaping (Bool) -> Void) {
        pods[pod.metadata.uid]?.status = status
        done(true)
    }

    func finishPodDeletion(_ pod: Pod, done: @escaping (Bool) -> Void) {
        pods[pod.metadata.uid] = nil
        deleted.insert(pod.metadata.uid)
        done(true)
    }

    func recordPodEvent(_ pod: Pod, type: String, reason: String, message: String) {
        events.append("\(pod.metadata.name) \(reason): \(message)")
    }

    func serviceTraffic(to pod: Pod) -> ServiceTraffic { .none }

    func configMap(namespace: String, name: String) -> ConfigMap? { nil }
    func secret(namespace: String, name: String) -> Secret? { nil }

    /// Ticks the agent every 10 ms, running finished work, until `condition` holds.
    func run(_ agent: PodAgent, until what: String, seconds: Double, _ condition: (ThreadedAgentHost) -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(self) {
            guard Date() < deadline else {
                throw RuntimeError(.failed, "timed out waiting for \(what); events: \(events.suffix(10))")
            }
            pump(agent)
        }
    }

    /// Ticks the agent for this long.
    func run(_ agent: PodAgent, for seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { pump(agent) }
    }

    private func pump(_ agent: PodAgent) {
        agent.tick()
        for body in finished.take() { body.value() }
        usleep(10_000)
    }
}

/// Answers of background work, waiting for the test's thread.
final class FinishedWork: Sendable {
    private let list = Mutex<[UncheckedBox<() -> Void>]>([])
    func append(_ body: UncheckedBox<() -> Void>) { list.withLock { $0.append(body) } }
    func take() -> [UncheckedBox<() -> Void>] {
        list.withLock { list in
            defer { list = [] }
            return list
        }
    }
}

struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
