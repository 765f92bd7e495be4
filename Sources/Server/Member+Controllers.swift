import Controllers
import JSON
import RaftCore
import Store

// The leader's controllers (the Controllers module: scheduler, ReplicaSets) run here, on
// the loop, over a typed cache of the leader's own store. The cache is built when the member
// starts leading — once it has applied everything up to its first entry of the term, so
// nothing an earlier leader committed is missing — and follows the store's events after
// that. Writes go through the same path as clients' (admission, Raft); the ones in flight
// are counted (expectations) until answered, which the leader does only after applying
// them, so no pass acts twice on one need.

/// Controller rules broken on purpose (shoal-sim --members --mutation): the simulator's
/// checks must catch each. Never set by `shoal agent`.
public enum ControllerMutation: String, CaseIterable, Sendable {
    /// Creates and deletes in flight are not counted: a pass repeats them.
    case ignoreExpectations
    /// Bindings in flight are not counted: the scheduler places pods on capacity already given.
    case forgetBindingsInFlight
}

/// The controllers' state on the leader; reset whenever leadership changes.
struct ControllerRunner {
    /// The term this state belongs to (0: not leading).
    var term: Raft.Term = 0
    /// Controllers start once the store applied this index (the log's end when the term began).
    var startIndex: Raft.Index = 0
    var cache: ClusterCache?
    /// The cache is being built on a helper thread; the store's events since its snapshot
    /// wait here (in order) to be applied to it when it arrives.
    var building = false
    var eventsWhileBuilding: [WatchEvent] = []
    /// Something changed since the last pass (events, answers).
    var dirty = true
    var replicaSets: [String: ReplicaSetController.Expectations] = [:]
    /// Deployments (by uid) whose new ReplicaSet's create is in flight.
    var creatingSets: Set<String> = []
    /// Objects whose spec or metadata write (or delete) is in flight.
    var updatesInFlight: Set<ObjectKey> = []
    /// Bindings in flight: pod → node (the scheduler counts them as placed).
    var binding: [ObjectKey: String] = [:]
    /// Status writes in flight, by object.
    var statusInFlight: Set<ObjectKey> = []
    /// Event writes in flight, and a counter that keeps new events' names apart.
    var eventsInFlight = 0
    var eventSequence: UInt64 = 0
    static let eventsInFlightMax = 200
    /// The tick of the last full pass (every object looked at; time-based rules rechecked).
    var lastPassTick: UInt64 = 0
    /// The tick of the last node lifecycle pass.
    var lastNodePassTick: UInt64 = 0
    /// Pending pods no node could take; tried again on a full pass or when capacity changed.
    var unschedulable: Set<ObjectKey> = []
    /// Pod ranges in writes to nodes not yet answered, by node name: the allocator counts
    /// them as taken (a range given in one pass is not in the cache until its write applies).
    var podCIDRClaims: [String: String] = [:]
    /// Nodes reported without a pod range (once per term).
    var cidrExhaustedReported: Set<String> = []
    /// When each ReplicaSet and Deployment (by uid) was last reconciled, in ticks.
    var reconciledTick: [String: UInt64] = [:]

    /// A full pass at least this often (time-based rules: minReadySeconds, deadlines, event
    /// expiry, pods of deleted nodes). Between full passes a pass looks only at what changed.
    static let periodicPassTicks: UInt64 = 25
    /// Between full passes, one ReplicaSet or Deployment is reconciled at most this often
    /// (50 ms at the default tick); changes meanwhile wait for it. Each reconcile reads all of
    /// the owner's pods, and while 100 pods of one set start, their set changes every tick:
    /// reconciling it every tick cost the leader more than creating the pods.
    static let ownerCooldownTicks: UInt64 = 5
    /// ReplicaSets and Deployments one pass reconciles at most (each reads all its pods): a
    /// pass over 200 owners of 100 pods each held the loop for tens of milliseconds.
    static let ownersPerPassMax = 16
    /// Node silence is checked at least this often (100 ms at the default tick): a pass over
    /// every node on every tick would cost the leader more than it buys in detection time.
    static let nodePassTicks: UInt64 = 10

    /// Pod creates, deletes and bindings in flight, and their bound. Enough in flight keeps
    /// Raft's pipeline full; more only queues work — 10,000 creates submitted in one pass sat
    /// in the admission queue and then on the loop, which stalled it for seconds (heartbeats
    /// late, clients' writes timed out). A pass places and creates no more than there is room
    /// for; the rest waits for answers.
    var bulkInFlight = 0
    static let bulkInFlightMax = 512

