/// What a node is (core/v1 NodeStatus), reported by its agent: resources, conditions,
/// addresses, system facts and images.
public struct NodeStatus: WireStruct, Hashable {
    public var capacity: [String: Quantity] = [:]
    public var allocatable: [String: Quantity] = [:]
    public var phase = ""
    public var conditions: [NodeCondition] = []
    public var addresses: [NodeAddress] = []
    public var daemonEndpoints = NodeDaemonEndpoints()
    public var nodeInfo = NodeSystemInfo()
    public var images: [ContainerImage] = []
    public var volumesInUse: [String] = []
    public var volumesAttached: [AttachedVolume] = []
    public var config: RawJSON?
    public var runtimeHandlers: [RawJSON] = []
    public var features: NodeFeatures?

    public init() {}

    public static let wireInfo = WireStructInfo<NodeStatus>(
        "io.k8s.api.core.v1.NodeStatus", "What a node is: its resources, conditions, addresses and system facts.",
        [
            .omitEmpty("capacity", 1, \.capacity, "The node's total resources (cpu, memory, pods, ...)."),
            .omitEmpty("allocatable", 2, \.allocatable, "What pods may use of the capacity (default: all of it)."),
            .omitEmpty("phase", 3, \.phase, "Deprecated and unused."),
            .omitEmpty("conditions", 4, \.conditions, "Observations: Ready, MemoryPressure, DiskPressure, PIDPressure, ...",
                       semantics: .mergeBy("type")),
            .omitEmpty("addresses", 5, \.addresses, "How to reach the node, one address per type.", semantics: .mergeBy("type")),
            .omitEmpty("daemonEndpoints", 6, \.daemonEndpoints, "Ports the node's agent listens on."),
            .omitEmpty("nodeInfo", 7, \.nodeInfo, "Facts about the node's system and software."),
            .omitEmpty("images", 8, \.images, "Images present on the node.", semantics: .atomic),
            .omitEmpty("volumesInUse", 9, \.volumesInUse, "Attachable volumes in use on the node.", semantics: .atomic),
            .omitEmpty("volumesAttached", 10, \.volumesAttached, "Volumes attached to the node.", semantics: .atomic),
            .optional("config", 11, \.config, "The state of dynamic agent configuration (deprecated; kept as sent)."),
            .omitEmpty("runtimeHandlers", 12, \.runtimeHandlers, "The container runtime's handlers and their features (kept as sent).",
                       semantics: .atomic),
            .optional("features", 13, \.features, "Features the node's agent supports."),
        ])
}

/// One observation about a node (core/v1 NodeCondition).
public struct NodeCondition: WireStruct, Hashable {
    public var type = ""
    public var status = ""
    public var lastHeartbeatTime: MetaTime?
    public var lastTransitionTime: MetaTime?
    public var reason = ""
    public var message = ""

    public init() {}

    public init(type: String, status: String, lastHeartbeatTime: MetaTime? = nil, lastTransitionTime: MetaTime? = nil,
                reason: String = "", message: String = "") {
        self.type = type
        self.status = status
        self.lastHeartbeatTime = lastHeartbeatTime
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }

    public static let wireInfo = WireStructInfo<NodeCondition>(
        "io.k8s.api.core.v1.NodeCondition", "One observation about a node.",
        [
            .always("type", 1, \.type, "What is observed (Ready, MemoryPressure, ...)."),
            .always("status", 2, \.status, "True, False or Unknown."),
            .optional("lastHeartbeatTime", 3, \.lastHeartbeatTime, "When the agent last reported it."),
            .optional("lastTransitionTime", 4, \.lastTransitionTime, "When the status last changed."),
            .omitEmpty("reason", 5, \.reason, "Why it last changed, in CamelCase."),
            .omitEmpty("message", 6, \.message, "Details for people."),
        ])

    /// The condition types.
    public static let ready = "Ready"
    public static let memoryPressure = "MemoryPressure"
    public static let diskPressure = "DiskPressure"
    public static let pidPressure = "PIDPressure"
    public static let networkUnavailable = "NetworkUnavailable"
}

/// One address of a node (core/v1 NodeAddress).
public struct NodeAddress: WireStruct, Hashable {
    public var type = ""
    public var address = ""
    public init() {}
    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
    public static let wireInfo = WireStructInfo<NodeAddress>(
        "io.k8s.api.core.v1.NodeAddress", "An address of a node.",
        [
            .always("type", 1, \.type, "Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS."),
            .always("address", 2, \.address, "The address."),
        ])

