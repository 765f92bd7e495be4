/// Reads controllers, the scheduler and the node agent need from pods: conditions, readiness,
/// QoS class and resource totals.
extension Pod {
    /// The status condition of `type` (e.g. `PodCondition.ready`), if reported.
    public func condition(_ type: String) -> PodCondition? { status.conditions.first { $0.type == type } }

    /// Whether the Ready condition is True (the pod receives service traffic).
    public var isReady: Bool { condition(PodCondition.ready)?.status == "True" }

    /// Whether the pod is bound to a node.
    public var isScheduled: Bool { !spec.nodeName.isEmpty }

    /// Whether the pod finished for good (Succeeded or Failed): its containers are not
    /// restarted and it no longer counts against its node.
    public var isTerminal: Bool { status.phase == PodStatus.succeeded || status.phase == PodStatus.failed }

    /// Whether deletion was requested (the pod is in its grace period).
    public var isTerminating: Bool { metadata.deletionTimestamp != nil }

    /// The reported state of the container called `name` (main, init or ephemeral).
    public func containerStatus(named name: String) -> ContainerStatus? {
        (status.containerStatuses + status.initContainerStatuses + status.ephemeralContainerStatuses).first { $0.name == name }
    }
}

/// Amounts of the two resources the scheduler and the QoS class count.
public struct PodResourceAmounts: Hashable, Sendable {
    /// CPU in thousandths of a core.
    public var cpuMilli: Int64
    /// Memory in bytes.
    public var memoryBytes: Int64

    public init(cpuMilli: Int64 = 0, memoryBytes: Int64 = 0) {
        self.cpuMilli = cpuMilli
        self.memoryBytes = memoryBytes
    }

    static func + (a: Self, b: Self) -> Self {
        Self(cpuMilli: a.cpuMilli &+ b.cpuMilli, memoryBytes: a.memoryBytes &+ b.memoryBytes)
    }

    /// The larger of each amount.
    func max(_ other: Self) -> Self {
        Self(cpuMilli: Swift.max(cpuMilli, other.cpuMilli), memoryBytes: Swift.max(memoryBytes, other.memoryBytes))
    }
}

extension Container {
    /// Requested CPU in thousandths of a core (0 when none).
    public var cpuRequestMilli: Int64 { resources.requests.milli(ResourceRequirements.cpu) }
    /// Requested memory in bytes (0 when none).
    public var memoryRequestBytes: Int64 { resources.requests.units(ResourceRequirements.memory) }
    /// The CPU limit in thousandths of a core, if there is one.
    public var cpuLimitMilli: Int64? { resources.limits[ResourceRequirements.cpu]?.milliValue }
    /// The memory limit in bytes, if there is one.
    public var memoryLimitBytes: Int64? { resources.limits[ResourceRequirements.memory]?.value }
    /// Requested CPU and memory.
    public var requests: PodResourceAmounts { PodResourceAmounts(cpuMilli: cpuRequestMilli, memoryBytes: memoryRequestBytes) }
    /// Whether this init container is a sidecar (keeps running beside the main containers).
    public var isSidecar: Bool { restartPolicy == "Always" }
}

extension PodSpec {
    /// What the pod needs of a node, as Kubernetes' scheduler counts it: the main containers
    /// and sidecars together, or the largest need while an init container runs (itself plus
    /// the sidecars started before it), whichever is more; plus the pod's overhead.
    public var totalRequests: PodResourceAmounts {
        var sidecars = PodResourceAmounts()
        var initPeak = PodResourceAmounts()
        for container in initContainers {
            if container.isSidecar {
                sidecars = sidecars + container.requests
                initPeak = initPeak.max(sidecars)
            } else {
                initPeak = initPeak.max(sidecars + container.requests)
            }
        }
        let running = containers.reduce(sidecars) { $0 + $1.requests }
        let overheadAmounts = PodResourceAmounts(cpuMilli: overhead.milli(ResourceRequirements.cpu),
                                                 memoryBytes: overhead.units(ResourceRequirements.memory))
        return running.max(initPeak) + overheadAmounts
    }

    /// Kubernetes' QoS class: Guaranteed when every container limits both CPU and memory and
    /// the pod's requests equal its limits, BestEffort when no container requests or limits
    /// either, Burstable otherwise. Init containers count; zero amounts count as unset.
    public var qosClass: String {
        var requests: [String: Int64] = [:]
        var limits: [String: Int64] = [:]
        var everyContainerLimited = true
        for container in initContainers + containers {
            for name in [ResourceRequirements.cpu, ResourceRequirements.memory] {
                if let amount = container.resources.requests[name]?.milliValue, amount != 0 {
                    requests[name, default: 0] &+= amount
                }
                if let amount = container.resources.limits[name]?.milliValue, amount != 0 {
                    limits[name, default: 0] &+= amount
                } else {
                    everyContainerLimited = false
                }
            }
        }
        if requests.isEmpty && limits.isEmpty { return "BestEffort" }
        if everyContainerLimited && requests == limits { return "Guaranteed" }
        return "Burstable"
    }

    /// Every container: init containers first, then the main ones.
    public var allContainers: [Container] { initContainers + containers }
}
