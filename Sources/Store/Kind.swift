import JSON

/// A kind of object the store accepts, with what the API needs to route and present it and
/// what the store needs to admit it. Two kinds are the same kind when their names are equal.
///
/// The registry is `Kind.registered`. A typed kind (`model` set) is admitted by `Admission`:
/// decoded in the version the client used, defaulted, validated and stored in its storage
/// version (the first of `versions`). The untyped kinds of cluster version 1 (ConfigMap before
/// it was typed, Member) keep their `validate` functions (`KindValidation.swift`).
/// Admission runs inside `Store.apply` on every member, so a rule change is a change to the
/// replicated state machine: it must be gated by the cluster version (`Store.clusterVersion`).
public struct Kind: Sendable, CustomStringConvertible {
    /// Which syntax `metadata.name` must follow.
    public enum NameRule: Sendable {
        /// A DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', at most 253 bytes.
        case dnsSubdomain
        /// A DNS-1123 label: lowercase alphanumerics and '-', at most 63 bytes.
        case dnsLabel
        /// Any name that is a valid path segment (Events, Leases, EndpointSlices are looser).
        case pathSegment
    }

    /// The subresources a kind serves.
    public enum Subresource: String, Sendable, Hashable, CaseIterable {
        /// `.../{name}/status`: writes that change only `status`.
        case status
        /// `.../{name}/scale`: an autoscaling/v1 Scale view of `spec.replicas`.
        case scale
        /// `.../pods/{name}/binding`: assign a pod to a node.
        case binding
    }

    /// Field errors for an object of this kind, each `path: message`; empty when valid.
    public typealias Validation = @Sendable (_ object: JSONObject) -> [String]
    /// Field errors for replacing `old` with `new` (immutable fields); empty when allowed.
    public typealias UpdateValidation = @Sendable (_ old: JSONObject, _ new: JSONObject) -> [String]
    /// A field a field selector may test, read from a stored object's JSON.
    public typealias FieldLabel = @Sendable (_ object: JSONValue) -> String

    /// The `kind` field, e.g. "ConfigMap".
    public let name: String
    /// The storage version's API group; "" is the core group.
    public let group: String
    /// The storage version, e.g. "v1".
    public let version: String
    /// The lowercase plural used in URLs, e.g. "configmaps".
    public let plural: String
    /// The lowercase singular ("configmap").
    public let singular: String
    /// Whether objects live in a namespace (false: cluster-scoped, namespace always "").
    public let namespaced: Bool
    /// The syntax of `metadata.name`.
    public let nameRule: NameRule
    /// Short names kubectl accepts ("po", "svc", "deploy").
    public let shortNames: [String]
    /// Categories ("all" makes `kubectl get all` list it).
    public let categories: [String]
    /// The cluster version from which the store accepts this kind (`Store.clusterVersion`).
    public let sinceClusterVersion: Int
    /// The versions served; the first is the storage version.
    public let versions: [ServedVersion]
    /// The subresources served.
    public let subresources: Set<Subresource>
    /// The typed form (nil for untyped kinds).
    public let model: (any KindObject.Type)?
    /// Fields field selectors may test beyond `metadata.name` and `metadata.namespace`.
    public let fieldLabels: [String: FieldLabel]
    /// Kind-specific checks of a whole untyped object (on create and update).
    let validate: Validation
    /// Kind-specific checks of an untyped update against the stored object.
    let validateUpdate: UpdateValidation

    /// An untyped kind (cluster version 1).
    init(name: String, group: String, version: String, plural: String, namespaced: Bool,
         nameRule: NameRule = .dnsSubdomain,
         validate: @escaping Validation = { _ in [] },
         validateUpdate: @escaping UpdateValidation = { _, _ in [] }) {
        self.name = name
        self.group = group
        self.version = version
        self.plural = plural
        singular = name.lowercased()
        self.namespaced = namespaced
        self.nameRule = nameRule
        shortNames = []
        categories = []
        sinceClusterVersion = 1
        versions = []
        subresources = []
        model = nil
        fieldLabels = [:]
        self.validate = validate
        self.validateUpdate = validateUpdate
    }

