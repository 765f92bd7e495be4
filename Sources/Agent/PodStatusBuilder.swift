import Store

// The Pod's status as the node sees it, as a pure function of the pod, what the runtime
// holds for it and what the agent remembers (probe verdicts, failed pulls and starts) —
// kubelet's generateAPIPodStatus. The agent writes it through the status subresource when
// it differs from what the store holds.

public struct PodStatusContext: Sendable {
    public var nowNanos: Int64
    /// The node's address (hostIP).
    public var hostIP: String

    public init(nowNanos: Int64, hostIP: String) {
        self.nowNanos = nowNanos
        self.hostIP = hostIP
    }
}

public enum PodStatusBuilder {
    public static func status(pod: Pod, view: PodRuntimeView, memory: PodMemory, context: PodStatusContext) -> PodStatus {
        var status = pod.status
        let now = time(context.nowNanos)
        let sandbox = view.currentSandbox
        let sandboxReady = sandbox?.state == .ready

        status.hostIP = context.hostIP
        status.hostIPs = context.hostIP.isEmpty ? [] : [HostIP(ip: context.hostIP)]
        if pod.spec.hostNetwork {
            status.podIP = context.hostIP
        } else if let sandbox, sandboxReady, !sandbox.ip.isEmpty {
            status.podIP = sandbox.ip
        }
        status.podIPs = status.podIP.isEmpty ? [] : [PodIP(ip: status.podIP)]
        if status.startTime == nil { status.startTime = now }
        status.qosClass = pod.spec.qosClass

        status.containerStatuses = pod.spec.containers.map { containerStatus($0, pod: pod, view: view, memory: memory, nowNanos: context.nowNanos) }
        status.phase = phase(pod: pod, view: view, statuses: status.containerStatuses)

        let containersReady = !status.containerStatuses.isEmpty && status.containerStatuses.allSatisfy(\.ready)
        let gatesPass = pod.spec.readinessGates.allSatisfy { gate in
            pod.status.conditions.contains { $0.type == gate.conditionType && $0.status == "True" }
        }
        let notReadyNames = status.containerStatuses.filter { !$0.ready }.map(\.name)
        let notReadyMessage = notReadyNames.isEmpty ? "" : "containers with unready status: [\(notReadyNames.joined(separator: " "))]"
        let terminal = status.phase == PodStatus.succeeded || status.phase == PodStatus.failed
        set(&status, PodCondition.podReadyToStartContainers, sandboxReady && !terminal, now: now)
        set(&status, PodCondition.initialized, true, now: now)
        set(&status, PodCondition.containersReady, containersReady && !terminal, now: now,
            reason: containersReady ? (terminal ? "PodCompleted" : "") : "ContainersNotReady", message: notReadyMessage)
        set(&status, PodCondition.ready, containersReady && gatesPass && !terminal, now: now,
            reason: containersReady ? (terminal ? "PodCompleted" : gatesPass ? "" : "ReadinessGatesNotReady") : "ContainersNotReady",
            message: notReadyMessage)
        if !status.conditions.contains(where: { $0.type == PodCondition.podScheduled }) {
            set(&status, PodCondition.podScheduled, true, now: now)
        }
        return status
    }

    static func phase(pod: Pod, view: PodRuntimeView, statuses: [ContainerStatus]) -> String {
        if pod.isTerminal { return pod.status.phase }
        guard !statuses.isEmpty else { return PodStatus.pending }
        if PodPlan.finished(pod: pod, view: view) {
            return statuses.allSatisfy({ $0.state.terminated?.exitCode == 0 }) ? PodStatus.succeeded : PodStatus.failed
        }
        let everyStarted = pod.spec.containers.allSatisfy { view.latest($0.name) != nil }
        let anyRunning = statuses.contains { $0.state.running != nil }
        let restarting = statuses.contains { $0.state.waiting != nil && $0.restartCount > 0 || $0.lastState.terminated != nil }
        return everyStarted && (anyRunning || restarting) ? PodStatus.running : PodStatus.pending
    }

