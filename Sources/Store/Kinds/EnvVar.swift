/// An environment variable of a container (core/v1 EnvVar): a literal value, or one read from
/// the pod, its resources, a ConfigMap or a Secret.
public struct EnvVar: WireStruct, Hashable {
    public var name = ""
    public var value = ""
    public var valueFrom: EnvVarSource?

    public init() {}

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public static let wireInfo = WireStructInfo<EnvVar>(
        "io.k8s.api.core.v1.EnvVar", "One environment variable of a container.",
        [
            .always("name", 1, \.name, "The variable's name."),
            .omitEmpty("value", 2, \.value,
                       "The value; $(NAME) refers to variables defined earlier and $$ escapes a dollar sign."),
            .optional("valueFrom", 3, \.valueFrom, "Where to read the value from, instead of value."),
        ])
}

/// Where an environment variable's value comes from (core/v1 EnvVarSource): exactly one of
/// the members is set.
public struct EnvVarSource: WireStruct, Hashable {
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var configMapKeyRef: ConfigMapKeySelector?
    public var secretKeyRef: SecretKeySelector?

    public init() {}

    public static let wireInfo = WireStructInfo<EnvVarSource>(
        "io.k8s.api.core.v1.EnvVarSource", "The source of a variable's value; set exactly one member.",
        [
            .optional("fieldRef", 1, \.fieldRef,
                      "A field of the pod: metadata.name, metadata.namespace, metadata.uid, metadata.labels['k'], "
                          + "metadata.annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP(s), status.podIP(s)."),
            .optional("resourceFieldRef", 2, \.resourceFieldRef, "A resource limit or request of a container."),
            .optional("configMapKeyRef", 3, \.configMapKeyRef, "A key of a ConfigMap in the pod's namespace."),
            .optional("secretKeyRef", 4, \.secretKeyRef, "A key of a Secret in the pod's namespace."),
        ])
}

/// A field of the pod, by path (core/v1 ObjectFieldSelector).
public struct ObjectFieldSelector: WireStruct, Hashable {
    public var apiVersion = ""
    public var fieldPath = ""
    public init() {}
    public init(fieldPath: String) { self.fieldPath = fieldPath }
    public static let wireInfo = WireStructInfo<ObjectFieldSelector>(
        "io.k8s.api.core.v1.ObjectFieldSelector", "Selects a field of the pod.",
        [
            .omitEmpty("apiVersion", 1, \.apiVersion, "The version the path is written in (default v1)."),
            .always("fieldPath", 2, \.fieldPath, "The field's path, e.g. metadata.name."),
        ])
}

/// A resource amount of a container (core/v1 ResourceFieldSelector).
public struct ResourceFieldSelector: WireStruct, Hashable {
    public var containerName = ""
    public var resource = ""
    /// Go writes an unset divisor as "0" (a struct is never omitted), and so does shoal.
    public var divisor = Quantity(units: 0)
    public init() {}
    public static let wireInfo = WireStructInfo<ResourceFieldSelector>(
        "io.k8s.api.core.v1.ResourceFieldSelector", "Selects a resource limit or request of a container.",
        [
            .omitEmpty("containerName", 1, \.containerName, "The container (default: the one being configured)."),
            .always("resource", 2, \.resource, "limits.cpu, limits.memory, requests.cpu, requests.memory, or the ephemeral-storage ones."),
            .omitEmpty("divisor", 3, \.divisor, "The unit the amount is divided by (0 or 1: none)."),
        ])
}

/// A key of a ConfigMap (core/v1 ConfigMapKeySelector). `name` comes from an embedded
/// LocalObjectReference (protobuf field 1).
public struct ConfigMapKeySelector: WireStruct, Hashable {
    public var name = ""
    public var key = ""
    public var optional: Bool?
    public init() {}
    public init(name: String, key: String) {
        self.name = name
        self.key = key
    }
    public static let wireInfo = WireStructInfo<ConfigMapKeySelector>(
        "io.k8s.api.core.v1.ConfigMapKeySelector", "Selects one key of a ConfigMap.",
        [
            .omitEmpty("name", nil, \.name, "The ConfigMap's name."),
            .always("key", 2, \.key, "The key."),
            .optional("optional", 3, \.optional, "true: a missing ConfigMap or key is not an error."),
        ])
}

/// A key of a Secret (core/v1 SecretKeySelector). `name` comes from an embedded
/// LocalObjectReference (protobuf field 1).
public struct SecretKeySelector: WireStruct, Hashable {
    public var name = ""
    public var key = ""
    public var optional: Bool?
    public init() {}
    public init(name: String, key: String) {
        self.name = name
        self.key = key
    }
    public static let wireInfo = WireStructInfo<SecretKeySelector>(
        "io.k8s.api.core.v1.SecretKeySelector", "Selects one key of a Secret.",
        [
            .omitEmpty("name", nil, \.name, "The Secret's name."),
            .always("key", 2, \.key, "The key."),
            .optional("optional", 3, \.optional, "true: a missing Secret or key is not an error."),
        ])
}

/// A source of many environment variables at once (core/v1 EnvFromSource).
public struct EnvFromSource: WireStruct, Hashable {
    public var prefix = ""
    public var configMapRef: ConfigMapEnvSource?
    public var secretRef: SecretEnvSource?
    public init() {}
    public static let wireInfo = WireStructInfo<EnvFromSource>(
        "io.k8s.api.core.v1.EnvFromSource", "Every key of a ConfigMap or Secret as an environment variable.",
        [
            .omitEmpty("prefix", 1, \.prefix, "Prepended to every key to make the variable's name."),
            .optional("configMapRef", 2, \.configMapRef, "The ConfigMap to read."),
            .optional("secretRef", 3, \.secretRef, "The Secret to read."),
        ])
}

/// A ConfigMap read whole into the environment (core/v1 ConfigMapEnvSource).
public struct ConfigMapEnvSource: WireStruct, Hashable {
    public var name = ""
    public var optional: Bool?
    public init() {}
    public static let wireInfo = WireStructInfo<ConfigMapEnvSource>(
        "io.k8s.api.core.v1.ConfigMapEnvSource", "A ConfigMap whose keys become environment variables.",
        [
            .omitEmpty("name", nil, \.name, "The ConfigMap's name."),
            .optional("optional", 2, \.optional, "true: a missing ConfigMap is not an error."),
        ])
}

/// A Secret read whole into the environment (core/v1 SecretEnvSource).
public struct SecretEnvSource: WireStruct, Hashable {
    public var name = ""
    public var optional: Bool?
    public init() {}
    public static let wireInfo = WireStructInfo<SecretEnvSource>(
        "io.k8s.api.core.v1.SecretEnvSource", "A Secret whose keys become environment variables.",
        [
            .omitEmpty("name", nil, \.name, "The Secret's name."),
            .optional("optional", 2, \.optional, "true: a missing Secret is not an error."),
        ])
}
