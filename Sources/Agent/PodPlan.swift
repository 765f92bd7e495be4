import JSON
import Store

// The pod worker's decision, as a pure function: from the Pod as the store holds it (or nil
// once it is gone), what the runtime holds for it, and what the agent remembers (image pull
// failures, probe results), the one next step to take — or when to look again. The driver
// (`PodAgent`) takes that step on a worker thread, relists the pod, and asks again, so a
// step that fails or a container that dies is simply seen on the next look. This is
// kubelet's computePodActions, one step at a time.

/// What the runtime holds for one pod.
public struct PodRuntimeView: Sendable, Equatable {
    public var sandboxes: [RuntimeSandbox] = []
    public var containers: [RuntimeContainer] = []

    public init(sandboxes: [RuntimeSandbox] = [], containers: [RuntimeContainer] = []) {
        self.sandboxes = sandboxes
        self.containers = containers
    }

    /// The newest sandbox (the highest attempt; the newest among equals).
    public var currentSandbox: RuntimeSandbox? {
        sandboxes.max { ($0.attempt, $0.createdAtNanos) < ($1.attempt, $1.createdAtNanos) }
    }

    /// The newest container of this name, in any sandbox.
    public func latest(_ name: String) -> RuntimeContainer? {
        containers.filter { $0.name == name }.max { ($0.attempt, $0.createdAtNanos) < ($1.attempt, $1.createdAtNanos) }
    }

    /// The container of this name before the latest (its `lastState`).
    public func previous(_ name: String) -> RuntimeContainer? {
        let sorted = containers.filter { $0.name == name }.sorted { ($0.attempt, $0.createdAtNanos) > ($1.attempt, $1.createdAtNanos) }
        return sorted.count > 1 ? sorted[1] : nil
    }

    public var hasRunning: Bool { containers.contains { $0.state == .running || $0.state == .created } }
}

/// What the agent remembers about one pod besides the runtime's state: lost on a restart,
/// and harmless to lose (a pull is retried, a probe runs again).
public struct PodMemory: Sendable, Equatable {
    /// Failed pulls per container name: how many in a row, when the last one ended, and why.
    public var pullFailures: [String: PullFailure] = [:]
    /// Probe verdicts per container id.
    public var probes: [String: ProbeVerdicts] = [:]
    /// A step failed for a container: why (for its waiting state), by container name.
    public var startFailures: [String: StartFailure] = [:]

    public init() {}

    public struct PullFailure: Sendable, Equatable {
        public var count: Int
        public var atNanos: Int64
        public var message: String
    }

    public struct StartFailure: Sendable, Equatable {
        /// CreateContainerError, RunContainerError, CreateContainerConfigError.
        public var reason: String
        public var message: String
        public var count: Int
        public var atNanos: Int64
    }
}

/// The latest probe results of one container.
public struct ProbeVerdicts: Sendable, Equatable {
    /// nil until the readiness probe ran (or there is none: then ready when running).
    public var ready: Bool?
    /// The startup probe passed (or there is none).
    public var started = false
    /// The liveness probe failed its threshold: the container is to be killed.
    public var livenessFailed = false
    public var message = ""

    public init() {}
}

/// The one next step for a pod.
public enum PodStep: Sendable, Equatable {
    /// Create the pod's sandbox (network included).
    case runSandbox(SandboxSpec)
    /// Pull the image if needed, then create and start the container in the sandbox.
    case startContainer(ContainerSpec, sandbox: RuntimeSandbox, sandboxSpec: SandboxSpec, pull: PullDecision)
    /// Stop one container (liveness failure, changed spec): SIGTERM, then SIGKILL after the grace.
    case stopContainer(id: String, name: String, graceSeconds: Int64, reason: String)
    /// Stop every running container of the pod together (each with the grace period, its
    /// preStop hook first), then its sandboxes.
    case killPod(containers: [KillTarget], sandboxIDs: [String], graceSeconds: Int64)
    case removeContainer(id: String)
    case removeSandbox(id: String)
    /// The pod's containers are stopped and its object is terminating: write its final
    /// status and delete it for good (grace 0), as kubelet does.
    case finishDeletion
    /// Nothing now; look again at this time (nanoseconds since the epoch), or on any change.
    case wait(untilNanos: Int64?)

