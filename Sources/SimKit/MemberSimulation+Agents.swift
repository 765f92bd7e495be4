import API
import JSON
import Server
import Store

/// Simulated node agents (like Kubernetes' hollow kubelets): each host registers its Node
/// and reports the pods bound to it Running and Ready, through its own member, as a real
/// agent will — so the leader's scheduler and ReplicaSet controller run against nodes and
/// pods that come and go with the faults.
extension MemberSimulation {
    /// Node size: small (2 cpu, 4 GiB, 6 pods; the workload asks for at most 12 pods of 300m
    /// and a Deployment's 3 + 1 of 100m), so the scheduler's filters matter.
    static let nodeCPUs = 2
    static let nodeMemoryBytes: Int64 = 4 << 30
    static let nodePods: Int64 = 6

    /// One round of every running host's pod agent (every `agentIntervalMilliseconds`): the
    /// member registers its Node and renews its Lease itself (`Member+Node.swift`); this
    /// stands in for the kubelet, which the agent issue builds.
    func runAgents() {
        for id in ids {
            guard let host = members[id], let member = host.member, member.store.clusterVersion >= 2 else { continue }
            let nodeName = member.memberName
            for object in member.store.list(.pod).items {
                guard let pod = Pod(object), pod.spec.nodeName == nodeName else { continue }
                if pod.isTerminating {
                    stopPod(pod, on: host, member)
                } else if pod.status.phase == PodStatus.pending || !pod.isReady {
                    startPod(pod, on: host, member)
                }
            }
        }
    }

