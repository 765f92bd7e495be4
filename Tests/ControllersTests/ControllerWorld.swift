import Controllers
import JSON
import Store

/// A hand-stepped leader for the controller scenario scripts (testdata/, run by
/// ControllerScenarioTests): a real Store — every write passes its admission rules — the
/// ClusterCache following the store's events, and the pure controllers run in passes the
/// way the leader's runner runs them (scheduler, ReplicaSets, Deployments, node pod ranges,
/// node lifecycle, pod GC). A pass computes its writes from the cache as it was when the pass began and then
/// applies them in order, so no write is ever in flight (the simulator covers that). The
/// clock moves only when the script says so, and kubelets act only when told.
struct ControllerWorld {
    private(set) var store = Store()
    private var index: UInt64 = 0
    private(set) var cache = ClusterCache()
    private var nextUID = 1
    /// Milliseconds since the Unix epoch (2026-01-01T00:00:00Z at the start).
    private(set) var clockMilliseconds: Int64 = 1_767_225_600_000
    /// Nodes that stopped being heard from, and since when (ms).
    private var silentSince: [String: Int64] = [:]
    /// Images whose containers start but never become ready.
    var brokenImages: Set<String> = []

    init() {
        _ = commit(.setClusterVersion(version: 2, now: Timestamp.format(unixSeconds: clockMilliseconds / 1_000)))
        cache = ClusterCache(store: store)
    }

    var now: MetaTime { MetaTime(unixSeconds: clockMilliseconds / 1_000) }

    // MARK: Writes

    /// Applies one write as the leader would commit it: a fresh uid and the current time.
    @discardableResult
    mutating func apply(_ write: TypedWrite) -> StoreResult {
        var write = write
        if write.verb == .create && write.uid.isEmpty {
            write.uid = "uid-\(nextUID)"
            nextUID += 1
        }
        write.now = Timestamp.format(unixSeconds: clockMilliseconds / 1_000)
        return commit(.typed(write))
    }

    private mutating func commit(_ command: StoreCommand) -> StoreResult {
        index += 1
        let applied = store.apply(index: index, command.encoded())
        cache.apply(applied.events)
        return applied.result
    }

    mutating func advance(milliseconds: Int64) { clockMilliseconds += milliseconds }

    mutating func silence(_ node: String) { silentSince[node] = clockMilliseconds }
    mutating func revive(_ node: String) { silentSince[node] = nil }
    func isSilent(_ node: String) -> Bool { silentSince[node] != nil }

    // MARK: One pass

    /// One pass of every controller; returns each write with what the store answered, and the
    /// cache as the pass saw it.
    mutating func pass() -> (writes: [(ControllerWrite, StoreResult)], before: ClusterCache) {
        let snapshot = cache
        _ = cache.takeChanges()
        var writes: [ControllerWrite] = []
        var round = Scheduler.Round(nodes: Array(snapshot.nodes.values), usage: snapshot.nodeUsage)
        for key in snapshot.pendingPods() {
            guard let pod = snapshot.pods[key] else { continue }
            switch round.place(pod) {
            case .node(let name): writes.append(Scheduler.bindingWrite(pod, to: name))
            case .unschedulable(let message):
                if let write = Scheduler.unschedulableWrite(pod, message: message, now: now) { writes.append(write) }
            }
        }
        for key in snapshot.replicaSets.keys.sorted() {
            let set = snapshot.replicaSets[key]!
            writes += ReplicaSetController.reconcile(set, pods: snapshot.pods(controlledBy: set.metadata.uid), expectations: .init(), now: now)
        }
        for key in snapshot.deployments.keys.sorted() {
            let deployment = snapshot.deployments[key]!
            let sets = snapshot.replicaSets(controlledBy: deployment.metadata.uid)
            var pods: [String: [Pod]] = [:]
            for set in sets { pods[set.metadata.uid] = snapshot.pods(controlledBy: set.metadata.uid) }
            writes += DeploymentController.reconcile(deployment, sets: sets, pods: pods, expectations: .init(), now: now)
        }
        writes += NodeIPAM.reconcile(nodes: Array(snapshot.nodes.values)).writes
        var budget = NodeLifecycle.evictionsPerPassMax
        for name in snapshot.nodes.keys.sorted() {
            let overdue = silentSince[name].map { clockMilliseconds - $0 - NodeLifecycle.graceMilliseconds } ?? -NodeLifecycle.graceMilliseconds
            writes += NodeLifecycle.reconcile(snapshot.nodes[name]!, overdueMilliseconds: overdue, pods: snapshot.pods(onNode: name),
                                              now: now, evictionBudget: &budget)
        }
        let orphans = snapshot.podsByNode.filter { snapshot.nodes[$0.key] == nil }.flatMap(\.value).sorted()
        writes += PodGarbageCollector.reconcile(pods: orphans.compactMap { snapshot.pods[$0] }, nodes: Set(snapshot.nodes.keys))
        return (ControllerWrite.onePerObject(writes).map { ($0, apply($0.write)) }, snapshot)
    }

    // MARK: Kubelets

    /// What the kubelets of the nodes still heard from do now: bound pods start (Running,
    /// Ready unless `ready` is false), pods being deleted go. Returns one line per action.
    mutating func kubelets(ready: Bool = true) -> [String] {
        var lines: [String] = []
        for (key, pod) in cache.pods.sorted(by: { $0.key < $1.key }) where pod.isScheduled && !isSilent(pod.spec.nodeName) {
            if pod.isTerminating {
                var delete = TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: key.namespace, name: key.name,
                                        expectedUID: pod.metadata.uid)
                delete.gracePeriodSeconds = 0
                lines.append("kubelet \(pod.spec.nodeName): pod \(key.name) stopped" + Self.failure(apply(delete)))
            } else if pod.status.phase == PodStatus.pending || (ready && !pod.isReady && pod.status.phase == PodStatus.running && !isBroken(pod)) {
                var started = pod
                started.status.phase = PodStatus.running
                started.status.podIP = "10.244.0.\(nextUID % 250 + 1)"
                nextUID += 1
                started.status.conditions.removeAll { $0.type == PodCondition.ready || $0.type == "ContainersReady" }
                let ready = ready && !isBroken(pod)
                let status = ready ? "True" : "False"
                started.status.conditions.append(PodCondition(type: PodCondition.ready, status: status, lastTransitionTime: now))
                started.status.conditions.append(PodCondition(type: "ContainersReady", status: status, lastTransitionTime: now))
                let write = TypedWrite(verb: .update, kind: "Pod", apiVersion: "v1", namespace: key.namespace, name: key.name,
                                       subresource: .status, body: started.wireJSON,
                                       expectedResourceVersion: UInt64(pod.metadata.resourceVersion))
                lines.append("kubelet \(pod.spec.nodeName): pod \(key.name) running" + (ready ? ", ready" : ", not ready")
                             + Self.failure(apply(write)))
            }
        }
        return lines
    }

    private func isBroken(_ pod: Pod) -> Bool { pod.spec.containers.contains { brokenImages.contains($0.image) } }

    static func failure(_ result: StoreResult) -> String {
        (200..<300).contains(result.httpStatus) ? "" : " -> \(result.httpStatus)"
    }
}