    /// A typed kind served at `versions` (the first is the storage version).
    init<T: KindObject>(_ model: T.Type, name: String, plural: String, namespaced: Bool, nameRule: NameRule = .dnsSubdomain,
                        shortNames: [String] = [], categories: [String] = [], sinceClusterVersion: Int,
                        versions: [ServedVersion], subresources: Set<Subresource> = [],
                        fieldLabels: [String: FieldLabel] = [:],
                        legacyValidate: @escaping Validation = { _ in [] },
                        legacyValidateUpdate: @escaping UpdateValidation = { _, _ in [] }) {
        precondition(!versions.isEmpty, "kind \(name) serves no version")
        self.name = name
        group = versions[0].group
        version = versions[0].version
        self.plural = plural
        singular = name.lowercased()
        self.namespaced = namespaced
        self.nameRule = nameRule
        self.shortNames = shortNames
        self.categories = categories
        self.sinceClusterVersion = sinceClusterVersion
        self.versions = versions
        self.subresources = subresources
        self.model = model
        self.fieldLabels = fieldLabels
        validate = legacyValidate
        validateUpdate = legacyValidateUpdate
    }

    /// The storage version's `apiVersion`: "v1" for the core group, otherwise "group/version".
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The kind's name.
    public var description: String { name }

    /// The storage version's served form (nil for untyped kinds).
    public var storageVersion: ServedVersion? { versions.first }

    /// Field errors for `name` under this kind's name rule (nil when valid).
    public func nameError(_ name: String) -> String? {
        switch nameRule {
        case .dnsSubdomain: return Names.dnsSubdomainError(name)
        case .dnsLabel: return Names.dnsLabelError(name)
        case .pathSegment: return Names.pathSegmentError(name)
        }
    }

    /// The served version with this `apiVersion`, or nil.
    public func served(apiVersion: String) -> ServedVersion? { versions.first { $0.apiVersion == apiVersion } }
}

extension Kind {
    /// Every kind the store accepts, in name order (the order of snapshots and of `Kind`'s
    /// `Comparable` conformance).
    public static let registered: [Kind] = ([configMap, member] + workloadKinds).sorted()

    /// The registered kind called `name` (the `kind` field), or nil.
    public static func named(_ name: String) -> Kind? { registered.first { $0.name == name } }

    /// The registered kind served at `/apis/group/version/plural` (or `/api/v1/plural` for
    /// the core group ""), with the version served there, or nil.
    public static func served(group: String, version: String, plural: String) -> (kind: Kind, version: ServedVersion?)? {
        for kind in registered where kind.plural == plural {
            if kind.model == nil {
                if kind.group == group && kind.version == version { return (kind, nil) }
            } else if let served = kind.versions.first(where: { $0.group == group && $0.version == version }) {
                return (kind, served)
            }
        }
        return nil
    }

    /// The registered kind at its storage version's route (the untyped kinds' only route).
    public static func resource(group: String, version: String, plural: String) -> Kind? {
        served(group: group, version: version, plural: plural)?.kind
    }

    /// The kind an object names with `apiVersion` and `kind`, with the version it is in; nil
    /// when no registered kind is served so.
    public static func resolve(apiVersion: String, kind name: String) -> (kind: Kind, version: ServedVersion?)? {
        guard let kind = named(name) else { return nil }
        if kind.model == nil { return kind.apiVersion == apiVersion ? (kind, nil) : nil }
        guard let version = kind.served(apiVersion: apiVersion) else { return nil }
        return (kind, version)
    }
}

extension Kind: Hashable, Comparable {
    public static func == (a: Kind, b: Kind) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    /// Byte order of the names (never locale- or Unicode-normalization-dependent).
    public static func < (a: Kind, b: Kind) -> Bool { utf8Precedes(a.name, b.name) }
}
