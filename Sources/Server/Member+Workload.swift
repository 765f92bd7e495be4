import API
import JSON
import RaftCore
import RaftStorage
import Store

// The leader's bookkeeping for the workload API (cluster version 2): moving the cluster to
// the newest version every member runs, the `kubernetes` Service that names the API, and the
// end of pods' grace periods. Level-triggered like the member registry: each round compares
// what should be with what the store holds, and writes (conditionally) what differs, one
// write of each kind in flight at a time.

/// What the duties remember between rounds.
struct WorkloadDuties {
    /// Ticks between two proposals of a cluster version (a lost proposal is retried after it).
    static let versionRetryTicks: UInt64 = 100
    /// Pods whose grace period ended deleted per round, at most.
    static let expiriesPerRoundMax = 64
    /// The address of the `kubernetes` Service (the first of the service network).
    static let apiServiceIP = "10.96.0.1"
    /// The name the Service, its Endpoints and its EndpointSlice share, in `default`.
    static let apiServiceName = "kubernetes"

    var versionProposedAtTick: UInt64?
    var apiServiceWritesInFlight = 0
    var expiriesInFlight: Set<String> = []
}

extension Member {
    /// Builds the OpenAPI documents on a helper thread, so the first client that asks for
    /// them (kubectl does on every create and apply) does not stall the loop while they are
    /// generated from the kind registry.
    func prepareAPIDocuments() {
        host.background(bulk: false, { OpenAPIDocuments.prepare() }, then: { _ in })
    }

    func runWorkloadDuties() {
        guard isLeader else { return }
        advanceClusterVersion()
        guard store.clusterVersion >= 2 else { return }
        reconcileAPIService()
        reconcileDNSService()
        expireGracePeriods()
    }

    // MARK: Cluster version

    /// The newest cluster version every member of the membership runs, as their handshakes
    /// say; nil while a member has not been heard from.
    func clusterVersionEveryMemberRuns() -> Int? {
        guard let node, let transport else { return nil }
        var lowest = options.clusterVersionMax
        for id in node.membership.all where id != identity.nodeID {
            guard let context = transport.remoteContext(of: id) else { return nil }
            lowest = min(lowest, Self.clusterVersion(fromHello: context))
        }
        return lowest
    }

    /// The cluster version a peer's hello context reports (version 3 on; older hellos: 1).
    static func clusterVersion(fromHello context: [UInt8]) -> Int {
        var reader = ByteReader(context)
        guard let version = try? reader.get(UInt8.self), version >= 3,
              (try? reader.get(UInt64.self)) != nil, (try? reader.get(UInt64.self)) != nil,
              let supported = try? reader.get(UInt32.self) else { return 1 }
        return Int(supported)
    }

    private func advanceClusterVersion() {
        guard let target = clusterVersionEveryMemberRuns(), target > store.clusterVersion, node != nil else { return }
        if let at = workload.versionProposedAtTick, ticks - at < WorkloadDuties.versionRetryTicks { return }
        workload.versionProposedAtTick = ticks
        let seconds = host.unixSeconds
        let command = StoreCommand.setClusterVersion(version: target, now: Timestamp.format(unixSeconds: seconds))
        do {
            _ = try node!.propose(command.encoded())
            Log.info("every member runs cluster version \(target): moving the cluster from \(store.clusterVersion)")
            schedulePump()
        } catch {
            Log.debug("cluster version proposal refused: \(error)")
        }
    }

    // MARK: The kubernetes Service

    /// The Service, Endpoints and EndpointSlice in `default` that let pods reach the API the
    /// way they reach it in Kubernetes (`kubernetes.default.svc`, 10.96.0.1:443): one
    /// endpoint per healthy member with an IP address.
    private func reconcileAPIService() {
        guard workload.apiServiceWritesInFlight == 0 else { return }
        let endpoints = apiEndpoints()
        let desired: [(Kind, JSONValue)] = [
            (.service, apiServiceObject()),
            (.endpoints, apiEndpointsObject(endpoints)),
            (.endpointSlice, apiEndpointSliceObject(endpoints)),
        ]
        for (kind, object) in desired {
            if let write = systemObjectWrite(kind, namespace: "default", name: WorkloadDuties.apiServiceName, desired: object) {
                submitAPIServiceWrite(write)
            }
        }
    }

