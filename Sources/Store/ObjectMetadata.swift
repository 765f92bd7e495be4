import JSON

/// An object rejected by validation; `reason` lists every field error, separated by "; ".
struct InvalidObject: Error, Equatable {
    let reason: String
}

/// An object as a client sent it (in a create or update command), checked for the rules every
/// kind shares: a known kind and apiVersion, a well-formed key, labels and annotations.
struct IncomingObject {
    /// Metadata fields the server owns: whatever the client sends for them is replaced.
    static let managedMetadataFields: Set<String> = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp"]
    /// Most bytes of annotation keys plus values on one object (Kubernetes' 256 KiB).
    static let annotationsSizeMaxBytes = 256 * 1024
    /// Longest uid, in bytes (a UUID takes 36).
    static let uidLengthMax = 128

    let key: ObjectKey
    /// The whole object as sent.
    let body: JSONObject
    /// `metadata` as sent.
    let metadata: JSONObject
    let labels: [String: String]
    /// `metadata.uid` when sent and not empty.
    let uid: String?
    /// `metadata.resourceVersion` when sent and not empty (a precondition on update).
    let resourceVersion: UInt64?

    /// Checks the shared rules, collecting all field errors it can before giving up, and the
    /// kind's own rules unless `checkKindRules` is false (restoring a snapshot written under
    /// older rules must not fail because a rule tightened since).
    init(_ value: JSONValue, checkKindRules: Bool = true) throws(InvalidObject) {
        guard let body = value.objectValue else { throw InvalidObject(reason: "the object must be a JSON object") }
        guard let kindName = body["kind"]?.stringValue, !kindName.isEmpty else {
            throw InvalidObject(reason: "kind: Required value")
        }
        guard let kind = Kind.named(kindName) else {
            throw InvalidObject(reason: "kind: Unsupported value: \(KindValidation.quoted(kindName)): no such kind is registered")
        }
        guard body["apiVersion"]?.stringValue == kind.apiVersion else {
            throw InvalidObject(reason: "apiVersion: Unsupported value: \(kind.name) is served as \(KindValidation.quoted(kind.apiVersion))")
        }
        guard let metadata = body["metadata"]?.objectValue else { throw InvalidObject(reason: "metadata: Required value: must be an object") }

        var errors: [String] = []
        let name = Self.string(metadata, "name", &errors)
        let namespace = kind.namespaced ? Self.string(metadata, "namespace", &errors) : ""
        let key = ObjectKey(kind: kind, namespace: namespace, name: name)
        errors += key.validationErrors
        let labels = Self.stringMap(metadata, "labels", &errors)
        for (labelKey, labelValue) in labels.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            if let error = Names.qualifiedNameError(labelKey) {
                errors.append("metadata.labels: Invalid value: \(KindValidation.quoted(labelKey)): \(error)")
            }
            if let error = Names.labelValueError(labelValue) {
                errors.append("metadata.labels: Invalid value: \(KindValidation.quoted(labelValue)): \(error)")
            }
        }
        errors += Self.annotationErrors(metadata)
        let uid = Self.string(metadata, "uid", &errors)
        var resourceVersion: UInt64?
        let versionText = Self.string(metadata, "resourceVersion", &errors)
        if !versionText.isEmpty {
            resourceVersion = Store.parseResourceVersion(versionText)
            if resourceVersion == nil {
                errors.append("metadata.resourceVersion: Invalid value: \(KindValidation.quoted(versionText)): must be a decimal revision")
            }
        }
        if checkKindRules { errors += kind.validate(body) }
        if !errors.isEmpty { throw InvalidObject(reason: errors.joined(separator: "; ")) }

        self.key = key
        self.body = body
        self.metadata = metadata
        self.labels = labels
        self.uid = uid.isEmpty ? nil : uid
        self.resourceVersion = resourceVersion
    }

    /// The stored form: managed metadata filled in, fields in the canonical order.
    func stored(uid: String, resourceVersion: UInt64, generation: Int64, creationTimestamp: String) -> StoredObject {
        var meta = JSONObject()
        meta["name"] = .string(key.name)
        if key.kind.namespaced { meta["namespace"] = .string(key.namespace) }
        meta["uid"] = .string(uid)
        meta["resourceVersion"] = .string(String(resourceVersion))
        meta["generation"] = .int(generation)
        meta["creationTimestamp"] = .string(creationTimestamp)
        for (field, value) in metadata where !Self.managedMetadataFields.contains(field) {
            // An explicit null for labels or annotations means "none": drop the field.
            if (field == "labels" || field == "annotations") && value.isNull { continue }
            meta[field] = value
        }
        var object = JSONObject()
        object["apiVersion"] = .string(key.kind.apiVersion)
        object["kind"] = .string(key.kind.name)
        object["metadata"] = .object(meta)
        for (field, value) in body where field != "apiVersion" && field != "kind" && field != "metadata" {
            object[field] = value
        }
        return StoredObject(key: key, uid: uid, resourceVersion: resourceVersion, generation: generation,
                            creationTimestamp: creationTimestamp, labels: labels, json: .object(object))
    }

    static func uidError(_ uid: String) -> String? {
        let bytes = Array(uid.utf8)
        if bytes.isEmpty || bytes.count > uidLengthMax || bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            return "metadata.uid: Invalid value: \(KindValidation.quoted(uid)): must be 1...\(uidLengthMax) printable ASCII bytes"
        }
        return nil
    }

    // MARK: Field readers (absent and null read as empty)

    private static func string(_ object: JSONObject, _ field: String, _ errors: inout [String]) -> String {
        guard let value = object[field], !value.isNull else { return "" }
        guard let text = value.stringValue else {
            errors.append("metadata.\(field): Invalid value: must be a string")
            return ""
        }
        return text
    }

    private static func stringMap(_ object: JSONObject, _ field: String, _ errors: inout [String]) -> [String: String] {
        guard let value = object[field], !value.isNull else { return [:] }
        guard let map = value.objectValue else {
            errors.append("metadata.\(field): Invalid value: must be an object of string keys to string values")
            return [:]
        }
        var result: [String: String] = [:]
        for (key, item) in map {
            guard let text = item.stringValue else {
                errors.append("metadata.\(field)[\(KindValidation.quoted(key))]: Invalid value: must be a string")
                continue
            }
            result[key] = text
        }
        return result
    }

    private static func annotationErrors(_ metadata: JSONObject) -> [String] {
        var errors: [String] = []
        guard let value = metadata["annotations"], !value.isNull else { return [] }
        guard let map = value.objectValue else { return ["metadata.annotations: Invalid value: must be an object of string keys to string values"] }
        var sizeBytes = 0
        for (key, item) in map {
            if let error = Names.qualifiedNameError(key) {
                errors.append("metadata.annotations: Invalid value: \(KindValidation.quoted(key)): \(error)")
            }
            guard let text = item.stringValue else {
                errors.append("metadata.annotations[\(KindValidation.quoted(key))]: Invalid value: must be a string")
                continue
            }
            sizeBytes += key.utf8.count + text.utf8.count
        }
        if sizeBytes > annotationsSizeMaxBytes {
            errors.append("metadata.annotations: Too long: must have at most \(annotationsSizeMaxBytes) bytes")
        }
        return errors
    }
}

extension Store {
    /// A resourceVersion string as Kubernetes writes it: a decimal integer without sign or
    /// leading zeros ("0" itself is allowed). Nil for anything else.
    public static func parseResourceVersion(_ text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 20, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        guard bytes.count == 1 || bytes[0] != UInt8(ascii: "0") else { return nil }
        return UInt64(text)
    }
}
