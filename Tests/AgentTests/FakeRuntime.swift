import Agent
import Store
import Synchronization

// A test double of the container runtime: sandboxes and containers in memory, with the
// runtime's rules (ids, attempts, states, exit details) and knobs the tests turn (a
// container exits, an image is missing, a pull fails). The product always uses containerd.

final class FakeRuntime: ContainerRuntime, @unchecked Sendable {
    struct State {
        var sandboxes: [String: RuntimeSandbox] = [:]
        var containers: [String: RuntimeContainer] = [:]
        var images: Set<String> = []
        var failingPulls: [String: String] = [:]
        var nextID = 1
        var nextIP = 2
        var nowNanos: Int64 = 0
        var calls: [String] = []
        var execs: [(String, [String])] = []
        var stopTimeouts: [String: Int64] = [:]
        var envs: [String: [EnvEntry]] = [:]
        /// Exit codes of commands run in containers, by the command joined with spaces (0 if absent).
        var execExitCodes: [String: Int32] = [:]
    }

    private let state = Mutex(State())

    func with<T>(_ body: (inout State) throws -> T) rethrows -> T { try state.withLock { try body(&$0) } }

    var calls: [String] { with { $0.calls } }
    func clearCalls() { with { $0.calls = [] } }
    func setNow(_ nanos: Int64) { with { $0.nowNanos = nanos } }

    /// The container of this name exits with this code (at the fake's now).
    func exit(podUID: String, name: String, code: Int32, reason: String = "") {
        with { state in
            for (id, container) in state.containers where container.podUID == podUID && container.name == name && container.state == .running {
                state.containers[id]!.state = .exited
                state.containers[id]!.exitCode = code
                state.containers[id]!.finishedAtNanos = state.nowNanos
                state.containers[id]!.reason = reason
            }
        }
    }

    func running(podUID: String) -> [RuntimeContainer] {
        with { $0.containers.values.filter { $0.podUID == podUID && $0.state == .running }.sorted { $0.id < $1.id } }
    }

    func version() throws -> String { "fake 1.0" }

    func listSandboxes() throws -> [RuntimeSandbox] {
        with { state in
            state.calls.append("listSandboxes")
            return state.sandboxes.values.sorted { $0.id < $1.id }.map { var s = $0; s.ip = ""; return s }
        }
    }

    func sandboxIP(id: String) throws -> String {
        try with { state in
            guard let sandbox = state.sandboxes[id] else { throw RuntimeError(.notFound, "sandbox \(id) not found") }
            return sandbox.state == .ready ? sandbox.ip : ""
        }
    }

    func runSandbox(_ spec: SandboxSpec) throws -> RuntimeSandbox {
        with { state in
            state.calls.append("runSandbox \(spec.podName) \(spec.attempt)")
            let id = "sb\(state.nextID)"
            state.nextID += 1
            let sandbox = RuntimeSandbox(id: id, podUID: spec.podUID, podName: spec.podName, podNamespace: spec.podNamespace,
                                         attempt: spec.attempt, state: .ready, createdAtNanos: state.nowNanos,
                                         ip: spec.hostNetwork ? "" : "10.244.0.\(state.nextIP)")
            state.nextIP += 1
            state.sandboxes[id] = sandbox
            return sandbox
        }
    }

    func stopSandbox(id: String) throws {
        with { state in
            state.calls.append("stopSandbox \(id)")
            guard state.sandboxes[id] != nil else { return }
            state.sandboxes[id]!.state = .notReady
            for (cid, container) in state.containers where container.sandboxID == id && container.state != .exited {
                state.containers[cid]!.state = .exited
                state.containers[cid]!.exitCode = 137
                state.containers[cid]!.finishedAtNanos = state.nowNanos
            }
        }
    }

    func removeSandbox(id: String) throws {
        with { state in
            state.calls.append("removeSandbox \(id)")
            state.sandboxes[id] = nil
            state.containers = state.containers.filter { $0.value.sandboxID != id }
        }
    }

    func listContainers() throws -> [RuntimeContainer] {
        with { state in
            state.calls.append("listContainers")
            // A listing leaves out the details, as CRI's does.
            return state.containers.values.sorted { $0.id < $1.id }.map { container in
                var bare = container
                bare.startedAtNanos = 0
                bare.finishedAtNanos = 0
                bare.exitCode = 0
                bare.reason = ""
                return bare
            }
        }
    }

