import JSON

/// apps/v1 Deployment: a replicated pod template rolled out through ReplicaSets. Also served
/// at extensions/v1beta1, apps/v1beta1 and apps/v1beta2 with their own defaults
/// (`DeploymentVersions.swift`).
public struct Deployment: StatusKindObject, ScalableKind, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var spec = DeploymentSpec()
    public var status = DeploymentStatus()

    public init() {}

    public static let wireInfo = WireStructInfo<Deployment>(
        "io.k8s.api.apps.v1.Deployment", "Runs a number of copies of a pod template and rolls out changes to it.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Deployment."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: apps/v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .always("spec", 2, \.spec, "What the deployment should run."),
            .always("status", 3, \.status, "What the deployment runs now (written by the controller)."),
        ])

    public mutating func applyDefaults() { spec.applyDefaults() }

    public mutating func prepareForCreate() { status = DeploymentStatus() }

    public func validate() -> [FieldError] { spec.validate(at: "spec", labels: metadata.labels) }

    public func validateUpdate(from old: Deployment, servedAt apiVersion: String) -> [FieldError] {
        // Kubernetes lets only the old beta versions change the selector.
        guard apiVersion != "extensions/v1beta1" && apiVersion != "apps/v1beta1" else { return [] }
        guard spec.selector != old.spec.selector else { return [] }
        return [FieldError(.invalid, "spec.selector", value: spec.selector.map { $0.wireJSON.description } ?? "null", "field is immutable")]
    }

    /// The controller copies annotations to its ReplicaSets, so they count as desired state.
    public func changesGeneration(from old: Deployment) -> Bool {
        spec.wireJSON != old.spec.wireJSON || metadata.annotations != old.metadata.annotations
    }

    public var desiredReplicas: Int32 {
        get { spec.replicas ?? 1 }
        set { spec.replicas = newValue }
    }
    public var observedReplicas: Int32 { status.replicas }
    public var selectorText: String { spec.selector?.selector?.description ?? "" }
}

public struct DeploymentSpec: WireStruct, Hashable {
    public var replicas: Int32?
    public var selector: LabelSelectorSpec?
    public var template = PodTemplateSpec()
    public var strategy = DeploymentStrategy()
    public var minReadySeconds: Int32 = 0
    public var revisionHistoryLimit: Int32?
    public var paused = false
    public var progressDeadlineSeconds: Int32?

    public init() {}

    public static let wireInfo = WireStructInfo<DeploymentSpec>(
        "io.k8s.api.apps.v1.DeploymentSpec", "What a deployment should run and how it rolls out changes.",
        [
            .optional("replicas", 1, \.replicas, "How many pods to run (default 1)."),
            .optional("selector", 2, \.selector,
                      "Which pods belong to the deployment; must match the template's labels and may not change.",
                      required: true),
            .always("template", 3, \.template, "The pod to run: a change to it starts a rollout.", required: true),
            .omitEmpty("strategy", 4, \.strategy, "How new pods replace old ones.", semantics: .retainKeysObject),
            .omitEmpty("minReadySeconds", 5, \.minReadySeconds,
                       "Seconds a new pod must be ready before it counts as available (default 0)."),
            .optional("revisionHistoryLimit", 6, \.revisionHistoryLimit,
                      "How many old ReplicaSets to keep for rollbacks (default 10)."),
            .omitEmpty("paused", 7, \.paused, "When true, changes to the template do not roll out."),
            .optional("progressDeadlineSeconds", 9, \.progressDeadlineSeconds,
                      "Seconds a rollout may make no progress before it is reported as failed (default 600)."),
        ])

