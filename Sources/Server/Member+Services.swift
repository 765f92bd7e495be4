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
    /// The model the kernel's rules were last made from; nil before the first whole-table
    /// write and after a failed sync (the next one rewrites the whole table).
    var applied: [String: ProxyPort]?
    /// A Service or EndpointSlice changed since the last sync began.
    var dirty = true
    var inFlight = false
    /// No sync before this tick (after a failure).
    var retryAtTick: UInt64 = 0
    /// Syncs applied, and the last one's commands (for metrics and debugging).
    var syncs = 0
    var failures = 0

    /// Ticks between attempts after nftables refused a sync (1 s at the default tick).
    static let retryTicks: UInt64 = 100
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

    /// The store applied these events: a sync is due if a Service or EndpointSlice changed.
    func servicesObserve(_ events: [WatchEvent]) {
        guard services.nft != nil, !services.dirty else { return }
        if events.contains(where: { $0.key.kind == .service || $0.key.kind == .endpointSlice }) { services.dirty = true }
    }

    /// Each tick: starts a sync when something changed and none is running.
    func runServiceProxy() {
        guard let nft = services.nft, services.dirty, !services.inFlight, ticks >= services.retryAtTick else { return }
        services.dirty = false
        let model = ProxyModel.build(services: store.list(.service).items.compactMap(Service.init),
                                     slices: store.list(.endpointSlice).items.compactMap(EndpointSlice.init))
        let config = ProxyConfig(podCIDR: options.clusterCIDR)
        let commands: String
        if let applied = services.applied {
            commands = Ruleset.delta(from: applied, to: model, config: config)
            if commands.isEmpty { return }
        } else {
            commands = Ruleset.full(model, config: config)
        }
        services.inFlight = true
        let first = services.applied == nil
        host.background(bulk: false, { () -> String? in
            do {
                try nft.run(commands)
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
                self.services.dirty = true
                self.services.retryAtTick = self.ticks + ServicesState.retryTicks
                Log.error("service proxy: nftables refused the \(first ? "table" : "changes"): \(failure)")
                return
            }
            self.services.syncs += 1
            self.services.applied = model
            if first { Log.info("service proxy: \(model.count) service ports programmed in nftables") }
        })
    }
}
