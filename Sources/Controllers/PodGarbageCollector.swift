import Store

/// Removes pods bound to a node that no longer exists (Kubernetes' pod GC for orphaned
/// pods): nothing will ever run or stop them, and their owners replace them once they go.
public enum PodGarbageCollector {
    /// Pods removed per pass at most.
    public static let deletesPerPassMax = 50

    /// Deletes (at once, this uid only) the pods bound to nodes missing from `nodes`.
    public static func reconcile(pods: [Pod], nodes: Set<String>) -> [ControllerWrite] {
        pods.lazy.filter { $0.isScheduled && !nodes.contains($0.spec.nodeName) }.prefix(deletesPerPassMax).map { pod in
            let write = TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace, name: pod.metadata.name,
                                   expectedUID: pod.metadata.uid, gracePeriodSeconds: 0)
            return ControllerWrite(write, .update(ObjectKey(kind: .pod, namespace: pod.metadata.namespace, name: pod.metadata.name)))
        }
    }
}
