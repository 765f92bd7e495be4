/// What the server fills in and carries over for a Service, before validation: Kubernetes'
/// defaults, the create and update preparation of its strategy, and the parts of its REST
/// storage that run before allocation (keeping allocated values a client left out,
/// keeping `clusterIP` and `clusterIPs` in step, the IP family fields).
///
/// shoal's service network is IPv4 only (`ServiceAllocation.networkCIDR`), so a service is
/// single-stack IPv4 unless it is headless without a selector, which Kubernetes marks
/// dual-stack whatever the cluster supports (it allocates nothing).
extension Service {
    /// Seconds a ClientIP affinity lasts when not given (3 hours).
    public static let clientIPTimeoutDefaultSeconds: Int32 = 10_800
    /// Longest ClientIP affinity, in seconds (a day).
    public static let clientIPTimeoutMaxSeconds: Int32 = 86_400
    /// The IP family of the service network.
    public static let clusterIPFamily = "IPv4"

    public mutating func applyDefaults() {
        if spec.sessionAffinity.isEmpty { spec.sessionAffinity = "None" }
        if spec.sessionAffinity == "None" {
            spec.sessionAffinityConfig = nil
        } else if spec.sessionAffinity == "ClientIP" && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == nil {
            spec.sessionAffinityConfig = SessionAffinityConfig(clientIP: ClientIPConfig(timeoutSeconds: Self.clientIPTimeoutDefaultSeconds))
        }
        if spec.type.isEmpty { spec.type = Self.typeClusterIP }
        for i in spec.ports.indices {
            if spec.ports[i].protocol.isEmpty { spec.ports[i].protocol = "TCP" }
            if spec.ports[i].targetPort.isWireEmpty { spec.ports[i].targetPort = .int(spec.ports[i].port) }
        }
        if spec.externalTrafficPolicy.isEmpty && isExternallyAccessible { spec.externalTrafficPolicy = "Cluster" }
        if spec.internalTrafficPolicy == nil && spec.type != Self.typeExternalName { spec.internalTrafficPolicy = "Cluster" }
        if spec.type == Self.typeLoadBalancer {
            if spec.allocateLoadBalancerNodePorts == nil { spec.allocateLoadBalancerNodePorts = true }
            defaultIngressIPModes()
        }
    }

    /// A LoadBalancer's ingress addresses default to `ipMode: VIP`.
    mutating func defaultIngressIPModes() {
        for i in status.loadBalancer.ingress.indices
        where !status.loadBalancer.ingress[i].ip.isEmpty && status.loadBalancer.ingress[i].ipMode == nil {
            status.loadBalancer.ingress[i].ipMode = "VIP"
        }
    }

    /// The status is the server's; `clusterIPs` follows a lone `clusterIP`; IP family fields
    /// are filled in.
    public mutating func prepareForCreate() {
        status = ServiceStatus()
        if !spec.clusterIP.isEmpty && spec.clusterIPs.isEmpty { spec.clusterIPs = [spec.clusterIP] }
        initIPFamilyFields(old: nil)
    }

    /// The status is kept; what the client left out of what was allocated is carried over
    /// (so resubmitting the original manifest works); fields the new type does not use are
    /// dropped when the client did not change them.
    public mutating func prepareForUpdate(from old: Service) {
        status = old.status
        patchAllocatedValues(from: old)
        normalizeClusterIPs(from: old)
        dropTypeDependentFields(from: old)
        initIPFamilyFields(old: old)
    }

    /// A status write takes the status as sent, with ingress IP modes defaulted (defaults do
    /// not otherwise run on the status subresource).
    public func statusUpdate(of old: Service) -> Service {
        var result = old
        result.status = status
        if result.spec.type == Self.typeLoadBalancer { result.defaultIngressIPModes() }
        return result
    }

    // MARK: What a type needs

    /// Every type but ExternalName has cluster IPs (or is headless).
    var needsClusterIP: Bool { spec.type != Self.typeExternalName }

    /// NodePort services, and LoadBalancer services unless node ports are turned off.
    var needsNodePorts: Bool {
        spec.type == Self.typeNodePort || (spec.type == Self.typeLoadBalancer && spec.allocateLoadBalancerNodePorts != false)
    }

    /// LoadBalancer services that keep traffic on the node it arrives at get a port to probe.
    var needsHealthCheckNodePort: Bool { spec.type == Self.typeLoadBalancer && spec.externalTrafficPolicy == "Local" }

    /// Reachable from outside the cluster: node ports, a load balancer, or external IPs.
    var isExternallyAccessible: Bool {
        spec.type == Self.typeNodePort || spec.type == Self.typeLoadBalancer
            || (spec.type == Self.typeClusterIP && !spec.externalIPs.isEmpty)
    }

    // MARK: Update preparation