    /// A pod being deleted has stopped: the agent confirms (delete with no grace, this uid).
    private func stopPod(_ pod: Pod, on host: SimMember, _ member: Member) {
        let key = ObjectKey(kind: .pod, namespace: pod.metadata.namespace, name: pod.metadata.name)
        guard !host.podWritesInFlight.contains(key) else { return }
        host.podWritesInFlight.insert(key)
        let write = TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace, name: pod.metadata.name,
                               expectedUID: pod.metadata.uid, gracePeriodSeconds: 0)
        let run = host.run
        member.propose(.typed(write)) { [unowned self] _ in
            guard self.members[host.id]!.run == run else { return }
            host.podWritesInFlight.remove(key)
        }
    }

    /// Reports a bound pod Running and Ready (over the version read: a stale view fails).
    private func startPod(_ pod: Pod, on host: SimMember, _ member: Member) {
        let key = ObjectKey(kind: .pod, namespace: pod.metadata.namespace, name: pod.metadata.name)
        guard !host.podWritesInFlight.contains(key), let version = UInt64(pod.metadata.resourceVersion) else { return }
        host.podWritesInFlight.insert(key)
        var running = pod
        let now = MetaTime(unixSeconds: Self.epochSeconds + Int64(self.now / 1_000))
        running.status.phase = PodStatus.running
        running.status.hostIP = host.address
        running.status.podIP = "10.244.\(ids.firstIndex(of: host.id)! + 1).\(1 + random.below(250))"
        running.status.startTime = now
        running.status.conditions.removeAll { $0.type == PodCondition.ready }
        running.status.conditions.append(PodCondition(type: PodCondition.ready, status: "True", lastTransitionTime: now))
        let write = TypedWrite(verb: .update, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace, name: pod.metadata.name,
                               subresource: .status, body: running.wireJSON, expectedResourceVersion: version)
        let run = host.run
        member.propose(.typed(write)) { [unowned self] _ in
            guard self.members[host.id]!.run == run else { return }
            host.podWritesInFlight.remove(key)
        }
    }

    /// The cluster's placement holds on the store of the first running member: no node has
    /// more bound (unfinished) pods' requests than it offers, and no ReplicaSet more active
    /// pods than it asks for (sets only grow here, so an extra pod is a double create).
    func checkPlacement() {
        guard let member = ids.compactMap({ members[$0]!.member }).first else { return }
        checkRollout(member)
        for object in member.store.list(.replicaSet).items {
            // Sets of a Deployment shrink during rollouts: `checkRollout` bounds those.
            guard let set = ReplicaSet(object), !set.metadata.ownerReferences.contains(where: { $0.controller == true }) else { continue }
            let active = member.store.list(.pod, namespace: set.metadata.namespace).items.compactMap(Pod.init).filter {
                $0.controllerReference?.uid == set.metadata.uid && !$0.isTerminal && !$0.isTerminating
            }
            if active.count > Int(set.spec.replicas ?? 1) {
                checker.report("extra pods", "ReplicaSet \(set.metadata.name) asks for \(set.spec.replicas ?? 1) pods and has \(active.count) (\(active.sorted { $0.metadata.name < $1.metadata.name }.map { "\($0.metadata.name) created \($0.metadata.creationTimestamp?.description ?? "?")" }.joined(separator: ", "))) at index \(member.store.revision) (the set: version \(set.metadata.resourceVersion), generation \(set.metadata.generation))")
            }
        }
        var used: [String: PodResourceAmounts] = [:]
        var counts: [String: Int64] = [:]
        for object in member.store.list(.pod).items {
            guard let pod = Pod(object), pod.isScheduled, !pod.isTerminal else { continue }
            let requests = pod.spec.totalRequests
            let sum = used[pod.spec.nodeName] ?? PodResourceAmounts()
            used[pod.spec.nodeName] = PodResourceAmounts(cpuMilli: sum.cpuMilli + requests.cpuMilli, memoryBytes: sum.memoryBytes + requests.memoryBytes)
            counts[pod.spec.nodeName, default: 0] += 1
        }
        for (nodeName, amounts) in used.sorted(by: { $0.key < $1.key }) {
            guard let node = member.store.get(ObjectKey(kind: .node, name: nodeName)).flatMap(Node.init) else { continue }
            if amounts.cpuMilli > node.allocatableCPUMilli || amounts.memoryBytes > node.allocatableMemoryBytes
                || counts[nodeName]! > node.allocatablePods {
                checker.report("overcommitted node", "\(nodeName) holds pods asking \(amounts.cpuMilli)m cpu, \(amounts.memoryBytes) bytes, \(counts[nodeName]!) pods; it offers \(node.allocatableCPUMilli)m, \(node.allocatableMemoryBytes), \(node.allocatablePods)")
            }
        }
    }

    /// While the Deployment rolls (its count fixed, hosts healthy in this respect: pods stay
    /// ready), it never runs more than replicas + maxSurge pods, and once it was fully
    /// available, never fewer than replicas - maxUnavailable ready ones.
    func checkRollout(_ member: Member) {
        guard let deployment = member.store.get(ObjectKey(kind: .deployment, namespace: SimWorkload.namespace, name: SimWorkload.deploymentName))
            .flatMap(Deployment.init) else { return }
        let sets = Set(member.store.list(.replicaSet).items.compactMap(ReplicaSet.init)
            .filter { $0.metadata.ownerReferences.contains { $0.controller == true && $0.uid == deployment.metadata.uid } }.map(\.metadata.uid))
        let pods = member.store.list(.pod, namespace: SimWorkload.namespace).items.compactMap(Pod.init).filter {
            $0.controllerReference.map { sets.contains($0.uid) } ?? false
        }
        let active = pods.filter { !$0.isTerminal && !$0.isTerminating }
        let ready = active.filter(\.isReady).count
        let replicas = Int(deployment.spec.replicas ?? 1)
        if active.count > replicas + Int(SimWorkload.deploymentSurge) {
            checker.report("rollout surge", "Deployment \(deployment.metadata.name) runs \(active.count) pods, more than \(replicas) + maxSurge \(SimWorkload.deploymentSurge), at index \(member.store.revision)")
        }
        // Availability is promised on healthy hosts: while a host is down or cut off (or its
        // node still carries the marks of it), its pods may be unready; the promise holds
        // again once every pod is ready after the hosts recover.
        let healthy = ids.allSatisfy { members[$0]!.isUp } && network.cut.isEmpty
            && member.store.list(.node).items.compactMap(Node.init).allSatisfy { $0.isReady && $0.spec.taints.isEmpty }
        if !healthy { workload.deploymentWasAvailable = false }
        for node in member.store.list(.node).items.compactMap(Node.init) where node.spec.taints.contains(where: { $0.key == Taint.unreachableKey }) {
            if workload.taintedNodes.insert(node.metadata.name).inserted { note("\(node.metadata.name) tainted unreachable") }
        }
        if healthy && workload.deploymentWasAvailable && ready < replicas - Int(SimWorkload.deploymentUnavailable) {
            checker.report("rollout availability", "Deployment \(deployment.metadata.name) has \(ready) ready pods, fewer than \(replicas) - maxUnavailable \(SimWorkload.deploymentUnavailable), at index \(member.store.revision)")
        }
        if healthy && ready >= replicas { workload.deploymentWasAvailable = true }
    }

    /// The Deployment finished its last rollout: every pod of the current template, ready,
    /// the old sets empty, and its status says so.
    func deploymentConverged(_ member: Member) -> Bool {
        guard let deployment = member.store.get(ObjectKey(kind: .deployment, namespace: SimWorkload.namespace, name: SimWorkload.deploymentName))
            .flatMap(Deployment.init) else { return true }  // its create may have been lost with a crashed member
        let replicas = deployment.spec.replicas ?? 1
        let status = deployment.status
        return status.observedGeneration == deployment.metadata.generation && status.updatedReplicas == replicas
            && status.replicas == replicas && status.availableReplicas == replicas
    }

    /// Each ReplicaSet's count, status and pods, for a convergence failure's report.
    func replicaSetSummary(_ member: Member) -> String {
        member.store.list(.replicaSet).items.compactMap(ReplicaSet.init).map { set in
            let pods = member.store.list(.pod, namespace: set.metadata.namespace).items.compactMap(Pod.init).filter {
                $0.controllerReference?.uid == set.metadata.uid
            }
            let described = pods.map { pod in
                "\(pod.metadata.name)@\(pod.spec.nodeName.isEmpty ? "-" : pod.spec.nodeName) \(pod.status.phase)\(pod.isReady ? " ready" : "")\(pod.isTerminating ? " terminating" : "")"
                    + (pod.condition(PodCondition.podScheduled)?.status == "False" ? " (\(pod.condition(PodCondition.podScheduled)!.message))" : "")
            }
            return "\(set.metadata.name) wants \(set.spec.replicas ?? 1), status \(set.status.replicas)/\(set.status.readyReplicas) gen \(set.status.observedGeneration)/\(set.metadata.generation): \(described.joined(separator: ", "))"
        }.joined(separator: "; ")
    }

    /// Every ReplicaSet that was not deleted has as many running, bound pods as it asks for,
    /// and says so in its status.
    func replicaSetsConverged(_ member: Member) -> Bool {
        for object in member.store.list(.replicaSet).items {
            guard let set = ReplicaSet(object), set.metadata.deletionTimestamp == nil else { continue }
            let pods = member.store.list(.pod, namespace: set.metadata.namespace).items.compactMap(Pod.init).filter {
                $0.controllerReference?.uid == set.metadata.uid && !$0.isTerminal && !$0.isTerminating
            }
            let want = Int(set.spec.replicas ?? 1)
            guard pods.count == want, pods.allSatisfy({ $0.isScheduled && $0.isReady }), set.status.replicas == Int32(want),
                  set.status.readyReplicas == Int32(want), set.status.observedGeneration == set.metadata.generation else { return false }
        }
        return true
    }
}

