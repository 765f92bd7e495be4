import API
import Agent
import Controllers
import JSON
import Store

#if canImport(Glibc)
import Glibc
#endif

// Every member is a kubelet: the pods bound to its Node run in its containerd (Agent's
// `PodAgent`), their status goes back through the member's own write path, and its pod
// network is configured from the range the leader gave its Node. The agent's state lives
// on this loop; its runtime calls run on helper threads (`host.background`).

/// How a member runs pods (nil in ServerOptions: it runs none, `--no-workloads`).
public struct WorkloadOptions: Sendable {
    /// The containerd shoal starts and supervises; nil with `external` set.
    public var containerd: ContainerdSettings?
    /// An existing CRI socket to use instead (`--containerd-socket`).
    public var externalSocket: String?
    /// Where the CNI config is written (the managed containerd reads it from there).
    public var cniConfigDirectory: String
    /// Where host-local keeps its address allocations.
    public var ipamDataDirectory: String
    public var agent = AgentConfig()
    /// How pods reach other nodes' pods (`--pod-network-backend`).
    public var networkBackend = PodNetworkBackend.vxlan

    public init(cniConfigDirectory: String, ipamDataDirectory: String) {
        self.cniConfigDirectory = cniConfigDirectory
        self.ipamDataDirectory = ipamDataDirectory
    }

    public var socketPath: String { externalSocket ?? containerd?.socketPath ?? "" }

    /// What `shoal agent` runs: everything under the member's data directory (containerd's
    /// root, state and socket, the CNI config and address allocations, pod logs), so
    /// several members on one machine keep apart; or an existing runtime's socket.
    public init(dataDirectory: String, externalSocket: String?, insecureRegistries: [String], sandboxImageArchive: String,
                networkBackend: String = PodNetworkBackend.vxlan.rawValue) {
        self.init(cniConfigDirectory: dataDirectory + "/cni/net.d", ipamDataDirectory: dataDirectory + "/cni/ipam")
        self.networkBackend = PodNetworkBackend(rawValue: networkBackend) ?? .vxlan
        agent.podLogRoot = dataDirectory + "/pod-logs"
        if let externalSocket {
            self.externalSocket = externalSocket
        } else {
            var settings = ContainerdSettings(directory: dataDirectory + "/containerd", cniConfigDirectory: cniConfigDirectory)
            settings.insecureRegistries = insecureRegistries
            settings.sandboxImageArchive = sandboxImageArchive
            containerd = settings
        }
    }
}

/// The pod network backends' names, for the command line.
public enum PodNetworkBackendName {
    public static let valid = PodNetworkBackend.allCases.map(\.rawValue)
}

/// The member's pod agent and what it needs around it.
struct PodsState {
    var agent: PodAgent?
    var host: MemberPodHost?
    var containerd: ManagedContainerd?
    /// The pods bound to this node, by uid (kept from the store's events).
    var bound: [String: Pod] = [:]
    /// Set once a linearizable read completed after start: the store is current.
    var storeIsCurrent = false
    var readInFlight = false
    /// The range the CNI config was written for, and whether this member's Node changed since
    /// it was looked at (decoding it every tick would cost the loop for nothing).
    var networkCIDR = ""
    var ownNodeChanged = true
    /// The sandbox image is in the runtime (imported once containerd answers).
    var sandboxImageReady = false
    var sandboxImageInFlight = false
    var lastSandboxImageError = ""
    /// Event writes in flight, and the events this agent wrote (for repeats), by aggregation key.
    var eventsInFlight = 0
    var eventNames: [String: ObjectKey] = [:]
    var eventSequence: UInt64 = 0
    /// The routes to other nodes' pods as last applied, whether they need another look, and
    /// the tick of the last application (they are applied again now and then, to repair).
    var routesApplied: [PodRoute]?
    var routesDirty = true
    var routesInFlight = false
    var routesAppliedTick: UInt64 = 0
    var forwardingReady = false
}

extension Member {
    static let podEventsInFlightMax = 50
    static let podEventNamesMax = 2_000

    /// Starts containerd (unless external) and the agent. Called once the member serves.
    func startPods() {
        guard let workloads = options.workloads, pods.agent == nil else { return }
        if let settings = workloads.containerd {
            let containerd = ManagedContainerd(settings: settings)
            do {
                try containerd.start()
            } catch {
                Log.error("cannot start containerd: \(error); this member runs no pods")
                return
            }
            pods.containerd = containerd
        }
        let runtime: CRIRuntime
        do {
            runtime = try CRIRuntime(socketPath: workloads.socketPath)
        } catch {
            Log.error("cannot reach the container runtime at \(workloads.socketPath): \(error); this member runs no pods")
            return
        }
        let podHost = MemberPodHost(member: self)
        pods.host = podHost
        var config = workloads.agent
        if config.dnsServers.isEmpty, options.dnsPort != nil { config.dnsServers = [ServiceAllocation.dnsServiceIP] }
        pods.agent = PodAgent(host: podHost, runtime: runtime, config: config)
        rebuildBoundPods()
        Log.info("node agent started: pods run in containerd at \(workloads.socketPath)")
    }

