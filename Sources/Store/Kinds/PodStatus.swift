/// What a pod is (core/v1 PodStatus), written by the node agent through the status
/// subresource (and by the server: Pending and the QoS class on create, PodScheduled on bind).
public struct PodStatus: WireStruct, Hashable {
    public var phase = ""
    public var conditions: [PodCondition] = []
    public var message = ""
    public var reason = ""
    public var nominatedNodeName = ""
    public var hostIP = ""
    public var hostIPs: [HostIP] = []
    public var podIP = ""
    public var podIPs: [PodIP] = []
    public var startTime: MetaTime?
    public var initContainerStatuses: [ContainerStatus] = []
    public var containerStatuses: [ContainerStatus] = []
    public var qosClass = ""
    public var ephemeralContainerStatuses: [ContainerStatus] = []
    public var resize = ""
    public var resourceClaimStatuses: [PodResourceClaimStatus] = []

    public init() {}

    public static let wireInfo = WireStructInfo<PodStatus>(
        "io.k8s.api.core.v1.PodStatus", "What a pod is: its phase, conditions, addresses and containers' states.",
        [
            .omitEmpty("phase", 1, \.phase, "Pending, Running, Succeeded, Failed or Unknown."),
            .omitEmpty("conditions", 2, \.conditions, "Observations: PodScheduled, Initialized, ContainersReady, Ready, ...",
                       semantics: .mergeBy("type")),
            .omitEmpty("message", 3, \.message, "Why the pod is in this state, for people."),
            .omitEmpty("reason", 4, \.reason, "Why the pod is in this state, in CamelCase (e.g. Evicted)."),
            .omitEmpty("nominatedNodeName", 11, \.nominatedNodeName,
                       "The node a preempting pod expects to run on once its victims are gone."),
            .omitEmpty("hostIP", 5, \.hostIP, "The primary address of the node the pod runs on."),
            .omitEmpty("hostIPs", 16, \.hostIPs, "The node's addresses, primary first.",
                       semantics: ListSemantics(listType: "atomic", merge: true, mergeKey: "ip")),
            .omitEmpty("podIP", 6, \.podIP, "The pod's primary address."),
            .omitEmpty("podIPs", 12, \.podIPs, "The pod's addresses (one per IP family), primary first.",
                       semantics: .mergeBy("ip")),
            .optional("startTime", 7, \.startTime, "When the node agent accepted the pod."),
            .omitEmpty("initContainerStatuses", 10, \.initContainerStatuses, "The init containers' states.", semantics: .atomic),
            .omitEmpty("containerStatuses", 8, \.containerStatuses, "The main containers' states.", semantics: .atomic),
            .omitEmpty("qosClass", 9, \.qosClass, "Guaranteed, Burstable or BestEffort, from the containers' resources."),
            .omitEmpty("ephemeralContainerStatuses", 13, \.ephemeralContainerStatuses, "The ephemeral containers' states.",
                       semantics: .atomic),
            .omitEmpty("resize", 14, \.resize, "The state of an in-place resize (alpha)."),
            .omitEmpty("resourceClaimStatuses", 15, \.resourceClaimStatuses, "The claims made for the pod's resource claims.",
                       semantics: ListSemantics(listType: "map", mapKeys: ["name"], merge: true, mergeKey: "name", retainKeys: true)),
        ])

    /// The phases.
    public static let pending = "Pending"
    public static let running = "Running"
    public static let succeeded = "Succeeded"
    public static let failed = "Failed"
    public static let unknown = "Unknown"
}

/// One observation about a pod (core/v1 PodCondition).
public struct PodCondition: WireStruct, Hashable {
    public var type = ""
    public var status = ""
    public var lastProbeTime: MetaTime?
    public var lastTransitionTime: MetaTime?
    public var reason = ""
    public var message = ""

    public init() {}

    public init(type: String, status: String, lastTransitionTime: MetaTime? = nil, reason: String = "", message: String = "") {
        self.type = type
        self.status = status
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }

    public static let wireInfo = WireStructInfo<PodCondition>(
        "io.k8s.api.core.v1.PodCondition", "One observation about a pod.",
        [
            .always("type", 1, \.type, "What is observed (Ready, PodScheduled, ...)."),
            .always("status", 2, \.status, "True, False or Unknown."),
            .optional("lastProbeTime", 3, \.lastProbeTime, "When it was last checked."),
            .optional("lastTransitionTime", 4, \.lastTransitionTime, "When the status last changed."),
            .omitEmpty("reason", 5, \.reason, "Why it last changed, in CamelCase."),
            .omitEmpty("message", 6, \.message, "Details for people."),
        ])

    /// The condition types Kubernetes sets.
    public static let podScheduled = "PodScheduled"
    public static let initialized = "Initialized"
    public static let containersReady = "ContainersReady"
    public static let ready = "Ready"
    public static let disruptionTarget = "DisruptionTarget"
    public static let podReadyToStartContainers = "PodReadyToStartContainers"
}

/// One address of a pod (core/v1 PodIP).
public struct PodIP: WireStruct, Hashable {
    public var ip = ""
    public init() {}
    public init(ip: String) { self.ip = ip }
    public static let wireInfo = WireStructInfo<PodIP>(
        "io.k8s.api.core.v1.PodIP", "An address of a pod.", [.always("ip", 1, \.ip, "The address.", required: true)])
}

/// One address of a pod's node (core/v1 HostIP).
public struct HostIP: WireStruct, Hashable {
    public var ip = ""
    public init() {}
    public init(ip: String) { self.ip = ip }
    public static let wireInfo = WireStructInfo<HostIP>(
        "io.k8s.api.core.v1.HostIP", "An address of the pod's node.", [.always("ip", 1, \.ip, "The address.", required: true)])
}

/// The state of one container (core/v1 ContainerStatus).
public struct ContainerStatus: WireStruct, Hashable {
    public var name = ""
    public var state = ContainerState()
    public var lastState = ContainerState()
    public var ready = false
    public var restartCount: Int32 = 0
    public var image = ""
    public var imageID = ""
    public var containerID = ""
    public var started: Bool?
    public var allocatedResources: [String: Quantity] = [:]
    public var resources: ResourceRequirements?
    public var volumeMounts: [VolumeMountStatus] = []
    public var user: RawJSON?
    public var allocatedResourcesStatus: [RawJSON] = []

    public init() {}

    public init(name: String) { self.name = name }

    public static let wireInfo = WireStructInfo<ContainerStatus>(
        "io.k8s.api.core.v1.ContainerStatus", "The state of one container.",
        [
            .always("name", 1, \.name, "The container's name."),
            .omitEmpty("state", 2, \.state, "What the container is doing now."),
            .omitEmpty("lastState", 3, \.lastState, "How its previous run ended."),
            .always("ready", 4, \.ready, "Whether it passes its readiness probe."),
            .always("restartCount", 5, \.restartCount, "How many times it was restarted."),
            .always("image", 6, \.image, "The image it runs."),
            .always("imageID", 7, \.imageID, "The image's ID (digest) as the runtime reports it."),
            .omitEmpty("containerID", 8, \.containerID, "The runtime's ID for it, as <runtime>://<id>."),
            .optional("started", 9, \.started, "Whether it has started and passed its startup probe."),
            .omitEmpty("allocatedResources", 10, \.allocatedResources, "Resources the node allocated to it (alpha)."),
            .optional("resources", 11, \.resources, "The resources it actually runs with (alpha)."),
            .omitEmpty("volumeMounts", 12, \.volumeMounts, "How its volumes are mounted.", semantics: .mergeBy("mountPath")),
            .optional("user", 13, \.user, "The identity its first process runs as (alpha; kept as sent)."),
            .omitEmpty("allocatedResourcesStatus", 14, \.allocatedResourcesStatus,
                       "Health of the devices allocated to it (alpha; kept as sent).", semantics: .mergeBy("name")),
        ])
}

/// What a container is doing (core/v1 ContainerState): at most one member is set; none means
/// waiting.
public struct ContainerState: WireStruct, Hashable {
    public var waiting: ContainerStateWaiting?
    public var running: ContainerStateRunning?
    public var terminated: ContainerStateTerminated?
    public init() {}
    public static let wireInfo = WireStructInfo<ContainerState>(
        "io.k8s.api.core.v1.ContainerState", "Waiting, running or terminated.",
        [
            .optional("waiting", 1, \.waiting, "Not running yet (pulling, creating, backing off)."),
            .optional("running", 2, \.running, "Running."),
            .optional("terminated", 3, \.terminated, "Exited."),
        ])
}