extension SimWorkload {
    static let deploymentName = "rollout"
    static let deploymentSurge: Int64 = 1
    static let deploymentUnavailable: Int64 = 1

    /// The Deployment the workload rolls: 3 pods of 100m, maxSurge 1, maxUnavailable 1.
    func createDeployment(through id: UInt64, in world: MemberSimulation) {
        deploymentCreated = true
        let write = TypedWrite(verb: .create, kind: "Deployment", apiVersion: "apps/v1", namespace: Self.namespace,
                               name: Self.deploymentName, body: Self.deploymentBody(image: "registry.local/rollout:0"))
        world.members[id]!.member!.propose(.typed(write)) { [unowned world] result in
            world.note("create deployment via \(world.members[id]!.address): \(Self.summary(result))")
            if case .success(.created) = result {} else { world.workload.deploymentCreated = false }
        }
    }

    /// A new image: a rollout.
    func rollDeployment(through id: UInt64, in world: MemberSimulation) {
        deploymentImages += 1
        let image = "registry.local/rollout:\(deploymentImages)"
        let patch: JSONValue = .object(JSONObject([("spec", .object(JSONObject([("template", .object(JSONObject([
            ("spec", .object(JSONObject([("containers", .array([.object(JSONObject([("name", "app"), ("image", .string(image))]))]))]))),
        ])))])))]))
        let write = TypedWrite(verb: .patch, kind: "Deployment", apiVersion: "apps/v1", namespace: Self.namespace, name: Self.deploymentName,
                               body: patch, patchType: .strategic)
        world.members[id]!.member!.propose(.typed(write)) { [unowned world] result in
            world.note("roll the deployment to \(image) via \(world.members[id]!.address): \(Self.summary(result))")
        }
    }

