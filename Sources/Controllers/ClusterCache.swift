import Store

/// The leader's typed view of the objects its controllers act on, informer-style: built once
/// from the store when the member starts leading, then kept current by the store's watch
/// events (`apply`). Controllers read it and never dig in JSON; it is rebuilt, not trusted,
/// after a leadership change.
public struct ClusterCache: Sendable {
    public private(set) var pods: [ObjectKey: Pod] = [:]
    public private(set) var nodes: [String: Node] = [:]
    public private(set) var replicaSets: [ObjectKey: ReplicaSet] = [:]
    /// ReplicaSets' keys by their own uid.
    public private(set) var replicaSetKeysByUID: [String: ObjectKey] = [:]
    /// ReplicaSets by the uid of their controlling owner.
    public private(set) var replicaSetsByController: [String: Set<ObjectKey>] = [:]
    public private(set) var deployments: [ObjectKey: Deployment] = [:]
    /// Deployments' keys by their own uid.
    public private(set) var deploymentKeysByUID: [String: ObjectKey] = [:]
    public private(set) var services: [ObjectKey: Service] = [:]
    /// Endpoints and EndpointSlices, by the key of the Service they are named after.
    public private(set) var endpoints: [ObjectKey: Endpoints] = [:]
    public private(set) var endpointSlices: [ObjectKey: EndpointSlice] = [:]
    /// Events, by `EventRecord.aggregationKey`.
    public private(set) var events: [String: Event] = [:]
    /// Node leases (kube-node-lease), by node name: when each was renewed and for how long.
    public private(set) var nodeLeases: [String: LeaseSpec] = [:]
    /// Pods by the node they are bound to.
    public private(set) var podsByNode: [String: Set<ObjectKey>] = [:]
    /// The store revision the cache reflects.
    public private(set) var revision: UInt64 = 0
    /// Pods by the uid of their controlling owner.
    public private(set) var podsByController: [String: Set<ObjectKey>] = [:]
    /// Per node: what its bound pods take (scheduling).
    public private(set) var nodeUsage: [String: NodeUsage] = [:]
    /// Pods waiting for a node: not bound, not finished, not being deleted.
    /// The value is the revision at which the pod became pending: the scheduler takes pods
    /// in that order (first come, first placed), without sorting names.
    public private(set) var unscheduled: [ObjectKey: UInt64] = [:]
    /// What changed since the controllers last took it (`takeChanges`): a pass reconciles
    /// only these, as Kubernetes' controllers work only the keys their informers queued.
    public private(set) var changes = Changes()

    /// The objects a pass must look at again.
    public struct Changes: Sendable {
        /// Uids of ReplicaSets and Deployments whose own object, pods or sets changed.
        public var owners: Set<String> = []
        /// Namespaces whose pods or services changed (endpoints).
        public var namespaces: Set<String> = []
        /// A node changed or a pod let go of capacity: pods that fit nowhere may fit now.
        public var capacity = false
        /// A node was added, changed or removed.
        public var nodes = false

        public init() {}
        public var isEmpty: Bool { owners.isEmpty && namespaces.isEmpty && !capacity && !nodes }
    }

    public init() {}

    /// Everything the controllers read, as the store holds it now.
    public init(store: Store) {
        for object in store.list(.node).items { apply(WatchEvent(type: .added, object: object)) }
        for object in store.list(.replicaSet).items { apply(WatchEvent(type: .added, object: object)) }
        for object in store.list(.deployment).items { apply(WatchEvent(type: .added, object: object)) }
        for object in store.list(.lease, namespace: Self.nodeLeaseNamespace).items { apply(WatchEvent(type: .added, object: object)) }
        for kind in [Kind.service, .endpoints, .endpointSlice, .event] {
            for object in store.list(kind).items { apply(WatchEvent(type: .added, object: object)) }
        }
        for object in store.list(.pod).items { apply(WatchEvent(type: .added, object: object)) }
        revision = store.revision
    }

