/// The pods a workload makes (core/v1 PodTemplateSpec): the metadata and spec each new pod
/// starts from. Deployments, ReplicaSets and other workload kinds carry one as
/// `spec.template`.
public struct PodTemplateSpec: WireStruct, Hashable {
    public var metadata = ObjectMeta()
    public var spec = PodSpec()

    public init() {}

    public init(metadata: ObjectMeta, spec: PodSpec) {
        self.metadata = metadata
        self.spec = spec
    }

    public static let wireInfo = WireStructInfo<PodTemplateSpec>(
        "io.k8s.api.core.v1.PodTemplateSpec", "The metadata and spec of the pods a workload makes.",
        [
            .always("metadata", 1, \.metadata, "Labels and annotations for the pods (the selector must match the labels)."),
            .always("spec", 2, \.spec, "The pods' spec."),
        ])
}

extension PodTemplateSpec {
    /// The pod-spec defaults Kubernetes applies to templates (`PodSpec.applyDefaults`); the
    /// pod-only ones (requests from limits, enableServiceLinks, host ports) wait until a pod
    /// is made from it.
    public mutating func applyDefaults() {
        spec.applyDefaults()
    }

    /// Field errors of the template under `path` (e.g. `spec.template`): its labels and
    /// annotations, and its pod spec under `path.spec`. Pods made from templates never carry
    /// ephemeral containers.
    public func validate(at path: FieldPath) -> [FieldError] {
        var errors = PodValidation.labels(metadata.labels, at: path.child("metadata", "labels"))
        errors += PodValidation.annotations(metadata.annotations, at: path.child("metadata", "annotations"))
        errors += spec.validate(at: path.child("spec"))
        if !spec.ephemeralContainers.isEmpty {
            errors.append(.forbidden(path.child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
        }
        return errors
    }
}