    func stopPods() {
        pods.containerd?.stop()
    }

    /// Stops the managed containerd (the containers keep running) when the member stops.
    public func stopWorkloads() {
        stopPods()
        stopClusterDNS()
    }

    /// Runs on every tick.
    func runPods() {
        guard let agent = pods.agent, let workloads = options.workloads, node != nil, store.clusterVersion >= 2 else { return }
        if !pods.storeIsCurrent && !pods.readInFlight {
            pods.readInFlight = true
            awaitLinearizableRead { [weak self] result in
                guard let self else { return }
                self.pods.readInFlight = false
                if case .success = result { self.pods.storeIsCurrent = true }
            }
        }
        configurePodNetwork(workloads)
        configurePodRoutes(workloads)
        prepareSandboxImage(agent: agent, workloads: workloads)
        guard pods.sandboxImageReady else { return }
        agent.tick()
    }

    /// The CNI config follows the node's range (the leader's NodeIPAM assigns it).
    private func configurePodNetwork(_ workloads: WorkloadOptions) {
        guard pods.ownNodeChanged else { return }
        pods.ownNodeChanged = false
        guard let node = store.get(ObjectKey(kind: .node, name: nodeName)).flatMap(Node.init),
              case let cidr = node.spec.podCIDR, !cidr.isEmpty, cidr != pods.networkCIDR else { return }
        let network = PodNetworkSettings(podCIDR: cidr, ipamDataDirectory: workloads.ipamDataDirectory)
        do {
            try network.write(into: workloads.cniConfigDirectory)
            pods.networkCIDR = cidr
            Log.info("pod network: \(cidr) on bridge \(network.bridgeName)")
        } catch {
            Log.error("cannot write the CNI config to \(workloads.cniConfigDirectory): \(error)")
            pods.ownNodeChanged = true
        }
    }

    /// Routes are applied again this often even without a change (someone may have removed
    /// them), or after a failure.
    static let podRoutesRepairTicks: UInt64 = 3_000

    /// Routes to the other nodes' pod ranges follow the Node objects (VXLAN or host-gw).
    private func configurePodRoutes(_ workloads: WorkloadOptions) {
        guard !pods.routesInFlight, !pods.networkCIDR.isEmpty else { return }
        let repair = ticks - pods.routesAppliedTick >= Self.podRoutesRepairTicks
        guard pods.routesDirty || repair else { return }
        pods.routesDirty = false
        let nodes = store.list(.node).items.compactMap(Node.init)
        let routes = PodRoutes.plan(localNode: nodeName, nodes: nodes)
        guard routes != pods.routesApplied || repair || !pods.forwardingReady else { return }
        pods.routesInFlight = true
        let backend = workloads.networkBackend
        let localIP = identity.advertiseHost
        let localCIDR = pods.networkCIDR
        let clusterCIDR = options.clusterCIDR
        let needForwarding = !pods.forwardingReady
        host.background(bulk: false, { () -> (String?, String?) in
            let forwarding = needForwarding ? PodRouteApplier.enableForwardingAndMasquerade(clusterCIDR: clusterCIDR) : nil
            let routing = PodRouteApplier.apply(backend: backend, localIP: localIP, localPodCIDR: localCIDR, routes: routes,
                                                clusterCIDR: clusterCIDR)
            return (forwarding, routing)
        }, then: { [weak self] errors in
            guard let self else { return }
            self.pods.routesInFlight = false
            self.pods.routesAppliedTick = self.ticks
            if let error = errors.0 { Log.error("pod network: \(error)") } else if needForwarding { self.pods.forwardingReady = true }
            if let error = errors.1 {
                Log.error("pod network: \(error)")
                self.pods.routesApplied = nil
            } else {
                if routes != self.pods.routesApplied { Log.info("pod network (\(backend.rawValue)): routes to \(routes.count) other nodes") }
                self.pods.routesApplied = routes
            }
        })
    }