    /// Follows the store: one event of an applied entry.
    public mutating func apply(_ event: WatchEvent) {
        revision = max(revision, event.object.resourceVersion)
        let key = event.object.key
        let gone = event.type == .deleted
        switch key.kind {
        case .pod:
            changes.namespaces.insert(key.namespace)
            let pendingSince = unscheduled[key]
            let old = pods.removeValue(forKey: key)
            if let old {
                unindex(old, key)
                if gone && old.isScheduled { changes.capacity = true }
            }
            let new = gone ? nil : Pod(event.object)
            if let new {
                pods[key] = new
                index(new, key, pendingSince: pendingSince)
            }
            // Owners look again only when what they count changed (a binding, for one, does not).
            if old.map(OwnerView.init) != new.map(OwnerView.init) {
                if let old { noteChange(of: old) }
                if let new { noteChange(of: new) }
            }
        case .node:
            nodes[key.name] = gone ? nil : Node(event.object)
            changes.capacity = true
            changes.nodes = true
        case .replicaSet:
            if let old = replicaSets[key] { replicaSetKeysByUID[old.metadata.uid] = nil }
            if let owner = replicaSets[key].flatMap(Self.controller) {
                replicaSetsByController[owner]?.remove(key)
                if replicaSetsByController[owner]?.isEmpty == true { replicaSetsByController[owner] = nil }
                changes.owners.insert(owner)
            }
            replicaSets[key] = gone ? nil : ReplicaSet(event.object)
            if let set = replicaSets[key] { replicaSetKeysByUID[set.metadata.uid] = key }
            if let owner = replicaSets[key].flatMap(Self.controller) {
                replicaSetsByController[owner, default: []].insert(key)
                changes.owners.insert(owner)
            }
            changes.owners.insert(event.object.uid)
        case .deployment:
            if let old = deployments[key] { deploymentKeysByUID[old.metadata.uid] = nil }
            deployments[key] = gone ? nil : Deployment(event.object)
            if let new = deployments[key] { deploymentKeysByUID[new.metadata.uid] = key }
            changes.owners.insert(event.object.uid)
        case .event:
            guard let stored = Event(event.object) else { break }
            let aggregation = [stored.involvedObject.uid, stored.involvedObject.name, stored.reason, stored.message, stored.source.component]
                .joined(separator: "\u{1F}")
            if gone {
                if events[aggregation]?.metadata.name == stored.metadata.name { events[aggregation] = nil }
            } else {
                events[aggregation] = stored
            }
        case .service:
            services[key] = gone ? nil : Service(event.object)
            changes.namespaces.insert(key.namespace)
        case .endpoints:
            endpoints[ObjectKey(kind: .service, namespace: key.namespace, name: key.name)] = gone ? nil : Endpoints(event.object)
            changes.namespaces.insert(key.namespace)
        case .endpointSlice:
            endpointSlices[ObjectKey(kind: .service, namespace: key.namespace, name: key.name)] = gone ? nil : EndpointSlice(event.object)
            changes.namespaces.insert(key.namespace)
        case .lease where key.namespace == Self.nodeLeaseNamespace:
            nodeLeases[key.name] = gone ? nil : Lease(event.object)?.spec
        default:
            break
        }
    }

    public mutating func apply(_ events: [WatchEvent]) {
        for event in events { apply(event) }
    }

    /// The pending pods `include` accepts, first come first placed: by the revision each
    /// became pending (unique but for fallbacks), then by key.
    public func pendingPods(where include: (ObjectKey) -> Bool = { _ in true }) -> [ObjectKey] {
        unscheduled.filter { include($0.key) }.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }.map(\.key)
    }

    /// What changed since the last call, and forgets it.
    public mutating func takeChanges() -> Changes {
        defer { changes = Changes() }
        return changes
    }

    /// Marks an object for the next pass: a controller's write to it was answered (a write
    /// that failed changed nothing in the store, so no event says so).
    public mutating func markChanged(_ key: ObjectKey) {
        switch key.kind {
        case .pod:
            changes.namespaces.insert(key.namespace)
            if let pod = pods[key] { noteChange(of: pod) }
        case .replicaSet:
            if let set = replicaSets[key] {
                changes.owners.insert(set.metadata.uid)
                if let owner = Self.controller(set) { changes.owners.insert(owner) }
            }
        case .deployment:
            if let deployment = deployments[key] { changes.owners.insert(deployment.metadata.uid) }
        case .node:
            changes.capacity = true
        default:
            changes.namespaces.insert(key.namespace)
        }
    }

    /// Marks an owner (a ReplicaSet or Deployment, by uid) for the next pass.
    public mutating func markChanged(owner uid: String) { changes.owners.insert(uid) }

    /// A pod changed: its ReplicaSet, that set's Deployment, and (when it let go of a node)
    /// the scheduler's unschedulable pods.
    private mutating func noteChange(of pod: Pod) {
        if pod.isScheduled && (pod.isTerminal || pod.isTerminating) { changes.capacity = true }
        guard let owner = pod.controllerReference?.uid else { return }
        changes.owners.insert(owner)
        if let set = replicaSetKeysByUID[owner].flatMap({ replicaSets[$0] }), let deployment = Self.controller(set) {
            changes.owners.insert(deployment)
        }
    }

    /// The ReplicaSets whose controlling owner (a Deployment) has this uid.
    public func replicaSets(controlledBy uid: String) -> [ReplicaSet] {
        (replicaSetsByController[uid] ?? []).sorted().compactMap { replicaSets[$0] }
    }

    static let nodeLeaseNamespace = "kube-node-lease"

    /// The uid of a set's controlling owner.
    static func controller(_ set: ReplicaSet) -> String? {
        set.metadata.ownerReferences.first { $0.controller == true }?.uid
    }

    /// The pods of a namespace.
    public func pods(inNamespace namespace: String) -> [Pod] {
        pods.filter { $0.key.namespace == namespace }.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The pods bound to this node.
    public func pods(onNode name: String) -> [Pod] {
        (podsByNode[name] ?? []).sorted().compactMap { pods[$0] }
    }

    /// The pods whose controlling owner has this uid.
    public func pods(controlledBy uid: String) -> [Pod] {
        (podsByController[uid] ?? []).sorted().compactMap { pods[$0] }
    }

    private mutating func index(_ pod: Pod, _ key: ObjectKey, pendingSince: UInt64? = nil) {
        if let owner = pod.controllerReference?.uid { podsByController[owner, default: []].insert(key) }
        if pod.isScheduled && !pod.isTerminal { nodeUsage[pod.spec.nodeName, default: NodeUsage()].add(pod) }
        if !pod.isScheduled && !pod.isTerminal && !pod.isTerminating {
            unscheduled[key] = pendingSince ?? UInt64(pod.metadata.resourceVersion) ?? revision
        }
        if pod.isScheduled { podsByNode[pod.spec.nodeName, default: []].insert(key) }
    }

    private mutating func unindex(_ pod: Pod, _ key: ObjectKey) {
        if let owner = pod.controllerReference?.uid {
            podsByController[owner]?.remove(key)
            if podsByController[owner]?.isEmpty == true { podsByController[owner] = nil }
        }
        if pod.isScheduled && !pod.isTerminal { nodeUsage[pod.spec.nodeName]?.remove(pod) }
        unscheduled[key] = nil
        if pod.isScheduled {
            podsByNode[pod.spec.nodeName]?.remove(key)
            if podsByNode[pod.spec.nodeName]?.isEmpty == true { podsByNode[pod.spec.nodeName] = nil }
        }
    }
}