    /// Whether a write of this kind to the same object is in flight (creates, deletes and
    /// bindings are counted by their own expectations instead).
    func isInFlight(_ effect: ControllerWrite.Effect) -> Bool {
        switch effect {
        case .status(let key): return statusInFlight.contains(key)
        case .update(let key): return updatesInFlight.contains(key)
        default: return false
        }
    }
}

extension ControllerWrite.Effect {
    /// Pod creates, deletes and bindings: the writes that come by the thousand.
    var isBulk: Bool {
        switch self {
        case .createPod, .deletePod, .bind: return true
        default: return false
        }
    }
}

extension Member {
    /// Runs the controllers on the leader (each tick; a pass only when something changed, or
    /// every `periodicPassTicks`).
    func runControllers() {
        guard let node, node.role == .leader, store.clusterVersion >= 2 else {
            if controllers.term != 0 { controllers = ControllerRunner() }
            return
        }
        if controllers.term != node.term {
            controllers = ControllerRunner()
            controllers.term = node.term
            controllers.startIndex = node.status.lastIndex
        }
        guard store.revision >= controllers.startIndex else { return }
        if controllers.cache == nil {
            buildControllerCache()
            return
        }
        let full = ticks - controllers.lastPassTick >= ControllerRunner.periodicPassTicks
        guard controllers.dirty || full else { return }
        controllers.dirty = false
        if full { controllers.lastPassTick = ticks }
        let changes = controllers.cache!.takeChanges()
        let now = MetaTime(unixSeconds: host.unixSeconds)
        var writes = schedulePendingPods(retryUnschedulable: full || changes.capacity)
        let owners = ownersDue(full: full, changed: changes.owners)
        var room = ControllerRunner.bulkInFlightMax - controllers.bulkInFlight - writes.count { $0.effect.isBulk }
        let dueSets = owners.compactMap { controllers.cache!.replicaSetKeysByUID[$0] }.sorted()
        for key in dueSets {
            guard let set = controllers.cache!.replicaSets[key] else { continue }
            let pods = controllers.cache!.pods(controlledBy: set.metadata.uid)
            let expected = controllers.replicaSets[set.metadata.uid] ?? .init()
            let setWrites = ReplicaSetController.reconcile(set, pods: pods, expectations: expected, now: now, createsAllowed: room)
            let creates = setWrites.count { if case .createPod = $0.effect { return true } else { return false } }
            if creates < ReplicaSetController.shortfall(set, pods: pods, expectations: expected) {
                controllers.cache!.markChanged(owner: set.metadata.uid)  // the rest of its creates wait for room
            }
            room -= setWrites.count { $0.effect.isBulk }
            writes += setWrites
        }
        let dueDeployments = owners.compactMap { controllers.cache!.deploymentKeysByUID[$0] }.sorted()
        for key in dueDeployments {
            guard let deployment = controllers.cache!.deployments[key] else { continue }
            let sets = controllers.cache!.replicaSets(controlledBy: deployment.metadata.uid)
            var expected = DeploymentController.Expectations()
            expected.creatingSet = controllers.creatingSets.contains(deployment.metadata.uid)
            expected.writingDeployment = controllers.updatesInFlight.contains(key)
            expected.writingSets = Set(sets.map(\.metadata.name).filter {
                controllers.updatesInFlight.contains(ObjectKey(kind: .replicaSet, namespace: key.namespace, name: $0))
            })
            var pods: [String: [Pod]] = [:]
            for set in sets { pods[set.metadata.uid] = controllers.cache!.pods(controlledBy: set.metadata.uid) }
            writes += DeploymentController.reconcile(deployment, sets: sets, pods: pods, expectations: expected, now: now)
        }
        if full || changes.nodes {
            // Pod ranges for new nodes.
            let ipam = NodeIPAM.reconcile(nodes: Array(controllers.cache!.nodes.values), claimed: controllers.podCIDRClaims,
                                          clusterCIDR: options.clusterCIDR, nodeMaskBits: options.nodeCIDRMaskBits)
            writes += ipam.writes
            for node in ipam.unassigned where controllers.cidrExhaustedReported.insert(node.metadata.name).inserted {
                recordEvent(NodeIPAM.exhaustedEvent(node, clusterCIDR: options.clusterCIDR))
            }
        }
        if full || ticks - controllers.lastNodePassTick >= ControllerRunner.nodePassTicks {
            controllers.lastNodePassTick = ticks
            writes += nodeLifecyclePass(now: now)
        }
        if full {
            writes += EventRecorder.expired(Array(controllers.cache!.events.values), now: now)
            let bound = controllers.cache!.podsByNode.filter { controllers.cache!.nodes[$0.key] == nil }.flatMap(\.value).sorted()
            writes += PodGarbageCollector.reconcile(pods: bound.compactMap { controllers.cache!.pods[$0] },
                                                    nodes: Set(controllers.cache!.nodes.keys))
        }
        var podsByNamespace: [String: [Pod]] = [:]
        // (Filtered before sorted: at thousands of services a pass after one change must not
        // sort them all.)
        let servicesDue = controllers.cache!.services.filter { key, service in
            !service.spec.selector.isEmpty && (full || changes.namespaces.contains(key.namespace))
        }
        for (key, service) in servicesDue.sorted(by: { $0.key < $1.key }) {
            if podsByNamespace[key.namespace] == nil { podsByNamespace[key.namespace] = controllers.cache!.pods(inNamespace: key.namespace) }
            writes += EndpointsController.reconcile(service, pods: podsByNamespace[key.namespace]!, endpoints: controllers.cache!.endpoints[key],
                                                    slice: controllers.cache!.endpointSlices[key])
        }
        // A write to an object whose last write is still in flight waits for the next pass.
        for write in ControllerWrite.onePerObject(writes) where !controllers.isInFlight(write.effect) {
            if write.effect.isBulk {
                guard controllers.bulkInFlight < ControllerRunner.bulkInFlightMax else {
                    // Over the bound: the owner is looked at again once writes are answered.
                    if case .createPod(let owner) = write.effect { controllers.cache!.markChanged(owner: owner) }
                    if case .deletePod(let owner, _) = write.effect { controllers.cache!.markChanged(owner: owner) }
                    continue
                }
                controllers.bulkInFlight += 1
            }
            submitControllerWrite(write)
        }
    }

