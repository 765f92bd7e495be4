import Store

/// Where a pending pod goes: a pipeline of filters (a node must pass all) and scores (the
/// best-scoring node wins), as Kubernetes' scheduler does, over the leader's cache. Pure: the
/// same pod, nodes and usage give the same answer (ties go to the node whose name sorts
/// first), so the simulator replays it.
public enum Scheduler {
    /// The outcome for one pod.
    public enum Placement: Equatable, Sendable {
        case node(String)
        /// No node passes the filters: the message users know from Kubernetes
        /// ("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable.").
        case unschedulable(String)
    }

    /// Why a node failed, in Kubernetes' words (the message counts nodes per reason).
    public enum Reason {
        static let unschedulable = "node(s) were unschedulable"
        static let notReady = "node(s) were not ready"
        static let affinity = "node(s) didn't match Pod's node affinity/selector"
        static let ports = "node(s) didn't have free ports for the requested pod ports"
        static let cpu = "Insufficient cpu"
        static let memory = "Insufficient memory"
        static let pods = "Too many pods"
        static func taint(_ taint: Taint) -> String { "node(s) had untolerated taint {\(taint.key): \(taint.value)}" }
    }

    /// Score weights: how much free capacity counts against spreading one owner's pods.
    static let leastAllocatedWeight: Int64 = 1
    static let spreadWeight: Int64 = 2

    /// Places `pod` on one of `nodes` given what is bound to each (`usage`, including pods
    /// the leader bound and the cache has not seen yet).
    public static func place(_ pod: Pod, nodes: [Node], usage: [String: NodeUsage]) -> Placement {
        var failures: [String: Int] = [:]
        var best: (score: Int64, name: String)?
        let requests = pod.spec.totalRequests
        let owner = pod.controllerReference?.uid
        let ports = pod.hostPorts
        for node in nodes {
            let used = usage[node.metadata.name] ?? NodeUsage()
            if let reason = filter(pod, requests: requests, ports: ports, on: node, used: used) {
                failures[reason, default: 0] += 1
                continue
            }
            let score = leastAllocatedWeight * leastAllocated(requests, on: node, used: used)
                + spreadWeight * spread(owner, used: used)
            if best == nil || score > best!.score || (score == best!.score && node.metadata.name < best!.name) {
                best = (score, node.metadata.name)
            }
        }
        if let best { return .node(best.name) }
        let reasons = failures.map { "\($0.value) \($0.key)" }.sorted()
        let detail = reasons.isEmpty ? "no nodes registered" : reasons.joined(separator: ", ")
        return .unschedulable("0/\(nodes.count) nodes are available: \(detail).")
    }

    /// The first filter `node` fails for `pod`, or nil when the pod fits.
    static func filter(_ pod: Pod, requests: PodResourceAmounts, ports: [String], on node: Node, used: NodeUsage) -> String? {
        if node.spec.unschedulable && !pod.spec.tolerations.contains(where: { $0.tolerates(Taint(key: Taint.unschedulableKey, effect: Taint.noSchedule)) }) {
            return Reason.unschedulable
        }
        for taint in node.spec.taints where taint.effect == Taint.noSchedule || taint.effect == Taint.noExecute {
            if !pod.spec.tolerations.contains(where: { $0.tolerates(taint) }) { return Reason.taint(taint) }
        }
        if !node.isReady { return Reason.notReady }
        if !matchesNodeSelector(pod, node) { return Reason.affinity }
        if ports.contains(where: { conflicts($0, used.hostPorts) }) { return Reason.ports }
        if used.pods + 1 > node.allocatablePods { return Reason.pods }
        if requests.cpuMilli > 0 && used.cpuMilli + requests.cpuMilli > node.allocatableCPUMilli { return Reason.cpu }
        if requests.memoryBytes > 0 && used.memoryBytes + requests.memoryBytes > node.allocatableMemoryBytes { return Reason.memory }
        return nil
    }

    /// `nodeSelector` and the required node affinity (any one term; every expression of it).
    static func matchesNodeSelector(_ pod: Pod, _ node: Node) -> Bool {
        let labels = node.metadata.labels
        for (key, value) in pod.spec.nodeSelector where labels[key] != value { return false }
        guard let required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
              !required.nodeSelectorTerms.isEmpty else { return true }
        return required.nodeSelectorTerms.contains { term in
            guard !term.matchExpressions.isEmpty || !term.matchFields.isEmpty else { return false }
            return term.matchExpressions.allSatisfy { $0.matches(labels) }
                && term.matchFields.allSatisfy { $0.matches(["metadata.name": node.metadata.name]) }
        }
    }

    /// A host port taken on any address conflicts with every address, and the reverse.
    static func conflicts(_ port: String, _ used: [String: Int]) -> Bool {
        let parts = port.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        if used[port] != nil { return true }
        if parts[1] == "0.0.0.0" { return used.keys.contains { $0.hasPrefix("\(parts[0])/") && $0.hasSuffix("/\(parts[2])") } }
        return used["\(parts[0])/0.0.0.0/\(parts[2])"] != nil
    }

    /// 0-100: the share of cpu and memory left free after placing the pod (more is better).
    static func leastAllocated(_ requests: PodResourceAmounts, on node: Node, used: NodeUsage) -> Int64 {
        func free(_ used: Int64, _ asked: Int64, _ allocatable: Int64) -> Int64 {
            guard allocatable > 0 else { return 0 }
            return max(0, allocatable - used - asked) * 100 / allocatable
        }
        return (free(used.cpuMilli, requests.cpuMilli, node.allocatableCPUMilli)
                + free(used.memoryBytes, requests.memoryBytes, node.allocatableMemoryBytes)) / 2
    }

    /// 0-100: fewer pods of the same owner on the node is better (spreads replicas over hosts).
    static func spread(_ owner: String?, used: NodeUsage) -> Int64 {
        guard let owner else { return 100 }
        return 100 / Int64(1 + (used.byOwner[owner] ?? 0))
    }
}

extension NodeSelectorRequirement {
    /// Kubernetes' node selector operators: In, NotIn, Exists, DoesNotExist, Gt, Lt.
    public func matches(_ labels: [String: String]) -> Bool {
        let value = labels[key]
        switch self.operator {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let value, let have = Int64(value), values.count == 1, let bound = Int64(values[0]) else { return false }
            return self.operator == "Gt" ? have > bound : have < bound
        default: return false
        }
    }
}