    public struct KillTarget: Sendable, Equatable {
        public var id: String
        public var name: String
        /// The preStop exec command, if the container has one.
        public var preStop: [String]

        public init(id: String, name: String, preStop: [String] = []) {
            self.id = id
            self.name = name
            self.preStop = preStop
        }
    }
}

/// Whether a start pulls the image first (kubelet's imagePullPolicy).
public enum PullDecision: Sendable, Equatable {
    /// Always: pull even when present.
    case always
    /// IfNotPresent: pull when missing.
    case ifMissing
    /// Never: fail when missing (ErrImageNeverPull).
    case never
    /// IfNotPresent for an image this agent already started a container from: no need to ask.
    case knownPresent
}

/// The node-wide facts the plan needs.
public struct PodPlanContext: Sendable {
    public var nowNanos: Int64
    public var podLogRoot: String
    public var dnsServers: [String]
    public var dnsSearchDomain: String
    /// A terminating pod's containers keep running until then (Services may still send it
    /// connections: `PodAgent.drainUntil`).
    public var drainUntilNanos: Int64?

    public init(nowNanos: Int64, podLogRoot: String = "/var/log/pods", dnsServers: [String] = [], dnsSearchDomain: String = "cluster.local") {
        self.nowNanos = nowNanos
        self.podLogRoot = podLogRoot
        self.dnsServers = dnsServers
        self.dnsSearchDomain = dnsSearchDomain
    }
}

public enum PodPlan {
    /// Kubernetes' crash-loop and image-pull back-off: 10 s, doubling, at most 300 s.
    public static let backoffInitialNanos: Int64 = 10_000_000_000
    public static let backoffMaxNanos: Int64 = 300_000_000_000
    /// A container that ran this long before it exited starts its back-off afresh.
    public static let backoffResetNanos: Int64 = 600_000_000_000
    /// How long a container may stay created without being started before it is replaced.
    public static let createdWithoutStartNanos: Int64 = 2_000_000_000
    /// Seconds a pod without terminationGracePeriodSeconds gets (Kubernetes' default).
    public static let defaultGraceSeconds: Int64 = 30

    /// The delay before the start after `restarts` restarts: none for the first restart,
    /// then 10 s, 20 s, 40 s ... 300 s (kubelet's CrashLoopBackOff).
    public static func backoffNanos(restarts: Int) -> Int64 {
        guard restarts > 0 else { return 0 }
        let shift = min(restarts - 1, 10)
        return min(backoffInitialNanos << Int64(shift), backoffMaxNanos)
    }