/// What a pod's ReplicaSet and Deployment read of it: counts (active, ready, available),
/// labels, and what orders deletions. A change elsewhere (a binding, an address) is none of
/// their business.
struct OwnerView: Equatable {
    var active: Bool
    var phase: String
    var ready: String?
    var readySince: MetaTime?
    var labels: [String: String]
    var restarts: Int32

    init(_ pod: Pod) {
        active = !pod.isTerminal && !pod.isTerminating
        phase = pod.status.phase
        let condition = pod.condition(PodCondition.ready)
        ready = condition?.status
        readySince = condition?.lastTransitionTime
        labels = pod.metadata.labels
        restarts = pod.status.containerStatuses.map(\.restartCount).max() ?? 0
    }
}

/// What the pods bound to a node take of it, as the scheduler counts.
public struct NodeUsage: Hashable, Sendable {
    public var cpuMilli: Int64 = 0
    public var memoryBytes: Int64 = 0
    public var pods = 0
    /// Host ports in use, as "protocol/ip/port" (ip "0.0.0.0" for any).
    public var hostPorts: [String: Int] = [:]
    /// Pods per controlling owner uid (spreading).
    public var byOwner: [String: Int] = [:]

    public init() {}

    public mutating func add(_ pod: Pod) { change(pod, by: 1) }
    public mutating func remove(_ pod: Pod) { change(pod, by: -1) }

    private mutating func change(_ pod: Pod, by sign: Int) {
        let requests = pod.spec.totalRequests
        cpuMilli += Int64(sign) * requests.cpuMilli
        memoryBytes += Int64(sign) * requests.memoryBytes
        pods += sign
        for port in pod.hostPorts {
            hostPorts[port, default: 0] += sign
            if hostPorts[port] == 0 { hostPorts[port] = nil }
        }
        if let owner = pod.controllerReference?.uid {
            byOwner[owner, default: 0] += sign
            if byOwner[owner] == 0 { byOwner[owner] = nil }
        }
    }
}

extension Pod {
    /// The owner reference marked as the controller, if any.
    public var controllerReference: OwnerReference? { metadata.ownerReferences.first { $0.controller == true } }

    /// Host ports the pod's containers ask for, as "protocol/ip/port".
    public var hostPorts: [String] {
        (spec.initContainers + spec.containers).flatMap(\.ports).compactMap { port in
            let hostPort = port.hostPort
            guard hostPort > 0 else { return nil }
            let ip = port.hostIP.isEmpty ? "0.0.0.0" : port.hostIP
            return "\(port.protocol.isEmpty ? "TCP" : port.protocol)/\(ip)/\(hostPort)"
        }
    }
}