    /// Imports the sandbox image once the runtime answers (retried every tick it fails).
    private func prepareSandboxImage(agent: PodAgent, workloads: WorkloadOptions) {
        guard !pods.sandboxImageReady, !pods.sandboxImageInFlight, let settings = workloads.containerd else {
            if workloads.containerd == nil { pods.sandboxImageReady = true }
            return
        }
        pods.sandboxImageInFlight = true
        let runtime = agent.runtime
        host.background(bulk: false, { () -> String? in
            do {
                _ = try runtime.version()
                try ManagedContainerd.importSandboxImage(settings: settings, runtime: runtime)
                return nil
            } catch {
                return "\(error)"
            }
        }, then: { [weak self] error in
            guard let self else { return }
            self.pods.sandboxImageInFlight = false
            if let error {
                if error != self.pods.lastSandboxImageError { Log.warn("the container runtime is not ready: \(error)") }
                self.pods.lastSandboxImageError = error
            } else {
                self.pods.sandboxImageReady = true
                Log.info("the container runtime is ready (sandbox image \(settings.sandboxImage))")
            }
        })
    }

    // MARK: Bound pods

    /// The store applied these events: pods bound here (or no longer) reach the agent.
    func podsObserve(_ events: [WatchEvent]) {
        guard let agent = pods.agent else { return }
        var changed: [String] = []
        if events.contains(where: { $0.object.key.kind == .node }) {
            pods.routesDirty = true
            if events.contains(where: { $0.object.key.kind == .node && $0.object.key.name == nodeName }) { pods.ownNodeChanged = true }
        }
        for event in events where event.object.key.kind == .pod {
            let uid = event.object.uid
            // Only pods bound here are decoded (every member sees every pod's events).
            if event.type != .deleted, event.object.json["spec"]?["nodeName"]?.stringValue == nodeName, let pod = Pod(event.object) {
                pods.bound[uid] = pod
                changed.append(uid)
            } else if pods.bound.removeValue(forKey: uid) != nil {
                changed.append(uid)
            }
        }
        if !changed.isEmpty { agent.podsChanged(changed) }
    }

    /// After a start or a snapshot installed: the bound pods from the whole store.
    func rebuildBoundPods() {
        guard let agent = pods.agent else { return }
        let before = Set(pods.bound.keys)
        pods.bound = [:]
        pods.ownNodeChanged = true
        pods.routesDirty = true
        for object in store.list(.pod).items where object.json["spec"]?["nodeName"]?.stringValue == nodeName {
            guard let pod = Pod(object) else { continue }
            pods.bound[object.uid] = pod
        }
        agent.podsChanged(before.union(pods.bound.keys))
    }

    // MARK: Writes

    func writePodStatus(_ pod: Pod, _ status: PodStatus, done: @escaping (Bool) -> Void) {
        var updated = pod
        updated.status = status
        updated.kind = "Pod"
        updated.apiVersion = "v1"
        let write = TypedWrite(verb: .update, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace, name: pod.metadata.name,
                               subresource: .status, body: updated.wireJSON, expectedUID: pod.metadata.uid)
        propose(.typed(write)) { result in
            if case .success(let stored) = result { done(stored.httpStatus < 300) } else { done(false) }
        }
    }

    func finishPodDeletion(_ pod: Pod, done: @escaping (Bool) -> Void) {
        let write = TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: pod.metadata.namespace, name: pod.metadata.name,
                               expectedUID: pod.metadata.uid, gracePeriodSeconds: 0)
        propose(.typed(write)) { result in
            if case .success(let stored) = result { done(stored.httpStatus < 300) } else { done(false) }
        }
    }

    /// Writes an event about a pod as kubelet does (a repeat counts up the earlier one).
    func recordPodEvent(_ pod: Pod, type: String, reason: String, message: String) {
        guard pods.eventsInFlight < Self.podEventsInFlightMax else { return }
        let reference = EventRecord.reference("Pod", apiVersion: "v1", pod.metadata)
        let record = EventRecord(type == "Warning" ? .warning : .normal, reason, message, component: "kubelet", about: reference)
        let existing = pods.eventNames[record.aggregationKey].flatMap { store.get($0) }.flatMap(Event.init)
        let micros = host.unixMicroseconds
        pods.eventSequence += 1
        let write = EventRecorder.write(record, existing: existing,
                                        now: MicroTime(unixSeconds: micros / 1_000_000, microseconds: Int32(micros % 1_000_000)),
                                        sequence: pods.eventSequence)
        if pods.eventNames.count >= Self.podEventNamesMax { pods.eventNames = [:] }
        pods.eventNames[record.aggregationKey] = ObjectKey(kind: .event, namespace: write.write.namespace, name: write.write.name)
        pods.eventsInFlight += 1
        propose(.typed(write.write)) { [weak self] _ in self?.pods.eventsInFlight -= 1 }
    }
}

/// The member as the pod agent sees it (Agent's `AgentHost`): reads from the local store,
/// writes through the member's own write path, work on helper threads. Loop-confined.
final class MemberPodHost: AgentHost {
    unowned let member: Member

    init(member: Member) { self.member = member }

    var nodeName: String { member.nodeName }
    var nodeIP: String { member.identity.advertiseHost }
    var unixNanos: Int64 { member.host.unixMicroseconds * 1_000 }
    var storeIsCurrent: Bool { member.pods.storeIsCurrent }

