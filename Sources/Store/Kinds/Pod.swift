import JSON

/// A pod (core/v1 Pod): containers that run together on one node, sharing its network
/// address and volumes. Created Pending with its QoS class; the scheduler binds it to a node
/// (binding subresource), that node's agent runs it and reports through the status
/// subresource; deleting a scheduled pod gives it its grace period to stop.
public struct Pod: StatusKindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var spec = PodSpec()
    public var status = PodStatus()

    public init() {}

    public init(metadata: ObjectMeta, spec: PodSpec) {
        self.metadata = metadata
        self.spec = spec
    }

    public static let wireInfo = WireStructInfo<Pod>(
        "io.k8s.api.core.v1.Pod", "Containers that run together on one node, sharing a network address and volumes.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Pod."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .always("spec", 2, \.spec, "What the pod runs and where it may run."),
            .always("status", 3, \.status, "What the pod is (written by the server and the node agent)."),
        ])

    // MARK: Hooks

    /// Pod-spec defaults, then the pod-only ones (requests from limits, service links, host
    /// ports on the host network).
    public mutating func applyDefaults() {
        spec.applyDefaults()
        spec.applyPodDefaults()
    }

    /// A new pod is Pending with its QoS class and nothing else in its status; gated pods say
    /// why they are not scheduled. Also what Kubernetes' DefaultTolerationSeconds admission
    /// adds: tolerating not-ready and unreachable nodes for 300 seconds before eviction.
    public mutating func prepareForCreate() {
        status = PodStatus()
        status.phase = PodStatus.pending
        status.qosClass = spec.qosClass
        if !spec.schedulingGates.isEmpty {
            status.conditions = [PodCondition(type: PodCondition.podScheduled, status: "False", reason: "SchedulingGated",
                                              message: "Scheduling is blocked due to non-empty scheduling gates")]
        }
        for key in [Taint.notReadyKey, Taint.unreachableKey] {
            // As the admission plugin does: any toleration naming the key (or every key) for
            // NoExecute (or every effect) counts, whatever its operator and value.
            let tolerated = spec.tolerations.contains { t in
                (t.key.isEmpty || t.key == key) && (t.effect.isEmpty || t.effect == Taint.noExecute)
            }
            if !tolerated {
                spec.tolerations.append(Toleration(key: key, operator: "Exists", effect: Taint.noExecute,
                                                   tolerationSeconds: Self.defaultTolerationSeconds))
            }
        }
    }

    /// Seconds a pod stays on a node that became not ready or unreachable (Kubernetes'
    /// `--default-not-ready-toleration-seconds` and `--default-unreachable-toleration-seconds`,
    /// 300 there). shoal notices a dead host in about a second and moves its pods one second
    /// later; a pod that should wait longer says so in its own tolerations.
    public static let defaultTolerationSeconds: Int64 = 1

    /// The status belongs to the status subresource: an update of the pod keeps it.
    public mutating func prepareForUpdate(from old: Pod) {
        status = old.status
    }

    public func validate() -> [FieldError] {
        var errors = spec.validate(at: "spec", isPod: true)
        errors += status.validate(at: "status")
        return errors
    }

    public func validateUpdate(from old: Pod) -> [FieldError] {
        PodValidation.update(spec, from: old.spec, at: "spec")
    }

    /// Ephemeral containers are added to running pods (a subresource shoal does not serve),
    /// never sent with a new pod.
    public mutating func admit(in store: Store, replacing old: Pod?, index: UInt64) -> [FieldError] {
        guard old == nil, !spec.ephemeralContainers.isEmpty else { return [] }
        return [.forbidden("spec.ephemeralContainers", "cannot be set on create")]
    }

    /// A status write changes only the status, and cannot drop the QoS class.
    public func statusUpdate(of old: Pod) -> Pod {
        var result = old
        result.status = status
        if result.status.qosClass.isEmpty { result.status.qosClass = old.status.qosClass }
        return result
    }

    /// Kubernetes 1.32 does not track a pod's generation (1.33 does): it stays as created.
    public func changesGeneration(from old: Pod) -> Bool { false }

    /// Pods stop gracefully: an unscheduled or finished pod goes at once; otherwise it gets
    /// the seconds asked for, or its own `terminationGracePeriodSeconds` (a negative period
    /// counts as 1). 0 means at once.
    public func gracePeriod(requested: Int64?) -> Int64? {
        if spec.nodeName.isEmpty || isTerminal { return 0 }
        let period = requested ?? spec.terminationGracePeriodSeconds ?? PodSpec.terminationGracePeriodSecondsDefault
        return period < 0 ? 1 : period
    }
}

extension PodStatus {
    /// The addresses the node agent reports must be addresses.
    func validate(at path: FieldPath) -> [FieldError] {
        var errors = PodValidation.ipAddress(podIP, at: path.child("podIP"))
        errors += PodValidation.ipAddress(hostIP, at: path.child("hostIP"))
        for (i, address) in podIPs.enumerated() {
            errors += PodValidation.ipAddress(address.ip, at: path.child("podIPs").index(i).child("ip"))
        }
        for (i, address) in hostIPs.enumerated() {
            errors += PodValidation.ipAddress(address.ip, at: path.child("hostIPs").index(i).child("ip"))
        }
        errors += PodValidation.subdomain(nominatedNodeName, at: path.child("nominatedNodeName"))
        return errors
    }
}

extension Kind {
    /// core/v1 Pod, typed from cluster version 2.
    public static let pod = Kind(
        Pod.self, name: "Pod", plural: "pods", namespaced: true, shortNames: ["po"], categories: ["all"],
        sinceClusterVersion: 2,
        versions: [.storage(Pod.self, group: "", version: "v1", kind: "Pod")],
        subresources: [.status, .binding],
        fieldLabels: [
            "spec.nodeName": { $0["spec"]?["nodeName"]?.stringValue ?? "" },
            "spec.restartPolicy": { $0["spec"]?["restartPolicy"]?.stringValue ?? "" },
            "spec.schedulerName": { $0["spec"]?["schedulerName"]?.stringValue ?? "" },
            "spec.serviceAccountName": { $0["spec"]?["serviceAccountName"]?.stringValue ?? "" },
            "spec.hostNetwork": { ($0["spec"]?["hostNetwork"]?.boolValue ?? false) ? "true" : "false" },
            "status.phase": { $0["status"]?["phase"]?.stringValue ?? "" },
            "status.podIP": { $0["status"]?["podIP"]?.stringValue ?? "" },
            "status.nominatedNodeName": { $0["status"]?["nominatedNodeName"]?.stringValue ?? "" },
        ])
}