    /// apps/v1's defaults.
    public mutating func applyDefaults() {
        if replicas == nil { replicas = 1 }
        if strategy.type.isEmpty { strategy.type = DeploymentStrategy.rollingUpdate }
        if strategy.type == DeploymentStrategy.rollingUpdate {
            var rolling = strategy.rollingUpdate ?? RollingUpdateDeployment()
            if rolling.maxUnavailable == nil { rolling.maxUnavailable = .string("25%") }
            if rolling.maxSurge == nil { rolling.maxSurge = .string("25%") }
            strategy.rollingUpdate = rolling
        }
        if revisionHistoryLimit == nil { revisionHistoryLimit = 10 }
        if progressDeadlineSeconds == nil { progressDeadlineSeconds = 600 }
        template.applyDefaults()
    }

    func validate(at path: FieldPath, labels: [String: String]) -> [FieldError] {
        var errors: [FieldError] = []
        if let replicas, replicas < 0 {
            errors.append(.invalid(path.child("replicas"), Int64(replicas), "must be greater than or equal to 0"))
        }
        errors += ReplicatedPods.validateSelector(selector, template: template, at: path, kindName: "deployment")
        errors += template.validate(at: path.child("template"))
        errors += ReplicatedPods.validateRestartPolicy(template, at: path.child("template"))
        errors += strategy.validate(at: path.child("strategy"))
        if minReadySeconds < 0 {
            errors.append(.invalid(path.child("minReadySeconds"), Int64(minReadySeconds), "must be greater than or equal to 0"))
        }
        if let limit = revisionHistoryLimit, limit < 0 {
            errors.append(.invalid(path.child("revisionHistoryLimit"), Int64(limit), "must be greater than or equal to 0"))
        }
        if let deadline = progressDeadlineSeconds {
            if deadline < 0 {
                errors.append(.invalid(path.child("progressDeadlineSeconds"), Int64(deadline), "must be greater than or equal to 0"))
            } else if deadline <= minReadySeconds {
                errors.append(.invalid(path.child("progressDeadlineSeconds"), Int64(deadline), "must be greater than minReadySeconds"))
            }
        }
        return errors
    }
}

public struct DeploymentStrategy: WireStruct, Hashable {
    public static let rollingUpdate = "RollingUpdate"
    public static let recreate = "Recreate"

    public var type = ""
    public var rollingUpdate: RollingUpdateDeployment?

    public init() {}

    public static let wireInfo = WireStructInfo<DeploymentStrategy>(
        "io.k8s.api.apps.v1.DeploymentStrategy", "How a deployment replaces old pods with new ones.",
        [
            .omitEmpty("type", 1, \.type,
                       "RollingUpdate (default: a few pods at a time, within maxSurge and maxUnavailable) or Recreate (all old pods first)."),
            .optional("rollingUpdate", 2, \.rollingUpdate, "Bounds of a rolling update (type RollingUpdate only)."),
        ])

    /// Kubernetes' ValidateDeploymentStrategy.
    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        switch type {
        case Self.recreate:
            if rollingUpdate != nil {
                errors.append(.forbidden(path.child("rollingUpdate"), "may not be specified when strategy `type` is '\(Self.recreate)'"))
            }
        case Self.rollingUpdate:
            guard let rolling = rollingUpdate else {
                errors.append(.required(path.child("rollingUpdate"), "this should be defaulted and never be nil"))
                break
            }
            errors += rolling.validate(at: path.child("rollingUpdate"))
        default:
            errors.append(.notSupported(path.child("type"), type, [Self.recreate, Self.rollingUpdate]))
        }
        return errors
    }
}

public struct RollingUpdateDeployment: WireStruct, Hashable {
    public var maxUnavailable: IntOrString?
    public var maxSurge: IntOrString?

    public init() {}

