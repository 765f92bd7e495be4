import JSON

/// A reference to an object, with enough to find it (Kubernetes' ObjectReference): what an
/// Event is about, what a Binding targets, which pod an endpoint is.
public struct ObjectReference: WireStruct, Hashable {
    public var kind = ""
    public var namespace = ""
    public var name = ""
    public var uid = ""
    public var apiVersion = ""
    public var resourceVersion = ""
    public var fieldPath = ""

    public init() {}

    public init(kind: String, namespace: String = "", name: String, uid: String = "", apiVersion: String = "") {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.apiVersion = apiVersion
    }

    public static let wireInfo = WireStructInfo<ObjectReference>(
        "io.k8s.api.core.v1.ObjectReference", "A reference to an object: enough to find it.",
        [
            .omitEmpty("kind", 1, \.kind, "The object's kind."),
            .omitEmpty("namespace", 2, \.namespace, "The object's namespace."),
            .omitEmpty("name", 3, \.name, "The object's name."),
            .omitEmpty("uid", 4, \.uid, "The object's uid."),
            .omitEmpty("apiVersion", 5, \.apiVersion, "The object's API version."),
            .omitEmpty("resourceVersion", 6, \.resourceVersion, "The version of the object the reference was made from."),
            .omitEmpty("fieldPath", 7, \.fieldPath, "A part of the object (e.g. a container: spec.containers{web})."),
        ])
}

/// A reference to an object in the same namespace by name only (Kubernetes'
/// LocalObjectReference): image pull secrets, ConfigMap and Secret sources.
public struct LocalObjectReference: WireStruct, Hashable {
    public var name = ""
    public init() {}
    public init(name: String) { self.name = name }
    public static let wireInfo = WireStructInfo<LocalObjectReference>(
        "io.k8s.api.core.v1.LocalObjectReference", "Names an object in the same namespace.",
        [.omitEmpty("name", 1, \.name, "The object's name.")])
}

/// core/v1 Binding: the body of a pod's binding subresource, which assigns it to a node.
public struct Binding: WireStruct, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var target = ObjectReference()

    public init() {}

    public static let wireInfo = WireStructInfo<Binding>(
        "io.k8s.api.core.v1.Binding", "Assigns a pod to a node (the body of POST pods/{name}/binding).",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Binding."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "The pod's name (and optionally uid, as a precondition)."),
            .always("target", 2, \.target, "The node: kind Node and its name.", required: true),
        ], groupVersionKinds: [("", "v1", "Binding")])
}
