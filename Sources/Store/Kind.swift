import JSON

/// A kind of object the store accepts, with what the API needs to route it and what the
/// store needs to check it. Two kinds are the same kind when their names are equal.
///
/// The registry is `Kind.registered`. Adding a kind is one entry there plus, when it has
/// rules beyond the common metadata ones, a validation function (see `KindValidation.swift`).
/// Validation runs inside `Store.apply` on every member, so a rule change is a change to the
/// replicated state machine: every member must run the same rules for the same log entries.
public struct Kind: Sendable, CustomStringConvertible {
    /// Which syntax `metadata.name` must follow.
    public enum NameRule: Sendable {
        /// A DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', at most 253 bytes.
        case dnsSubdomain
        /// A DNS-1123 label: lowercase alphanumerics and '-', at most 63 bytes.
        case dnsLabel
    }

    /// Field errors for an object of this kind, each `path: message`; empty when valid.
    public typealias Validation = @Sendable (_ object: JSONObject) -> [String]
    /// Field errors for replacing `old` with `new` (immutable fields); empty when allowed.
    public typealias UpdateValidation = @Sendable (_ old: JSONObject, _ new: JSONObject) -> [String]

    /// The `kind` field, e.g. "ConfigMap".
    public let name: String
    /// The API group; "" is the core group.
    public let group: String
    /// The API version within the group, e.g. "v1".
    public let version: String
    /// The lowercase plural used in URLs, e.g. "configmaps".
    public let plural: String
    /// Whether objects live in a namespace (false: cluster-scoped, namespace always "").
    public let namespaced: Bool
    /// The syntax of `metadata.name`.
    public let nameRule: NameRule
    /// Kind-specific checks of a whole object (on create and update).
    let validate: Validation
    /// Kind-specific checks of an update against the stored object.
    let validateUpdate: UpdateValidation

    init(name: String, group: String, version: String, plural: String, namespaced: Bool,
         nameRule: NameRule = .dnsSubdomain,
         validate: @escaping Validation = { _ in [] },
         validateUpdate: @escaping UpdateValidation = { _, _ in [] }) {
        self.name = name
        self.group = group
        self.version = version
        self.plural = plural
        self.namespaced = namespaced
        self.nameRule = nameRule
        self.validate = validate
        self.validateUpdate = validateUpdate
    }

    /// The `apiVersion` field: "v1" for the core group, otherwise "group/version".
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The kind's name.
    public var description: String { name }

    /// Field errors for `name` under this kind's name rule (nil when valid).
    public func nameError(_ name: String) -> String? {
        switch nameRule {
        case .dnsSubdomain: return Names.dnsSubdomainError(name)
        case .dnsLabel: return Names.dnsLabelError(name)
        }
    }
}

extension Kind {
    /// Configuration data for pods: `data` (string to string) and `binaryData` (base64).
    public static let configMap = Kind(
        name: "ConfigMap", group: "", version: "v1", plural: "configmaps", namespaced: true,
        validate: KindValidation.configMap, validateUpdate: KindValidation.configMapUpdate)

    /// A member of this shoal cluster (cluster-scoped): where to reach it and its Raft role,
    /// as recorded by the leader.
    public static let member = Kind(
        name: "Member", group: "shoal.dev", version: "v1", plural: "members", namespaced: false,
        validate: KindValidation.member)

    /// Every kind the store accepts, in name order (the order of snapshots and of `Kind`'s
    /// `Comparable` conformance).
    public static let registered: [Kind] = [configMap, member].sorted()

    /// The registered kind called `name` (the `kind` field), or nil.
    public static func named(_ name: String) -> Kind? { registered.first { $0.name == name } }

    /// The registered kind served at `/apis/group/version/plural` (or `/api/v1/plural` for
    /// the core group ""), or nil.
    public static func resource(group: String, version: String, plural: String) -> Kind? {
        registered.first { $0.group == group && $0.version == version && $0.plural == plural }
    }
}

extension Kind: Hashable, Comparable {
    public static func == (a: Kind, b: Kind) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    /// Byte order of the names (never locale- or Unicode-normalization-dependent).
    public static func < (a: Kind, b: Kind) -> Bool { utf8Precedes(a.name, b.name) }
}
