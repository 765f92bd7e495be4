/// What a pod should run and where (core/v1 PodSpec): its containers, volumes, scheduling
/// constraints and host settings. Shared by Pods and by the templates of workload kinds
/// (`PodTemplateSpec`). Defaults: `PodSpec+Defaults.swift`; rules: `PodValidation*.swift`.
public struct PodSpec: WireStruct, Hashable {
    public var volumes: [Volume] = []
    public var initContainers: [Container] = []
    public var containers: [Container] = []
    /// Debugging containers added to a running pod; kept as sent (not run by shoal).
    public var ephemeralContainers: [RawJSON] = []
    public var restartPolicy = ""
    public var terminationGracePeriodSeconds: Int64?
    public var activeDeadlineSeconds: Int64?
    public var dnsPolicy = ""
    public var nodeSelector: [String: String] = [:]
    public var serviceAccountName = ""
    public var serviceAccount = ""
    public var automountServiceAccountToken: Bool?
    public var nodeName = ""
    public var hostNetwork = false
    public var hostPID = false
    public var hostIPC = false
    public var shareProcessNamespace: Bool?
    public var securityContext: PodSecurityContext?
    public var imagePullSecrets: [LocalObjectReference] = []
    public var hostname = ""
    public var subdomain = ""
    public var affinity: Affinity?
    public var schedulerName = ""
    public var tolerations: [Toleration] = []
    public var hostAliases: [HostAlias] = []
    public var priorityClassName = ""
    public var priority: Int32?
    public var dnsConfig: PodDNSConfig?
    public var readinessGates: [PodReadinessGate] = []
    public var runtimeClassName: String?
    public var enableServiceLinks: Bool?
    public var preemptionPolicy: String?
    public var overhead: [String: Quantity] = [:]
    public var topologySpreadConstraints: [TopologySpreadConstraint] = []
    public var setHostnameAsFQDN: Bool?
    public var os: PodOS?
    public var hostUsers: Bool?
    public var schedulingGates: [PodSchedulingGate] = []
    public var resourceClaims: [PodResourceClaim] = []
    public var resources: ResourceRequirements?

    public init() {}

    /// A spec running `containers`.
    public init(containers: [Container]) { self.containers = containers }

