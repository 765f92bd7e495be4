import API
import JSON
import Store

// Every member is also a node: it registers its Node object (capacity, addresses, Ready) once
// the cluster runs the typed API, and renews its Lease in kube-node-lease every second — the
// heartbeat the leader's node lifecycle reads, beside Raft's own contact times. The writes go
// through the member's own store path like any client's.

/// What a member reports about its host: filled in by `shoal agent` from the machine, by the
/// simulator from its model.
public struct NodeFacts: Sendable, Equatable {
    /// Processors the host offers pods.
    public var cpuCount: Int
    /// Memory in bytes.
    public var memoryBytes: Int64
    /// Pods the node takes at most (Kubernetes' default is 110).
    public var podsMax: Int64 = 110
    public var labels: [String: String] = [:]
    public var kernelVersion = ""
    public var osImage = ""
    /// False for a member that runs no pods (`--no-workloads`): its Node carries the
    /// control-plane NoSchedule taint, so nothing is scheduled where nothing would run.
    public var schedulable = true

    public init(cpuCount: Int, memoryBytes: Int64) {
        self.cpuCount = cpuCount
        self.memoryBytes = memoryBytes
    }
}

/// The member's node agent state: writes in flight and when the lease was last renewed.
struct NodeAgentState {
    var registerInFlight = false
    var leaseInFlight = false
    var lastLeaseTick: UInt64 = 0
}

extension Member {
    /// Renew the lease every this many ticks (1 s at the default 10 ms tick).
    static let leaseRenewTicks: UInt64 = 100
    /// The lease's duration as written: a node whose lease is older is not heard from.
    static let leaseDurationSeconds: Int32 = 5
    static let nodeLeaseNamespace = "kube-node-lease"
    /// The taint of a member that runs no pods (Kubernetes' control-plane nodes carry it too).
    public static let controlPlaneTaintKey = "node-role.kubernetes.io/control-plane"

    /// The Node object's name: the member's name.
    var nodeName: String { identity.name }

    func runNodeAgent() {
        guard node != nil, exitCode == nil, store.clusterVersion >= 2, let facts = options.nodeFacts else { return }
        if store.get(ObjectKey(kind: .node, name: nodeName)) == nil {
            registerNode(facts)
        } else if ticks - nodeAgent.lastLeaseTick >= Self.leaseRenewTicks {
            renewLease()
        }
    }

    private func registerNode(_ facts: NodeFacts) {
        guard !nodeAgent.registerInFlight else { return }
        nodeAgent.registerInFlight = true
        let now = MetaTime(unixSeconds: host.unixSeconds)
        var node = Node(name: nodeName)
        node.kind = "Node"
        node.apiVersion = "v1"
        node.metadata.labels = facts.labels.merging([
            "kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        ]) { mine, _ in mine }
        let capacity: [String: Quantity] = ["cpu": Quantity(units: Int64(facts.cpuCount)), "memory": Quantity(units: facts.memoryBytes),
                                            "pods": Quantity(units: facts.podsMax)]
        if !facts.schedulable {
            var taint = Taint()
            taint.key = Self.controlPlaneTaintKey
            taint.effect = Taint.noSchedule
            node.spec.taints = [taint]
        }
        node.status.capacity = capacity
        node.status.allocatable = capacity
        node.status.addresses = [NodeAddress(type: NodeAddress.internalIP, address: identity.advertiseHost),
                                 NodeAddress(type: NodeAddress.hostname, address: nodeName)]
        node.status.conditions = [NodeCondition(type: NodeCondition.ready, status: "True", lastHeartbeatTime: now, lastTransitionTime: now,
                                                reason: "KubeletReady", message: "shoal is posting ready status")]
        node.status.nodeInfo.kubeletVersion = Self.nodeVersion
        node.status.nodeInfo.kernelVersion = facts.kernelVersion
        node.status.nodeInfo.osImage = facts.osImage
        node.status.nodeInfo.operatingSystem = "linux"
        node.status.nodeInfo.architecture = "amd64"
        let write = TypedWrite(verb: .create, kind: "Node", apiVersion: "v1", name: nodeName, body: node.wireJSON)
        propose(.typed(write)) { [weak self] result in
            guard let self else { return }
            self.nodeAgent.registerInFlight = false
            if case .success(let stored) = result, stored.httpStatus == 201 { Log.info("registered node \(self.nodeName)") }
        }
    }

    /// Creates the lease the first time, then moves its renew time.
    private func renewLease() {
        guard !nodeAgent.leaseInFlight else { return }
        nodeAgent.leaseInFlight = true
        nodeAgent.lastLeaseTick = ticks
        let key = ObjectKey(kind: .lease, namespace: Self.nodeLeaseNamespace, name: nodeName)
        let micros = host.unixMicroseconds
        let renewTime = JSONValue.string(MicroTime(unixSeconds: micros / 1_000_000, microseconds: Int32(micros % 1_000_000)).description)
        let write: TypedWrite
        if store.get(key) == nil {
            let body: JSONValue = .object(JSONObject([
                ("apiVersion", "coordination.k8s.io/v1"), ("kind", "Lease"),
                ("metadata", .object(JSONObject([("name", .string(nodeName)), ("namespace", .string(Self.nodeLeaseNamespace))]))),
                ("spec", .object(JSONObject([("holderIdentity", .string(nodeName)), ("leaseDurationSeconds", .int(Int64(Self.leaseDurationSeconds))),
                                             ("renewTime", renewTime)]))),
            ]))
            write = TypedWrite(verb: .create, kind: "Lease", apiVersion: "coordination.k8s.io/v1", namespace: Self.nodeLeaseNamespace,
                               name: nodeName, body: body)
        } else {
            let patch: JSONValue = .object(JSONObject([("spec", .object(JSONObject([("renewTime", renewTime)])))]))
            write = TypedWrite(verb: .patch, kind: "Lease", apiVersion: "coordination.k8s.io/v1", namespace: Self.nodeLeaseNamespace,
                               name: nodeName, body: patch, patchType: .merge)
        }
        propose(.typed(write)) { [weak self] _ in self?.nodeAgent.leaseInFlight = false }
    }

    /// What the Node reports as its kubelet version: the Kubernetes API version shoal follows.
    static let nodeVersion = OpenAPIDocuments.infoVersion + "-shoal"
}
