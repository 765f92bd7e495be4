/// How a field is patched by a strategic merge patch (Kubernetes' `patchStrategy` and `patchMergeKey` struct tags).
public struct PatchStrategy: Sendable, Equatable {
    /// Lists: merge element-wise (by `mergeKey` for lists of objects; as a set for lists of scalars) instead of replacing.
    public var merge: Bool
    /// Objects: the `$retainKeys` directive applies (keys not listed are cleared).
    ///
    /// This is what OpenAPI publishes (`x-kubernetes-patch-strategy: retainKeys`) and so what
    /// tells kubectl to send the directive. Applying a patch does not consult it: like
    /// kube-apiserver, `Patch.applyStrategicMergePatch` honours `$retainKeys` wherever a
    /// patch carries it.
    public var retainKeys: Bool
    /// Lists of objects with `merge`: the field that identifies an element (e.g. "name", "containerPort").
    public var mergeKey: String?

    /// A strategy; the defaults are `replace`'s.
    public init(merge: Bool = false, retainKeys: Bool = false, mergeKey: String? = nil) {
        self.merge = merge
        self.retainKeys = retainKeys
        self.mergeKey = mergeKey
    }

    /// The default: no merge, no retainKeys (lists are replaced whole, objects merged key by key).
    public static let replace = PatchStrategy()
}

/// What strategic merge patch needs to know about a type. For an object type (a struct or a map), `member(name)`
/// gives the schema of that member's value (for a list-valued member: the schema of its elements) and its strategy;
/// nil when the member is unknown (then lists are replaced and objects merged recursively, like a merge patch).
///
/// A map (labels, annotations, ConfigMap data) answers for every name with its value schema,
/// which is also how a patch may name a map key that starts with `$`: a `$` key the schema
/// does not know is taken for a misspelt directive and rejected.
public protocol PatchSchema: Sendable {
    /// The schema and strategy of member `name`, or nil when the type has no such member.
    func member(_ name: String) -> (schema: (any PatchSchema)?, strategy: PatchStrategy)?
}