    /// The next step for the pod with this uid. `pod` is nil once the store no longer has it.
    public static func next(pod: Pod?, view: PodRuntimeView, memory: PodMemory, context: PodPlanContext) -> PodStep {
        if let pod, pod.isTerminating, let until = context.drainUntilNanos, context.nowNanos < until {
            return .wait(untilNanos: until)
        }
        guard let pod, !pod.isTerminating else { return teardown(pod: pod, view: view) }
        if pod.isTerminal { return settle(view: view) }

        guard let sandbox = view.currentSandbox, sandbox.state == .ready else {
            if finished(pod: pod, view: view) { return settle(view: view) }
            let running = view.containers.filter { $0.state == .running || $0.state == .created }
            if !running.isEmpty {
                return .killPod(containers: running.map { killTarget($0, pod: pod) }, sandboxIDs: readySandboxes(view),
                                graceSeconds: graceSeconds(pod))
            }
            let attempt = view.currentSandbox.map { $0.attempt + 1 } ?? 0
            return .runSandbox(sandboxSpec(pod: pod, attempt: attempt, context: context))
        }
        let spec = sandboxSpec(pod: pod, attempt: sandbox.attempt, context: context)

        var wakeAt: Int64?
        for container in pod.spec.containers {
            let hash = specHash(container)
            guard let latest = view.latest(container.name) else {
                if let wait = pullBackoffUntil(container.name, memory: memory, context: context) ?? startBackoffUntil(container.name, memory: memory, context: context) {
                    wakeAt = min(wakeAt ?? wait, wait)
                    continue
                }
                return .startContainer(containerSpec(container, pod: pod, attempt: 0, hash: hash), sandbox: sandbox,
                                       sandboxSpec: spec, pull: pullDecision(container))
            }
            switch latest.state {
            case .created where context.nowNanos - latest.createdAtNanos > createdWithoutStartNanos:
                // Created but never started (the start failed halfway, or the agent stopped
                // between the two): it would sit there forever, "running" to the status and to
                // no one else. Removed, it is started afresh (a stop is no-op for CRI here).
                return .removeContainer(id: latest.id)
            case .running, .created, .unknown:
                if latest.state == .created {
                    let replaceAt = latest.createdAtNanos + createdWithoutStartNanos + 1
                    wakeAt = min(wakeAt ?? replaceAt, replaceAt)
                }
                if latest.sandboxID != sandbox.id {
                    return .stopContainer(id: latest.id, name: latest.name, graceSeconds: graceSeconds(pod), reason: "SandboxChanged")
                }
                if latest.specHash != hash {
                    return .stopContainer(id: latest.id, name: latest.name, graceSeconds: graceSeconds(pod), reason: "SpecChanged")
                }
                if memory.probes[latest.id]?.livenessFailed == true {
                    return .stopContainer(id: latest.id, name: latest.name, graceSeconds: graceSeconds(pod), reason: "LivenessFailed")
                }
            case .exited:
                guard shouldRestart(pod: pod, exitCode: latest.exitCode) else { continue }
                let restartAt = restartTime(latest)
                if context.nowNanos < restartAt {
                    wakeAt = min(wakeAt ?? restartAt, restartAt)
                    continue
                }
                if let wait = pullBackoffUntil(container.name, memory: memory, context: context) ?? startBackoffUntil(container.name, memory: memory, context: context) {
                    wakeAt = min(wakeAt ?? wait, wait)
                    continue
                }
                return .startContainer(containerSpec(container, pod: pod, attempt: latest.attempt + 1, hash: hash), sandbox: sandbox,
                                       sandboxSpec: spec, pull: pullDecision(container))
            }
        }
        if let garbage = garbage(pod: pod, view: view, current: sandbox) { return garbage }
        return .wait(untilNanos: wakeAt)
    }

    // MARK: Ends

    /// The pod is gone or going: stop everything, then finish its deletion, then remove
    /// what is left in the runtime.
    static func teardown(pod: Pod?, view: PodRuntimeView) -> PodStep {
        let running = view.containers.filter { $0.state == .running || $0.state == .created || $0.state == .unknown }
        let ready = readySandboxes(view)
        if !running.isEmpty || !ready.isEmpty {
            let grace = pod.map(graceSeconds) ?? view.containers.map(\.gracePeriodSeconds).max() ?? defaultGraceSeconds
            return .killPod(containers: running.map { container in pod.map { killTarget(container, pod: $0) } ?? PodStep.KillTarget(id: container.id, name: container.name) },
                            sandboxIDs: ready, graceSeconds: grace)
        }
        if pod != nil { return .finishDeletion }
        if let sandbox = view.sandboxes.first { return .removeSandbox(id: sandbox.id) }
        if let container = view.containers.first { return .removeContainer(id: container.id) }
        return .wait(untilNanos: nil)
    }

    /// A finished pod (Succeeded or Failed): its sandbox stops; its containers stay for logs.
    static func settle(view: PodRuntimeView) -> PodStep {
        let running = view.containers.filter { $0.state == .running || $0.state == .created }
        let ready = readySandboxes(view)
        if !running.isEmpty || !ready.isEmpty {
            return .killPod(containers: running.map { PodStep.KillTarget(id: $0.id, name: $0.name) }, sandboxIDs: ready,
                            graceSeconds: view.containers.map(\.gracePeriodSeconds).max() ?? defaultGraceSeconds)
        }
        return .wait(untilNanos: nil)
    }

    /// Every container ran and none is to run again (restartPolicy Never, or OnFailure
    /// after success).
    public static func finished(pod: Pod, view: PodRuntimeView) -> Bool {
        guard !pod.spec.containers.isEmpty else { return false }
        return pod.spec.containers.allSatisfy { container in
            guard let latest = view.latest(container.name), latest.state == .exited else { return false }
            return !shouldRestart(pod: pod, exitCode: latest.exitCode)
        }
    }