    /// The ReplicaSets and Deployments (uids) this pass reconciles: the changed ones (on a
    /// full pass, all) that were not reconciled within `ownerCooldownTicks`, at most
    /// `ownersPerPassMax`, longest-waiting first. The others stay marked for later passes.
    private func ownersDue(full: Bool, changed: Set<String>) -> Set<String> {
        var candidates = changed
        if full {
            candidates.formUnion(controllers.cache!.replicaSetKeysByUID.keys)
            candidates.formUnion(controllers.cache!.deploymentKeysByUID.keys)
            // Forget owners that are gone (the map only grows otherwise).
            controllers.reconciledTick = controllers.reconciledTick.filter {
                controllers.cache!.replicaSetKeysByUID[$0.key] != nil || controllers.cache!.deploymentKeysByUID[$0.key] != nil
            }
        }
        var ready: [(last: UInt64, uid: String)] = []
        var waiting: [String] = []
        for uid in candidates {
            let last = controllers.reconciledTick[uid]
            if let last, ticks - last < ControllerRunner.ownerCooldownTicks {
                waiting.append(uid)
            } else {
                ready.append((last ?? 0, uid))
            }
        }
        ready.sort { $0.last != $1.last ? $0.last < $1.last : $0.uid < $1.uid }
        waiting += ready.dropFirst(ControllerRunner.ownersPerPassMax).map(\.uid)
        for uid in waiting { controllers.cache!.markChanged(owner: uid) }
        if !waiting.isEmpty { controllers.dirty = true }
        let due = ready.prefix(ControllerRunner.ownersPerPassMax).map(\.uid)
        for uid in due { controllers.reconciledTick[uid] = ticks }
        return Set(due)
    }