    /// The address types.
    public static let hostname = "Hostname"
    public static let internalIP = "InternalIP"
    public static let externalIP = "ExternalIP"
}

/// The ports a node's daemons listen on (core/v1 NodeDaemonEndpoints).
public struct NodeDaemonEndpoints: WireStruct, Hashable {
    public var kubeletEndpoint = DaemonEndpoint()
    public init() {}
    public static let wireInfo = WireStructInfo<NodeDaemonEndpoints>(
        "io.k8s.api.core.v1.NodeDaemonEndpoints", "Ports of the node's daemons.",
        [.omitEmpty("kubeletEndpoint", 1, \.kubeletEndpoint, "The node agent's API port.")])
}

/// One daemon's port (core/v1 DaemonEndpoint). Its JSON field is `Port`, capitalised.
public struct DaemonEndpoint: WireStruct, Hashable {
    public var port: Int32 = 0
    public init() {}
    public init(port: Int32) { self.port = port }
    public static let wireInfo = WireStructInfo<DaemonEndpoint>(
        "io.k8s.api.core.v1.DaemonEndpoint", "A daemon's port.",
        [.always("Port", 1, \.port, "The port number.")])
}

/// Facts about a node's system (core/v1 NodeSystemInfo).
public struct NodeSystemInfo: WireStruct, Hashable {
    public var machineID = ""
    public var systemUUID = ""
    public var bootID = ""
    public var kernelVersion = ""
    public var osImage = ""
    public var containerRuntimeVersion = ""
    public var kubeletVersion = ""
    public var kubeProxyVersion = ""
    public var operatingSystem = ""
    public var architecture = ""
    public init() {}
    public static let wireInfo = WireStructInfo<NodeSystemInfo>(
        "io.k8s.api.core.v1.NodeSystemInfo", "Facts about a node's machine, system and software.",
        [
            .always("machineID", 1, \.machineID, "The machine ID (/etc/machine-id)."),
            .always("systemUUID", 2, \.systemUUID, "The hardware UUID."),
            .always("bootID", 3, \.bootID, "The ID of the current boot."),
            .always("kernelVersion", 4, \.kernelVersion, "The kernel release (uname -r)."),
            .always("osImage", 5, \.osImage, "The operating system's name (from /etc/os-release)."),
            .always("containerRuntimeVersion", 6, \.containerRuntimeVersion, "The container runtime and its version (containerd://1.7)."),
            .always("kubeletVersion", 7, \.kubeletVersion, "The node agent's version."),
            .always("kubeProxyVersion", 8, \.kubeProxyVersion, "Deprecated: the service proxy's version."),
            .always("operatingSystem", 9, \.operatingSystem, "The operating system (linux)."),
            .always("architecture", 10, \.architecture, "The CPU architecture (amd64, arm64)."),
        ])
}

/// An image present on a node (core/v1 ContainerImage).
public struct ContainerImage: WireStruct, Hashable {
    public var names: [String] = []
    public var sizeBytes: Int64 = 0
    public init() {}
    public static let wireInfo = WireStructInfo<ContainerImage>(
        "io.k8s.api.core.v1.ContainerImage", "An image on a node.",
        [
            .always("names", 1, \.names, "The names it is known by (tags and digests).", semantics: .atomic),
            .omitEmpty("sizeBytes", 2, \.sizeBytes, "Its size in bytes."),
        ])
}

/// A volume attached to a node (core/v1 AttachedVolume).
public struct AttachedVolume: WireStruct, Hashable {
    public var name = ""
    public var devicePath = ""
    public init() {}
    public static let wireInfo = WireStructInfo<AttachedVolume>(
        "io.k8s.api.core.v1.AttachedVolume", "A volume attached to a node.",
        [
            .always("name", 1, \.name, "The volume's unique name."),
            .always("devicePath", 2, \.devicePath, "Where it appears on the node."),
        ])
}

/// Features a node's agent supports (core/v1 NodeFeatures).
public struct NodeFeatures: WireStruct, Hashable {
    public var supplementalGroupsPolicy: Bool?
    public init() {}
    public static let wireInfo = WireStructInfo<NodeFeatures>(
        "io.k8s.api.core.v1.NodeFeatures", "Features of the node's agent.",
        [.optional("supplementalGroupsPolicy", 1, \.supplementalGroupsPolicy, "Whether pods' supplementalGroupsPolicy is honoured.")])
}