/// A container not yet running (core/v1 ContainerStateWaiting).
public struct ContainerStateWaiting: WireStruct, Hashable {
    public var reason = ""
    public var message = ""
    public init() {}
    public init(reason: String, message: String = "") {
        self.reason = reason
        self.message = message
    }
    public static let wireInfo = WireStructInfo<ContainerStateWaiting>(
        "io.k8s.api.core.v1.ContainerStateWaiting", "A container that is not running yet.",
        [
            .omitEmpty("reason", 1, \.reason, "Why, in CamelCase (ContainerCreating, ImagePullBackOff, CrashLoopBackOff)."),
            .omitEmpty("message", 2, \.message, "Details for people."),
        ])
}

/// A running container (core/v1 ContainerStateRunning).
public struct ContainerStateRunning: WireStruct, Hashable {
    public var startedAt: MetaTime?
    public init() {}
    public init(startedAt: MetaTime?) { self.startedAt = startedAt }
    public static let wireInfo = WireStructInfo<ContainerStateRunning>(
        "io.k8s.api.core.v1.ContainerStateRunning", "A running container.",
        [.optional("startedAt", 1, \.startedAt, "When it (last) started.")])
}

/// An exited container (core/v1 ContainerStateTerminated).
public struct ContainerStateTerminated: WireStruct, Hashable {
    public var exitCode: Int32 = 0
    public var signal: Int32 = 0
    public var reason = ""
    public var message = ""
    public var startedAt: MetaTime?
    public var finishedAt: MetaTime?
    public var containerID = ""
    public init() {}
    public static let wireInfo = WireStructInfo<ContainerStateTerminated>(
        "io.k8s.api.core.v1.ContainerStateTerminated", "A container that exited.",
        [
            .always("exitCode", 1, \.exitCode, "Its exit status."),
            .omitEmpty("signal", 2, \.signal, "The signal that ended it, if one did."),
            .omitEmpty("reason", 3, \.reason, "Why, in CamelCase (Completed, Error, OOMKilled)."),
            .omitEmpty("message", 4, \.message, "Details for people (the termination message)."),
            .optional("startedAt", 5, \.startedAt, "When it started."),
            .optional("finishedAt", 6, \.finishedAt, "When it exited."),
            .omitEmpty("containerID", 7, \.containerID, "The runtime's ID for it, as <runtime>://<id>."),
        ])
}

/// How a volume is mounted in a running container (core/v1 VolumeMountStatus).
public struct VolumeMountStatus: WireStruct, Hashable {
    public var name = ""
    public var mountPath = ""
    public var readOnly = false
    public var recursiveReadOnly: String?
    public init() {}
    public static let wireInfo = WireStructInfo<VolumeMountStatus>(
        "io.k8s.api.core.v1.VolumeMountStatus", "A volume mount as it is in the running container.",
        [
            .always("name", 1, \.name, "The volume's name."),
            .always("mountPath", 2, \.mountPath, "Where it is mounted."),
            .omitEmpty("readOnly", 3, \.readOnly, "Whether it is read-only."),
            .optional("recursiveReadOnly", 4, \.recursiveReadOnly, "Whether submounts are read-only too."),
        ])
}

/// The claim made for one of a pod's resource claims (core/v1 PodResourceClaimStatus).
public struct PodResourceClaimStatus: WireStruct, Hashable {
    public var name = ""
    public var resourceClaimName: String?
    public init() {}
    public static let wireInfo = WireStructInfo<PodResourceClaimStatus>(
        "io.k8s.api.core.v1.PodResourceClaimStatus", "The ResourceClaim made for one of the pod's claims.",
        [
            .always("name", 1, \.name, "The claim's name in the pod's resourceClaims."),
            .optional("resourceClaimName", 2, \.resourceClaimName, "The ResourceClaim's name (unset: none was needed)."),
        ])
}
