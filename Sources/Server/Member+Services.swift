import API
import ServiceProxy
import Store

// Every member that runs pods is a service proxy for its host: the Services and
// EndpointSlices in its store become nftables rules in its network namespace (ServiceProxy's
// `Ruleset`; docs/proxy.md). The whole table is written when the member starts (so a
// restarted or upgraded member converges, whatever it left behind), then only what changed,
// one transaction per sync, one sync at a time, off the loop.

/// The proxy's state on the member's loop.
struct ServicesState {
    /// libnftables; nil when this member programs no rules (no workloads, or nftables failed).
    var nft: NFTables?
    /// What the rules should be: every service port, kept current service by service.
    var model: [String: ProxyPort] = [:]
    /// The port ids of each service ("namespace/name") in `model`.
    var portsOfService: [String: [String]] = [:]
    /// The model the kernel's rules were last made from; nil before the first whole-table
    /// write and after a failed sync (the next one rewrites the whole table).
    var applied: [String: ProxyPort]?
    /// Services changed since the last sync began; `rebuild`: build the model from scratch.
    var changedServices: Set<String> = []
    var rebuild = true
    /// The model was rebuilt: the next sync compares every port with what was applied.
    var compareAll = false
    /// When the oldest change not yet in a sync was applied here (monotonic nanoseconds).
    var changedSinceNanoseconds: UInt64?
    var inFlight = false
    /// No sync before this tick (after a failure).
    var retryAtTick: UInt64 = 0
    var syncs: UInt64 = 0
    var failures: UInt64 = 0
    /// The hosts this member has not heard from lately (PeerReachability.swift).
    var reachability = PeerReachability()
    /// From a change applied on this member to its rules live in the kernel, in seconds.
    var syncDelay = MetricsHistogram(upperBounds: [0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.2, 0.5, 1, 2, 5])

    /// Ticks between attempts after nftables refused a sync (1 s at the default tick).
    static let retryTicks: UInt64 = 100

    var isDue: Bool { rebuild || !changedServices.isEmpty }

    /// What the next sync brings up to date, taken (and cleared): the services changed since
    /// the model's snapshot or the last sync — refreshed from the store even right after a
    /// rebuild, since they changed while it ran (a member catching up after a restart does
    /// exactly then) and the snapshot is older — and whether to compare every port.
    mutating func takeSyncPlan() -> (changed: Set<String>, compareAll: Bool) {
        defer {
            changedServices = []
            compareAll = false
        }
        return (changedServices, compareAll)
    }
}

extension Member {
    func startServiceProxy() {
        guard options.workloads != nil, services.nft == nil else { return }
        do {
            services.nft = try NFTables()
        } catch {
            Log.error("service proxy: \(error); this member programs no service rules")
        }
    }

    /// The store applied these events: the services they touch are due for a sync.
    func servicesObserve(_ events: [WatchEvent]) {
        guard services.nft != nil else { return }
        for event in events where event.object.key.kind == .service || event.object.key.kind == .endpointSlice {
            services.changedServices.formUnion(ProxyModel.serviceKeys(of: event))
            if services.changedSinceNanoseconds == nil { services.changedSinceNanoseconds = host.monotonicNanoseconds }
        }
    }