    func containerDetails(_ container: RuntimeContainer) throws -> RuntimeContainer {
        try with { state in
            guard let found = state.containers[container.id] else { throw RuntimeError(.notFound, "container \(container.id) not found") }
            return found
        }
    }

    func createAndStartContainer(sandbox: RuntimeSandbox, sandboxSpec: SandboxSpec, spec: ContainerSpec) throws -> RuntimeContainer {
        try with { state in
            state.calls.append("start \(spec.name) \(spec.attempt)")
            guard state.sandboxes[sandbox.id]?.state == .ready else { throw ContainerStartError.create("sandbox \(sandbox.id) is not ready") }
            let id = "c\(state.nextID)"
            state.nextID += 1
            var container = RuntimeContainer(id: id, sandboxID: sandbox.id, podUID: sandboxSpec.podUID, name: spec.name, attempt: spec.attempt,
                                             state: .running, image: spec.image, imageRef: "sha256:\(spec.image.count)",
                                             specHash: spec.annotations[RuntimeLabels.specHash] ?? "", createdAtNanos: state.nowNanos)
            container.startedAtNanos = state.nowNanos
            state.containers[id] = container
            state.envs[id] = spec.env
            return container
        }
    }

    func stopContainer(id: String, timeoutSeconds: Int64) throws {
        with { state in
            state.calls.append("stopContainer \(id)")
            state.stopTimeouts[id] = timeoutSeconds
            guard state.containers[id]?.state == .running else { return }
            state.containers[id]!.state = .exited
            state.containers[id]!.exitCode = 143
            state.containers[id]!.finishedAtNanos = state.nowNanos
        }
    }

    func removeContainer(id: String) throws {
        with { state in
            state.calls.append("removeContainer \(id)")
            state.containers[id] = nil
        }
    }

    func exec(containerID: String, command: [String], timeoutSeconds: Int64) throws -> ExecResult {
        with { state in
            state.execs.append((containerID, command))
            return ExecResult(exitCode: state.execExitCodes[command.joined(separator: " ")] ?? 0, stdout: [], stderr: [])
        }
    }

    func streamingURL(_ request: StreamingRequest) throws -> String {
        throw RuntimeError(.failed, "the test runtime has no streaming server")
    }

    func imagePresent(_ image: String) throws -> Bool { with { $0.images.contains(image) } }

    func pullImage(_ image: String) throws -> String {
        try with { state in
            state.calls.append("pull \(image)")
            if let message = state.failingPulls[image] { throw RuntimeError(.failed, message) }
            state.images.insert(image)
            return "sha256:\(image.count)"
        }
    }
}

/// The member, as the agent sees it: pods in a dictionary, background work run when the
/// test says, writes recorded and applied at once.
final class FakeAgentHost: AgentHost {
    var nodeName = "h1"
    var nodeIP = "10.88.0.1"
    var unixNanos: Int64 = 1_000_000_000_000_000_000
    var storeIsCurrent = true
    var pods: [String: Pod] = [:]
    var configMaps: [String: ConfigMap] = [:]
    var jobs: [() -> Void] = []
    var statusWrites = 0
    var deletionsFinished: [String] = []
    var events: [String] = []

    func boundPods() -> [String: Pod] { pods }

    func background<T: Sendable>(_ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void) {
        jobs.append { then(work()) }
    }

    func writePodStatus(_ pod: Pod, _ status: PodStatus, done: @escaping (Bool) -> Void) {
        statusWrites += 1
        pods[pod.metadata.uid]?.status = status
        done(true)
    }

    func finishPodDeletion(_ pod: Pod, done: @escaping (Bool) -> Void) {
        deletionsFinished.append(pod.metadata.name)
        pods[pod.metadata.uid] = nil
        done(true)
    }

    func recordPodEvent(_ pod: Pod, type: String, reason: String, message: String) {
        events.append("\(pod.metadata.name) \(reason): \(message)")
    }

    func configMap(namespace: String, name: String) -> ConfigMap? { configMaps["\(namespace)/\(name)"] }
    func secret(namespace: String, name: String) -> Secret? { nil }

    /// What the EndpointSlices would say of each pod (by name); none when unset.
    var traffic: [String: ServiceTraffic] = [:]
    func serviceTraffic(to pod: Pod) -> ServiceTraffic { traffic[pod.metadata.name] ?? .none }
}
