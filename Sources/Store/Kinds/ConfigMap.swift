import JSON

/// Configuration data for pods (core/v1 ConfigMap): string values in `data`, bytes in
/// `binaryData`; `immutable` freezes both.
public struct ConfigMap: KindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var immutable: Bool?
    public var data: [String: String] = [:]
    public var binaryData: [String: Base64Bytes] = [:]

    public init() {}

    public static let wireInfo = WireStructInfo<ConfigMap>(
        "io.k8s.api.core.v1.ConfigMap", "Configuration data for pods: string values in data, bytes in binaryData.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: ConfigMap."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .optional("immutable", 4, \.immutable, "When true, data and binaryData can no longer change (only deletion)."),
            .omitEmpty("data", 2, \.data, "String values by key. Keys are letters, digits, '-', '_' and '.'."),
            .omitEmpty("binaryData", 3, \.binaryData, "Byte values by key (base64 in JSON); keys may not repeat those of data."),
        ])

    public func validate() -> [FieldError] {
        ConfigData.validate(data: data, binaryData: binaryData)
    }

    public func validateUpdate(from old: ConfigMap) -> [FieldError] {
        guard old.immutable == true else { return [] }
        var errors: [FieldError] = []
        if immutable != true { errors.append(.forbidden("immutable", "field is immutable when `immutable` is set")) }
        if data != old.data || binaryData != old.binaryData {
            errors.append(.forbidden("data", "field is immutable when `immutable` is set"))
        }
        return errors
    }
}

extension Kind {
    /// ConfigMap: untyped under cluster version 1 (its rules in `KindValidation`), typed from 2.
    public static let configMap = Kind(
        ConfigMap.self, name: "ConfigMap", plural: "configmaps", namespaced: true, shortNames: ["cm"],
        sinceClusterVersion: 1,
        versions: [.storage(ConfigMap.self, group: "", version: "v1", kind: "ConfigMap")],
        legacyValidate: KindValidation.configMap, legacyValidateUpdate: KindValidation.configMapUpdate)

    /// A member of this shoal cluster (cluster-scoped): where to reach it and its Raft role,
    /// as recorded by the leader. Untyped at every cluster version (internal to shoal).
    public static let member = Kind(
        name: "Member", group: "shoal.dev", version: "v1", plural: "members", namespaced: false,
        validate: KindValidation.member)
}

/// The key and size rules ConfigMaps and Secrets share.
enum ConfigData {
    /// Most bytes of all values of one ConfigMap or Secret (Kubernetes' 1 MiB).
    static let totalSizeMaxBytes = 1024 * 1024

    static func validate(data: [String: String], binaryData: [String: Base64Bytes],
                         dataField: String = "data", binaryField: String = "binaryData") -> [FieldError] {
        var errors: [FieldError] = []
        var total = 0
        for key in data.keys.sorted(by: utf8Precedes) {
            if let error = Names.configKeyError(key) { errors.append(.invalid(FieldPath().child(dataField), key, error)) }
            total += data[key]!.utf8.count
        }
        for key in binaryData.keys.sorted(by: utf8Precedes) {
            if let error = Names.configKeyError(key) { errors.append(.invalid(FieldPath().child(binaryField), key, error)) }
            if data[key] != nil { errors.append(.invalid(FieldPath().child(binaryField), key, "duplicate of key \(FieldError.quote(key)) in \(dataField)")) }
            total += binaryData[key]!.byteCount
        }
        if total > totalSizeMaxBytes {
            errors.append(FieldError(.tooLong, FieldPath(), "the total size of \(dataField) must be at most \(totalSizeMaxBytes) bytes"))
        }
        return errors
    }
}