    /// Each tick: starts a sync when something changed and none is running.
    func runServiceProxy() {
        guard let nft = services.nft, services.isDue || services.compareAll, !services.inFlight, ticks >= services.retryAtTick else { return }
        if services.rebuild {
            // The whole model is built from a snapshot of the store on a helper thread (at
            // thousands of services, decoding them all would hold the loop); changes after the
            // snapshot are taken service by service once it is in.
            services.rebuild = false
            services.changedServices = []
            services.inFlight = true
            let snapshot = store
            let localNode = nodeName
            let unreachable = services.reachability.unreachable
            host.background(bulk: true, { () -> [String: ProxyPort] in
                ProxyModel.build(services: snapshot.list(.service).items.compactMap(Service.init),
                                 slices: snapshot.list(.endpointSlice).items.compactMap(EndpointSlice.init), localNode: localNode,
                                 unreachableNodes: unreachable)
            }, then: { [weak self] model in
                guard let self else { return }
                self.services.inFlight = false
                self.services.model = model
                self.services.portsOfService = Dictionary(grouping: model.values, by: { $0.namespace + "/" + $0.service }).mapValues { $0.map(\.id) }
                self.services.compareAll = true
            })
            return
        }
        let plan = services.takeSyncPlan()
        var ids: Set<String> = []
        for key in plan.changed { ids.formUnion(refreshServicePorts(key)) }
        let touched: Set<String>? = plan.compareAll ? nil : ids
        let since = services.changedSinceNanoseconds ?? host.monotonicNanoseconds
        services.changedSinceNanoseconds = nil
        let config = ProxyConfig(podCIDR: options.clusterCIDR)
        // (Read, not copied: `applied` is updated with the changed ports alone on success, so
        // the two dictionaries never share storage that a later change would have to copy.)
        let model = services.model
        // After a start or a failure the whole table is written; otherwise only what changed
        // (usually elements alone: one netlink batch).
        let delta = services.applied.map { Ruleset.delta(from: $0, to: model, among: touched, config: config) }
        let table = delta == nil ? Ruleset.full(model, config: config) : nil
        if let delta, delta.isEmpty { return }
        // UDP flows, and TCP connection attempts, translated to endpoints that left would keep
        // going there (docs/proxy.md).
        let gone = services.applied.map { ProxyModel.endpointsLeaving(from: $0, to: model, among: touched) } ?? [:]
        let (goneUDP, goneTCP) = (gone[.udp] ?? [], gone[.tcp] ?? [])
        services.inFlight = true
        let first = services.applied == nil
        host.background(bulk: false, { () -> String? in
            do {
                if let table { try nft.run(table) }
                if let delta { try nft.apply(delta) }
                if !goneUDP.isEmpty || !goneTCP.isEmpty {
                    do {
                        try nft.forgetFlows(udpTo: goneUDP, unansweredTCPTo: goneTCP)
                    } catch {
                        Log.error("service proxy: \(error) (flows to removed endpoints stay until they time out)")
                    }
                }
                return nil
            } catch {
                return "\(error)"
            }
        }, then: { [weak self] failure in
            guard let self else { return }
            self.services.inFlight = false
            if let failure {
                self.services.failures += 1
                self.services.applied = nil
                self.services.rebuild = true
                self.services.retryAtTick = self.ticks + ServicesState.retryTicks
                Log.error("service proxy: nftables refused the \(first ? "table" : "changes"): \(failure)")
                return
            }
            self.services.syncs += 1
            if let touched, self.services.applied != nil {
                for id in touched { self.services.applied![id] = model[id] }
            } else {
                self.services.applied = model
            }
            self.services.syncDelay.observe(Double(self.host.monotonicNanoseconds &- since) / 1e9)
            if first { Log.info("service proxy: \(model.count) service ports programmed in nftables") }
        })
    }

    /// Brings one service's ports in the model up to the store; the port ids it had or has.
    private func refreshServicePorts(_ key: String) -> Set<String> {
        let old = services.portsOfService[key] ?? []
        for id in old { services.model[id] = nil }
        let (found, slices) = serviceAndSlices(key)
        guard let service = found else {
            services.portsOfService[key] = nil
            return Set(old)
        }
        let ports = ProxyModel.ports(of: service, slices: slices, localNode: nodeName, unreachableNodes: services.reachability.unreachable)
        for port in ports { services.model[port.id] = port }
        services.portsOfService[key] = ports.isEmpty ? nil : ports.map(\.id)
        return Set(old).union(ports.map(\.id))
    }

    /// The service "namespace/name" in the store (nil if there is none) and its EndpointSlices
    /// (found by their `kubernetes.io/service-name` label).
    func serviceAndSlices(_ key: String) -> (Service?, [EndpointSlice]) {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let stored = store.get(ObjectKey(kind: .service, namespace: parts[0], name: parts[1])),
              let service = Service(stored) else { return (nil, []) }
        let selector = LabelSelector(requirements: [.init(key: EndpointSlice.serviceNameLabel, op: .equals, values: [parts[1]])])
        return (service, store.list(.endpointSlice, namespace: parts[0], selector: selector).items.compactMap(EndpointSlice.init))
    }
}
