import JSON

/// A node (core/v1 Node, cluster-scoped): a host that runs pods. Each member's agent
/// registers its own Node with its status (capacity, addresses, conditions) and keeps that
/// status fresh through the status subresource; `spec` holds what the cluster decides about
/// it (its pod address range, taints, whether it is cordoned).
public struct Node: StatusKindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var spec = NodeSpec()
    public var status = NodeStatus()

    public init() {}

    public init(name: String) { metadata.name = name }

    public static let wireInfo = WireStructInfo<Node>(
        "io.k8s.api.core.v1.Node", "A host that runs pods.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Node."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .always("spec", 2, \.spec, "What the cluster decides about the node."),
            .always("status", 3, \.status, "What the node is, as its agent reports it."),
        ])

    // MARK: Hooks

    /// Allocatable defaults to the whole capacity; amounts are rounded up to thousandths.
    public mutating func applyDefaults() { status.applyDefaults() }

    /// The agent registers its node with a status, which is kept (unlike most kinds).
    public mutating func prepareForCreate() {}

    /// The status belongs to the status subresource: an update of the node keeps it.
    public mutating func prepareForUpdate(from old: Node) { status = old.status }

    public func validate() -> [FieldError] {
        spec.validate(at: "spec") + status.validate(at: "status")
    }

    /// The pod address ranges and the provider ID may be set once, then never change.
    public func validateUpdate(from old: Node) -> [FieldError] {
        var errors: [FieldError] = []
        if !old.spec.podCIDRs.isEmpty && spec.podCIDRs != old.spec.podCIDRs {
            errors.append(.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid"))
        } else if !old.spec.podCIDR.isEmpty && spec.podCIDR != old.spec.podCIDR {
            errors.append(.forbidden("spec.podCIDR", "node updates may not change podCIDR except from \"\" to valid"))
        }
        if !old.spec.providerID.isEmpty && spec.providerID != old.spec.providerID {
            errors.append(.forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid"))
        }
        return errors
    }

    /// A pod range given to a node must not overlap another node's: two nodes handing out the
    /// same addresses would split the pod network. The store, applying writes in log order,
    /// is the arbiter (a leader's allocator whose view lags a write it made is refused here
    /// and tries again with the range taken).
    public mutating func admit(in store: Store, replacing old: Node?, index: UInt64) -> [FieldError] {
        guard !spec.podCIDR.isEmpty, spec.podCIDR != old?.spec.podCIDR, let mine = IPv4.parseCIDR(spec.podCIDR) else { return [] }
        for other in store.list(.node).items where other.key.name != metadata.name {
            guard let text = other.json[path: ["spec", "podCIDR"]]?.stringValue, let theirs = IPv4.parseCIDR(text) else { continue }
            let prefix = min(mine.prefix, theirs.prefix)
            let mask = ~UInt32(0) << UInt32(32 - prefix)
            if mine.base & mask == theirs.base & mask {
                return [.invalid("spec.podCIDR", spec.podCIDR, "overlaps node \(other.key.name)'s pod range \(text)")]
            }
        }
        return []
    }

    /// A status write changes only the status (its defaults applied, as decoding applies them
    /// in Kubernetes).
    public func statusUpdate(of old: Node) -> Node {
        var result = old
        result.status = status
        result.status.applyDefaults()
        return result
    }

    /// Kubernetes does not track a node's generation: it stays as created.
    public func changesGeneration(from old: Node) -> Bool { false }
}

/// What the cluster decides about a node (core/v1 NodeSpec).
public struct NodeSpec: WireStruct, Hashable {
    public var podCIDR = ""
    public var podCIDRs: [String] = []
    public var providerID = ""
    public var unschedulable = false
    public var taints: [Taint] = []
    public var configSource: RawJSON?
    public var externalID = ""

    public init() {}

    public static let wireInfo = WireStructInfo<NodeSpec>(
        "io.k8s.api.core.v1.NodeSpec", "What the cluster decides about a node: its pod addresses, taints, cordon.",
        [
            .omitEmpty("podCIDR", 1, \.podCIDR, "The address range of the node's pods (the first of podCIDRs)."),
            .omitEmpty("podCIDRs", 7, \.podCIDRs, "The address ranges of the node's pods, at most one per IP family.",
                       semantics: ListSemantics(listType: "set", merge: true)),
            .omitEmpty("providerID", 3, \.providerID, "The cloud provider's ID for the machine (<provider>://<id>)."),
            .omitEmpty("unschedulable", 4, \.unschedulable, "Cordoned: no new pods are placed on the node."),
            .omitEmpty("taints", 5, \.taints, "Marks that repel pods without matching tolerations.", semantics: .atomic),
            .optional("configSource", 6, \.configSource, "Deprecated dynamic agent configuration (kept as sent, unused)."),
            .omitEmpty("externalID", 2, \.externalID, "Deprecated and unused."),
        ])
}

extension NodeSpec {
    /// Most pod address ranges a node has (one IPv4 and one IPv6).
    static let podCIDRsMax = 2

    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if !podCIDR.isEmpty && ValidationSyntax.cidrFamily(podCIDR) == nil {
            errors.append(.invalid(path.child("podCIDR"), podCIDR, ValidationSyntax.cidrMessage))
        }
        var families: [Int] = []
        for (i, cidr) in podCIDRs.enumerated() {
            guard let family = ValidationSyntax.cidrFamily(cidr) else {
                errors.append(.invalid(path.child("podCIDRs").index(i), cidr, ValidationSyntax.cidrMessage))
                continue
            }
            families.append(family)
        }
        if podCIDRs.count > Self.podCIDRsMax {
            errors.append(FieldError(.tooMany, path.child("podCIDRs"), value: String(podCIDRs.count),
                                     "must have at most \(Self.podCIDRsMax) items"))
        } else if families.count == 2 && families[0] == families[1] {
            errors.append(.invalid(path.child("podCIDRs"), podCIDRs.joined(separator: ","),
                                   "may specify no more than one CIDR for each IP family"))
        }
        if !podCIDR.isEmpty, let first = podCIDRs.first, first != podCIDR {
            errors.append(.invalid(path.child("podCIDRs"), first, "first CIDR must match podCIDR"))
        }
        var seen: Set<String> = []
        for (i, taint) in taints.enumerated() {
            let here = path.child("taints").index(i)
            if taint.key.isEmpty {
                errors.append(.required(here.child("key")))
            } else if let error = Names.qualifiedNameError(taint.key) {
                errors.append(.invalid(here.child("key"), taint.key, error))
            }
            if let error = Names.labelValueError(taint.value) { errors.append(.invalid(here.child("value"), taint.value, error)) }
            errors += PodValidation.oneOf(taint.effect, Taint.effects, at: here.child("effect"))
            if !seen.insert(taint.key + "\u{0}" + taint.effect).inserted {
                errors.append(FieldError(.duplicate, here, value: FieldError.quote("\(taint.key):\(taint.effect)"),
                                         "taints must be unique by key and effect pair"))
            }
        }
        return errors
    }
}