    /// Exited containers older than the one before the latest of each name, and sandboxes
    /// other than the current one that nothing runs in, are removed (the last exited
    /// container is kept for `kubectl logs --previous`).
    static func garbage(pod: Pod, view: PodRuntimeView, current: RuntimeSandbox) -> PodStep? {
        for name in Set(view.containers.map(\.name)).sorted() {
            let sorted = view.containers.filter { $0.name == name }.sorted { ($0.attempt, $0.createdAtNanos) > ($1.attempt, $1.createdAtNanos) }
            if let old = sorted.dropFirst(2).first(where: { $0.state == .exited }) { return .removeContainer(id: old.id) }
        }
        let live = Set(view.containers.filter { $0.state != .exited }.map(\.sandboxID))
        for sandbox in view.sandboxes where sandbox.id != current.id && !live.contains(sandbox.id) {
            if sandbox.state == .ready {
                return .killPod(containers: [], sandboxIDs: [sandbox.id], graceSeconds: 0)
            }
            // Keep the sandbox whose containers `--previous` may still read.
            if !view.containers.contains(where: { $0.sandboxID == sandbox.id }) { return .removeSandbox(id: sandbox.id) }
        }
        return nil
    }

    // MARK: Rules

    public static func shouldRestart(pod: Pod, exitCode: Int32) -> Bool {
        switch pod.spec.restartPolicy {
        case "Never": return false
        case "OnFailure": return exitCode != 0
        default: return true
        }
    }

    /// When an exited container may be started again: restart n waits backoffNanos(n - 1).
    static func restartTime(_ container: RuntimeContainer) -> Int64 {
        let ranNanos = container.finishedAtNanos - container.startedAtNanos
        let restarts = container.startedAtNanos > 0 && ranNanos >= backoffResetNanos ? 0 : Int(container.attempt)
        return container.finishedAtNanos + backoffNanos(restarts: restarts)
    }

    static func pullBackoffUntil(_ name: String, memory: PodMemory, context: PodPlanContext) -> Int64? {
        guard let failure = memory.pullFailures[name] else { return nil }
        let until = failure.atNanos + backoffNanos(restarts: failure.count)
        return context.nowNanos < until ? until : nil
    }

    /// A missing ConfigMap or Secret is looked for again every second (no runtime call is
    /// made); a container the runtime could not create or start waits like a crash.
    public static let configRetryNanos: Int64 = 1_000_000_000

    static func startBackoffUntil(_ name: String, memory: PodMemory, context: PodPlanContext) -> Int64? {
        guard let failure = memory.startFailures[name] else { return nil }
        let delay = failure.reason == "CreateContainerConfigError" ? configRetryNanos : backoffNanos(restarts: failure.count)
        let until = failure.atNanos + delay
        return context.nowNanos < until ? until : nil
    }

    public static func pullDecision(_ container: Container) -> PullDecision {
        switch container.imagePullPolicy {
        case "Always": return .always
        case "Never": return .never
        case "IfNotPresent": return .ifMissing
        default:
            // Kubernetes' default: Always for :latest or no tag, IfNotPresent otherwise.
            return imageTag(container.image) == "latest" ? .always : .ifMissing
        }
    }

    /// The tag of an image reference ("latest" when it has none; "" when it names a digest).
    public static func imageTag(_ image: String) -> String {
        if image.contains("@") { return "" }
        let lastPart = image.split(separator: "/").last.map(String.init) ?? image
        guard let colon = lastPart.lastIndex(of: ":") else { return "latest" }
        return String(lastPart[lastPart.index(after: colon)...])
    }

    public static func graceSeconds(_ pod: Pod) -> Int64 {
        max(0, pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? defaultGraceSeconds)
    }

    static func readySandboxes(_ view: PodRuntimeView) -> [String] {
        view.sandboxes.filter { $0.state == .ready }.map(\.id)
    }

    static func killTarget(_ container: RuntimeContainer, pod: Pod) -> PodStep.KillTarget {
        let preStop = pod.spec.containers.first { $0.name == container.name }?.lifecycle?.preStop?.exec?.command ?? []
        return PodStep.KillTarget(id: container.id, name: container.name, preStop: preStop)
    }

