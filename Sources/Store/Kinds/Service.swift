import JSON

/// A stable address for a set of pods (core/v1 Service): a virtual cluster IP and ports that
/// the service proxy on every member balances over the pods its selector picks (through the
/// EndpointSlices labelled with its name), or, for `ExternalName`, a DNS alias.
///
/// The cluster IP and node ports are allocated when the write is applied (`admit`, see
/// `ServiceAllocation.swift`); the rules are in `ServiceValidation.swift`, the server-side
/// field handling (defaults, what an update keeps) in `ServiceDefaults.swift`.
public struct Service: StatusKindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var spec = ServiceSpec()
    public var status = ServiceStatus()

    public init() {}

    public static let wireInfo = WireStructInfo<Service>(
        "io.k8s.api.core.v1.Service", "A stable virtual address and ports in front of a set of pods, or a DNS alias.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Service."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .always("spec", 2, \.spec, "What the service should be."),
            .always("status", 3, \.status, "What the service is (load balancer state; set by the server)."),
        ])

    /// The service types.
    public static let typeClusterIP = "ClusterIP"
    public static let typeNodePort = "NodePort"
    public static let typeLoadBalancer = "LoadBalancer"
    public static let typeExternalName = "ExternalName"
    /// `spec.clusterIP` of a headless service: no virtual IP, DNS answers with the pods.
    public static let headlessClusterIP = "None"

    /// Whether the service has no virtual IP (`clusterIP: None`).
    public var isHeadless: Bool { spec.clusterIP == Self.headlessClusterIP || spec.clusterIPs.first == Self.headlessClusterIP }
}

public struct ServiceSpec: WireStruct, Hashable {
    public var ports: [ServicePort] = []
    public var selector: [String: String] = [:]
    public var clusterIP = ""
    public var clusterIPs: [String] = []
    public var type = ""
    public var externalIPs: [String] = []
    public var sessionAffinity = ""
    public var loadBalancerIP = ""
    public var loadBalancerSourceRanges: [String] = []
    public var externalName = ""
    public var externalTrafficPolicy = ""
    public var healthCheckNodePort: Int32 = 0
    public var publishNotReadyAddresses = false
    public var sessionAffinityConfig: SessionAffinityConfig?
    public var ipFamilies: [String] = []
    public var ipFamilyPolicy: String?
    public var allocateLoadBalancerNodePorts: Bool?
    public var loadBalancerClass: String?
    public var internalTrafficPolicy: String?
    public var trafficDistribution: String?

    public init() {}

    public static let wireInfo = WireStructInfo<ServiceSpec>(
        "io.k8s.api.core.v1.ServiceSpec", "What a service should be: its ports, the pods it picks and how it is reached.",
        [
            .omitEmpty("ports", 1, \.ports, "The ports the service exposes.",
                       semantics: ListSemantics(listType: "map", mapKeys: ["port", "protocol"], merge: true, mergeKey: "port")),
            .omitEmpty("selector", 2, \.selector,
                       "Labels of the pods that receive the traffic. Empty: endpoints are managed by someone else."),
            .omitEmpty("clusterIP", 3, \.clusterIP,
                       "The virtual IP, allocated when empty; None for a headless service. Fixed once set."),
            .omitEmpty("clusterIPs", 18, \.clusterIPs, "The virtual IPs, one per IP family; the first equals clusterIP.",
                       semantics: .atomic),
            .omitEmpty("type", 4, \.type,
                       "ClusterIP (default), NodePort (also a port on every node), LoadBalancer or ExternalName (a DNS alias)."),
            .omitEmpty("externalIPs", 5, \.externalIPs, "Addresses outside the cluster that also reach the service.",
                       semantics: .atomic),
            .omitEmpty("sessionAffinity", 7, \.sessionAffinity,
                       "None (default) or ClientIP: keep sending one client to the same pod."),
            .omitEmpty("loadBalancerIP", 8, \.loadBalancerIP, "Deprecated: an address to ask a load balancer for."),
            .omitEmpty("loadBalancerSourceRanges", 9, \.loadBalancerSourceRanges,
                       "CIDRs allowed through a load balancer.", semantics: .atomic),
            .omitEmpty("externalName", 10, \.externalName, "The DNS name an ExternalName service is an alias of."),
            .omitEmpty("externalTrafficPolicy", 11, \.externalTrafficPolicy,
                       "Cluster (default) or Local: whether outside traffic may go to pods on other nodes."),
            .omitEmpty("healthCheckNodePort", 12, \.healthCheckNodePort,
                       "The node port load balancers probe, for LoadBalancer services with Local traffic policy."),
            .omitEmpty("publishNotReadyAddresses", 13, \.publishNotReadyAddresses,
                       "List pods in endpoints and DNS before they are ready."),
            .optional("sessionAffinityConfig", 14, \.sessionAffinityConfig, "Settings of the session affinity."),
            .omitEmpty("ipFamilies", 19, \.ipFamilies, "IPv4 and/or IPv6: the families of the cluster IPs.",
                       semantics: .atomic),
            .optional("ipFamilyPolicy", 17, \.ipFamilyPolicy, "SingleStack, PreferDualStack or RequireDualStack."),
            .optional("allocateLoadBalancerNodePorts", 20, \.allocateLoadBalancerNodePorts,
                      "Whether a LoadBalancer service gets node ports (default true)."),
            .optional("loadBalancerClass", 21, \.loadBalancerClass, "Which load balancer implementation serves it."),
            .optional("internalTrafficPolicy", 22, \.internalTrafficPolicy,
                      "Cluster (default) or Local: whether in-cluster traffic may go to pods on other nodes."),
            .optional("trafficDistribution", 23, \.trafficDistribution,
                      "A preference for how traffic spreads over endpoints (PreferClose)."),
        ])
}

