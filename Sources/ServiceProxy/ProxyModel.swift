import JSON
import Store

// What the service proxy programs, as plain values: one `ProxyPort` per service port that
// has a ClusterIP or a NodePort, with the endpoints that may take new connections. Built from
// the Services and EndpointSlices in the store; everything the kernel rules depend on is in
// here, so two equal models give the same rules (the proxy compares them to find what changed).

/// The transport protocols the proxy handles (SCTP services are left alone).
public enum ProxyProtocol: String, Sendable, Hashable, Comparable {
    case tcp, udp

    public static func < (a: ProxyProtocol, b: ProxyProtocol) -> Bool { a.rawValue < b.rawValue }
}

/// One address and port traffic may be sent to.
public struct ProxyEndpoint: Sendable, Hashable, Comparable {
    public var ip: String
    public var port: Int32

    public init(ip: String, port: Int32) {
        self.ip = ip
        self.port = port
    }

    public static func < (a: ProxyEndpoint, b: ProxyEndpoint) -> Bool {
        (IPv4.parse(a.ip) ?? 0, a.port) < (IPv4.parse(b.ip) ?? 0, b.port)
    }
}

/// One port of one service.
public struct ProxyPort: Sendable, Hashable {
    public var namespace: String
    public var service: String
    public var proto: ProxyProtocol
    /// The service port (what clients connect to at the ClusterIP).
    public var port: Int32
    /// The ClusterIP; nil when the service has none (headless, ExternalName).
    public var clusterIP: String?
    /// The port on every member's addresses (NodePort, LoadBalancer); 0 for none.
    public var nodePort: Int32
    /// Session affinity by client address: how long a client sticks to its endpoint, in seconds.
    public var affinitySeconds: Int32?
    /// Ready endpoints, sorted (new connections go to one of them).
    public var endpoints: [ProxyEndpoint]
    /// `externalTrafficPolicy: Local`: NodePort connections go only to the endpoints on this
    /// host (`localEndpoints`), keeping the client's address; none there: dropped.
    public var externalLocal = false
    public var localEndpoints: [ProxyEndpoint] = []

    public init(namespace: String, service: String, proto: ProxyProtocol, port: Int32, clusterIP: String?, nodePort: Int32 = 0,
                affinitySeconds: Int32? = nil, endpoints: [ProxyEndpoint] = []) {
        self.namespace = namespace
        self.service = service
        self.proto = proto
        self.port = port
        self.clusterIP = clusterIP
        self.nodePort = nodePort
        self.affinitySeconds = affinitySeconds
        self.endpoints = endpoints
    }

    /// Names this port among all (and its chains): namespace/service/protocol/port.
    public var id: String { "\(namespace)/\(service)/\(proto.rawValue)/\(port)" }
}

public enum ProxyModel {
    /// Kubernetes' default ClientIP affinity timeout: three hours.
    public static let defaultAffinitySeconds: Int32 = 10_800

    /// Every programmable service port, by id. A slice belongs to the service its
    /// `kubernetes.io/service-name` label names in its namespace.
    public static func build(services: [Service], slices: [EndpointSlice], localNode: String? = nil,
                             unreachableNodes: Set<String> = []) -> [String: ProxyPort] {
        var slicesByService: [String: [EndpointSlice]] = [:]
        for slice in slices {
            guard let name = slice.metadata.labels[EndpointSlice.serviceNameLabel] else { continue }
            slicesByService[slice.metadata.namespace + "/" + name, default: []].append(slice)
        }
        var ports: [String: ProxyPort] = [:]
        for service in services {
            for port in self.ports(of: service, slices: slicesByService[service.metadata.namespace + "/" + service.metadata.name] ?? [],
                                   localNode: localNode, unreachableNodes: unreachableNodes) {
                ports[port.id] = port
            }
        }
        return ports
    }