    /// A stable hash of the container's spec (FNV-1a over its JSON): a container made from
    /// another spec is replaced. Stable across processes and versions that print the same JSON.
    public static func specHash(_ container: Container) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in container.wireJSON.jsonString.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    // MARK: Specs

    public static func sandboxSpec(pod: Pod, attempt: UInt32, context: PodPlanContext) -> SandboxSpec {
        let namespace = pod.metadata.namespace
        var spec = SandboxSpec(podUID: pod.metadata.uid, podName: pod.metadata.name, podNamespace: namespace, attempt: attempt,
                               hostname: pod.spec.hostname.isEmpty ? String(pod.metadata.name.prefix(63)) : pod.spec.hostname,
                               hostNetwork: pod.spec.hostNetwork,
                               logDirectory: "\(context.podLogRoot)/\(namespace)_\(pod.metadata.name)_\(pod.metadata.uid)")
        spec.labels = pod.metadata.labels.merging([
            RuntimeLabels.podUID: pod.metadata.uid, RuntimeLabels.podName: pod.metadata.name,
            RuntimeLabels.podNamespace: namespace, RuntimeLabels.managedBy: "true",
        ]) { _, mine in mine }
        spec.annotations = [RuntimeLabels.gracePeriod: String(pod.spec.terminationGracePeriodSeconds ?? defaultGraceSeconds)]
        if pod.spec.dnsPolicy != "Default", !pod.spec.hostNetwork || pod.spec.dnsPolicy == "ClusterFirstWithHostNet" {
            spec.dnsServers = context.dnsServers
            spec.dnsSearches = ["\(namespace).svc.\(context.dnsSearchDomain)", "svc.\(context.dnsSearchDomain)", context.dnsSearchDomain]
            spec.dnsOptions = ["ndots:5"]
        }
        if let dns = pod.spec.dnsConfig {
            spec.dnsServers += dns.nameservers
            spec.dnsSearches += dns.searches
            spec.dnsOptions += dns.options.map { option in option.value.map { "\(option.name):\($0)" } ?? option.name }
        }
        for container in pod.spec.containers {
            for port in container.ports where port.hostPort > 0 {
                spec.portMappings.append(.init(protocolName: port.protocol.isEmpty ? "TCP" : port.protocol, containerPort: port.containerPort,
                                               hostPort: port.hostPort, hostIP: port.hostIP))
            }
            if container.securityContext?.privileged == true { spec.privileged = true }
        }
        return spec
    }

    /// The container's runtime spec; environment variables are resolved later, by the
    /// driver, which reads ConfigMaps and Secrets (`EnvironmentResolver`).
    public static func containerSpec(_ container: Container, pod: Pod, attempt: UInt32, hash: String) -> ContainerSpec {
        var spec = ContainerSpec(
            name: container.name, attempt: attempt, image: container.image, command: container.command, args: container.args,
            workingDir: container.workingDir, env: [], logPath: "\(container.name)/\(attempt).log",
            labels: [RuntimeLabels.podUID: pod.metadata.uid, RuntimeLabels.podName: pod.metadata.name,
                     RuntimeLabels.podNamespace: pod.metadata.namespace, RuntimeLabels.containerName: container.name,
                     RuntimeLabels.managedBy: "true"],
            annotations: [RuntimeLabels.specHash: hash,
                          RuntimeLabels.gracePeriod: String(pod.spec.terminationGracePeriodSeconds ?? defaultGraceSeconds)])
        let cpuLimit = container.resources.limits[ResourceRequirements.cpu]?.milliValue ?? 0
        let cpuRequest = container.resources.requests[ResourceRequirements.cpu]?.milliValue ?? cpuLimit
        // Kubernetes' conversions: quota over a 100 ms period; shares 1024 per processor, at least 2.
        if cpuLimit > 0 { spec.cpuQuotaMicros = max(1_000, cpuLimit * 100) }
        spec.cpuShares = max(2, cpuRequest * 1024 / 1000)
        spec.memoryLimitBytes = container.resources.limits[ResourceRequirements.memory]?.value ?? 0
        spec.privileged = container.securityContext?.privileged ?? false
        spec.tty = container.tty
        spec.stdin = container.stdin
        return spec
    }
}
