// The nftables rules for a `ProxyModel`, as the text `nft -f` (and libnftables) reads: the
// whole table when the proxy starts, then per sync only the commands that turn the rules for
// the old model into those for the new one. Either is one transaction: the kernel switches
// from the old rules to the new ones at once, never showing a half-written table.
//
// Layout (table `ip shoal-services`, all shoal's own; docs/proxy.md):
//
//   nat prerouting/output → services:
//       ip daddr . l4proto . dport  vmap @cluster-ips     → svc-<id>
//       (local address) l4proto . dport @node-port-keys   → mark for masquerade
//       (local address) l4proto . dport vmap @node-ports  → svc-<id>
//   svc-<id>:  ClusterIP from outside the pod range: mark
//              dnat to numgen random mod N map { i : ip . port }
//              (ClientIP affinity instead: a client seen recently goes to its endpoint's
//              chain ep-<id>/<ip>/<port>, which remembers clients and DNATs)
//   nat postrouting: marked packets are masqueraded, and so are packets a pod of this host
//       sent through a service to a pod of this host (DNATed here, from a pod address, out
//       to the pod bridge: a pod reaching itself must get its answer through the host; the
//       input interface is unknown in postrouting, so its neighbours are masqueraded too)
//   filter input/forward/output: a service port with no endpoint is rejected (@no-endpoint-*)
//
// One chain per service port, none per endpoint (but with affinity): libnftables reads every
// chain of the host before each transaction, so the number of chains, not the size of a
// change, sets how long a sync takes (about 2 ms per 1,000 chains here).
//
// A ClusterIP reached from outside the pod range is masqueraded, as is every NodePort
// connection (externalTrafficPolicy Cluster: the endpoint may be on another host, and its
// answer must come back through this one).

/// What the rules need besides the services.
public struct ProxyConfig: Sendable, Equatable {
    /// The cluster's pod range: traffic from elsewhere to a ClusterIP is masqueraded.
    public var podCIDR: String
    /// The pods' bridge on this host: traffic a local pod sent through a service to a local
    /// pod is masqueraded (hairpin: the answer must come back through the host).
    public var podBridge: String

    public init(podCIDR: String, podBridge: String = "shoal0") {
        self.podCIDR = podCIDR
        self.podBridge = podBridge
    }
}

public enum Ruleset {
    public static let table = "ip shoal-services"
    /// The packet mark meaning "masquerade me" (the bit kube-proxy uses, in shoal's own table).
    public static let masqueradeMark = "0x00004000"

    /// The whole table: created if missing, emptied, and written from scratch.
    public static func full(_ ports: [String: ProxyPort], config: ProxyConfig) -> String {
        var lines = ["table \(table)", "delete table \(table)", "table \(table) {",
                     "    comment \"shoal service proxy: ClusterIP and NodePort (docs/proxy.md)\"",
                     "    map cluster-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }",
                     "    map node-ports { type inet_proto . inet_service : verdict ; }",
                     "    set node-port-keys { type inet_proto . inet_service ; }",
                     "    set no-endpoint-ips { type ipv4_addr . inet_proto . inet_service ; }",
                     "    set no-endpoint-node-ports { type inet_proto . inet_service ; }",
                     "    chain mark-for-masquerade { meta mark set meta mark | \(masqueradeMark) ; }",
                     "    chain services {",
                     "        ip daddr . meta l4proto . th dport vmap @cluster-ips",
                     "        fib daddr type local meta l4proto . th dport @node-port-keys jump mark-for-masquerade",
                     "        fib daddr type local meta l4proto . th dport vmap @node-ports",
                     "    }",
                     "    chain nat-prerouting { type nat hook prerouting priority dstnat ; policy accept ; jump services ; }",
                     "    chain nat-output { type nat hook output priority -100 ; policy accept ; jump services ; }",
                     "    chain nat-postrouting {",
                     "        type nat hook postrouting priority srcnat ; policy accept ;",
                     "        meta mark & \(masqueradeMark) == \(masqueradeMark) masquerade fully-random",
                     "        ct status dnat oifname \"\(config.podBridge)\" ip saddr \(config.podCIDR) masquerade fully-random",
                     "    }",
                     "    chain reject-no-endpoints {",
                     "        ip daddr . meta l4proto . th dport @no-endpoint-ips reject",
                     "        fib daddr type local meta l4proto . th dport @no-endpoint-node-ports reject",
                     "    }",
                     "    chain filter-input { type filter hook input priority -110 ; policy accept ; ct state new jump reject-no-endpoints ; }",
                     "    chain filter-forward { type filter hook forward priority -110 ; policy accept ; ct state new jump reject-no-endpoints ; }",
                     "    chain filter-output { type filter hook output priority -110 ; policy accept ; ct state new jump reject-no-endpoints ; }",
                     "}"]
        lines += delta(from: [:], to: ports, config: config).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        return lines.joined(separator: "\n") + "\n"
    }

