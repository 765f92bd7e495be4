import JSON

/// A namespace (core/v1 Namespace): the scope of names for namespaced objects. Objects may
/// only be created in a namespace that exists and is not being deleted; deleting a namespace
/// deletes everything in it, then the namespace itself.
public struct Namespace: StatusKindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var spec = NamespaceSpec()
    public var status = NamespaceStatus()

    public init() {}

    /// The label every namespace carries, naming it (selectors can then pick namespaces).
    public static let nameLabel = "kubernetes.io/metadata.name"
    /// The finalizer the server adds and removes once the namespace is empty.
    public static let kubernetesFinalizer = "kubernetes"

    public static let wireInfo = WireStructInfo<Namespace>(
        "io.k8s.api.core.v1.Namespace", "A scope for the names of namespaced objects.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Namespace."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .always("spec", 2, \.spec, "What the namespace should be."),
            .always("status", 3, \.status, "What the namespace is (set by the server)."),
        ])

    public mutating func applyDefaults() {
        metadata.labels[Self.nameLabel] = metadata.name
    }

    public mutating func prepareForCreate() {
        status = NamespaceStatus()
        status.phase = "Active"
        if !spec.finalizers.contains(Self.kubernetesFinalizer) { spec.finalizers.append(Self.kubernetesFinalizer) }
    }

    /// The server owns the finalizer list (changed only by the finalize step) and the status.
    public mutating func prepareForUpdate(from old: Namespace) {
        spec.finalizers = old.spec.finalizers
        status = old.status
    }

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        for (i, finalizer) in spec.finalizers.enumerated() {
            if let error = Names.qualifiedNameError(finalizer) {
                errors.append(.invalid(FieldPath("spec.finalizers").index(i), finalizer, error))
            }
        }
        if !status.phase.isEmpty && !["Active", "Terminating"].contains(status.phase) {
            errors.append(.notSupported("status.phase", status.phase, ["Active", "Terminating"]))
        }
        return errors
    }

    /// Whether the namespace is going away (no new objects may be created in it).
    public var isTerminating: Bool { metadata.deletionTimestamp != nil || status.phase == "Terminating" }
}

public struct NamespaceSpec: WireStruct, Hashable {
    public var finalizers: [String] = []
    public init() {}
    public static let wireInfo = WireStructInfo<NamespaceSpec>(
        "io.k8s.api.core.v1.NamespaceSpec", "What a namespace should be.",
        [.omitEmpty("finalizers", 1, \.finalizers, "Clean-ups that must finish before the namespace is removed.",
                    semantics: .atomic)])
}

public struct NamespaceStatus: WireStruct, Hashable {
    public var phase = ""
    public var conditions: [NamespaceCondition] = []
    public init() {}
    public static let wireInfo = WireStructInfo<NamespaceStatus>(
        "io.k8s.api.core.v1.NamespaceStatus", "What a namespace is.",
        [
            .omitEmpty("phase", 1, \.phase, "Active, or Terminating once deletion was requested."),
            .omitEmpty("conditions", 2, \.conditions, "Observations about the namespace's state.",
                       semantics: .mergeBy("type")),
        ])
}

public struct NamespaceCondition: WireStruct, Hashable {
    public var type = ""
    public var status = ""
    public var lastTransitionTime: MetaTime?
    public var reason = ""
    public var message = ""
    public init() {}
    public static let wireInfo = WireStructInfo<NamespaceCondition>(
        "io.k8s.api.core.v1.NamespaceCondition", "One observation about a namespace.",
        [
            .always("type", 1, \.type, "The condition's type.", required: true),
            .always("status", 2, \.status, "True, False or Unknown.", required: true),
            .optional("lastTransitionTime", 4, \.lastTransitionTime, "When the status last changed."),
            .omitEmpty("reason", 5, \.reason, "A CamelCase reason for the last transition."),
            .omitEmpty("message", 6, \.message, "Details for people."),
        ])
}

extension Kind {
    public static let namespace = Kind(
        Namespace.self, name: "Namespace", plural: "namespaces", namespaced: false, nameRule: .dnsLabel,
        shortNames: ["ns"], sinceClusterVersion: 2,
        versions: [.storage(Namespace.self, group: "", version: "v1", kind: "Namespace")],
        subresources: [.status],
        fieldLabels: ["status.phase": { $0["status"]?["phase"]?.stringValue ?? "" }])
}
