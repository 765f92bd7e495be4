import Store

/// Notices dead hosts and moves their work, as Kubernetes' node lifecycle controller and taint
/// manager do, in about a second instead of 40-50 s: a node not heard from for
/// `graceMilliseconds` (by its Lease, or — for members — by the leader's Raft contact alone)
/// gets Ready=Unknown and the `unreachable` taints; its pods' Ready goes False at
/// once (services stop sending to them); pods are evicted when their toleration of the taint
/// runs out. A node heard from again gets its taints removed and Ready back.
public enum NodeLifecycle {
    /// Silence after which a node counts as unreachable, in milliseconds (a member's: the
    /// leader hears from members through Raft every heartbeat).
    public static let graceMilliseconds: Int64 = 1_000

    /// The grace of a node that is not a member (the leader hears from it only through its
    /// Lease), in milliseconds: the lease's own duration — its holder promised to renew it
    /// within that — and never less than `graceMilliseconds`.
    public static func grace(leaseDurationSeconds: Int32?) -> Int64 {
        max(graceMilliseconds, Int64(max(0, leaseDurationSeconds ?? 0)) * 1_000)
    }
    /// More than this share of nodes unreachable looks like a partition of the leader or a
    /// cluster-wide outage, not dead hosts: evictions stop (Kubernetes' unhealthy-zone rule).
    public static let disruptionShare = 0.55
    /// Pods evicted per pass at most (a flapping network must not empty the cluster at once).
    public static let evictionsPerPassMax = 10

    static let unreachableTaints = [Taint(key: Taint.unreachableKey, effect: Taint.noExecute),
                                    Taint(key: Taint.unreachableKey, effect: Taint.noSchedule)]

    /// One pass over one node. `overdueMilliseconds`: how long its silence has outlasted its
    /// grace (0 or less: heard from in time); `evictionBudget`: evictions this pass may still
    /// make (0 while the cluster looks disrupted).
    public static func reconcile(_ node: Node, overdueMilliseconds: Int64, pods: [Pod], now: MetaTime,
                                 evictionBudget: inout Int) -> [ControllerWrite] {
        let key = ObjectKey(kind: .node, name: node.metadata.name)
        let tainted = node.spec.taints.filter { $0.key == Taint.unreachableKey }
        let ready = node.condition(NodeCondition.ready)
        if overdueMilliseconds <= 0 {
            // Heard from: lift the taints, then report Ready again.
            if !tainted.isEmpty {
                var updated = node
                updated.spec.taints.removeAll { $0.key == Taint.unreachableKey }
                return [nodeUpdate(updated, key)]
            }
            if ready?.status == "Unknown" {
                return [nodeStatus(node, key, ready: "True", reason: "KubeletReady", message: "shoal is posting ready status", now: now)]
            }
            return []
        }
        // Not heard from: taints first, then the condition, then the pods.
        if tainted.count < unreachableTaints.count {
            var updated = node
            updated.spec.taints.removeAll { $0.key == Taint.unreachableKey }
            for taint in unreachableTaints {
                var stamped = taint
                if taint.effect == Taint.noExecute { stamped.timeAdded = now }
                updated.spec.taints.append(stamped)
            }
            return [nodeUpdate(updated, key)]
        }
        if ready?.status != "Unknown" {
            var write = nodeStatus(node, key, ready: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status.", now: now)
            write.event = EventRecord(.normal, "NodeNotReady", "Node \(node.metadata.name) status is now: NodeNotReady",
                                      component: "node-controller", about: EventRecord.reference("Node", apiVersion: "v1", node.metadata))
            // Its pods (terminating ones too) serve nothing from now on: NotReady together
            // with the node (as Kubernetes' MarkPodsNotReady), not after, so no later eviction
            // skips it.
            let notReady = pods.filter { !$0.isTerminal && $0.condition(PodCondition.ready)?.status != "False" }
            return [write] + notReady.compactMap { podNotReady($0, now: now) }
        }
        let taintedAt = tainted.first { $0.effect == Taint.noExecute }?.timeAdded ?? now
        var writes: [ControllerWrite] = []
        for pod in pods where !pod.isTerminal && !pod.isTerminating {
            if let deadline = evictionTime(pod, taintedAt: taintedAt), now >= deadline {
                guard evictionBudget > 0 else { continue }
                evictionBudget -= 1
                let write = TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace,
                                       name: pod.metadata.name, expectedUID: pod.metadata.uid)
                writes.append(ControllerWrite(write, .update(ObjectKey(kind: .pod, namespace: pod.metadata.namespace, name: pod.metadata.name)),
                                              event: EventRecord(.normal, "TaintManagerEviction",
                                                                 "Marking for deletion Pod \(pod.metadata.namespace)/\(pod.metadata.name)",
                                                                 component: "taint-eviction-controller",
                                                                 about: EventRecord.reference("Pod", apiVersion: "v1", pod.metadata))))
            } else if pod.condition(PodCondition.ready)?.status != "False", let write = podNotReady(pod, now: now) {
                writes.append(write)
            }
        }
        return writes
    }