extension NodeStatus {
    mutating func applyDefaults() {
        if allocatable.isEmpty && !capacity.isEmpty { allocatable = capacity }
        capacity.roundUpToMilli()
        allocatable.roundUpToMilli()
    }

    func validate(at path: FieldPath) -> [FieldError] {
        var errors = PodValidation.quantities(capacity, at: path.child("capacity"))
        errors += PodValidation.quantities(allocatable, at: path.child("allocatable"))
        for (i, address) in addresses.enumerated() where address.address.isEmpty {
            errors.append(.required(path.child("addresses").index(i).child("address")))
        }
        return errors
    }
}

// MARK: Reads for the scheduler, node lifecycle and agent

extension Node {
    /// The status condition of `type` (e.g. `NodeCondition.ready`), if reported.
    public func condition(_ type: String) -> NodeCondition? { status.conditions.first { $0.type == type } }

    /// Whether the Ready condition is True.
    public var isReady: Bool { condition(NodeCondition.ready)?.status == "True" }

    /// Allocatable CPU in thousandths of a core (0 when not reported).
    public var allocatableCPUMilli: Int64 { status.allocatable.milli(ResourceRequirements.cpu) }
    /// Allocatable memory in bytes (0 when not reported).
    public var allocatableMemoryBytes: Int64 { status.allocatable.units(ResourceRequirements.memory) }
    /// How many pods the node takes (0 when not reported).
    public var allocatablePods: Int64 { status.allocatable.units(ResourceRequirements.pods) }

    /// The node's taints.
    public var taints: [Taint] { spec.taints }

    /// The first address of `type` (e.g. `NodeAddress.internalIP`), if reported.
    public func address(_ type: String) -> String? { status.addresses.first { $0.type == type }?.address }
}

extension Kind {
    /// core/v1 Node, typed from cluster version 2 (cluster-scoped).
    public static let node = Kind(
        Node.self, name: "Node", plural: "nodes", namespaced: false, shortNames: ["no"], sinceClusterVersion: 2,
        versions: [.storage(Node.self, group: "", version: "v1", kind: "Node")],
        subresources: [.status],
        fieldLabels: ["spec.unschedulable": { ($0["spec"]?["unschedulable"]?.boolValue ?? false) ? "true" : "false" }])
}