    /// The commands that change the rules for `old` into those for `new` (empty when equal).
    /// `among`: the only port ids that may differ (the caller knows what changed), so a sync
    /// of one service among thousands does not compare them all.
    public static func delta(from old: [String: ProxyPort], to new: [String: ProxyPort], among: Set<String>? = nil,
                             config: ProxyConfig) -> String {
        let candidates = among ?? Set(old.keys).union(new.keys)
        let changed = candidates.filter { old[$0] != new[$0] }.sorted()
        guard !changed.isEmpty else { return "" }
        var removing: [String] = []
        var adding: [String] = []
        for id in changed {
            let before = old[id].map(Objects.init)
            let after = new[id].map(Objects.init)
            if let before, let port = old[id] {
                removing += elements(port).map { "delete element \(table) \($0)" }
                removing += before.chains.map { "flush chain \(table) \($0)" }
            }
            if let after, let port = new[id] {
                adding += after.sets.map { "add set \(table) \($0.name) { type ipv4_addr ; flags dynamic,timeout ; timeout \($0.seconds)s ; }" }
                adding += after.chains.map { "add chain \(table) \($0)" }
                adding += rules(port, config: config)
                adding += elements(port).map { "add element \(table) \($0)" }
            }
            // Chains and sets the new rules no longer use go once nothing refers to them.
            if let before {
                let keptChains = Set(after?.chains ?? [])
                let keptSets = Set(after?.sets.map(\.name) ?? [])
                removing += before.chains.filter { !keptChains.contains($0) }.reversed().map { "delete chain \(table) \($0)" }
                removing += before.sets.map(\.name).filter { !keptSets.contains($0) }.map { "delete set \(table) \($0)" }
            }
        }
        return (removing + adding).joined(separator: "\n") + "\n"
    }

    /// The chains and affinity sets one service port uses (callers: first the service's
    /// chains, then its endpoints').
    struct Objects {
        var chains: [String]
        var sets: [(name: String, seconds: Int32)]

        init(_ port: ProxyPort) {
            chains = ["svc-\(port.id)"] + (port.externalLocal && port.nodePort != 0 ? ["local-\(port.id)"] : [])
                + (port.affinitySeconds != nil ? port.endpoints.map { Ruleset.endpointChain(port, $0) } : [])
            sets = port.affinitySeconds.map { seconds in port.endpoints.map { (Ruleset.affinitySet(port, $0, seconds), seconds) } } ?? []
        }
    }

    static func endpointChain(_ port: ProxyPort, _ endpoint: ProxyEndpoint) -> String {
        "ep-\(port.id)/\(endpoint.ip)/\(endpoint.port)"
    }

    /// The timeout is in the name: a changed timeout is a new set, not a redefined one.
    static func affinitySet(_ port: ProxyPort, _ endpoint: ProxyEndpoint, _ seconds: Int32) -> String {
        "affinity\(seconds)-\(port.id)/\(endpoint.ip)/\(endpoint.port)"
    }