    /// The write that brings an object the leader keeps (a system Service, its Endpoints or
    /// EndpointSlice) to `desired`: a create, an update of the fields the leader owns (a
    /// Service's spec may carry defaults the store added), or nil when it is up to date.
    func systemObjectWrite(_ kind: Kind, namespace: String, name: String, desired object: JSONValue) -> TypedWrite? {
        guard let existing = store.get(ObjectKey(kind: kind, namespace: namespace, name: name)) else {
            return TypedWrite(verb: .create, kind: kind.name, apiVersion: kind.apiVersion, namespace: namespace, name: name,
                              body: object, fieldValidation: .strict)
        }
        let fields = kind == .service ? ["spec"] : (kind == .endpoints ? ["subsets"] : ["endpoints", "ports"])
        let stale = fields.contains { field in
            kind == .service ? !Self.covers(existing.json[field], object[field]) : existing.json[field] != object[field]
        }
        guard stale else { return nil }
        var updated = existing.json
        for field in fields { updated[field] = object[field] }
        return TypedWrite(verb: .update, kind: kind.name, apiVersion: kind.apiVersion, namespace: namespace, name: name, body: updated,
                          fieldValidation: .strict, expectedResourceVersion: existing.resourceVersion)
    }

    /// Whether every field `desired` sets has that value in `stored` (defaults the store added
    /// do not count as a difference).
    static func covers(_ stored: JSONValue?, _ desired: JSONValue?) -> Bool {
        guard let desired else { return true }
        guard let stored else { return false }
        if case .object(let wanted) = desired, case .object = stored {
            return wanted.allSatisfy { covers(stored[$0.key], $0.value) }
        }
        if case .array(let wanted) = desired, case .array(let have) = stored, wanted.count == have.count {
            return zip(have, wanted).allSatisfy { covers($0, $1) }
        }
        return stored == desired
    }

    private func submitAPIServiceWrite(_ write: TypedWrite) {
        workload.apiServiceWritesInFlight += 1
        propose(.typed(write)) { [weak self] result in
            self?.workload.apiServiceWritesInFlight -= 1
            switch result {
            case .success(let stored) where !stored.succeeded:
                Log.debug("kubernetes service bookkeeping: \(write.kind) \(write.verb): \(stored)")
            case .failure(let error):
                Log.debug("kubernetes service bookkeeping: \(write.kind) \(write.verb) failed: \(error)")
            default:
                break
            }
        }
    }

