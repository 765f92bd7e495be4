import JSON
import Store

// What the scheduler writes: a binding, or the pod's PodScheduled=False condition.

extension Scheduler {
    /// The binding subresource, for this pod (by uid) only.
    public static func bindingWrite(_ pod: Pod, to nodeName: String) -> ControllerWrite {
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
    public static func unschedulableWrite(_ pod: Pod, message: String, now: MetaTime) -> ControllerWrite? {
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
}