    /// The map and set elements for a port: where its ClusterIP and NodePort lead, or that
    /// they have no endpoint.
    static func elements(_ port: ProxyPort) -> [String] {
        let proto = port.proto.rawValue
        var result: [String] = []
        if port.endpoints.isEmpty {
            if let ip = port.clusterIP { result.append("no-endpoint-ips { \(ip) . \(proto) . \(port.port) }") }
            if port.nodePort != 0 { result.append("no-endpoint-node-ports { \(proto) . \(port.nodePort) }") }
        } else {
            if let ip = port.clusterIP { result.append("cluster-ips { \(ip) . \(proto) . \(port.port) : goto svc-\(port.id) }") }
            if port.nodePort != 0 && port.externalLocal {
                // No masquerade mark: the client's address reaches the (local) endpoint.
                result.append("node-ports { \(proto) . \(port.nodePort) : goto local-\(port.id) }")
            } else if port.nodePort != 0 {
                result.append("node-port-keys { \(proto) . \(port.nodePort) }")
                result.append("node-ports { \(proto) . \(port.nodePort) : goto svc-\(port.id) }")
            }
        }
        return result
    }

    static func rules(_ port: ProxyPort, config: ProxyConfig) -> [String] {
        let service = "svc-\(port.id)"
        let proto = port.proto.rawValue
        var result: [String] = []
        if port.externalLocal && port.nodePort != 0 {
            let chain = "local-\(port.id)"
            // No endpoint on this host: drop.
            result.append(dnatRule(chain, port.proto, port.localEndpoints) ?? "add rule \(table) \(chain) drop")
        }
        if port.clusterIP != nil {
            result.append("add rule \(table) \(service) ip saddr != \(config.podCIDR) jump mark-for-masquerade")
        }
        if let seconds = port.affinitySeconds {
            // Affinity needs a place per endpoint to remember its clients: a chain each.
            for endpoint in port.endpoints {
                result.append("add rule \(table) \(service) ip saddr @\(affinitySet(port, endpoint, seconds)) goto \(endpointChain(port, endpoint))")
            }
            switch port.endpoints.count {
            case 0: break
            case 1: result.append("add rule \(table) \(service) goto \(endpointChain(port, port.endpoints[0]))")
            default:
                let choices = port.endpoints.enumerated().map { "\($0.offset) : goto \(endpointChain(port, $0.element))" }
                result.append("add rule \(table) \(service) numgen random mod \(port.endpoints.count) vmap { \(choices.joined(separator: ", ")) }")
            }
            for endpoint in port.endpoints {
                let chain = endpointChain(port, endpoint)
                result.append("add rule \(table) \(chain) update @\(affinitySet(port, endpoint, seconds)) { ip saddr }")
                result.append("add rule \(table) \(chain) meta l4proto \(proto) dnat ip to \(endpoint.ip):\(endpoint.port)")
            }
            return result
        }
        if let rule = dnatRule(service, port.proto, port.endpoints) { result.append(rule) }
        return result
    }

    /// The rule in `chain` sending a connection to one of `endpoints` (chosen at random per
    /// connection); nil for none.
    static func dnatRule(_ chain: String, _ proto: ProxyProtocol, _ endpoints: [ProxyEndpoint]) -> String? {
        let rule = "add rule \(table) \(chain) meta l4proto \(proto.rawValue) dnat ip to"
        switch endpoints.count {
        case 0: return nil
        case 1: return "\(rule) \(endpoints[0].ip):\(endpoints[0].port)"
        default:
            let choices = endpoints.enumerated().map { "\($0.offset) : \($0.element.ip) . \($0.element.port)" }
            return "\(rule) numgen random mod \(endpoints.count) map { \(choices.joined(separator: ", ")) }"
        }
    }
}