    /// (IP, API port) of every member that is healthy as the leader sees it, in a stable order.
    private func apiEndpoints() -> [(ip: String, port: Int64)] {
        var result: [(String, Int64)] = []
        for row in members().arrayValue ?? [] {
            guard row["health"]?.stringValue == "healthy", let api = row["api"]?.stringValue,
                  let colon = api.lastIndex(of: ":"), let port = Int64(api[api.index(after: colon)...]) else { continue }
            let host = String(api[..<colon])
            guard IPv4.parse(host) != nil else { continue }
            result.append((host, port))
        }
        return result.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    private func apiServiceObject() -> JSONValue {
        let port = Int64(options.apiPort)
        return .object(JSONObject([
            ("apiVersion", "v1"), ("kind", "Service"),
            ("metadata", .object(JSONObject([
                ("name", .string(WorkloadDuties.apiServiceName)), ("namespace", "default"),
                ("labels", .object(JSONObject([("component", "apiserver"), ("provider", "kubernetes")]))),
            ]))),
            ("spec", .object(JSONObject([
                ("ports", .array([.object(JSONObject([("name", "https"), ("protocol", "TCP"), ("port", 443), ("targetPort", .int(port))]))])),
                ("clusterIP", .string(WorkloadDuties.apiServiceIP)),
                ("type", "ClusterIP"), ("sessionAffinity", "None"),
            ]))),
        ]))
    }

    private func apiEndpointsObject(_ endpoints: [(ip: String, port: Int64)]) -> JSONValue {
        // One subset per API port (members may listen on different ports).
        var subsets: [JSONValue] = []
        for port in Set(endpoints.map(\.port)).sorted() {
            let addresses: [JSONValue] = endpoints.filter { $0.port == port }.map { .object(JSONObject([("ip", .string($0.ip))])) }
            subsets.append(.object(JSONObject([
                ("addresses", .array(addresses)),
                ("ports", .array([.object(JSONObject([("name", "https"), ("port", .int(port)), ("protocol", "TCP")]))])),
            ])))
        }
        var object = JSONObject([
            ("apiVersion", "v1"), ("kind", "Endpoints"),
            ("metadata", .object(JSONObject([("name", .string(WorkloadDuties.apiServiceName)), ("namespace", "default")]))),
        ])
        if !subsets.isEmpty { object["subsets"] = .array(subsets) }
        return .object(object)
    }

    private func apiEndpointSliceObject(_ endpoints: [(ip: String, port: Int64)]) -> JSONValue {
        let port = endpoints.first?.port ?? Int64(options.apiPort)
        let ready = endpoints.filter { $0.port == port }.map { endpoint -> JSONValue in
            .object(JSONObject([("addresses", .array([.string(endpoint.ip)])),
                                ("conditions", .object(JSONObject([("ready", true), ("serving", true), ("terminating", false)])))]))
        }
        return .object(JSONObject([
            ("apiVersion", "discovery.k8s.io/v1"), ("kind", "EndpointSlice"),
            ("metadata", .object(JSONObject([
                ("name", .string(WorkloadDuties.apiServiceName)), ("namespace", "default"),
                ("labels", .object(JSONObject([("kubernetes.io/service-name", .string(WorkloadDuties.apiServiceName))]))),
            ]))),
            ("addressType", "IPv4"),
            ("endpoints", .array(ready)),
            ("ports", .array([.object(JSONObject([("name", "https"), ("protocol", "TCP"), ("port", .int(port))]))])),
        ]))
    }

    // MARK: Grace periods

    /// Pods whose grace period has ended go (Kubernetes waits for the node to confirm; shoal
    /// also ends it here, so a pod on a dead host does not linger as Terminating forever).
    private func expireGracePeriods() {
        guard workload.expiriesInFlight.count < WorkloadDuties.expiriesPerRoundMax else { return }
        let seconds = host.unixSeconds
        var started = 0
        for pod in store.objectsBeingDeleted(.pod) {
            guard started < WorkloadDuties.expiriesPerRoundMax,
                  let deadline = pod.json["metadata"]?["deletionTimestamp"]?.stringValue.flatMap(MetaTime.init(parsing:)),
                  deadline.unixSeconds <= seconds,
                  (pod.json["metadata"]?["finalizers"]?.arrayValue ?? []).isEmpty,
                  !workload.expiriesInFlight.contains(pod.uid) else { continue }
            started += 1
            workload.expiriesInFlight.insert(pod.uid)
            let write = TypedWrite(verb: .delete, kind: "Pod", apiVersion: "v1", namespace: pod.key.namespace, name: pod.key.name,
                                   expectedUID: pod.uid, gracePeriodSeconds: 0)
            let uid = pod.uid
            propose(.typed(write)) { [weak self] _ in self?.workload.expiriesInFlight.remove(uid) }
        }
    }
}

extension Member {
    public func offLoop<T: Sendable>(_ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void) {
        // Bulk priority: a list rendered here must not starve the loop (and its heartbeats)
        // of a busy processor.
        host.background(bulk: true, work, then: then)
    }
}
