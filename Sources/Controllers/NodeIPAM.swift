import Store

/// Gives each node its pod address range (`spec.podCIDR`), as Kubernetes' node IPAM controller
/// does with `--allocate-node-cidrs`: the cluster's pod range is cut into one subnet per node
/// (a /24 of 10.244.0.0/16 by default: 256 nodes of 254 pods), and a node without one gets the
/// lowest free subnet. Its agent hands the pods' addresses out of it (the CNI host-local
/// plugin), and every other host routes it to that node. A node keeps its range for life —
/// the store refuses to change it — and a deleted node's range is free again.
public enum NodeIPAM {
    /// The cluster's pod range and the size of each node's share (flannel's and kubeadm's
    /// usual default range).
    public static let defaultClusterCIDR = "10.244.0.0/16"
    public static let defaultNodeMaskBits = 24

    /// Writes giving a range to each node that has none, in name order, over the version read;
    /// and the nodes left without one because the cluster range is used up (the runner reports
    /// each once: `exhaustedEvent`). Ranges that nodes hold (inside the cluster range or not)
    /// are never given again, nor those `claimed` by writes not yet applied (node name →
    /// range: those nodes get no second write meanwhile).
    public static func reconcile(nodes: [Node], claimed: [String: String] = [:], clusterCIDR: String = defaultClusterCIDR,
                                 nodeMaskBits: Int = defaultNodeMaskBits) -> (writes: [ControllerWrite], unassigned: [Node]) {
        guard let cluster = IPv4.parseCIDR(clusterCIDR), nodeMaskBits >= cluster.prefix, nodeMaskBits <= 30 else { return ([], []) }
        let subnetSize = UInt64(1) << UInt64(32 - nodeMaskBits)
        let subnets = UInt64(1) << UInt64(nodeMaskBits - cluster.prefix)
        var taken: Set<UInt64> = []
        for held in nodes.map(\.spec.podCIDR) + claimed.values {
            guard let range = IPv4.parseCIDR(held), range.base >= cluster.base else { continue }
            let index = UInt64(range.base - cluster.base) / subnetSize
            if index < subnets { taken.insert(index) }
        }
        var next: UInt64 = 0
        var writes: [ControllerWrite] = []
        var unassigned: [Node] = []
        for node in nodes.sorted(by: { $0.metadata.name < $1.metadata.name })
        where node.spec.podCIDR.isEmpty && claimed[node.metadata.name] == nil {
            while taken.contains(next) { next += 1 }
            guard next < subnets else {
                unassigned.append(node)
                continue
            }
            taken.insert(next)
            let cidr = IPv4.format(cluster.base + UInt32(next * subnetSize)) + "/\(nodeMaskBits)"
            writes.append(assign(cidr, to: node))
        }
        return (writes, unassigned)
    }

    static func assign(_ cidr: String, to node: Node) -> ControllerWrite {
        var updated = node
        updated.spec.podCIDR = cidr
        updated.spec.podCIDRs = [cidr]
        let write = TypedWrite(verb: .update, kind: "Node", apiVersion: "v1", name: node.metadata.name, body: updated.wireJSON,
                               expectedResourceVersion: UInt64(node.metadata.resourceVersion))
        return ControllerWrite(write, .update(ObjectKey(kind: .node, name: node.metadata.name)),
                               event: EventRecord(.normal, "CIDRAssignmentSucceeded", "Node \(node.metadata.name) was given pod range \(cidr)",
                                                  component: "cidrAllocator", about: EventRecord.reference("Node", apiVersion: "v1", node.metadata)))
    }

    /// What Kubernetes reports for a node left without a range.
    public static func exhaustedEvent(_ node: Node, clusterCIDR: String = defaultClusterCIDR) -> EventRecord {
        EventRecord(.warning, "CIDRNotAvailable", "Node \(node.metadata.name) status is now: CIDRNotAvailable (\(clusterCIDR) is used up)",
                    component: "cidrAllocator", about: EventRecord.reference("Node", apiVersion: "v1", node.metadata))
    }
}
