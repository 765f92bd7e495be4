import Store

// The elements of the table's sets and maps, as typed values: written as nft text in the
// whole table, and as netlink messages (`NetlinkElements`) when a sync changes nothing but
// elements — the common case, an endpoint coming or going. libnftables reads the whole
// ruleset before every transaction (at 5,000 services that read alone takes 15-800 ms,
// more the more interval sets there are), while an element batch sent straight to the
// kernel costs well under a millisecond whatever the table's size.

/// One element of one set or map of `Ruleset.table`.
public struct SetElement: Hashable, Sendable {
    public enum Key: Hashable, Sendable {
        /// ipv4_addr . inet_proto . inet_service (a ClusterIP port).
        case address(ip: UInt32, proto: ProxyProtocol, port: UInt16)
        /// inet_proto . inet_service (a node port).
        case port(proto: ProxyProtocol, port: UInt16)
        /// An interval of numgen values, both ends included (an endpoint's share of a port's
        /// connections).
        case slots(first: UInt32, last: UInt32)
    }

    public enum Value: Hashable, Sendable {
        case goto(chain: String)
        /// ipv4_addr . inet_service: where the connection is sent.
        case endpoint(ip: UInt32, port: UInt16)
    }

    public var set: String
    public var key: Key
    public var value: Value?

    public init(set: String, key: Key, value: Value? = nil) {
        self.set = set
        self.key = key
        self.value = value
    }

    /// The element in nft's syntax, without the braces.
    public var text: String {
        let key: String
        switch self.key {
        case .address(let ip, let proto, let port): key = "\(IPv4.format(ip)) . \(proto.rawValue) . \(port)"
        case .port(let proto, let port): key = "\(proto.rawValue) . \(port)"
        case .slots(let first, let last): key = "\(first)-\(last)"
        }
        switch value {
        case nil: return key
        case .goto(let chain): return "\(key) : goto \(chain)"
        case .endpoint(let ip, let port): return "\(key) : \(IPv4.format(ip)) . \(port)"
        }
    }
}

extension Ruleset {
    /// numgen's range for choosing an endpoint: each of N endpoints gets an interval of
    /// 2^20 / N values, rounded, so shares differ by under 0.1% even at 1,000 endpoints; the
    /// number of endpoints is in the map, not in the rule, so it changes without a rule.
    public static let endpointSlots: UInt32 = 1 << 20

    /// The interval map from numgen values to a port's endpoints (service chain), or to its
    /// endpoints on this host (the Local chain).
    static func endpointMap(_ port: ProxyPort) -> String { "eps-\(port.id)" }
    static func localEndpointMap(_ port: ProxyPort) -> String { "local-eps-\(port.id)" }

    /// `endpoints` spread over the numgen values, each an interval of nearly equal size.
    static func slotElements(_ set: String, _ endpoints: [ProxyEndpoint]) -> [SetElement] {
        let count = UInt64(endpoints.count)
        return endpoints.enumerated().compactMap { index, endpoint in
            guard let ip = IPv4.parse(endpoint.ip), let port = UInt16(exactly: endpoint.port) else { return nil }
            let first = UInt32(UInt64(index) * UInt64(endpointSlots) / count)
            let last = UInt32((UInt64(index) + 1) * UInt64(endpointSlots) / count - 1)
            return SetElement(set: set, key: .slots(first: first, last: last), value: .endpoint(ip: ip, port: port))
        }
    }

    /// The elements of the table's shared sets and maps for a port: where its ClusterIP and
    /// NodePort lead, or that they have no endpoint.
    static func sharedElements(_ port: ProxyPort) -> [SetElement] {
        let clusterIP = port.clusterIP.flatMap(IPv4.parse)
        let servicePort = UInt16(exactly: port.port) ?? 0
        let nodePort = UInt16(exactly: port.nodePort) ?? 0
        var result: [SetElement] = []
        if port.endpoints.isEmpty {
            if let ip = clusterIP { result.append(SetElement(set: "no-endpoint-ips", key: .address(ip: ip, proto: port.proto, port: servicePort))) }
            if nodePort != 0 { result.append(SetElement(set: "no-endpoint-node-ports", key: .port(proto: port.proto, port: nodePort))) }
            return result
        }
        if let ip = clusterIP {
            result.append(SetElement(set: "cluster-ips", key: .address(ip: ip, proto: port.proto, port: servicePort),
                                     value: .goto(chain: "svc-\(port.id)")))
        }
        if nodePort != 0 && port.externalLocal {
            // No masquerade mark: the client's address reaches the (local) endpoint.
            result.append(SetElement(set: "node-ports", key: .port(proto: port.proto, port: nodePort), value: .goto(chain: "local-\(port.id)")))
        } else if nodePort != 0 {
            result.append(SetElement(set: "node-port-keys", key: .port(proto: port.proto, port: nodePort)))
            result.append(SetElement(set: "node-ports", key: .port(proto: port.proto, port: nodePort), value: .goto(chain: "svc-\(port.id)")))
        }
        return result
    }

    /// A port's own endpoint maps, each with the endpoints it spreads connections over: the
    /// service chain's, and the Local chain's (none with ClientIP affinity, whose chains per
    /// endpoint choose instead).
    static func endpointMaps(_ port: ProxyPort) -> [(name: String, endpoints: [ProxyEndpoint])] {
        guard port.affinitySeconds == nil else { return [] }
        return [(endpointMap(port), port.endpoints)]
            + (port.externalLocal && port.nodePort != 0 ? [(localEndpointMap(port), port.localEndpoints)] : [])
    }
}
