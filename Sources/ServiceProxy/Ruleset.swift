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
    public static let table = "ip \(tableName)"
    /// The table's name (family ip).
    public static let tableName = "shoal-services"
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
        let rest = delta(from: [:], to: ports, config: config).text
        if !rest.isEmpty { lines.append(String(rest.dropLast())) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What turns the rules for `old` into those for `new` (empty when equal). `among`: the
    /// only port ids that may differ (the caller knows what changed), so a sync of one
    /// service among thousands does not compare them all.
    public static func delta(from old: [String: ProxyPort], to new: [String: ProxyPort], among: Set<String>? = nil,
                             config: ProxyConfig) -> RulesetDelta {
        let candidates = among ?? Set(old.keys).union(new.keys)
        var result = RulesetDelta()
        for id in candidates.filter({ old[$0] != new[$0] }).sorted() {
            let before = old[id]
            let after = new[id]
            let beforeObjects = before.map(Objects.init)
            let afterObjects = after.map(Objects.init)
            let beforeRules = before.map { rules($0, config: config) } ?? []
            let afterRules = after.map { rules($0, config: config) } ?? []
            if let after, let afterObjects, beforeObjects != afterObjects || beforeRules != afterRules {
                // New sets, maps and chains, and every chain of the port written afresh (in
                // one transaction: a connection sees the old rules or the new ones).
                let existing = Set(beforeObjects?.chains ?? [])
                result.before += afterObjects.sets.filter { !(beforeObjects?.sets.contains($0) ?? false) }
                    .map { "add set \(table) \($0.name) { type ipv4_addr ; flags dynamic,timeout ; timeout \($0.seconds)s ; }" }
                // The map's data names the port's protocol: nft reads the type back from the
                // kernel and insists that it agree with the rule's protocol match.
                result.before += afterObjects.maps.filter { !(beforeObjects?.maps.contains($0) ?? false) }.map {
                    "add map \(table) \($0) { typeof numgen random mod \(endpointSlots) : ip daddr . \(after.proto.rawValue) dport ; flags interval ; }"
                }
                result.before += afterObjects.chains.filter { !existing.contains($0) }.map { "add chain \(table) \($0)" }
                result.before += afterObjects.chains.filter { existing.contains($0) }.map { "flush chain \(table) \($0)" }
                result.before += rules(after, config: config)
            }
            result.elements.merge(old: before, new: after)
            // What the new rules no longer use goes once no element refers to it.
            if let beforeObjects {
                let keptChains = Set(afterObjects?.chains ?? [])
                let gone = beforeObjects.chains.filter { !keptChains.contains($0) }
                result.after += gone.map { "flush chain \(table) \($0)" }
                result.after += gone.reversed().map { "delete chain \(table) \($0)" }
                result.after += beforeObjects.sets.filter { !(afterObjects?.sets.contains($0) ?? false) }.map { "delete set \(table) \($0.name)" }
                result.after += beforeObjects.maps.filter { !(afterObjects?.maps.contains($0) ?? false) }.map { "delete map \(table) \($0)" }
            }
        }
        return result
    }

    /// The chains, affinity sets and endpoint maps one service port uses (callers: first the
    /// service's chains, then its endpoints').
    struct Objects: Equatable {
        struct AffinitySet: Equatable {
            var name: String
            var seconds: Int32
        }

        var chains: [String]
        var sets: [AffinitySet]
        var maps: [String]

        init(_ port: ProxyPort) {
            let local = port.externalLocal && port.nodePort != 0
            chains = ["svc-\(port.id)"] + (local ? ["local-\(port.id)"] : [])
                + (port.affinitySeconds != nil ? port.endpoints.map { Ruleset.endpointChain(port, $0) } : [])
            sets = port.affinitySeconds.map { seconds in port.endpoints.map { AffinitySet(name: Ruleset.affinitySet(port, $0, seconds), seconds: seconds) } } ?? []
            maps = Ruleset.endpointMaps(port).map(\.name)
        }
    }

    static func endpointChain(_ port: ProxyPort, _ endpoint: ProxyEndpoint) -> String {
        "ep-\(port.id)/\(endpoint.ip)/\(endpoint.port)"
    }

    /// The timeout is in the name: a changed timeout is a new set, not a redefined one.
    static func affinitySet(_ port: ProxyPort, _ endpoint: ProxyEndpoint, _ seconds: Int32) -> String {
        "affinity\(seconds)-\(port.id)/\(endpoint.ip)/\(endpoint.port)"
    }

    static func rules(_ port: ProxyPort, config: ProxyConfig) -> [String] {
        let service = "svc-\(port.id)"
        let proto = port.proto.rawValue
        var result: [String] = []
        if port.externalLocal && port.nodePort != 0 {
            let chain = "local-\(port.id)"
            if port.affinitySeconds == nil {
                result.append("add rule \(table) \(chain) meta l4proto \(proto) dnat ip to numgen random mod \(endpointSlots) map @\(localEndpointMap(port))")
            } else if let rule = dnatRule(chain, port.proto, port.localEndpoints) {
                result.append(rule)
            }
            // No endpoint on this host: dropped.
            result.append("add rule \(table) \(chain) drop")
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
        // Which endpoint: the interval of numgen values the random number falls in (the
        // endpoints are the map's elements, so they change without touching this rule).
        result.append("add rule \(table) \(service) meta l4proto \(proto) dnat ip to numgen random mod \(endpointSlots) map @\(endpointMap(port))")
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