public struct ServicePort: WireStruct, Hashable {
    public var name = ""
    public var `protocol` = ""
    public var appProtocol: String?
    public var port: Int32 = 0
    public var targetPort = IntOrString.int(0)
    public var nodePort: Int32 = 0

    public init() {}

    public init(name: String = "", port: Int32, targetPort: IntOrString = .int(0), protocol: String = "", nodePort: Int32 = 0) {
        self.name = name
        self.port = port
        self.targetPort = targetPort
        self.protocol = `protocol`
        self.nodePort = nodePort
    }

    public static let wireInfo = WireStructInfo<ServicePort>(
        "io.k8s.api.core.v1.ServicePort", "One port a service exposes and where it sends the traffic.",
        [
            .omitEmpty("name", 1, \.name, "The port's name; required and unique when there are several ports."),
            .omitEmpty("protocol", 2, \.protocol, "TCP (default), UDP or SCTP."),
            .optional("appProtocol", 6, \.appProtocol, "The application protocol (a hint for proxies)."),
            .always("port", 3, \.port, "The port on the cluster IP.", required: true),
            .omitEmpty("targetPort", 4, \.targetPort,
                       "The pods' port: a number, or the name of a container port. Defaults to port."),
            .omitEmpty("nodePort", 5, \.nodePort,
                       "The port on every node (NodePort and LoadBalancer services); allocated when empty."),
        ])
}

public struct SessionAffinityConfig: WireStruct, Hashable {
    public var clientIP: ClientIPConfig?
    public init() {}
    public init(clientIP: ClientIPConfig?) { self.clientIP = clientIP }
    public static let wireInfo = WireStructInfo<SessionAffinityConfig>(
        "io.k8s.api.core.v1.SessionAffinityConfig", "Settings of a service's session affinity.",
        [.optional("clientIP", 1, \.clientIP, "Settings of ClientIP affinity.")])
}

public struct ClientIPConfig: WireStruct, Hashable {
    public var timeoutSeconds: Int32?
    public init() {}
    public init(timeoutSeconds: Int32?) { self.timeoutSeconds = timeoutSeconds }
    public static let wireInfo = WireStructInfo<ClientIPConfig>(
        "io.k8s.api.core.v1.ClientIPConfig", "Settings of ClientIP session affinity.",
        [.optional("timeoutSeconds", 1, \.timeoutSeconds,
                   "How long a client sticks to one pod, 1...86400 seconds (default 10800: 3 hours).")])
}

public struct ServiceStatus: WireStruct, Hashable {
    public var loadBalancer = LoadBalancerStatus()
    public var conditions: [MetaCondition] = []
    public init() {}
    public static let wireInfo = WireStructInfo<ServiceStatus>(
        "io.k8s.api.core.v1.ServiceStatus", "What a service is.",
        [
            .always("loadBalancer", 1, \.loadBalancer, "The load balancer's state, if there is one."),
            .omitEmpty("conditions", 2, \.conditions, "Observations about the service.", semantics: .mergeBy("type")),
        ])
}

public struct LoadBalancerStatus: WireStruct, Hashable {
    public var ingress: [LoadBalancerIngress] = []
    public init() {}
    public static let wireInfo = WireStructInfo<LoadBalancerStatus>(
        "io.k8s.api.core.v1.LoadBalancerStatus", "A load balancer's state.",
        [.omitEmpty("ingress", 1, \.ingress, "Where the load balancer is reached.", semantics: .atomic)])
}

public struct LoadBalancerIngress: WireStruct, Hashable {
    public var ip = ""
    public var hostname = ""
    public var ipMode: String?
    public var ports: [PortStatus] = []
    public init() {}
    public static let wireInfo = WireStructInfo<LoadBalancerIngress>(
        "io.k8s.api.core.v1.LoadBalancerIngress", "One address of a load balancer.",
        [
            .omitEmpty("ip", 1, \.ip, "The load balancer's IP address."),
            .omitEmpty("hostname", 2, \.hostname, "The load balancer's DNS name."),
            .optional("ipMode", 3, \.ipMode, "VIP (traffic arrives addressed to the IP) or Proxy (to the node)."),
            .omitEmpty("ports", 4, \.ports, "The state of each port.", semantics: .atomic),
        ])
}

public struct PortStatus: WireStruct, Hashable {
    public var port: Int32 = 0
    public var `protocol` = ""
    public var error: String?
    public init() {}
    public static let wireInfo = WireStructInfo<PortStatus>(
        "io.k8s.api.core.v1.PortStatus", "The state of one service port.",
        [
            .always("port", 1, \.port, "The port number.", required: true),
            .always("protocol", 2, \.protocol, "TCP, UDP or SCTP.", required: true),
            .optional("error", 3, \.error, "Why the port is not working, as a CamelCase reason; absent when it is."),
        ])
}

extension Kind {
    /// Service: namespaced, DNS-1035 names (checked in `Service.validate`, since the name
    /// rules of `Kind` stop at DNS-1123 labels), a status subresource.
    public static let service = Kind(
        Service.self, name: "Service", plural: "services", namespaced: true, nameRule: .dnsLabel,
        shortNames: ["svc"], categories: ["all"], sinceClusterVersion: 2,
        versions: [.storage(Service.self, group: "", version: "v1", kind: "Service")],
        subresources: [.status],
        fieldLabels: [
            "spec.clusterIP": { $0["spec"]?["clusterIP"]?.stringValue ?? "" },
            "spec.type": { $0["spec"]?["type"]?.stringValue ?? "" },
        ])
}
