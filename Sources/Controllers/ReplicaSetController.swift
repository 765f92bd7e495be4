import JSON
import Store

/// Keeps each ReplicaSet's count of active pods at its replicas, and its status current.
/// Pure: the runner passes the set, its pods and what is already in flight for it.
public enum ReplicaSetController {
    /// Work sent for one ReplicaSet and not answered yet. The leader answers a write once it
    /// applied it, so an answered write is in the cache: counting these keeps the controller
    /// from creating twice (or deleting twice) while its writes are in flight.
    public struct Expectations: Hashable, Sendable {
        public var creates = 0
        /// Uids of pods whose delete is in flight.
        public var deletes: Set<String> = []
        public init() {}
        public var isEmpty: Bool { creates == 0 && deletes.isEmpty }
    }

    /// Most pods one pass creates or deletes for one set (more come in the next passes).
    public static let burstMax = 500

    /// What the set needs now. `now` is the leader's clock (availability: ready for at
    /// least `minReadySeconds`).
    /// `createsAllowed`: pods this pass may create at most (the runner's room for writes in
    /// flight); the rest come in later passes.
    public static func reconcile(_ set: ReplicaSet, pods: [Pod], expectations: Expectations, now: MetaTime,
                                 createsAllowed: Int = burstMax) -> [ControllerWrite] {
        guard set.metadata.deletionTimestamp == nil else { return [] }
        var writes: [ControllerWrite] = []
        let active = pods.filter { isActive($0) && !expectations.deletes.contains($0.metadata.uid) }
        let difference = -shortfall(set, pods: pods, expectations: expectations)
        if difference < 0 && createsAllowed > 0 {
            // Every create of one pass is the same write (the store names each pod and gives it its uid).
            let create = createPod(for: set)
            writes += repeatElement(create, count: min(-difference, burstMax, createsAllowed))
        } else if difference > 0 {
            for pod in deletionOrder(active, now: now).prefix(min(difference, burstMax)) {
                writes.append(deletePod(pod, owner: set))
            }
        }
        if let status = statusWrite(set, pods: pods, now: now) { writes.append(status) }
        return writes
    }

    /// Pods the set lacks beyond those being created (negative: pods to delete beyond those
    /// being deleted).
    public static func shortfall(_ set: ReplicaSet, pods: [Pod], expectations: Expectations) -> Int {
        let active = pods.filter { isActive($0) && !expectations.deletes.contains($0.metadata.uid) }.count
        return Int(set.spec.replicas ?? 1) - active - expectations.creates
    }

    /// Not finished and not being deleted: what counts toward replicas.
    public static func isActive(_ pod: Pod) -> Bool { !pod.isTerminal && !pod.isTerminating }

    /// Ready for at least `minReadySeconds` (by the Ready condition's last transition).
    public static func isAvailable(_ pod: Pod, minReadySeconds: Int32, now: MetaTime) -> Bool {
        guard pod.isReady else { return false }
        guard minReadySeconds > 0 else { return true }
        guard let since = pod.condition(PodCondition.ready)?.lastTransitionTime else { return false }
        return now.unixSeconds - since.unixSeconds >= Int64(minReadySeconds)
    }