    public static let wireInfo = WireStructInfo<PodSpec>(
        "io.k8s.api.core.v1.PodSpec", "What a pod runs (its containers and volumes) and where it may run.",
        [
            .omitEmpty("volumes", 1, \.volumes, "Storage the containers can mount, by name.",
                       semantics: ListSemantics(listType: "map", mapKeys: ["name"], merge: true, mergeKey: "name", retainKeys: true)),
            .omitEmpty("initContainers", 20, \.initContainers,
                       "Containers run one after another, each to completion, before the main containers start; "
                           + "those with restartPolicy Always keep running beside them (sidecars).",
                       semantics: .mergeBy("name")),
            .always("containers", 2, \.containers, "The pod's main containers, run together. At least one.",
                    semantics: .mergeBy("name")),
            .omitEmpty("ephemeralContainers", 34, \.ephemeralContainers,
                       "Temporary containers added to a running pod for debugging (accepted, not run by shoal).",
                       semantics: .mergeBy("name")),
            .omitEmpty("restartPolicy", 3, \.restartPolicy,
                       "When containers that exit are restarted: Always (default), OnFailure or Never."),
            .optional("terminationGracePeriodSeconds", 4, \.terminationGracePeriodSeconds,
                      "Seconds between the stop signal and a forced kill when the pod is deleted (default 30)."),
            .optional("activeDeadlineSeconds", 5, \.activeDeadlineSeconds,
                      "Seconds the pod may run, counted from its start, before it is failed."),
            .omitEmpty("dnsPolicy", 6, \.dnsPolicy,
                       "How the pod resolves names: ClusterFirst (default), ClusterFirstWithHostNet, Default or None."),
            .omitEmpty("nodeSelector", 7, \.nodeSelector, "Labels a node must carry for the pod to be placed on it."),
            .omitEmpty("serviceAccountName", 8, \.serviceAccountName, "The service account the pod acts as."),
            .omitEmpty("serviceAccount", 9, \.serviceAccount, "Deprecated spelling of serviceAccountName."),
            .optional("automountServiceAccountToken", 21, \.automountServiceAccountToken,
                      "Whether the service account's token is mounted into the containers."),
            .omitEmpty("nodeName", 10, \.nodeName,
                       "The node the pod runs on: set by the scheduler through the binding subresource, or by the client to skip scheduling."),
            .omitEmpty("hostNetwork", 11, \.hostNetwork, "Use the node's network namespace instead of a pod network address."),
            .omitEmpty("hostPID", 12, \.hostPID, "Share the node's process ID namespace."),
            .omitEmpty("hostIPC", 13, \.hostIPC, "Share the node's IPC namespace."),
            .optional("shareProcessNamespace", 27, \.shareProcessNamespace,
                      "Put all containers of the pod in one process namespace, so they see each other's processes."),
            .optional("securityContext", 14, \.securityContext, "Security settings for every container of the pod."),
            .omitEmpty("imagePullSecrets", 15, \.imagePullSecrets,
                       "Secrets in the pod's namespace holding registry credentials for pulling images.",
                       semantics: .mergeBy("name")),
            .omitEmpty("hostname", 16, \.hostname, "The pod's hostname (default: the pod's name)."),
            .omitEmpty("subdomain", 17, \.subdomain,
                       "With hostname, gives the pod the name <hostname>.<subdomain>.<namespace>.svc under a headless service."),
            .optional("affinity", 18, \.affinity, "Rules attracting the pod to nodes, or to or away from other pods."),
            .omitEmpty("schedulerName", 19, \.schedulerName, "The scheduler that places the pod (default-scheduler)."),
            .omitEmpty("tolerations", 22, \.tolerations, "The node taints the pod accepts.", semantics: .atomic),
            .omitEmpty("hostAliases", 23, \.hostAliases, "Extra entries for the containers' /etc/hosts.",
                       semantics: .mergeBy("ip")),
            .omitEmpty("priorityClassName", 24, \.priorityClassName, "The priority class naming the pod's priority."),
            .optional("priority", 25, \.priority, "The pod's priority, resolved from its priority class."),
            .optional("dnsConfig", 26, \.dnsConfig, "Resolver settings merged with those of dnsPolicy."),
            .omitEmpty("readinessGates", 28, \.readinessGates,
                       "Extra conditions that must be True, beside the containers' readiness, for the pod to be ready.",
                       semantics: .atomic),
            .optional("runtimeClassName", 29, \.runtimeClassName, "The runtime class (container runtime handler) to run the pod with."),
            .optional("enableServiceLinks", 30, \.enableServiceLinks,
                      "Whether services of the namespace are announced to containers as environment variables (default true)."),
            .optional("preemptionPolicy", 31, \.preemptionPolicy,
                      "Whether the pod may evict lower-priority pods to fit: PreemptLowerPriority or Never."),
            .omitEmpty("overhead", 32, \.overhead, "Resources the pod's sandbox uses beyond its containers' requests."),
            .omitEmpty("topologySpreadConstraints", 33, \.topologySpreadConstraints,
                       "How matching pods should be spread over topology domains (zones, nodes).",
                       semantics: ListSemantics(listType: "map", mapKeys: ["topologyKey", "whenUnsatisfiable"], merge: true,
                                                mergeKey: "topologyKey")),
            .optional("setHostnameAsFQDN", 35, \.setHostnameAsFQDN, "Use the fully qualified domain name as the pod's hostname."),
            .optional("os", 36, \.os, "The operating system the containers need."),
            .optional("hostUsers", 37, \.hostUsers, "false puts the pod in its own user namespace."),
            .omitEmpty("schedulingGates", 38, \.schedulingGates,
                       "Gates that keep the pod from being scheduled until every one is removed.",
                       semantics: .mergeBy("name")),
            .omitEmpty("resourceClaims", 39, \.resourceClaims, "Dynamically allocated resources the pod uses, by name.",
                       semantics: ListSemantics(listType: "map", mapKeys: ["name"], merge: true, mergeKey: "name", retainKeys: true)),
            .optional("resources", 40, \.resources, "Resources for the whole pod rather than per container (alpha)."),
        ])
}