    static func containerStatus(_ container: Container, pod: Pod, view: PodRuntimeView, memory: PodMemory, nowNanos: Int64) -> ContainerStatus {
        var status = ContainerStatus()
        status.name = container.name
        status.image = container.image
        let latest = view.latest(container.name)
        let verdicts = latest.flatMap { memory.probes[$0.id] } ?? ProbeVerdicts()
        if let previous = view.previous(container.name), previous.state == .exited {
            status.lastState = ContainerState(terminated: terminated(previous))
        }
        guard let latest else {
            status.state = ContainerState(waiting: waiting(container.name, memory: memory, nowNanos: nowNanos, fallback: "ContainerCreating"))
            status.started = false
            return status
        }
        status.containerID = "containerd://\(latest.id)"
        status.imageID = latest.imageRef
        status.restartCount = Int32(clamping: latest.attempt)
        switch latest.state {
        case .running, .created, .unknown:
            status.state = ContainerState(running: ContainerStateRunning(startedAt: latest.startedAtNanos > 0 ? time(latest.startedAtNanos) : nil))
            let started = container.startupProbe == nil || verdicts.started
            status.started = started
            status.ready = started && (PodAgent.probe(container, .readiness) == nil ? true : verdicts.ready == true)
        case .exited:
            let willRestart = PodPlan.shouldRestart(pod: pod, exitCode: latest.exitCode) && !pod.isTerminating
            if willRestart {
                // Between two runs: the exit is the last state, the wait is the state.
                status.lastState = ContainerState(terminated: terminated(latest))
                let backoff = nowNanos < PodPlan.restartTime(latest)
                status.state = ContainerState(waiting: waiting(container.name, memory: memory, nowNanos: nowNanos,
                                                               fallback: backoff ? "CrashLoopBackOff" : "ContainerCreating",
                                                               message: "back-off restarting failed container \(container.name) in pod \(pod.metadata.name)"))
            } else {
                status.state = ContainerState(terminated: terminated(latest))
            }
            status.started = false
        }
        return status
    }

    /// When the status would read differently with time alone (ErrImagePull turning into
    /// ImagePullBackOff), after `nowNanos`.
    public static func nextChangeNanos(memory: PodMemory, nowNanos: Int64) -> Int64? {
        memory.pullFailures.values.map { $0.atNanos + errImagePullShownNanos }.filter { $0 > nowNanos }.min()
    }

    /// A failed pull reads ErrImagePull for this long, then ImagePullBackOff while it waits
    /// (what users see in `kubectl get pods`).
    static let errImagePullShownNanos: Int64 = 1_000_000_000

    static func waiting(_ name: String, memory: PodMemory, nowNanos: Int64, fallback: String, message: String = "") -> ContainerStateWaiting {
        if let pull = memory.pullFailures[name] {
            let fresh = nowNanos - pull.atNanos < errImagePullShownNanos
            return ContainerStateWaiting(reason: fresh ? "ErrImagePull" : "ImagePullBackOff",
                                         message: fresh ? pull.message : "Back-off pulling image: \(pull.message)")
        }
        if let start = memory.startFailures[name] { return ContainerStateWaiting(reason: start.reason, message: start.message) }
        return ContainerStateWaiting(reason: fallback, message: fallback == "ContainerCreating" ? "" : message)
    }

    static func terminated(_ container: RuntimeContainer) -> ContainerStateTerminated {
        var terminated = ContainerStateTerminated()
        terminated.exitCode = container.exitCode
        terminated.reason = container.reason.isEmpty ? (container.exitCode == 0 ? "Completed" : "Error") : container.reason
        terminated.message = container.message
        terminated.startedAt = container.startedAtNanos > 0 ? time(container.startedAtNanos) : nil
        terminated.finishedAt = container.finishedAtNanos > 0 ? time(container.finishedAtNanos) : nil
        terminated.containerID = "containerd://\(container.id)"
        return terminated
    }

    /// Sets a condition, moving its transition time only when its status changes.
    static func set(_ status: inout PodStatus, _ type: String, _ value: Bool, now: MetaTime, reason: String = "", message: String = "") {
        let text = value ? "True" : "False"
        if let index = status.conditions.firstIndex(where: { $0.type == type }) {
            if status.conditions[index].status != text { status.conditions[index].lastTransitionTime = now }
            status.conditions[index].status = text
            status.conditions[index].reason = value ? "" : reason
            status.conditions[index].message = value ? "" : message
        } else {
            var condition = PodCondition()
            condition.type = type
            condition.status = text
            condition.lastTransitionTime = now
            condition.reason = value ? "" : reason
            condition.message = value ? "" : message
            status.conditions.append(condition)
        }
    }

    /// Seconds resolution, as the API stores times.
    static func time(_ nanos: Int64) -> MetaTime { MetaTime(unixSeconds: nanos / 1_000_000_000) }
}

// The Store's status types have only empty initializers (they are decoded, not built).
extension ContainerState {
    init(waiting: ContainerStateWaiting) {
        self.init()
        self.waiting = waiting
    }

    init(running: ContainerStateRunning) {
        self.init()
        self.running = running
    }

    init(terminated: ContainerStateTerminated) {
        self.init()
        self.terminated = terminated
    }
}

extension ContainerStateWaiting {
    init(reason: String, message: String) {
        self.init()
        self.reason = reason
        self.message = message
    }
}

extension ContainerStateRunning {
    init(startedAt: MetaTime?) {
        self.init()
        self.startedAt = startedAt
    }
}
