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

    /// How many feasible nodes one placement looks for before it picks the best of them:
    /// kube-scheduler's adaptive default (percentageOfNodesToScore) — every node up to 100,
    /// beyond that (50 - nodes/125)% of them (at least 5%), and never fewer than 100.
    /// Evaluating all 1,000 nodes for each of 10,000 pods would spend the leader's processor
    /// on choices no better than these.
    public static func feasibleNodesToFind(_ total: Int) -> Int {
        guard total > minFeasibleNodes else { return total }
        let percent = max(5, 50 - total / 125)
        return max(minFeasibleNodes, total * percent / 100)
    }
    static let minFeasibleNodes = 100

    /// Places `pod` on one of `nodes` given what is bound to each (`usage`, including pods
    /// the leader bound and the cache has not seen yet).
    public static func place(_ pod: Pod, nodes: [Node], usage: [String: NodeUsage]) -> Placement {
        var round = Round(nodes: nodes, usage: usage)
        return round.place(pod)
    }

    /// One pass's placements: the nodes' allocatable amounts read once, usage updated as pods
    /// are placed (the next pod sees them), and each search starting where the last one
    /// stopped (as kube-scheduler does), so a partial search still spreads over every node.
    public struct Round {
        /// What the filters and scores read of a node, taken out once per round (reading
        /// allocatable parses quantities; copying a whole Node per look cost more than the look).
        struct Candidate {
            let name: String
            let labels: [String: String]
            let taints: [Taint]
            let unschedulable: Bool
            let ready: Bool
            let cpuMilli: Int64
            let memoryBytes: Int64
            let pods: Int64
        }

        private var candidates: [Candidate]
        private var usage: [NodeUsage]
        /// Per controlling owner uid: its pods per candidate index (built on first use).
        private var ownerCounts: [String: [Int: Int]] = [:]
        private var nextStart = 0
        private let toFind: Int

        /// `nodes` in any order (they are examined by name); `usage` by node name.
        public init(nodes: [Node], usage: [String: NodeUsage]) {
            candidates = nodes.sorted { $0.metadata.name < $1.metadata.name }.map {
                Candidate(name: $0.metadata.name, labels: $0.metadata.labels,
                          taints: $0.spec.taints.filter { $0.effect == Taint.noSchedule || $0.effect == Taint.noExecute },
                          unschedulable: $0.spec.unschedulable, ready: $0.isReady, cpuMilli: $0.allocatableCPUMilli,
                          memoryBytes: $0.allocatableMemoryBytes, pods: $0.allocatablePods)
            }
            self.usage = candidates.map { usage[$0.name] ?? NodeUsage() }
            toFind = Scheduler.feasibleNodesToFind(candidates.count)
        }

        /// Where `pod` goes; a placed pod counts as using its node from now on.
        public mutating func place(_ pod: Pod) -> Placement {
            var failures: [String: Int] = [:]
            var best: (score: Int64, index: Int)?
            let requests = pod.spec.totalRequests
            let owner = pod.controllerReference?.uid
            let ports = pod.hostPorts
            if let owner, ownerCounts[owner] == nil {
                var counts: [Int: Int] = [:]
                for i in usage.indices { if let n = usage[i].byOwner[owner] { counts[i] = n } }
                ownerCounts[owner] = counts
            }
            var found = 0
            var examined = 0
            while examined < candidates.count && found < toFind {
                let i = (nextStart + examined) % candidates.count
                examined += 1
                if let reason = filter(pod, requests: requests, ports: ports, on: i) {
                    failures[reason, default: 0] += 1
                    continue
                }
                found += 1
                let sameOwner = owner.flatMap { ownerCounts[$0]?[i] } ?? 0
                let score = leastAllocatedWeight * leastAllocated(requests, on: i)
                    + spreadWeight * (owner == nil ? 100 : 100 / Int64(1 + sameOwner))
                if best == nil || score > best!.score || (score == best!.score && candidates[i].name < candidates[best!.index].name) {
                    best = (score, i)
                }
            }
            if !candidates.isEmpty { nextStart = (nextStart + examined) % candidates.count }
            if let best {
                usage[best.index].add(pod)
                if let owner { ownerCounts[owner]![best.index, default: 0] += 1 }
                return .node(candidates[best.index].name)
            }
            let reasons = failures.map { "\($0.value) \($0.key)" }.sorted()
            let detail = reasons.isEmpty ? "no nodes registered" : reasons.joined(separator: ", ")
            return .unschedulable("0/\(candidates.count) nodes are available: \(detail).")
        }

        /// The first filter candidate `i` fails for `pod`, or nil when the pod fits.
        private func filter(_ pod: Pod, requests: PodResourceAmounts, ports: [String], on i: Int) -> String? {
            if candidates[i].unschedulable
                && !pod.spec.tolerations.contains(where: { $0.tolerates(Taint(key: Taint.unschedulableKey, effect: Taint.noSchedule)) }) {
                return Reason.unschedulable
            }
            for taint in candidates[i].taints where !pod.spec.tolerations.contains(where: { $0.tolerates(taint) }) {
                return Reason.taint(taint)
            }
            if !candidates[i].ready { return Reason.notReady }
            if !matchesNodeSelector(pod, labels: candidates[i].labels, name: candidates[i].name) { return Reason.affinity }
            if !ports.isEmpty && ports.contains(where: { conflicts($0, usage[i].hostPorts) }) { return Reason.ports }
            if Int64(usage[i].pods) + 1 > candidates[i].pods { return Reason.pods }
            if requests.cpuMilli > 0 && usage[i].cpuMilli + requests.cpuMilli > candidates[i].cpuMilli { return Reason.cpu }
            if requests.memoryBytes > 0 && usage[i].memoryBytes + requests.memoryBytes > candidates[i].memoryBytes { return Reason.memory }
            return nil
        }

        /// 0-100: the share of cpu and memory left free on candidate `i` after placing the pod (more is better).
        private func leastAllocated(_ requests: PodResourceAmounts, on i: Int) -> Int64 {
            func free(_ used: Int64, _ asked: Int64, _ allocatable: Int64) -> Int64 {
                guard allocatable > 0 else { return 0 }
                return max(0, allocatable - used - asked) * 100 / allocatable
            }
            return (free(usage[i].cpuMilli, requests.cpuMilli, candidates[i].cpuMilli)
                + free(usage[i].memoryBytes, requests.memoryBytes, candidates[i].memoryBytes)) / 2
        }
    }

    /// `nodeSelector` and the required node affinity (any one term; every expression of it).
    static func matchesNodeSelector(_ pod: Pod, labels: [String: String], name: String) -> Bool {
        for (key, value) in pod.spec.nodeSelector where labels[key] != value { return false }
        guard let required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
              !required.nodeSelectorTerms.isEmpty else { return true }
        return required.nodeSelectorTerms.contains { term in
            guard !term.matchExpressions.isEmpty || !term.matchFields.isEmpty else { return false }
            return term.matchExpressions.allSatisfy { $0.matches(labels) }
                && term.matchFields.allSatisfy { $0.matches(["metadata.name": name]) }
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
