import JSON

/// A kind with a scale subresource (`.../{name}/scale`): its desired replica count can be
/// read and written through an autoscaling/v1 `Scale`.
public protocol ScalableKind: KindObject {
    /// `spec.replicas` (the desired count).
    var desiredReplicas: Int32 { get set }
    /// `status.replicas` (the observed count).
    var observedReplicas: Int32 { get }
    /// The label selector of the pods it manages, in selector syntax.
    var selectorText: String { get }
}

/// autoscaling/v1 Scale: the replica count of a scalable object.
public struct Scale: WireStruct, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var spec = ScaleSpec()
    public var status = ScaleStatus()

    public init() {}

    public static let wireInfo = WireStructInfo<Scale>(
        "io.k8s.api.autoscaling.v1.Scale", "The replica count of a scalable object (its scale subresource).",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Scale."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: autoscaling/v1."),
            .always("metadata", 1, \.metadata, "The scaled object's metadata (name, namespace, uid, resourceVersion)."),
            .always("spec", 2, \.spec, "The desired count."),
            .always("status", 3, \.status, "The observed count (read-only)."),
        ], groupVersionKinds: [("autoscaling", "v1", "Scale")])

    /// The scale view of `object`.
    static func of<T: ScalableKind>(_ object: T) -> Scale {
        var scale = Scale()
        scale.kind = "Scale"
        scale.apiVersion = "autoscaling/v1"
        scale.metadata.name = object.metadata.name
        scale.metadata.namespace = object.metadata.namespace
        scale.metadata.uid = object.metadata.uid
        scale.metadata.resourceVersion = object.metadata.resourceVersion
        scale.metadata.creationTimestamp = object.metadata.creationTimestamp
        scale.spec.replicas = object.desiredReplicas
        scale.status.replicas = object.observedReplicas
        scale.status.selector = object.selectorText
        return scale
    }
}

public struct ScaleSpec: WireStruct, Hashable {
    public var replicas: Int32 = 0
    public init() {}
    public static let wireInfo = WireStructInfo<ScaleSpec>(
        "io.k8s.api.autoscaling.v1.ScaleSpec", "The desired count.",
        [.omitEmpty("replicas", 1, \.replicas, "The desired number of replicas.")])
}

public struct ScaleStatus: WireStruct, Hashable {
    public var replicas: Int32 = 0
    public var selector = ""
    public init() {}
    public static let wireInfo = WireStructInfo<ScaleStatus>(
        "io.k8s.api.autoscaling.v1.ScaleStatus", "The observed count.",
        [
            .always("replicas", 1, \.replicas, "The observed number of replicas."),
            .omitEmpty("selector", 2, \.selector, "The label selector of the replicas, in selector syntax."),
        ])
}