    /// Kubernetes' "patchAllocatedValues": a cluster IP, node port or health check port the
    /// update leaves empty keeps its stored value. Node ports are matched by port name, and
    /// a stored port already used by another port of the update is not reused.
    mutating func patchAllocatedValues(from old: Service) {
        if old.needsClusterIP && needsClusterIP {
            if spec.clusterIP.isEmpty { spec.clusterIP = old.spec.clusterIP }
            if spec.clusterIPs.isEmpty { spec.clusterIPs = old.spec.clusterIPs }
        }
        if old.needsNodePorts && needsNodePorts {
            let used = Set(spec.ports.map(\.nodePort).filter { $0 != 0 })
            var byName: [String: Int32] = [:]
            for port in old.spec.ports where byName[port.name] == nil { byName[port.name] = port.nodePort }
            for i in spec.ports.indices where spec.ports[i].nodePort == 0 {
                if let stored = byName[spec.ports[i].name], stored != 0, !used.contains(stored) { spec.ports[i].nodePort = stored }
            }
        }
        if old.needsHealthCheckNodePort && needsHealthCheckNodePort && spec.healthCheckNodePort == 0 {
            spec.healthCheckNodePort = old.spec.healthCheckNodePort
        }
    }

    /// Keeps `clusterIPs` in step with a `clusterIP` the update changed or cleared.
    mutating func normalizeClusterIPs(from old: Service) {
        let listUnchanged = spec.clusterIPs == old.spec.clusterIPs
        if spec.clusterIP == old.spec.clusterIP && spec.clusterIPs.isEmpty {
            spec.clusterIPs = old.spec.clusterIPs
        } else if spec.clusterIP.isEmpty && listUnchanged {
            spec.clusterIPs = []
        } else if !spec.clusterIP.isEmpty && spec.clusterIP != old.spec.clusterIP && listUnchanged {
            spec.clusterIPs = [spec.clusterIP]
        }
    }

    /// Fields a type change makes meaningless are dropped when they still hold the stored
    /// value (a value the client changed is left for validation to judge).
    mutating func dropTypeDependentFields(from old: Service) {
        if old.needsClusterIP && !needsClusterIP {
            if spec.clusterIP == old.spec.clusterIP && spec.clusterIPs == old.spec.clusterIPs {
                spec.clusterIP = ""
                spec.clusterIPs = []
            }
            if spec.ipFamilies == old.spec.ipFamilies { spec.ipFamilies = [] }
            if spec.ipFamilyPolicy == old.spec.ipFamilyPolicy { spec.ipFamilyPolicy = nil }
            if spec.internalTrafficPolicy == old.spec.internalTrafficPolicy { spec.internalTrafficPolicy = nil }
        }
        if old.needsNodePorts && !needsNodePorts {
            let stored = Set(old.spec.ports.map(\.nodePort).filter { $0 != 0 })
            if spec.ports.allSatisfy({ $0.nodePort == 0 || stored.contains($0.nodePort) }) {
                for i in spec.ports.indices { spec.ports[i].nodePort = 0 }
            }
        }
        if old.needsHealthCheckNodePort && !needsHealthCheckNodePort && spec.healthCheckNodePort == old.spec.healthCheckNodePort {
            spec.healthCheckNodePort = 0
        }
        if old.spec.type == Self.typeLoadBalancer && spec.type != Self.typeLoadBalancer {
            if spec.allocateLoadBalancerNodePorts == old.spec.allocateLoadBalancerNodePorts { spec.allocateLoadBalancerNodePorts = nil }
            if spec.loadBalancerClass == old.spec.loadBalancerClass { spec.loadBalancerClass = nil }
        }
        if old.isExternallyAccessible && !isExternallyAccessible && spec.externalTrafficPolicy == old.spec.externalTrafficPolicy {
            spec.externalTrafficPolicy = ""
        }
    }

    // MARK: IP families

    /// Fills `ipFamilyPolicy` and `ipFamilies` when the client left them out: the stored
    /// values on update, else SingleStack IPv4 (RequireDualStack with both families for a
    /// headless service without a selector). ExternalName services have neither. What is
    /// left unsupported (IPv6, dual-stack) is refused by validation.
    mutating func initIPFamilyFields(old: Service?) {
        guard needsClusterIP else { return }
        if let old, old.needsClusterIP {
            if spec.ipFamilyPolicy == nil { spec.ipFamilyPolicy = old.spec.ipFamilyPolicy }
            if spec.ipFamilies.isEmpty { spec.ipFamilies = old.spec.ipFamilies }
        }
        let headlessSelectorless = isHeadless && spec.selector.isEmpty
        if spec.ipFamilyPolicy == nil { spec.ipFamilyPolicy = headlessSelectorless ? "RequireDualStack" : "SingleStack" }
        if spec.ipFamilies.isEmpty {
            spec.ipFamilies = [Self.clusterIPFamily]
            if headlessSelectorless && spec.ipFamilyPolicy != "SingleStack" { spec.ipFamilies.append("IPv6") }
        }
    }
}
