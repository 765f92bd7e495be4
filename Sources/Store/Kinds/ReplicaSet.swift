import JSON

/// apps/v1 ReplicaSet: keeps a number of pods of one template running. Deployments manage
/// them; also served at extensions/v1beta1 and apps/v1beta2.
public struct ReplicaSet: StatusKindObject, ScalableKind, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var spec = ReplicaSetSpec()
    public var status = ReplicaSetStatus()

    public init() {}

    public static let wireInfo = WireStructInfo<ReplicaSet>(
        "io.k8s.api.apps.v1.ReplicaSet", "Keeps a number of pods of one template running.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: ReplicaSet."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: apps/v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .always("spec", 2, \.spec, "What the ReplicaSet should run."),
            .always("status", 3, \.status, "What it runs now (written by the controller)."),
        ])

    public mutating func applyDefaults() {
        if spec.replicas == nil { spec.replicas = 1 }
        spec.template.applyDefaults()
    }

    public mutating func prepareForCreate() { status = ReplicaSetStatus() }

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        let path = FieldPath("spec")
        if let replicas = spec.replicas, replicas < 0 {
            errors.append(.invalid(path.child("replicas"), Int64(replicas), "must be greater than or equal to 0"))
        }
        if spec.minReadySeconds < 0 {
            errors.append(.invalid(path.child("minReadySeconds"), Int64(spec.minReadySeconds), "must be greater than or equal to 0"))
        }
        errors += ReplicatedPods.validateSelector(spec.selector, template: spec.template, at: path, kindName: "replicaset")
        errors += spec.template.validate(at: path.child("template"))
        errors += ReplicatedPods.validateRestartPolicy(spec.template, at: path.child("template"))
        return errors
    }

    public func validateUpdate(from old: ReplicaSet, servedAt apiVersion: String) -> [FieldError] {
        guard apiVersion != "extensions/v1beta1", spec.selector != old.spec.selector else { return [] }
        return [FieldError(.invalid, "spec.selector", value: spec.selector.map { $0.wireJSON.description } ?? "null", "field is immutable")]
    }

    public func changesGeneration(from old: ReplicaSet) -> Bool { spec.wireJSON != old.spec.wireJSON }

    public var desiredReplicas: Int32 {
        get { spec.replicas ?? 1 }
        set { spec.replicas = newValue }
    }
    public var observedReplicas: Int32 { status.replicas }
    public var selectorText: String { spec.selector?.selector?.description ?? "" }
}

public struct ReplicaSetSpec: WireStruct, Hashable {
    public var replicas: Int32?
    public var minReadySeconds: Int32 = 0
    public var selector: LabelSelectorSpec?
    public var template = PodTemplateSpec()

    public init() {}

    public static let wireInfo = WireStructInfo<ReplicaSetSpec>(
        "io.k8s.api.apps.v1.ReplicaSetSpec", "What a ReplicaSet should run.",
        [
            .optional("replicas", 1, \.replicas, "How many pods to keep running (default 1)."),
            .omitEmpty("minReadySeconds", 4, \.minReadySeconds, "Seconds a new pod must be ready before it counts as available."),
            .optional("selector", 2, \.selector, "Which pods it owns; must match the template's labels.", required: true),
            .omitEmpty("template", 3, \.template, "The pod to run."),
        ])
}

public struct ReplicaSetStatus: WireStruct, Hashable {
    public var replicas: Int32 = 0
    public var fullyLabeledReplicas: Int32 = 0
    public var readyReplicas: Int32 = 0
    public var availableReplicas: Int32 = 0
    public var observedGeneration: Int64 = 0
    public var conditions: [ReplicaSetCondition] = []

    public init() {}

    public static let wireInfo = WireStructInfo<ReplicaSetStatus>(
        "io.k8s.api.apps.v1.ReplicaSetStatus", "What a ReplicaSet runs now.",
        [
            .always("replicas", 1, \.replicas, "Pods it runs."),
            .omitEmpty("fullyLabeledReplicas", 2, \.fullyLabeledReplicas, "Pods whose labels match the template's."),
            .omitEmpty("readyReplicas", 4, \.readyReplicas, "Pods that are ready."),
            .omitEmpty("availableReplicas", 5, \.availableReplicas, "Pods ready for at least minReadySeconds."),
            .omitEmpty("observedGeneration", 3, \.observedGeneration, "The generation of the spec the controller acted on."),
            .omitEmpty("conditions", 6, \.conditions, "Observations (ReplicaFailure).", semantics: .mergeBy("type")),
        ])
}

public struct ReplicaSetCondition: WireStruct, Hashable {
    public var type = ""
    public var status = ""
    public var lastTransitionTime: MetaTime?
    public var reason = ""
    public var message = ""

    public init() {}

    public static let wireInfo = WireStructInfo<ReplicaSetCondition>(
        "io.k8s.api.apps.v1.ReplicaSetCondition", "One observation about a ReplicaSet.",
        [
            .always("type", 1, \.type, "The condition's type.", required: true),
            .always("status", 2, \.status, "True, False or Unknown.", required: true),
            .optional("lastTransitionTime", 3, \.lastTransitionTime, "When the status last changed."),
            .omitEmpty("reason", 4, \.reason, "A CamelCase reason for the last transition."),
            .omitEmpty("message", 5, \.message, "Details for people."),
        ])
}

extension Kind {
    public static let replicaSet = Kind(
        ReplicaSet.self, name: "ReplicaSet", plural: "replicasets", namespaced: true, shortNames: ["rs"],
        categories: ["all"], sinceClusterVersion: 2,
        versions: [
            .storage(ReplicaSet.self, group: "apps", version: "v1", kind: "ReplicaSet"),
            .alias(ReplicaSet.self, group: "extensions", version: "v1beta1", kind: "ReplicaSet",
                   definition: "io.k8s.api.extensions.v1beta1.ReplicaSet", orphansByDefault: true,
                   defaults: { replicaSet in
                       let labels = replicaSet.spec.template.metadata.labels
                       guard !labels.isEmpty else { return }
                       if replicaSet.spec.selector == nil { replicaSet.spec.selector = LabelSelectorSpec(matchLabels: labels) }
                       if replicaSet.metadata.labels.isEmpty { replicaSet.metadata.labels = labels }
                   }),
            .alias(ReplicaSet.self, group: "apps", version: "v1beta2", kind: "ReplicaSet",
                   definition: "io.k8s.api.apps.v1beta2.ReplicaSet", orphansByDefault: true, defaults: { _ in }),
        ],
        subresources: [.status, .scale],
        fieldLabels: ["status.replicas": { String($0["status"]?["replicas"]?.intValue ?? 0) }])
}