    static func deploymentBody(image: String) -> JSONValue {
        let labels: JSONValue = .object(JSONObject([("app", "rollout")]))
        let container: JSONValue = .object(JSONObject([
            ("name", "app"), ("image", .string(image)),
            ("resources", .object(JSONObject([("requests", .object(JSONObject([("cpu", "100m")])))]))),
        ]))
        return .object(JSONObject([
            ("apiVersion", "apps/v1"), ("kind", "Deployment"),
            ("metadata", .object(JSONObject([("name", .string(deploymentName))]))),
            ("spec", .object(JSONObject([
                ("replicas", 3),
                ("selector", .object(JSONObject([("matchLabels", labels)]))),
                ("strategy", .object(JSONObject([("type", "RollingUpdate"), ("rollingUpdate", .object(JSONObject([
                    ("maxSurge", .int(deploymentSurge)), ("maxUnavailable", .int(deploymentUnavailable)),
                ])))]))),
                ("template", .object(JSONObject([
                    ("metadata", .object(JSONObject([("labels", labels)]))),
                    ("spec", .object(JSONObject([("containers", .array([container]))]))),
                ]))),
            ]))),
        ]))
    }

    /// Creates a ReplicaSet of 1-4 pods asking 300m cpu each (a few sets fill the nodes).
    func createReplicaSet(through id: UInt64, in world: MemberSimulation) {
        let name = "rs-\(nextName)"
        nextName += 1
        let replicas = 1 + Int64(world.random.below(UInt64(Self.replicasMax - 1)))
        let body = Self.replicaSetBody(name, replicas: replicas)
        let write = TypedWrite(verb: .create, kind: "ReplicaSet", apiVersion: "apps/v1", namespace: Self.namespace, name: name, body: body)
        world.members[id]!.member!.propose(.typed(write)) { [unowned world] result in
            world.note("create replicaset \(name) (\(replicas)) via \(world.members[id]!.address): \(Self.summary(result))")
            if case .success(.created) = result { world.workload.replicaSets.append(name) }
        }
    }

    /// Scales a ReplicaSet up by one (sets only grow: a create beyond the count is a bug).
    func scaleReplicaSet(_ name: String, through id: UInt64, in world: MemberSimulation) {
        guard let member = world.members[id]!.member,
              let set = member.store.get(ObjectKey(kind: .replicaSet, namespace: Self.namespace, name: name)).flatMap(ReplicaSet.init) else { return }
        let replicas = Int64(set.spec.replicas ?? 1) + 1
        guard replicas <= Self.replicasMax else { return }
        let patch: JSONValue = .object(JSONObject([("spec", .object(JSONObject([("replicas", .int(replicas))])))]))
        // Over the version read: a member's store may be behind, and an absolute count from a
        // stale read would shrink the set.
        let write = TypedWrite(verb: .patch, kind: "ReplicaSet", apiVersion: "apps/v1", namespace: Self.namespace, name: name,
                               body: patch, patchType: .merge, expectedResourceVersion: UInt64(set.metadata.resourceVersion))
        member.propose(.typed(write)) { [unowned world] result in
            world.note("scale \(name) to \(replicas) via \(world.members[id]!.address): \(Self.summary(result))")
        }
    }

    static func replicaSetBody(_ name: String, replicas: Int64) -> JSONValue {
        let labels: JSONValue = .object(JSONObject([("app", .string(name))]))
        let container: JSONValue = .object(JSONObject([
            ("name", "app"), ("image", "registry.local/app:1"),
            ("resources", .object(JSONObject([("requests", .object(JSONObject([("cpu", "300m"), ("memory", "64Mi")])))]))),
        ]))
        return .object(JSONObject([
            ("apiVersion", "apps/v1"), ("kind", "ReplicaSet"),
            ("metadata", .object(JSONObject([("name", .string(name))]))),
            ("spec", .object(JSONObject([
                ("replicas", .int(replicas)),
                ("selector", .object(JSONObject([("matchLabels", labels)]))),
                ("template", .object(JSONObject([
                    ("metadata", .object(JSONObject([("labels", labels)]))),
                    ("spec", .object(JSONObject([("containers", .array([container]))]))),
                ]))),
            ]))),
        ]))
    }
}