    /// Each node's silence — for a member the leader's Raft contact (a member renews its lease
    /// through Raft, so the lease can never be fresher, and the lease's wall-clock times could
    /// look fresh after the clock stepped back), for another node its lease's age — against its grace (a member: `NodeLifecycle.graceMilliseconds`;
    /// a node that is no member: its lease's duration, at least that), through
    /// `NodeLifecycle`, evictions limited per pass and stopped while most nodes look dead.
    private func nodeLifecyclePass(now: MetaTime) -> [ControllerWrite] {
        let cache = controllers.cache!
        guard let status = node?.status, !cache.nodes.isEmpty else { return [] }
        let nowMicros = host.unixMicroseconds
        var raftSilence: [String: Int64] = [nodeName: 0]
        let tickMilliseconds = Int64(options.tickMilliseconds)
        for (id, progress) in status.followers { raftSilence[name(of: id)] = Int64(progress.ticksSinceResponse) * tickMilliseconds }
        // Silence beyond the node's grace, in milliseconds (≤ 0: heard from in time).
        var overdue: [String: Int64] = [:]
        for (name, node) in cache.nodes {
            var heard = Int64.max
            let lease = cache.nodeLeases[name]
            if let renewed = lease?.renewTime {
                heard = max(0, (nowMicros - (renewed.unixSeconds * 1_000_000 + Int64(renewed.microseconds))) / 1_000)
            } else if let created = node.metadata.creationTimestamp {
                heard = max(0, nowMicros / 1_000 - created.unixSeconds * 1_000)
            }
            var grace = NodeLifecycle.graceMilliseconds
            if let contact = raftSilence[name] {
                heard = contact
            } else {
                grace = NodeLifecycle.grace(leaseDurationSeconds: lease?.leaseDurationSeconds)
            }
            overdue[name] = heard - grace
        }
        let silent = overdue.values.filter { $0 > 0 }.count
        var budget = Double(silent) > Double(cache.nodes.count) * NodeLifecycle.disruptionShare ? 0 : NodeLifecycle.evictionsPerPassMax
        var writes: [ControllerWrite] = []
        for name in cache.nodes.keys.sorted() {
            let key = ObjectKey(kind: .node, name: name)
            guard !controllers.updatesInFlight.contains(key), !controllers.statusInFlight.contains(key) else { continue }
            // A node heard from in time needs no look at its pods (NodeLifecycle reads them only for silent nodes).
            let pods = overdue[name]! > 0 ? cache.pods(onNode: name) : []
            writes += NodeLifecycle.reconcile(cache.nodes[name]!, overdueMilliseconds: overdue[name]!, pods: pods,
                                              now: now, evictionBudget: &budget)
        }
        return writes
    }

    /// Writes (or counts again) an event, unless a write of that event is in flight.
    func recordEvent(_ event: EventRecord) {
        guard controllers.cache != nil, controllers.eventsInFlight < ControllerRunner.eventsInFlightMax else { return }
        let existing = controllers.cache!.events[event.aggregationKey]
        let micros = host.unixMicroseconds
        controllers.eventSequence += 1
        let write = EventRecorder.write(event, existing: existing, now: MicroTime(unixSeconds: micros / 1_000_000, microseconds: Int32(micros % 1_000_000)),
                                        sequence: controllers.eventSequence)
        guard !controllers.isInFlight(write.effect) else { return }
        controllers.eventsInFlight += 1
        let term = controllers.term
        propose(.typed(write.write)) { [weak self] _ in
            guard let self, self.controllers.term == term else { return }
            self.controllers.eventsInFlight -= 1
        }
    }

    /// Builds the cache from a snapshot of the store on a helper thread: decoding every
    /// object (10,000 pods, 1,000 nodes) took the loop 300 ms, longer than an election timeout,
    /// so each new leader stalled, was voted out, and the next one stalled the same way. The
    /// store's events from the snapshot on are kept and applied when the cache arrives (list,
    /// then watch — as an informer does).
    private func buildControllerCache() {
        guard !controllers.building else { return }
        controllers.building = true
        let snapshot = store
        let term = controllers.term
        host.background(bulk: true, { ClusterCache(store: snapshot) }, then: { [weak self] built in
            guard let self, self.controllers.term == term, self.controllers.building else { return }
            var cache = built
            cache.apply(self.controllers.eventsWhileBuilding)
            self.controllers.eventsWhileBuilding = []
            self.controllers.building = false
            self.controllers.cache = cache
            self.controllers.dirty = true
            self.controllers.lastPassTick = 0  // the first pass looks at everything
        })
    }

    /// The store applied these events: the controllers' cache follows (on the leader).
    func controllersObserve(_ events: [WatchEvent]) {
        if controllers.building { controllers.eventsWhileBuilding += events }
        guard controllers.cache != nil, !events.isEmpty else { return }
        controllers.cache!.apply(events)
        controllers.dirty = true
    }