    public static let wireInfo = WireStructInfo<RollingUpdateDeployment>(
        "io.k8s.api.apps.v1.RollingUpdateDeployment", "The bounds of a rolling update.",
        [
            .optional("maxUnavailable", 1, \.maxUnavailable,
                      "How many pods (or what percentage, rounded down) may be unavailable during the update (default 25%)."),
            .optional("maxSurge", 2, \.maxSurge,
                      "How many pods (or what percentage, rounded up) may run above the desired count during the update (default 25%)."),
        ])

    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let unavailable = maxUnavailable ?? .int(0)
        let surge = maxSurge ?? .int(0)
        errors += ReplicatedPods.validateIntOrPercent(unavailable, at: path.child("maxUnavailable"), percentMax: 100)
        errors += ReplicatedPods.validateIntOrPercent(surge, at: path.child("maxSurge"), percentMax: nil)
        if ReplicatedPods.isZero(unavailable) && ReplicatedPods.isZero(surge) {
            errors.append(FieldError(.invalid, path.child("maxUnavailable"), value: unavailable.description,
                                     "may not be 0 when `maxSurge` is 0"))
        }
        return errors
    }
}

public struct DeploymentStatus: WireStruct, Hashable {
    public var observedGeneration: Int64 = 0
    public var replicas: Int32 = 0
    public var updatedReplicas: Int32 = 0
    public var readyReplicas: Int32 = 0
    public var availableReplicas: Int32 = 0
    public var unavailableReplicas: Int32 = 0
    public var conditions: [DeploymentCondition] = []
    public var collisionCount: Int32?

    public init() {}

    public static let wireInfo = WireStructInfo<DeploymentStatus>(
        "io.k8s.api.apps.v1.DeploymentStatus", "What a deployment runs now, as its controller last saw it.",
        [
            .omitEmpty("observedGeneration", 1, \.observedGeneration, "The generation of the spec the controller acted on."),
            .omitEmpty("replicas", 2, \.replicas, "Pods the deployment runs, of any template."),
            .omitEmpty("updatedReplicas", 3, \.updatedReplicas, "Pods of the current template."),
            .omitEmpty("readyReplicas", 7, \.readyReplicas, "Pods that are ready."),
            .omitEmpty("availableReplicas", 4, \.availableReplicas, "Pods ready for at least minReadySeconds."),
            .omitEmpty("unavailableReplicas", 5, \.unavailableReplicas, "Pods still needed for the desired count to be available."),
            .omitEmpty("conditions", 6, \.conditions, "Available and Progressing, with reasons.", semantics: .mergeBy("type")),
            .optional("collisionCount", 8, \.collisionCount, "Counts hash collisions of ReplicaSet names (the controller's)."),
        ])

    /// The condition of `type`, if present.
    public func condition(_ type: String) -> DeploymentCondition? { conditions.first { $0.type == type } }
}

public struct DeploymentCondition: WireStruct, Hashable {
    public var type = ""
    public var status = ""
    public var lastUpdateTime: MetaTime?
    public var lastTransitionTime: MetaTime?
    public var reason = ""
    public var message = ""

    public init() {}

    public init(type: String, status: String, reason: String, message: String, now: MetaTime) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        lastUpdateTime = now
        lastTransitionTime = now
    }

    public static let wireInfo = WireStructInfo<DeploymentCondition>(
        "io.k8s.api.apps.v1.DeploymentCondition", "One observation about a deployment (Available, Progressing, ReplicaFailure).",
        [
            .always("type", 1, \.type, "The condition's type.", required: true),
            .always("status", 2, \.status, "True, False or Unknown.", required: true),
            .optional("lastUpdateTime", 6, \.lastUpdateTime, "When the condition was last written."),
            .optional("lastTransitionTime", 7, \.lastTransitionTime, "When the status last changed."),
            .omitEmpty("reason", 4, \.reason, "A CamelCase reason for the last transition."),
            .omitEmpty("message", 5, \.message, "Details for people."),
        ])
}

extension Kind {
    public static let deployment = Kind(
        Deployment.self, name: "Deployment", plural: "deployments", namespaced: true, shortNames: ["deploy"],
        categories: ["all"], sinceClusterVersion: 2,
        versions: [.storage(Deployment.self, group: "apps", version: "v1", kind: "Deployment")] + DeploymentVersions.legacy,
        subresources: [.status, .scale])
}