/// Resolver settings for a pod (core/v1 PodDNSConfig).
public struct PodDNSConfig: WireStruct, Hashable {
    public var nameservers: [String] = []
    public var searches: [String] = []
    public var options: [PodDNSConfigOption] = []
    public init() {}
    public static let wireInfo = WireStructInfo<PodDNSConfig>(
        "io.k8s.api.core.v1.PodDNSConfig", "Resolver settings added to those the DNS policy gives.",
        [
            .omitEmpty("nameservers", 1, \.nameservers, "Name server addresses (at most 3 in all).", semantics: .atomic),
            .omitEmpty("searches", 2, \.searches, "Search domains for short names.", semantics: .atomic),
            .omitEmpty("options", 3, \.options, "Resolver options (resolv.conf `options`).", semantics: .atomic),
        ])
}

/// One resolver option (core/v1 PodDNSConfigOption): `ndots:2`, `edns0`.
public struct PodDNSConfigOption: WireStruct, Hashable {
    public var name = ""
    public var value: String?
    public init() {}
    public static let wireInfo = WireStructInfo<PodDNSConfigOption>(
        "io.k8s.api.core.v1.PodDNSConfigOption", "One resolver option.",
        [
            .omitEmpty("name", 1, \.name, "The option's name."),
            .optional("value", 2, \.value, "The option's value, if it takes one."),
        ])
}

/// Extra /etc/hosts entries for one address (core/v1 HostAlias).
public struct HostAlias: WireStruct, Hashable {
    public var ip = ""
    public var hostnames: [String] = []
    public init() {}
    public static let wireInfo = WireStructInfo<HostAlias>(
        "io.k8s.api.core.v1.HostAlias", "Names that resolve to one address inside the pod (/etc/hosts).",
        [
            .always("ip", 1, \.ip, "The address.", required: true),
            .omitEmpty("hostnames", 2, \.hostnames, "The names for it.", semantics: .atomic),
        ])
}

/// A pod condition the pod's readiness also waits for (core/v1 PodReadinessGate).
public struct PodReadinessGate: WireStruct, Hashable {
    public var conditionType = ""
    public init() {}
    public static let wireInfo = WireStructInfo<PodReadinessGate>(
        "io.k8s.api.core.v1.PodReadinessGate", "A condition that must be True for the pod to count as ready.",
        [.always("conditionType", 1, \.conditionType, "The type of the condition in the pod's status.")])
}

/// The operating system a pod's containers need (core/v1 PodOS).
public struct PodOS: WireStruct, Hashable {
    public var name = ""
    public init() {}
    public static let wireInfo = WireStructInfo<PodOS>(
        "io.k8s.api.core.v1.PodOS", "The operating system the pod needs.",
        [.always("name", 1, \.name, "linux or windows.")])
}

/// One gate holding a pod back from scheduling (core/v1 PodSchedulingGate).
public struct PodSchedulingGate: WireStruct, Hashable {
    public var name = ""
    public init() {}
    public static let wireInfo = WireStructInfo<PodSchedulingGate>(
        "io.k8s.api.core.v1.PodSchedulingGate", "A named gate; the pod is not scheduled while any gate remains.",
        [.always("name", 1, \.name, "The gate's name.")])
}

/// A dynamically allocated resource a pod refers to (core/v1 PodResourceClaim). Accepted and
/// stored; shoal allocates no such resources.
public struct PodResourceClaim: WireStruct, Hashable {
    public var name = ""
    public var resourceClaimName: String?
    public var resourceClaimTemplateName: String?
    public init() {}
    public static let wireInfo = WireStructInfo<PodResourceClaim>(
        "io.k8s.api.core.v1.PodResourceClaim", "Names a resource claim for the pod's containers to use.",
        [
            .always("name", 1, \.name, "The name containers use for the claim."),
            .optional("resourceClaimName", 3, \.resourceClaimName, "An existing ResourceClaim in the pod's namespace."),
            .optional("resourceClaimTemplateName", 4, \.resourceClaimTemplateName,
                      "A ResourceClaimTemplate from which a claim is made for this pod."),
        ])
}
