@testable import Controllers
import JSON
import Store

/// Typed objects for controller tests, built as the store would hold them.
enum Fixture {
    static func node(_ name: String, cpu: String = "2", memory: String = "4Gi", pods: Int64 = 110, ready: Bool = true,
                     labels: [String: String] = [:], taints: [Taint] = [], unschedulable: Bool = false) -> Node {
        var node = Node()
        node.kind = "Node"
        node.apiVersion = "v1"
        node.metadata.name = name
        node.metadata.labels = labels
        node.spec.taints = taints
        node.spec.unschedulable = unschedulable
        node.status.allocatable = ["cpu": Quantity(cpu)!, "memory": Quantity(memory)!, "pods": Quantity(units: pods)]
        node.status.capacity = node.status.allocatable
        node.status.conditions = [NodeCondition(type: NodeCondition.ready, status: ready ? "True" : "False")]
        return node
    }

    static func pod(_ name: String, namespace: String = "default", cpu: String? = nil, memory: String? = nil,
                    node: String = "", owner: ReplicaSet? = nil, phase: String = PodStatus.pending, ready: Bool = false,
                    readySince: Int64 = 0, created: Int64 = 0, hostPort: Int32 = 0, labels: [String: String] = [:]) -> Pod {
        var pod = Pod()
        pod.kind = "Pod"
        pod.apiVersion = "v1"
        pod.metadata.name = name
        pod.metadata.namespace = namespace
        pod.metadata.uid = "uid-\(name)"
        pod.metadata.labels = labels
        pod.metadata.creationTimestamp = MetaTime(unixSeconds: created)
        if let owner {
            pod.metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: owner.metadata.name,
                                                           uid: owner.metadata.uid, controller: true)]
        }
        var container = Container()
        container.name = "app"
        container.image = "registry.local/app:1"
        if let cpu { container.resources.requests["cpu"] = Quantity(cpu)! }
        if let memory { container.resources.requests["memory"] = Quantity(memory)! }
        if hostPort > 0 {
            var port = ContainerPort(containerPort: 80)
            port.hostPort = hostPort
            container.ports = [port]
        }
        pod.spec.containers = [container]
        pod.spec.nodeName = node
        pod.status.phase = phase
        if ready {
            pod.status.conditions = [PodCondition(type: PodCondition.ready, status: "True", lastTransitionTime: MetaTime(unixSeconds: readySince))]
        }
        return pod
    }

    static func replicaSet(_ name: String, replicas: Int32, minReadySeconds: Int32 = 0) -> ReplicaSet {
        var set = ReplicaSet()
        set.kind = "ReplicaSet"
        set.apiVersion = "apps/v1"
        set.metadata.name = name
        set.metadata.namespace = "default"
        set.metadata.uid = "uid-\(name)"
        set.metadata.resourceVersion = "7"
        set.metadata.generation = 1
        set.spec.replicas = replicas
        set.spec.minReadySeconds = minReadySeconds
        set.spec.template.metadata.labels = ["app": name]
        var container = Container()
        container.name = "app"
        container.image = "registry.local/app:1"
        set.spec.template.spec.containers = [container]
        return set
    }

    static func usage(_ pods: [Pod]) -> [String: NodeUsage] {
        var usage: [String: NodeUsage] = [:]
        for pod in pods where pod.isScheduled { usage[pod.spec.nodeName, default: NodeUsage()].add(pod) }
        return usage
    }
}
