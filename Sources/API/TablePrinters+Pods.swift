import JSON
import Store

extension TablePrinter {
    /// Pods: Name, Ready ("1/2"), Status (what users know: Running, ContainerCreating,
    /// CrashLoopBackOff, Init:0/1, Completed, Terminating, ...), Restarts ("0", "2 (5m3s ago)"),
    /// Age; with `-o wide` IP, Node, Nominated Node and Readiness Gates.
    static let pod = TablePrinter.typed(
        Pod.self,
        columns: [
            .name,
            TableColumn("Ready", "Ready containers of all containers (sidecars included)."),
            TableColumn("Status", "What the pod is doing, from its phase and its containers' states."),
            TableColumn("Restarts", "Container restarts, and how long ago the latest one ended."),
            .age,
            TableColumn("IP", priority: 1, "The pod's primary address."),
            TableColumn("Node", priority: 1, "The node the pod is bound to."),
            TableColumn("Nominated Node", priority: 1, "The node a preempting pod waits for."),
            TableColumn("Readiness Gates", priority: 1, "Readiness gates whose condition is True, of all of them."),
        ],
        cells: { pod, object, now in
            let summary = PodSummary(pod)
            return [
                .string(object.key.name),
                .string("\(summary.readyContainers)/\(summary.totalContainers)"),
                .string(summary.status),
                .string(summary.restartsText(now: now)),
                TableCells.age(of: object, now: now),
                .string(TableCells.or(pod.status.podIPs.first?.ip ?? pod.status.podIP, TableCells.none)),
                .string(TableCells.or(pod.spec.nodeName, TableCells.none)),
                .string(TableCells.or(pod.status.nominatedNodeName, TableCells.none)),
                .string(PodSummary.readinessGates(pod)),
            ]
        })
}

/// What `kubectl get pods` says of a pod, derived from its spec and status the way
/// Kubernetes' pod printer does it:
///
/// - The status starts as the phase (or `status.reason`, e.g. Evicted); a pod held by
///   scheduling gates says SchedulingGated.
/// - Init containers run in order; the first one not done explains the pod:
///   `Init:<reason>` (waiting or failed), `Init:ExitCode:N`, `Init:Signal:N`, or `Init:i/n`.
///   Sidecars (init containers that restart always) are done once started.
/// - Once initialized, the main containers are read from last to first, so the first one
///   that waits or exited has the last word: its reason (ContainerCreating, ErrImagePull,
///   CrashLoopBackOff, Completed, Error), or `ExitCode:N` / `Signal:N`. A pod whose
///   containers finished Completed while another still runs is Running (NotReady without a
///   True Ready condition).
/// - Deletion requested: Terminating, unless the pod already finished; Unknown when its node
///   was lost.
/// - Restarts add up the restart counts of the containers that explain the pod, with the
///   age of the latest exit among them (`lastState.terminated.finishedAt`).
struct PodSummary {
    var readyContainers = 0
    var totalContainers = 0
    var status = ""
    var restarts = 0
    /// When the latest counted restart's previous run ended.
    var lastRestart: MetaTime?

    /// `status.reason` Kubernetes' node lifecycle gives pods on a lost node.
    static let nodeLostReason = "NodeLost"
    /// The PodScheduled condition's reason while scheduling gates hold the pod.
    static let schedulingGatedReason = "SchedulingGated"
    /// The waiting reason of main containers while init containers run: says nothing new.
    static let podInitializingReason = "PodInitializing"

    init(_ pod: Pod) {
        status = pod.status.reason.isEmpty ? pod.status.phase : pod.status.reason
        if pod.status.conditions.contains(where: { $0.type == PodCondition.podScheduled && $0.reason == Self.schedulingGatedReason }) {
            status = Self.schedulingGatedReason
        }
        let sidecars = Set(pod.spec.initContainers.filter(\.isSidecar).map(\.name))
        totalContainers = pod.spec.containers.count + sidecars.count

        // Init containers, in order, up to the first that is not done.
        var sidecarRestarts = 0
        var sidecarLastRestart: MetaTime?
        var initializing = false
        for (position, container) in pod.status.initContainerStatuses.enumerated() {
            let isSidecar = sidecars.contains(container.name)
            restarts += Int(container.restartCount)
            lastRestart = Self.later(lastRestart, container.lastState.terminated?.finishedAt)
            if isSidecar {
                sidecarRestarts += Int(container.restartCount)
                sidecarLastRestart = Self.later(sidecarLastRestart, container.lastState.terminated?.finishedAt)
            }
            if let terminated = container.state.terminated, terminated.exitCode == 0 { continue }
            if isSidecar && container.started == true {
                if container.ready { readyContainers += 1 }
                continue
            }
            initializing = true
            if let terminated = container.state.terminated {
                status = "Init:" + Self.exitText(terminated)
            } else if let waiting = container.state.waiting, !waiting.reason.isEmpty, waiting.reason != Self.podInitializingReason {
                status = "Init:" + waiting.reason
            } else {
                status = "Init:\(position)/\(pod.spec.initContainers.count)"
            }
            break
        }

        // The main containers, once initialized: only sidecars' restarts count beside theirs.
        guard !initializing || pod.condition(PodCondition.initialized)?.status == "True" else {
            finishDeletion(pod)
            return
        }
        restarts = sidecarRestarts
        lastRestart = sidecarLastRestart
        var someRunning = false
        for container in pod.status.containerStatuses.reversed() {
            restarts += Int(container.restartCount)
            lastRestart = Self.later(lastRestart, container.lastState.terminated?.finishedAt)
            if let waiting = container.state.waiting, !waiting.reason.isEmpty {
                status = waiting.reason
            } else if let terminated = container.state.terminated {
                status = Self.exitText(terminated)
            } else if container.ready && container.state.running != nil {
                someRunning = true
                readyContainers += 1
            }
        }
        if status == "Completed" && someRunning {
            status = pod.isReady ? PodStatus.running : "NotReady"
        }
        finishDeletion(pod)
    }

    /// A pod being deleted: Unknown when its node was lost, Terminating unless it finished.
    private mutating func finishDeletion(_ pod: Pod) {
        guard pod.isTerminating else { return }
        if pod.status.reason == Self.nodeLostReason {
            status = PodStatus.unknown
        } else if !pod.isTerminal {
            status = "Terminating"
        }
    }

    /// An exited container's reason, or `Signal:N` / `ExitCode:N` when it gave none.
    static func exitText(_ terminated: ContainerStateTerminated) -> String {
        if !terminated.reason.isEmpty { return terminated.reason }
        return terminated.signal != 0 ? "Signal:\(terminated.signal)" : "ExitCode:\(terminated.exitCode)"
    }

    /// The later of two optional times.
    static func later(_ a: MetaTime?, _ b: MetaTime?) -> MetaTime? {
        guard let a else { return b }
        guard let b else { return a }
        return max(a, b)
    }

    /// "0", "3", or "2 (5m3s ago)" when the latest exit's time is known.
    func restartsText(now: Int64) -> String {
        guard restarts != 0, let lastRestart else { return String(restarts) }
        return "\(restarts) (\(TableCells.age(lastRestart, now: now)) ago)"
    }

    /// "<none>", or how many of the pod's readiness gates have a True condition of all of
    /// them ("1/2").
    static func readinessGates(_ pod: Pod) -> String {
        guard !pod.spec.readinessGates.isEmpty else { return TableCells.none }
        let passing = pod.spec.readinessGates.filter { pod.condition($0.conditionType)?.status == "True" }.count
        return "\(passing)/\(pod.spec.readinessGates.count)"
    }
}
