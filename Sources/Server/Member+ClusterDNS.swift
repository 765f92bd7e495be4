import ClusterDNS
import JSON
import Store

#if canImport(Glibc)
import Glibc
#endif

// Every member that runs pods answers the cluster's DNS on its address (port 53): service
// and pod names from its own store (ClusterDNS's `DNSZone`, rebuilt when a Service or an
// EndpointSlice changes), other names forwarded to the host's resolvers. The leader keeps
// the `kube-dns` Service (10.96.0.10, as Kubernetes clusters have it) whose endpoints are
// those members, so a pod's resolv.conf names one address that the service proxy spreads
// over every member's server (docs/proxy.md).

struct ClusterDNSState {
    var server: DNSServer?
    /// A Service or EndpointSlice changed since the zone was built; a build is running.
    var zoneDirty = true
    var zoneBuilding = false
    /// No zone build before this tick: under churn the zone (a whole rebuild, O(services))
    /// follows at most every `zoneRebuildTicks`.
    var nextZoneTick: UInt64 = 0
    static let zoneRebuildTicks: UInt64 = 20
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
        guard dns.server != nil, !dns.zoneDirty else { return }
        if events.contains(where: { $0.key.kind == .service || $0.key.kind == .endpointSlice }) { dns.zoneDirty = true }
    }

    /// Each tick: the zone follows the store, built from a snapshot on a helper thread (at
    /// thousands of services a build would hold the loop); one build at a time.
    func runClusterDNS() {
        guard dns.server != nil, dns.zoneDirty, !dns.zoneBuilding, ticks >= dns.nextZoneTick else { return }
        dns.zoneDirty = false
        dns.nextZoneTick = ticks + ClusterDNSState.zoneRebuildTicks
        dns.zoneBuilding = true
        let snapshot = store
        host.background(bulk: true, {
            DNSZone.build(services: snapshot.list(.service).items.compactMap(Service.init),
                          slices: snapshot.list(.endpointSlice).items.compactMap(EndpointSlice.init))
        }, then: { [weak self] zone in
            guard let self else { return }
            self.dns.zoneBuilding = false
            self.dns.server?.zone = zone
        })
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