    /// When the pod must leave a node tainted unreachable at `taintedAt`: at once without a
    /// toleration, after its `tolerationSeconds`, never with a toleration without a limit.
    static func evictionTime(_ pod: Pod, taintedAt: MetaTime) -> MetaTime? {
        let taint = Taint(key: Taint.unreachableKey, effect: Taint.noExecute)
        let tolerations = pod.spec.tolerations.filter { $0.tolerates(taint) }
        guard !tolerations.isEmpty else { return taintedAt }
        guard tolerations.allSatisfy({ $0.tolerationSeconds != nil }) else { return nil }
        let seconds = tolerations.compactMap(\.tolerationSeconds).max() ?? 0
        return MetaTime(unixSeconds: taintedAt.unixSeconds + max(0, seconds))
    }

    static func nodeUpdate(_ node: Node, _ key: ObjectKey) -> ControllerWrite {
        let write = TypedWrite(verb: .update, kind: "Node", apiVersion: "v1", name: node.metadata.name, body: node.wireJSON,
                               expectedResourceVersion: UInt64(node.metadata.resourceVersion))
        return ControllerWrite(write, .update(key))
    }

    static func nodeStatus(_ node: Node, _ key: ObjectKey, ready: String, reason: String, message: String, now: MetaTime) -> ControllerWrite {
        var updated = node
        let old = node.condition(NodeCondition.ready)
        updated.status.conditions.removeAll { $0.type == NodeCondition.ready }
        updated.status.conditions.append(NodeCondition(type: NodeCondition.ready, status: ready, lastHeartbeatTime: old?.lastHeartbeatTime,
                                                       lastTransitionTime: now, reason: reason, message: message))
        let write = TypedWrite(verb: .update, kind: "Node", apiVersion: "v1", name: node.metadata.name, subresource: .status,
                               body: updated.wireJSON, expectedResourceVersion: UInt64(node.metadata.resourceVersion))
        return ControllerWrite(write, .status(key))
    }

    /// The pod's Ready condition False: its node is not heard from.
    static func podNotReady(_ pod: Pod, now: MetaTime) -> ControllerWrite? {
        guard let version = UInt64(pod.metadata.resourceVersion) else { return nil }
        var updated = pod
        updated.status.conditions.removeAll { $0.type == PodCondition.ready }
        updated.status.conditions.append(PodCondition(type: PodCondition.ready, status: "False", lastTransitionTime: now,
                                                      reason: "NodeNotReady", message: "the pod's node is not heard from"))
        let write = TypedWrite(verb: .update, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace, name: pod.metadata.name,
                               subresource: .status, body: updated.wireJSON, expectedResourceVersion: version)
        return ControllerWrite(write, .status(ObjectKey(kind: .pod, namespace: pod.metadata.namespace, name: pod.metadata.name)))
    }
}