    /// The programmable ports of one service, given its slices. An endpoint takes new
    /// connections when it is ready (unset counts as ready) and not terminating.
    /// `unreachableNodes`: hosts this proxy's member has not heard from lately (a host lost,
    /// or cut off); their endpoints take traffic only when no other endpoint can.
    public static func ports(of service: Service, slices: [EndpointSlice], localNode: String? = nil,
                             unreachableNodes: Set<String> = []) -> [ProxyPort] {
        let spec = service.spec
        guard service.metadata.deletionTimestamp == nil, spec.type != "ExternalName" else { return [] }
        let clusterIP = service.isHeadless || spec.clusterIP.isEmpty || IPv4.parse(spec.clusterIP) == nil ? nil : spec.clusterIP
        let affinity = spec.sessionAffinity == "ClientIP" ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultAffinitySeconds) : nil
        let slices = slices.filter { $0.addressType == "IPv4" || $0.addressType.isEmpty }
        var result: [ProxyPort] = []
        for servicePort in spec.ports {
            guard let proto = ProxyProtocol(rawValue: (servicePort.protocol.isEmpty ? "TCP" : servicePort.protocol).lowercased()) else { continue }
            let nodePort = spec.type == "NodePort" || spec.type == "LoadBalancer" ? servicePort.nodePort : 0
            guard clusterIP != nil || nodePort != 0 else { continue }
            // Ready endpoints; only when there is none, the terminating ones still serving (as
            // kube-proxy does since Kubernetes 1.26: a Deployment of one pod rolling over keeps
            // its old pod answering until the new one is ready, and the node agent keeps that
            // old pod running while it is the one left: docs/agent.md). Among each, endpoints
            // on unreachable hosts only when there is no other: a request sent there would time
            // out, while the leader takes a second more to call the host lost. (Ready ones on a
            // host that looks unreachable still come before terminating ones: the guess may be
            // wrong, and the node agent stops a terminating pod once another is ready.)
            var endpoints: Set<ProxyEndpoint> = []
            var local: Set<ProxyEndpoint> = []
            var terminating: Set<ProxyEndpoint> = []
            var localTerminating: Set<ProxyEndpoint> = []
            var unreachable: Set<ProxyEndpoint> = []
            var unreachableTerminating: Set<ProxyEndpoint> = []
            for slice in slices {
                guard let slicePort = slice.ports.first(where: {
                    ($0.name ?? "") == servicePort.name && ($0.protocol ?? "TCP").lowercased() == proto.rawValue
                }), let number = slicePort.port, (1...65535).contains(number) else { continue }
                for endpoint in slice.endpoints {
                    let conditions = endpoint.conditions
                    let ready = conditions.ready != false && conditions.terminating != true
                    guard ready || (conditions.terminating == true && conditions.serving == true) else { continue }
                    let cutOff = endpoint.nodeName.map(unreachableNodes.contains) ?? false
                    for address in endpoint.addresses where IPv4.parse(address) != nil {
                        let target = ProxyEndpoint(ip: address, port: number)
                        let here = localNode != nil && endpoint.nodeName == localNode
                        if cutOff {
                            if ready { unreachable.insert(target) } else { unreachableTerminating.insert(target) }
                        } else if ready {
                            endpoints.insert(target)
                            if here { local.insert(target) }
                        } else {
                            terminating.insert(target)
                            if here { localTerminating.insert(target) }
                        }
                    }
                }
            }
            if endpoints.isEmpty { endpoints = unreachable }
            if endpoints.isEmpty { endpoints = terminating.isEmpty ? unreachableTerminating : terminating }
            if local.isEmpty { local = localTerminating }
            var port = ProxyPort(namespace: service.metadata.namespace, service: service.metadata.name, proto: proto,
                                 port: servicePort.port, clusterIP: clusterIP, nodePort: nodePort, affinitySeconds: affinity,
                                 endpoints: endpoints.sorted())
            if nodePort != 0, spec.externalTrafficPolicy == "Local" {
                port.externalLocal = true
                port.localEndpoints = local.sorted()
            }
            result.append(port)
        }
        return result
    }

    /// The endpoints of ports in `old` that the same ports in `new` no longer have (or whose
    /// ports are gone), by protocol; `among`: the only port ids that may differ (nil: all).
    public static func endpointsLeaving(from old: [String: ProxyPort], to new: [String: ProxyPort],
                                        among: Set<String>?) -> [ProxyProtocol: Set<ProxyEndpoint>] {
        var result: [ProxyProtocol: Set<ProxyEndpoint>] = [:]
        func look(_ id: String, _ before: ProxyPort) {
            guard before != new[id] else { return }
            let leaving = Set(before.endpoints).subtracting(new[id]?.endpoints ?? [])
            if !leaving.isEmpty { result[before.proto, default: []].formUnion(leaving) }
        }
        if let among {
            for id in among { if let before = old[id] { look(id, before) } }
        } else {
            for (id, before) in old { look(id, before) }
        }
        return result
    }

    /// The services ("namespace/name") a Service or EndpointSlice event is about (a slice
    /// relabelled from one service to another is about both); none for other kinds.
    public static func serviceKeys(of event: WatchEvent) -> [String] {
        let object = event.object
        switch object.key.kind {
        case .service: return [object.key.namespace + "/" + object.key.name]
        case .endpointSlice:
            let names = [object.json, event.previous?.json].compactMap { $0?["metadata"]?["labels"]?[EndpointSlice.serviceNameLabel]?.stringValue }
            return Array(Set(names)).map { object.key.namespace + "/" + $0 }
        default: return []
        }
    }
}
