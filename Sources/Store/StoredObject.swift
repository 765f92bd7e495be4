import JSON
import Synchronization

/// Which object: its kind, namespace ("" for cluster-scoped kinds) and name. Keys order by
/// kind name, then namespace, then name, comparing bytes (the order of lists and snapshots).
public struct ObjectKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The object's kind.
    public let kind: Kind
    /// The namespace, or "" for a cluster-scoped kind.
    public let namespace: String
    /// The object's name.
    public let name: String

    /// A key; it is checked only when used in a command (`validationErrors`).
    public init(kind: Kind, namespace: String = "", name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// Field errors in the namespace and name (empty when the key is well formed).
    public var validationErrors: [String] {
        var errors: [String] = []
        if kind.namespaced {
            if namespace.isEmpty {
                errors.append("metadata.namespace: Required value")
            } else if let error = Names.dnsLabelError(namespace) {
                errors.append("metadata.namespace: Invalid value: \(KindValidation.quoted(namespace)): \(error)")
            }
        } else if !namespace.isEmpty {
            errors.append("metadata.namespace: Forbidden: \(kind.name) is cluster-scoped")
        }
        if name.isEmpty {
            errors.append("metadata.name: Required value: name is required")
        } else if let error = kind.nameError(name) {
            errors.append("metadata.name: Invalid value: \(KindValidation.quoted(name)): \(error)")
        }
        return errors
    }

    /// "ConfigMap default/web" or "Member host-a".
    public var description: String { namespace.isEmpty ? "\(kind.name) \(name)" : "\(kind.name) \(namespace)/\(name)" }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        if a.kind != b.kind { return a.kind < b.kind }
        if a.namespace != b.namespace { return utf8Precedes(a.namespace, b.namespace) }
        return utf8Precedes(a.name, b.name)
    }
}

/// An object as the store keeps and serves it: the full JSON (`apiVersion`, `kind`,
/// `metadata`, then every other field as the client sent it) with the server-managed
/// metadata filled in, plus those fields decoded for the store's own use.
///
/// `metadata` is rewritten into a fixed order: `name`, `namespace` (namespaced kinds only),
/// `uid`, `resourceVersion`, `generation`, `creationTimestamp`, then the client's other
/// metadata fields (`labels`, `annotations`, ...) in the order sent.
public struct StoredObject: Equatable, Sendable {
    /// The fields live in one immutable box: copying an object (the store's tables are
    /// values that snapshots copy, and the watch history holds objects too) is then one
    /// reference count, not one per field. Copying 100k objects field by field cost the
    /// event loop a measured 40 ms.
    private final class Fields: Sendable {
        let key: ObjectKey
        let uid: String
        let resourceVersion: UInt64
        let generation: Int64
        let creationTimestamp: String
        let labels: [String: String]
        let json: JSONValue
        /// `json` as JSON text, made the first time an answer needs it (a list, a watch
        /// event) and then shared by every answer: a list of 10,000 objects or an event sent
        /// to 100 watchers copies bytes instead of printing the same values again. Lists may
        /// be rendered off the loop, hence the lock.
        let text = Mutex<[UInt8]?>(nil)

        init(key: ObjectKey, uid: String, resourceVersion: UInt64, generation: Int64,
             creationTimestamp: String, labels: [String: String], json: JSONValue) {
            self.key = key
            self.uid = uid
            self.resourceVersion = resourceVersion
            self.generation = generation
            self.creationTimestamp = creationTimestamp
            self.labels = labels
            self.json = json
        }
    }

    private let fields: Fields

    /// Where the object lives.
    public var key: ObjectKey { fields.key }
    /// Given by the proposer of the create command (the store never invents randomness).
    public var uid: String { fields.uid }
    /// The Raft index of the entry that last wrote the object (for a DELETED event: of the
    /// delete). In the JSON it is the decimal string `metadata.resourceVersion`.
    public var resourceVersion: UInt64 { fields.resourceVersion }
    /// 1 on create, +1 on every update that changes more than `metadata`.
    public var generation: Int64 { fields.generation }
    /// RFC 3339 UTC, from the proposing leader's clock, carried in the create command.
    public var creationTimestamp: String { fields.creationTimestamp }
    /// `metadata.labels` (empty when absent).
    public var labels: [String: String] { fields.labels }
    /// The whole object as served.
    public var json: JSONValue { fields.json }

    /// `json` as JSON text (computed once per stored version of the object, then shared).
    public var jsonText: [UInt8] {
        fields.text.withLock { cached in
            if let cached { return cached }
            let made = fields.json.serialized()
            cached = made
            return made
        }
    }

    init(key: ObjectKey, uid: String, resourceVersion: UInt64, generation: Int64,
         creationTimestamp: String, labels: [String: String], json: JSONValue) {
        fields = Fields(key: key, uid: uid, resourceVersion: resourceVersion, generation: generation,
                        creationTimestamp: creationTimestamp, labels: labels, json: json)
    }

    public static func == (a: StoredObject, b: StoredObject) -> Bool {
        if a.fields === b.fields { return true }
        return a.key == b.key && a.uid == b.uid && a.resourceVersion == b.resourceVersion && a.generation == b.generation
            && a.creationTimestamp == b.creationTimestamp && a.labels == b.labels && a.json == b.json
    }

    /// The same object with another resourceVersion (a delete stamps the deleting index).
    func withResourceVersion(_ version: UInt64) -> StoredObject {
        var json = self.json
        json["metadata"]?["resourceVersion"] = .string(String(version))
        return StoredObject(key: key, uid: uid, resourceVersion: version, generation: generation,
                            creationTimestamp: creationTimestamp, labels: labels, json: json)
    }
}

extension StoredObject {
    /// The stored form of an admitted typed object: its JSON in the storage version, with the
    /// server metadata read back from it. Nil when that metadata is missing or malformed.
    init?(typed object: any KindObject, kind: Kind) {
        let meta = object.metadata
        guard let version = Store.parseResourceVersion(meta.resourceVersion), !meta.uid.isEmpty,
              let created = meta.creationTimestamp, meta.generation >= 1 else { return nil }
        self.init(key: ObjectKey(kind: kind, namespace: kind.namespaced ? meta.namespace : "", name: meta.name),
                  uid: meta.uid, resourceVersion: version, generation: meta.generation,
                  creationTimestamp: created.description, labels: meta.labels, json: object.wireJSON)
    }
}