    func boundPods() -> [String: Pod] { member.pods.bound }

    func background<T: Sendable>(_ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void) {
        member.host.background(bulk: false, work, then: then)
    }

    func writePodStatus(_ pod: Pod, _ status: PodStatus, done: @escaping (Bool) -> Void) { member.writePodStatus(pod, status, done: done) }
    func finishPodDeletion(_ pod: Pod, done: @escaping (Bool) -> Void) { member.finishPodDeletion(pod, done: done) }
    func recordPodEvent(_ pod: Pod, type: String, reason: String, message: String) {
        member.recordPodEvent(pod, type: type, reason: reason, message: message)
    }

    func serviceTraffic(to pod: Pod) -> ServiceTraffic {
        let ip = pod.status.podIP
        guard !ip.isEmpty else { return .none }
        let slices = member.store.list(.endpointSlice, namespace: pod.metadata.namespace).items.compactMap(EndpointSlice.init)
        var listed = false
        for (_, ofService) in Dictionary(grouping: slices, by: { $0.metadata.labels[EndpointSlice.serviceNameLabel] ?? "" }) {
            let endpoints = ofService.flatMap(\.endpoints)
            let mine = endpoints.filter { $0.addresses.contains(ip) }
            guard !mine.isEmpty else { continue }
            listed = true
            func ready(_ endpoint: Endpoint) -> Bool { endpoint.conditions.ready != false && endpoint.conditions.terminating != true }
            if mine.contains(where: ready) { return .receiving }
            let othersReady = endpoints.contains { ready($0) && !$0.addresses.contains(ip) }
            if !othersReady && mine.contains(where: { $0.conditions.serving == true }) { return .receiving }
        }
        return listed ? .drained : .none
    }

    func configMap(namespace: String, name: String) -> ConfigMap? {
        member.store.get(ObjectKey(kind: .configMap, namespace: namespace, name: name)).flatMap(ConfigMap.init)
    }

    func secret(namespace: String, name: String) -> Secret? {
        member.store.get(ObjectKey(kind: .secret, namespace: namespace, name: name)).flatMap(Secret.init)
    }
}

// MARK: Logs (`kubectl logs`)

extension Member {
    public var localNodeName: String? { pods.agent == nil ? nil : nodeName }

    public func memberAPIEndpoint(node: String) -> (host: String, port: UInt16)? {
        if node == nodeName { return (identity.advertiseHost, identity.apiPort) }
        guard let peer = peerAddresses.values.first(where: { $0.name == node }) else { return nil }
        return (peer.host, peer.apiPort)
    }

    public func readContainerLog(_ request: ContainerLogRequest, completion: @escaping (Result<ContainerLogChunk, ServiceError>) -> Void) {
        guard let agent = pods.agent, let workloads = options.workloads else {
            return completion(.failure(.unavailable("this member runs no pods")))
        }
        let view = agent.view(ofPod: request.podUID) ?? PodRuntimeView()
        guard let container = request.previous ? view.previous(request.container) : view.latest(request.container) else {
            let message = request.previous
                ? "previous terminated container \"\(request.container)\" in pod \"\(request.pod)\" not found"
                : "container \"\(request.container)\" in pod \"\(request.pod)\" is waiting to start: \(waitingReason(request))"
            return completion(.failure(ServiceError(status: 400, reason: "BadRequest", message: message)))
        }
        let path = "\(workloads.agent.podLogRoot)/\(request.namespace)_\(request.pod)_\(request.podUID)/\(request.container)/\(container.attempt).log"
        let ended = container.state != .running
        host.background(bulk: false, { () -> ContainerLogChunk in
            let bytes = readFilePiece(path, offset: request.offset, bytesMax: request.bytesMax)
            return ContainerLogChunk(bytes: bytes, nextOffset: request.offset + UInt64(bytes.count), ended: ended)
        }, then: { chunk in completion(.success(chunk)) })
    }
}

extension Member {
    /// Why a container has not started, as its pod's status says.
    func waitingReason(_ request: ContainerLogRequest) -> String {
        let pod = store.get(ObjectKey(kind: .pod, namespace: request.namespace, name: request.pod)).flatMap(Pod.init)
        let waiting = pod?.status.containerStatuses.first { $0.name == request.container }?.state.waiting?.reason ?? ""
        return waiting.isEmpty ? "ContainerCreating" : waiting
    }
}

/// Up to `bytesMax` bytes of a file from `offset` (none when it is missing or shorter).
private func readFilePiece(_ path: String, offset: UInt64, bytesMax: Int) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: bytesMax)
    var filled = 0
    while filled < bytesMax {
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, bytesMax - filled, off_t(offset) + off_t(filled)) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        filled += count
    }
    return Array(bytes.prefix(filled))
}