    /// Binds every pending pod that fits somewhere; marks the others unschedulable (once per
    /// message). Pods found unschedulable are tried again only when `retryUnschedulable`.
    private func schedulePendingPods(retryUnschedulable: Bool) -> [ControllerWrite] {
        let cache = controllers.cache!
        guard !cache.unscheduled.isEmpty else { return [] }
        if retryUnschedulable { controllers.unschedulable.removeAll() }
        let pending = cache.pendingPods { controllers.binding[$0] == nil && !controllers.unschedulable.contains($0) }
        guard !pending.isEmpty else { return [] }
        var usage = cache.nodeUsage
        for (key, nodeName) in controllers.binding {
            guard var pod = cache.pods[key], !pod.isScheduled else { continue }
            pod.spec.nodeName = nodeName
            usage[nodeName, default: NodeUsage()].add(pod)
        }
        var round = Scheduler.Round(nodes: Array(cache.nodes.values), usage: usage)
        var writes: [ControllerWrite] = []
        var room = ControllerRunner.bulkInFlightMax - controllers.bulkInFlight
        for key in pending {
            guard room > 0 else {
                controllers.dirty = true  // the rest in a later pass
                break
            }
            guard let pod = cache.pods[key] else { continue }
            switch round.place(pod) {
            case .node(let nodeName):
                writes.append(Scheduler.bindingWrite(pod, to: nodeName))
                room -= 1
            case .unschedulable(let message):
                controllers.unschedulable.insert(key)
                if let write = Scheduler.unschedulableWrite(pod, message: message, now: MetaTime(unixSeconds: host.unixSeconds)) {
                    writes.append(write)
                }
            }
        }
        return writes
    }

    /// Proposes a controller's write, counting it as expected until it is answered.
    private func submitControllerWrite(_ write: ControllerWrite) {
        let term = controllers.term
        let mutation = options.controllerMutation
        switch write.effect {
        case .createPod(let owner) where mutation != .ignoreExpectations: controllers.replicaSets[owner, default: .init()].creates += 1
        case .deletePod(let owner, let pod) where mutation != .ignoreExpectations: controllers.replicaSets[owner, default: .init()].deletes.insert(pod)
        case .bind(let pod, let nodeName) where mutation != .forgetBindingsInFlight: controllers.binding[pod] = nodeName
        case .status(let key): controllers.statusInFlight.insert(key)
        case .createReplicaSet(let owner): controllers.creatingSets.insert(owner)
        case .update(let key):
            controllers.updatesInFlight.insert(key)
            if key.kind == .node, let range = write.write.body?[path: ["spec", "podCIDR"]]?.stringValue, !range.isEmpty {
                controllers.podCIDRClaims[key.name] = range
            }
        default: break
        }
        propose(.typed(write.write)) { [weak self] result in
            guard let self, self.controllers.term == term else { return }  // a new term starts from nothing
            if write.effect.isBulk { self.controllers.bulkInFlight -= 1 }
            switch write.effect {
            case .createPod where mutation == .ignoreExpectations, .deletePod where mutation == .ignoreExpectations,
                 .bind where mutation == .forgetBindingsInFlight:
                break
            case .createPod(let owner):
                self.controllers.replicaSets[owner]?.creates -= 1
                if self.controllers.replicaSets[owner]?.isEmpty == true { self.controllers.replicaSets[owner] = nil }
            case .deletePod(let owner, let pod):
                self.controllers.replicaSets[owner]?.deletes.remove(pod)
                if self.controllers.replicaSets[owner]?.isEmpty == true { self.controllers.replicaSets[owner] = nil }
            case .bind(let pod, _):
                self.controllers.binding[pod] = nil
            case .status(let key):
                self.controllers.statusInFlight.remove(key)
            case .createReplicaSet(let owner):
                self.controllers.creatingSets.remove(owner)
            case .update(let key):
                self.controllers.updatesInFlight.remove(key)
                if key.kind == .node { self.controllers.podCIDRClaims[key.name] = nil }
            }
            self.controllers.dirty = true
            switch write.effect {
            case .createPod(let owner), .deletePod(let owner, _), .createReplicaSet(let owner): self.controllers.cache?.markChanged(owner: owner)
            case .status(let key), .update(let key): self.controllers.cache?.markChanged(key)
            case .bind: break  // a failed binding leaves the pod pending: the next pass places it
            }
            switch result {
            case .failure(let error): Log.debug("controller write \(write.effect) failed: \(error)")
            case .success(let stored) where !(200..<300).contains(stored.httpStatus):
                Log.debug("controller write \(write.effect) answered \(stored.httpStatus): \(stored)")
            default: break
            }
            if var event = write.event, case .success(let stored) = result, (200..<300).contains(stored.httpStatus) {
                if case .created(let object) = stored { event.message = event.message.replacingOccurrences(of: "{name}", with: object.key.name) }
                self.recordEvent(event)
            }
        }
    }
}
