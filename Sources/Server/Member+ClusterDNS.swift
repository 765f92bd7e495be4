import ClusterDNS
import JSON
import ServiceProxy
import Store

#if canImport(Glibc)
import Glibc
#endif

// Every member that runs pods answers the cluster's DNS on its address (port 53): service
// and pod names from its own store (ClusterDNS's `DNSZone`, updated service by service when
// a Service or an EndpointSlice changes), other names forwarded to the host's resolvers. The leader keeps
// the `kube-dns` Service (10.96.0.10, as Kubernetes clusters have it) whose endpoints are
// those members, so a pod's resolv.conf names one address that the service proxy spreads
// over every member's server (docs/proxy.md).

struct ClusterDNSState {
    var server: DNSServer?
    /// The zone was built whole once (from a store snapshot, off the loop); from then on it
    /// follows the store service by service.
    var zoneBuilt = false
    var zoneBuilding = false
    /// Services ("namespace/name") whose Service or EndpointSlices changed since the zone
    /// last followed them.
    var changedServices: Set<String> = []
    /// Writes of the kube-dns Service and EndpointSlice in flight (one round at a time).
    var writesInFlight = 0

    static let serviceName = "kube-dns"
    static let namespace = "kube-system"
}

extension Member {
    func startClusterDNS() {
        // (Only on a real loop: simulated members have none, and run no pods either.)
        guard options.workloads != nil, let port = options.dnsPort, dns.server == nil, let loop else { return }
        let upstreams = Self.hostResolvers().filter { $0 != identity.advertiseHost }
        do {
            dns.server = try DNSServer(loop: loop, host: options.listenHost ?? identity.advertiseHost, port: port, zone: DNSZone(),
                                       upstreams: upstreams)
            Log.info("cluster DNS on \(identity.advertiseHost):\(port) (names outside the cluster go to \(upstreams.isEmpty ? "nobody" : upstreams.joined(separator: ", ")))")
        } catch {
            Log.error("cluster DNS: cannot listen on port \(port): \(error); pods here resolve no cluster names")
        }
    }

    func stopClusterDNS() {
        dns.server?.close()
        dns.server = nil
    }

    func dnsObserve(_ events: [WatchEvent]) {
        guard dns.server != nil else { return }
        for event in events where event.key.kind == .service || event.key.kind == .endpointSlice {
            dns.changedServices.formUnion(ProxyModel.serviceKeys(of: event))
        }
    }

    /// Each tick: the zone follows the store. The first build reads a snapshot of the whole
    /// store on a helper thread (at thousands of services it would hold the loop); after it,
    /// each changed service's records are replaced on the loop, at the cost of that service.
    func runClusterDNS() {
        guard let server = dns.server else { return }
        guard dns.zoneBuilt else {
            guard !dns.zoneBuilding else { return }
            dns.zoneBuilding = true
            dns.changedServices = []  // the snapshot has them; later changes come after it
            let snapshot = store
            host.background(bulk: true, {
                DNSZone.build(services: snapshot.list(.service).items.compactMap(Service.init),
                              slices: snapshot.list(.endpointSlice).items.compactMap(EndpointSlice.init))
            }, then: { [weak self] zone in
                guard let self else { return }
                self.dns.zoneBuilding = false
                self.dns.zoneBuilt = true
                self.dns.server?.zone = zone
            })
            return
        }
        for key in dns.changedServices {
            let (service, slices) = serviceAndSlices(key)
            server.zone.update(key, service: service, slices: slices)
        }
        dns.changedServices = []
    }

    /// The nameservers of the host's /etc/resolv.conf, without loopback ones (a member in
    /// its own network namespace cannot reach the root namespace's local resolver).
    static func hostResolvers(path: String = "/etc/resolv.conf") -> [String] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var servers: [String] = []
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        while getline(&line, &capacity, file) > 0, let line {
            let fields = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            if fields.count >= 2, fields[0] == "nameserver", IPv4.parse(String(fields[1])) != nil, !fields[1].hasPrefix("127.") {
                servers.append(String(fields[1]))
            }
        }
        free(line)
        return servers
    }

    // MARK: The kube-dns Service (leader)

    /// The Service and EndpointSlice in kube-system that name the members' DNS servers: one
    /// endpoint per Ready node that runs pods (the members without the control-plane taint).
    func reconcileDNSService() {
        guard dns.writesInFlight == 0, let port = options.dnsPort else { return }
        let nodes = store.list(.node).items.compactMap(Node.init).filter { node in
            node.isReady && !node.taints.contains { $0.key == Self.controlPlaneTaintKey }
        }
        let addresses = Set(nodes.compactMap { $0.address(NodeAddress.internalIP) }).sorted { (IPv4.parse($0) ?? 0) < (IPv4.parse($1) ?? 0) }
        let service: JSONValue = .object(JSONObject([
            ("apiVersion", "v1"), ("kind", "Service"),
            ("metadata", .object(JSONObject([("name", .string(ClusterDNSState.serviceName)), ("namespace", .string(ClusterDNSState.namespace)),
                                             ("labels", .object(JSONObject([("k8s-app", "kube-dns")])))]))),
            ("spec", .object(JSONObject([
                ("ports", .array([
                    .object(JSONObject([("name", "dns"), ("protocol", "UDP"), ("port", 53), ("targetPort", .int(Int64(port)))])),
                    .object(JSONObject([("name", "dns-tcp"), ("protocol", "TCP"), ("port", 53), ("targetPort", .int(Int64(port)))])),
                ])),
                ("clusterIP", .string(ServiceAllocation.dnsServiceIP)), ("type", "ClusterIP"),
            ]))),
        ]))
        let slice: JSONValue = .object(JSONObject([
            ("apiVersion", "discovery.k8s.io/v1"), ("kind", "EndpointSlice"),
            ("metadata", .object(JSONObject([("name", .string(ClusterDNSState.serviceName)), ("namespace", .string(ClusterDNSState.namespace)),
                                             ("labels", .object(JSONObject([("kubernetes.io/service-name", .string(ClusterDNSState.serviceName))])))]))),
            ("addressType", "IPv4"),
            ("endpoints", .array(addresses.map { address in
                .object(JSONObject([("addresses", .array([.string(address)])),
                                    ("conditions", .object(JSONObject([("ready", true), ("serving", true), ("terminating", false)])))]))
            })),
            ("ports", .array([
                .object(JSONObject([("name", "dns"), ("protocol", "UDP"), ("port", .int(Int64(port)))])),
                .object(JSONObject([("name", "dns-tcp"), ("protocol", "TCP"), ("port", .int(Int64(port)))])),
            ])),
        ]))
        for (kind, object) in [(Kind.service, service), (Kind.endpointSlice, slice)] {
            guard let write = systemObjectWrite(kind, namespace: ClusterDNSState.namespace, name: ClusterDNSState.serviceName,
                                                desired: object) else { continue }
            dns.writesInFlight += 1
            propose(.typed(write)) { [weak self] result in
                self?.dns.writesInFlight -= 1
                if case .failure(let error) = result { Log.debug("kube-dns bookkeeping: \(kind.name) failed: \(error)") }
            }
        }
    }
}
