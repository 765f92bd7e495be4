import JSON

/// The per-kind validation functions the `Kind` table refers to. Each returns field errors
/// in the Kubernetes style (`path: Invalid value: ...`), all of them at once, so a client
/// sees every problem in one round trip.
enum KindValidation {
    /// Most bytes of `data` values plus `binaryData` values in one ConfigMap (Kubernetes' 1 MiB).
    static let configMapDataSizeMaxBytes = 1024 * 1024
    /// Longest `spec.address` of a Member, in bytes.
    static let memberAddressLengthMax = 253

    // MARK: ConfigMap

    static func configMap(_ object: JSONObject) -> [String] {
        var errors: [String] = []
        var sizeBytes = 0
        var dataKeys: Set<String> = []
        for field in ["data", "binaryData"] {
            guard let value = object[field], !value.isNull else { continue }
            guard let map = value.objectValue else {
                errors.append("\(field): Invalid value: must be an object of string keys to string values")
                continue
            }
            for (key, item) in map {
                if let error = Names.configKeyError(key) {
                    errors.append("\(field)[\(quoted(key))]: Invalid value: \(quoted(key)): \(error)")
                }
                guard let text = item.stringValue else {
                    errors.append("\(field)[\(quoted(key))]: Invalid value: must be a string")
                    continue
                }
                sizeBytes += text.utf8.count
                if field == "data" {
                    dataKeys.insert(key)
                } else {
                    if dataKeys.contains(key) { errors.append("binaryData[\(quoted(key))]: Invalid value: duplicate of key \(quoted(key)) in data") }
                    if !isBase64(text) { errors.append("binaryData[\(quoted(key))]: Invalid value: must be base64") }
                }
            }
        }
        if sizeBytes > configMapDataSizeMaxBytes {
            errors.append("data: Too long: must have at most \(configMapDataSizeMaxBytes) bytes")
        }
        if let immutable = object["immutable"], !immutable.isNull, immutable.boolValue == nil {
            errors.append("immutable: Invalid value: must be a boolean")
        }
        return errors
    }

    /// An immutable ConfigMap (`immutable: true`) keeps its data and stays immutable.
    static func configMapUpdate(_ old: JSONObject, _ new: JSONObject) -> [String] {
        guard old["immutable"]?.boolValue == true else { return [] }
        var errors: [String] = []
        if new["immutable"]?.boolValue != true { errors.append("immutable: Forbidden: field is immutable when `immutable` is set") }
        for field in ["data", "binaryData"] where nonNull(old[field]) != nonNull(new[field]) {
            errors.append("\(field): Forbidden: field is immutable when `immutable` is set")
        }
        return errors
    }

    // MARK: Member

    static func member(_ object: JSONObject) -> [String] {
        guard let spec = object["spec"]?.objectValue else { return ["spec: Required value: must be an object"] }
        var errors: [String] = []
        if let address = spec["address"]?.stringValue {
            let bytes = Array(address.utf8)
            if bytes.isEmpty || bytes.count > memberAddressLengthMax || bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
                errors.append("spec.address: Invalid value: \(quoted(address)): must be 1...\(memberAddressLengthMax) bytes without spaces or control characters")
            }
        } else {
            errors.append("spec.address: Required value: must be a string")
        }
        for port in ["peerPort", "apiPort"] {
            guard let value = spec[port]?.intValue, (1...65_535).contains(value) else {
                errors.append("spec.\(port): Invalid value: must be an integer in 1...65535")
                continue
            }
        }
        if let incarnation = spec["incarnation"]?.intValue {
            if incarnation < 0 { errors.append("spec.incarnation: Invalid value: \(incarnation): must not be negative") }
        } else {
            errors.append("spec.incarnation: Required value: must be an integer")
        }
        let roles = ["voter", "learner"]
        if !roles.contains(spec["role"]?.stringValue ?? "") {
            errors.append("spec.role: Unsupported value: supported values: \"voter\", \"learner\"")
        }
        return errors
    }

    // MARK: Helpers

    static func quoted(_ text: String) -> String { "\"\(text)\"" }

    private static func nonNull(_ value: JSONValue?) -> JSONValue? { value?.isNull == true ? nil : value }

    /// Standard base64 with padding (what Kubernetes accepts for `[]byte` fields).
    private static func isBase64(_ text: String) -> Bool { Base64Bytes.isBase64(text) }
}