    /// Surplus pods in the order Kubernetes deletes them: unscheduled before scheduled,
    /// pending before unknown before running, not ready before ready, ready for less time
    /// first, more restarts first, newer first.
    public static func deletionOrder(_ pods: [Pod], now: MetaTime) -> [Pod] {
        func phaseRank(_ pod: Pod) -> Int {
            switch pod.status.phase {
            case PodStatus.pending: return 0
            case PodStatus.running: return 2
            default: return 1  // Unknown (and anything else)
            }
        }
        func readySince(_ pod: Pod) -> Int64 { pod.isReady ? pod.condition(PodCondition.ready)?.lastTransitionTime?.unixSeconds ?? 0 : 0 }
        func restarts(_ pod: Pod) -> Int32 { pod.status.containerStatuses.map(\.restartCount).max() ?? 0 }
        func created(_ pod: Pod) -> Int64 { pod.metadata.creationTimestamp?.unixSeconds ?? 0 }
        return pods.sorted { a, b in
            if a.isScheduled != b.isScheduled { return !a.isScheduled }
            if phaseRank(a) != phaseRank(b) { return phaseRank(a) < phaseRank(b) }
            if a.isReady != b.isReady { return !a.isReady }
            if a.isReady, readySince(a) != readySince(b) { return readySince(a) > readySince(b) }
            if restarts(a) != restarts(b) { return restarts(a) > restarts(b) }
            if created(a) != created(b) { return created(a) > created(b) }
            return a.metadata.name < b.metadata.name
        }
    }

    /// A pod from the set's template, owned by the set (the store names it).
    static func createPod(for set: ReplicaSet) -> ControllerWrite {
        var meta = ObjectMeta()
        meta.generateName = set.metadata.name + "-"
        meta.namespace = set.metadata.namespace
        meta.labels = set.spec.template.metadata.labels
        meta.annotations = set.spec.template.metadata.annotations
        meta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: set.metadata.name,
                                               uid: set.metadata.uid, controller: true, blockOwnerDeletion: true)]
        var pod = Pod()
        pod.kind = "Pod"
        pod.apiVersion = "v1"
        pod.metadata = meta
        pod.spec = set.spec.template.spec
        let write = TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: set.metadata.namespace, body: pod.wireJSON)
        return ControllerWrite(write, .createPod(owner: set.metadata.uid),
                               event: EventRecord(.normal, "SuccessfulCreate", "Created pod: {name}", component: "replicaset-controller",
                                                  about: EventRecord.reference("ReplicaSet", apiVersion: "apps/v1", set.metadata)))
    }

    /// Deletes one pod, only if it is still the one the controller saw (by uid).
    static func deletePod(_ pod: Pod, owner set: ReplicaSet) -> ControllerWrite {
        let write = TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace,
                               name: pod.metadata.name, expectedUID: pod.metadata.uid)
        return ControllerWrite(write, .deletePod(owner: set.metadata.uid, pod: pod.metadata.uid),
                               event: EventRecord(.normal, "SuccessfulDelete", "Deleted pod: \(pod.metadata.name)", component: "replicaset-controller",
                                                  about: EventRecord.reference("ReplicaSet", apiVersion: "apps/v1", set.metadata)))
    }

    /// The set's status from its pods, written only when it changed, and only over the
    /// version the controller read (a stale leader's view fails with a conflict).
    static func statusWrite(_ set: ReplicaSet, pods: [Pod], now: MetaTime) -> ControllerWrite? {
        let active = pods.filter(isActive)
        let templateLabels = set.spec.template.metadata.labels
        var status = set.status
        status.replicas = Int32(active.count)
        status.fullyLabeledReplicas = Int32(active.filter { pod in templateLabels.allSatisfy { pod.metadata.labels[$0.key] == $0.value } }.count)
        status.readyReplicas = Int32(active.filter(\.isReady).count)
        status.availableReplicas = Int32(active.filter { isAvailable($0, minReadySeconds: set.spec.minReadySeconds, now: now) }.count)
        status.observedGeneration = set.metadata.generation
        guard status != set.status, let version = UInt64(set.metadata.resourceVersion) else { return nil }
        var updated = set
        updated.status = status
        let write = TypedWrite(verb: .update, kind: "ReplicaSet", apiVersion: "apps/v1", namespace: set.metadata.namespace,
                               name: set.metadata.name, subresource: .status, body: updated.wireJSON,
                               expectedResourceVersion: version)
        return ControllerWrite(write, .status(ObjectKey(kind: .replicaSet, namespace: set.metadata.namespace, name: set.metadata.name)))
    }
}
