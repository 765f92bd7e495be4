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
    /// The tick of the last full pass (time-based conditions are rechecked every second).
    var lastPassTick: UInt64 = 0

    /// A pass at least this often (time-based rules: node silence, minReadySeconds, deadlines).
    static let periodicPassTicks: UInt64 = 25

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
            controllers.cache = ClusterCache(store: store)
            controllers.dirty = true
        }
        guard controllers.dirty || ticks - controllers.lastPassTick >= ControllerRunner.periodicPassTicks else { return }
        controllers.dirty = false
        controllers.lastPassTick = ticks
        let now = MetaTime(unixSeconds: host.unixSeconds)
        var writes = schedulePendingPods()
        for (_, set) in controllers.cache!.replicaSets.sorted(by: { $0.key < $1.key }) {
            let pods = controllers.cache!.pods(controlledBy: set.metadata.uid)
            let expected = controllers.replicaSets[set.metadata.uid] ?? .init()
            writes += ReplicaSetController.reconcile(set, pods: pods, expectations: expected, now: now)
        }
        for (key, deployment) in controllers.cache!.deployments.sorted(by: { $0.key < $1.key }) {
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
        writes += nodeLifecyclePass(now: now)
        writes += EventRecorder.expired(Array(controllers.cache!.events.values), now: now)
        let bound = controllers.cache!.podsByNode.filter { controllers.cache!.nodes[$0.key] == nil }.flatMap(\.value).sorted()
        writes += PodGarbageCollector.reconcile(pods: bound.compactMap { controllers.cache!.pods[$0] },
                                                nodes: Set(controllers.cache!.nodes.keys))
        var podsByNamespace: [String: [Pod]] = [:]
        for (key, service) in controllers.cache!.services.sorted(by: { $0.key < $1.key }) where !service.spec.selector.isEmpty {
            if podsByNamespace[key.namespace] == nil { podsByNamespace[key.namespace] = controllers.cache!.pods(inNamespace: key.namespace) }
            writes += EndpointsController.reconcile(service, pods: podsByNamespace[key.namespace]!, endpoints: controllers.cache!.endpoints[key],
                                                    slice: controllers.cache!.endpointSlices[key])
        }
        // A write to an object whose last write is still in flight waits for the next pass.
        for write in writes where !controllers.isInFlight(write.effect) { submitControllerWrite(write) }
    }

    /// Each node's silence — its lease's age, or for a member the leader's Raft contact,
    /// whichever is fresher — through `NodeLifecycle`, evictions limited per pass and stopped
    /// while most nodes look dead.
    private func nodeLifecyclePass(now: MetaTime) -> [ControllerWrite] {
        let cache = controllers.cache!
        guard let status = node?.status, !cache.nodes.isEmpty else { return [] }
        let nowMicros = host.unixMicroseconds
        var raftSilence: [String: Int64] = [nodeName: 0]
        let tickMilliseconds = Int64(options.tickMilliseconds)
        for (id, progress) in status.followers { raftSilence[name(of: id)] = Int64(progress.ticksSinceResponse) * tickMilliseconds }
        var silence: [String: Int64] = [:]
        for (name, node) in cache.nodes {
            var heard = Int64.max
            if let renewed = cache.leaseRenewals[name] {
                heard = max(0, (nowMicros - (renewed.unixSeconds * 1_000_000 + Int64(renewed.microseconds))) / 1_000)
            } else if let created = node.metadata.creationTimestamp {
                heard = max(0, nowMicros / 1_000 - created.unixSeconds * 1_000)
            }
            if let contact = raftSilence[name] { heard = min(heard, contact) }
            silence[name] = heard
        }
        let silent = silence.values.filter { $0 > NodeLifecycle.graceMilliseconds }.count
        var budget = Double(silent) > Double(cache.nodes.count) * NodeLifecycle.disruptionShare ? 0 : NodeLifecycle.evictionsPerPassMax
        var writes: [ControllerWrite] = []
        for name in cache.nodes.keys.sorted() {
            let key = ObjectKey(kind: .node, name: name)
            guard !controllers.updatesInFlight.contains(key), !controllers.statusInFlight.contains(key) else { continue }
            writes += NodeLifecycle.reconcile(cache.nodes[name]!, silentMilliseconds: silence[name]!, pods: cache.pods(onNode: name),
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

    /// The store applied these events: the controllers' cache follows (on the leader).
    func controllersObserve(_ events: [WatchEvent]) {
        guard controllers.cache != nil, !events.isEmpty else { return }
        controllers.cache!.apply(events)
        controllers.dirty = true
    }

    /// Binds every pending pod that fits somewhere; marks the others unschedulable (once per
    /// message).
    private func schedulePendingPods() -> [ControllerWrite] {
        let cache = controllers.cache!
        guard !cache.unscheduled.isEmpty else { return [] }
        var usage = cache.nodeUsage
        for (key, nodeName) in controllers.binding {
            guard var pod = cache.pods[key], !pod.isScheduled else { continue }
            pod.spec.nodeName = nodeName
            usage[nodeName, default: NodeUsage()].add(pod)
        }
        let nodes = cache.nodes.values.sorted { $0.metadata.name < $1.metadata.name }
        var writes: [ControllerWrite] = []
        for key in cache.unscheduled.sorted() where controllers.binding[key] == nil {
            guard var pod = cache.pods[key] else { continue }
            switch Scheduler.place(pod, nodes: nodes, usage: usage) {
            case .node(let nodeName):
                pod.spec.nodeName = nodeName
                usage[nodeName, default: NodeUsage()].add(pod)
                writes.append(Self.bindingWrite(pod, to: nodeName))
            case .unschedulable(let message):
                if let write = Self.unschedulableWrite(pod, message: message, now: MetaTime(unixSeconds: host.unixSeconds)) {
                    writes.append(write)
                }
            }
        }
        return writes
    }

    /// The binding subresource, for this pod (by uid) only.
    static func bindingWrite(_ pod: Pod, to nodeName: String) -> ControllerWrite {
        let body: JSONValue = .object(JSONObject([
            ("apiVersion", "v1"), ("kind", "Binding"),
            ("metadata", .object(JSONObject([("name", .string(pod.metadata.name)), ("uid", .string(pod.metadata.uid))]))),
            ("target", .object(JSONObject([("apiVersion", "v1"), ("kind", "Node"), ("name", .string(nodeName))]))),
        ]))
        let write = TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace, name: pod.metadata.name,
                               subresource: .binding, body: body, expectedUID: pod.metadata.uid)
        return ControllerWrite(write, .bind(pod: ObjectKey(kind: .pod, namespace: pod.metadata.namespace, name: pod.metadata.name), node: nodeName),
                               event: EventRecord(.normal, "Scheduled", "Successfully assigned \(pod.metadata.namespace)/\(pod.metadata.name) to \(nodeName)",
                                                  component: "default-scheduler", about: EventRecord.reference("Pod", apiVersion: "v1", pod.metadata)))
    }

    /// `PodScheduled=False` with reason Unschedulable and the scheduler's message, unless the
    /// pod already says exactly that.
    static func unschedulableWrite(_ pod: Pod, message: String, now: MetaTime) -> ControllerWrite? {
        let current = pod.condition(PodCondition.podScheduled)
        guard current?.status != "False" || current?.message != message, let version = UInt64(pod.metadata.resourceVersion) else { return nil }
        var updated = pod
        let condition = PodCondition(type: PodCondition.podScheduled, status: "False",
                                     lastTransitionTime: current?.status == "False" ? current?.lastTransitionTime : now,
                                     reason: "Unschedulable", message: message)
        updated.status.conditions.removeAll { $0.type == PodCondition.podScheduled }
        updated.status.conditions.append(condition)
        let write = TypedWrite(verb: .update, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace, name: pod.metadata.name,
                               subresource: .status, body: updated.wireJSON, expectedResourceVersion: version)
        return ControllerWrite(write, .status(ObjectKey(kind: .pod, namespace: pod.metadata.namespace, name: pod.metadata.name)),
                               event: EventRecord(.warning, "FailedScheduling", message, component: "default-scheduler",
                                                  about: EventRecord.reference("Pod", apiVersion: "v1", pod.metadata)))
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
        case .update(let key): controllers.updatesInFlight.insert(key)
        default: break
        }
        propose(.typed(write.write)) { [weak self] result in
            guard let self, self.controllers.term == term else { return }  // a new term starts from nothing
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
            }
            self.controllers.dirty = true
            if case .failure(let error) = result { Log.debug("controller write \(write.effect) failed: \(error)") }
            if var event = write.event, case .success(let stored) = result, (200..<300).contains(stored.httpStatus) {
                if case .created(let object) = stored { event.message = event.message.replacingOccurrences(of: "{name}", with: object.key.name) }
                self.recordEvent(event)
            }
        }
    }
}
