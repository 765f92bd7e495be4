import Store

/// The leader's typed view of the objects its controllers act on, informer-style: built once
/// from the store when the member starts leading, then kept current by the store's watch
/// events (`apply`). Controllers read it and never dig in JSON; it is rebuilt, not trusted,
/// after a leadership change.
public struct ClusterCache: Sendable {
    public private(set) var pods: [ObjectKey: Pod] = [:]
    public private(set) var nodes: [String: Node] = [:]
    public private(set) var replicaSets: [ObjectKey: ReplicaSet] = [:]
    /// ReplicaSets by the uid of their controlling owner.
    public private(set) var replicaSetsByController: [String: Set<ObjectKey>] = [:]
    public private(set) var deployments: [ObjectKey: Deployment] = [:]
    public private(set) var services: [ObjectKey: Service] = [:]
    /// Endpoints and EndpointSlices, by the key of the Service they are named after.
    public private(set) var endpoints: [ObjectKey: Endpoints] = [:]
    public private(set) var endpointSlices: [ObjectKey: EndpointSlice] = [:]
    /// Events, by `EventRecord.aggregationKey`.
    public private(set) var events: [String: Event] = [:]
    /// Node leases' renew times (kube-node-lease), by node name.
    public private(set) var leaseRenewals: [String: MicroTime] = [:]
    /// Pods by the node they are bound to.
    public private(set) var podsByNode: [String: Set<ObjectKey>] = [:]
    /// The store revision the cache reflects.
    public private(set) var revision: UInt64 = 0
    /// Pods by the uid of their controlling owner.
    public private(set) var podsByController: [String: Set<ObjectKey>] = [:]
    /// Per node: what its bound pods take (scheduling).
    public private(set) var nodeUsage: [String: NodeUsage] = [:]
    /// Pods waiting for a node: not bound, not finished, not being deleted.
    public private(set) var unscheduled: Set<ObjectKey> = []

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
            if let old = pods.removeValue(forKey: key) { unindex(old, key) }
            if !gone, let pod = Pod(event.object) {
                pods[key] = pod
                index(pod, key)
            }
        case .node:
            nodes[key.name] = gone ? nil : Node(event.object)
        case .replicaSet:
            if let owner = replicaSets[key].flatMap(Self.controller) {
                replicaSetsByController[owner]?.remove(key)
                if replicaSetsByController[owner]?.isEmpty == true { replicaSetsByController[owner] = nil }
            }
            replicaSets[key] = gone ? nil : ReplicaSet(event.object)
            if let owner = replicaSets[key].flatMap(Self.controller) { replicaSetsByController[owner, default: []].insert(key) }
        case .deployment:
            deployments[key] = gone ? nil : Deployment(event.object)
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
        case .endpoints:
            endpoints[ObjectKey(kind: .service, namespace: key.namespace, name: key.name)] = gone ? nil : Endpoints(event.object)
        case .endpointSlice:
            endpointSlices[ObjectKey(kind: .service, namespace: key.namespace, name: key.name)] = gone ? nil : EndpointSlice(event.object)
        case .lease where key.namespace == Self.nodeLeaseNamespace:
            leaseRenewals[key.name] = gone ? nil : Lease(event.object)?.spec.renewTime
        default:
            break
        }
    }

    public mutating func apply(_ events: [WatchEvent]) {
        for event in events { apply(event) }
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

    private mutating func index(_ pod: Pod, _ key: ObjectKey) {
        if let owner = pod.controllerReference?.uid { podsByController[owner, default: []].insert(key) }
        if pod.isScheduled && !pod.isTerminal { nodeUsage[pod.spec.nodeName, default: NodeUsage()].add(pod) }
        if !pod.isScheduled && !pod.isTerminal && !pod.isTerminating { unscheduled.insert(key) }
        if pod.isScheduled { podsByNode[pod.spec.nodeName, default: []].insert(key) }
    }

    private mutating func unindex(_ pod: Pod, _ key: ObjectKey) {
        if let owner = pod.controllerReference?.uid {
            podsByController[owner]?.remove(key)
            if podsByController[owner]?.isEmpty == true { podsByController[owner] = nil }
        }
        if pod.isScheduled && !pod.isTerminal { nodeUsage[pod.spec.nodeName]?.remove(pod) }
        unscheduled.remove(key)
        if pod.isScheduled {
            podsByNode[pod.spec.nodeName]?.remove(key)
            if podsByNode[pod.spec.nodeName]?.isEmpty == true { podsByNode[pod.spec.nodeName] = nil }
        }
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
