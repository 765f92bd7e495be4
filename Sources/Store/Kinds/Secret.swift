import JSON

/// Secret data for pods (core/v1 Secret): base64 bytes in `data`; `stringData` is a write-only
/// convenience merged into `data` by the server.
public struct Secret: KindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var immutable: Bool?
    public var data: [String: Base64Bytes] = [:]
    public var stringData: [String: String] = [:]
    public var type = ""

    public init() {}

    public static let wireInfo = WireStructInfo<Secret>(
        "io.k8s.api.core.v1.Secret", "Secret data for pods, such as passwords, tokens and keys.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Secret."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .optional("immutable", 5, \.immutable, "When true, data can no longer change (only deletion)."),
            .omitEmpty("data", 2, \.data, "Values by key, base64 in JSON."),
            .omitEmpty("stringData", 4, \.stringData,
                       "Write-only: string values merged into data on write (they win over data's), never read back."),
            .omitEmpty("type", 3, \.type, "What the secret holds; Opaque (the default) for arbitrary data."),
        ])

    /// The types whose required keys shoal checks.
    static let knownTypes = ["Opaque", "kubernetes.io/service-account-token", "kubernetes.io/dockercfg",
                             "kubernetes.io/dockerconfigjson", "kubernetes.io/basic-auth", "kubernetes.io/ssh-auth",
                             "kubernetes.io/tls", "bootstrap.kubernetes.io/token"]

    public mutating func applyDefaults() {
        if type.isEmpty { type = "Opaque" }
    }

    /// `stringData` is merged into `data` and dropped (Kubernetes does this on every write).
    public mutating func prepareForCreate() { mergeStringData() }
    public mutating func prepareForUpdate(from old: Secret) { mergeStringData() }

    private mutating func mergeStringData() {
        for (key, value) in stringData { data[key] = Base64Bytes(bytes: Array(value.utf8)) }
        stringData = [:]
    }

    public func validate() -> [FieldError] {
        var errors = ConfigData.validate(data: [:], binaryData: data, dataField: "stringData", binaryField: "data")
        let required: [String]
        switch type {
        case "kubernetes.io/tls": required = ["tls.crt", "tls.key"]
        case "kubernetes.io/dockerconfigjson": required = [".dockerconfigjson"]
        case "kubernetes.io/dockercfg": required = [".dockercfg"]
        case "kubernetes.io/ssh-auth": required = ["ssh-privatekey"]
        default: required = []
        }
        for key in required where data[key] == nil {
            errors.append(.required(FieldPath("data").key(key)))
        }
        return errors
    }

    public func validateUpdate(from old: Secret) -> [FieldError] {
        var errors: [FieldError] = []
        if type != old.type { errors.append(.invalid("type", type, "field is immutable")) }
        if old.immutable == true {
            if immutable != true { errors.append(.forbidden("immutable", "field is immutable when `immutable` is set")) }
            if data != old.data { errors.append(.forbidden("data", "field is immutable when `immutable` is set")) }
        }
        return errors
    }
}

extension Kind {
    public static let secret = Kind(
        Secret.self, name: "Secret", plural: "secrets", namespaced: true, sinceClusterVersion: 2,
        versions: [.storage(Secret.self, group: "", version: "v1", kind: "Secret")],
        fieldLabels: ["type": { $0["type"]?.stringValue ?? "" }])
}
