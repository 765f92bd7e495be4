import JSON

/// The typed Swift form of a top-level kind (Pod, Deployment, ...), stored in its storage
/// version. Conformers declare their wire form (`WireStruct`) and Kubernetes' rules for the
/// kind: defaults, what the server sets on create and keeps on update, and validation.
///
/// Every hook runs inside `Store.apply` on every member (the replicated state machine), so
/// each must be a pure, deterministic function of its inputs: no clock, no randomness, no
/// iteration over unordered collections whose order could leak into the result.
public protocol KindObject: WireStruct {
    /// `kind` (set by the server to the kind's name).
    var kind: String { get set }
    /// `apiVersion` (set by the server to the served version's).
    var apiVersion: String { get set }
    /// The object's metadata.
    var metadata: ObjectMeta { get set }

    /// Kubernetes' defaults for fields left unset (storage version's rules; a served
    /// version's own defaults run first, see `ServedVersion`).
    mutating func applyDefaults()
    /// What the server sets on create beyond metadata (e.g. a pod's phase, a cleared status).
    mutating func prepareForCreate()
    /// What the server keeps from the stored object when the main resource is updated (with a
    /// status subresource: the status).
    mutating func prepareForUpdate(from old: Self)
    /// Field errors of the object itself (metadata rules shared by every kind are checked
    /// separately by `Admission`).
    func validate() -> [FieldError]
    /// Field errors of changing `old` into this object (immutable fields). Runs in addition to
    /// `validate()`.
    func validateUpdate(from old: Self) -> [FieldError]
    /// The same, for kinds whose rules depend on the API version the client wrote through
    /// (`apiVersion`, e.g. "extensions/v1beta1"); by default `validateUpdate(from:)`.
    func validateUpdate(from old: Self, servedAt apiVersion: String) -> [FieldError]
    /// With a status subresource: `old` with this object's status (what a status update
    /// writes). Kinds without one never have this called.
    func statusUpdate(of old: Self) -> Self
    /// Checks and allocations against the rest of the store (a Service's cluster IP and node
    /// ports), after validation passed; field errors refuse the write. `index` is the entry's
    /// index, a deterministic seed for choices.
    mutating func admit(in store: Store, replacing old: Self?, index: UInt64) -> [FieldError]
    /// Whether an update from `old` changes the desired state, so `metadata.generation` moves
    /// (by default: anything but metadata and status changed).
    func changesGeneration(from old: Self) -> Bool
    /// Kinds deleted gracefully (pods): the seconds this object gets to stop, given the
    /// delete's `gracePeriodSeconds` (nil: the object's own), or nil to delete at once.
    func gracePeriod(requested: Int64?) -> Int64?
}

extension KindObject {
    public mutating func applyDefaults() {}
    public mutating func prepareForCreate() {}
    public mutating func prepareForUpdate(from old: Self) {}
    public func validate() -> [FieldError] { [] }
    public func validateUpdate(from old: Self) -> [FieldError] { [] }
    public func validateUpdate(from old: Self, servedAt apiVersion: String) -> [FieldError] { validateUpdate(from: old) }
    public func statusUpdate(of old: Self) -> Self { old }
    public mutating func admit(in store: Store, replacing old: Self?, index: UInt64) -> [FieldError] { [] }
    public func gracePeriod(requested: Int64?) -> Int64? { nil }
    public func changesGeneration(from old: Self) -> Bool {
        var mine = Self.wireInfo.encode(self)
        var theirs = Self.wireInfo.encode(old)
        for field in ["metadata", "status", "kind", "apiVersion"] {
            mine[field] = nil
            theirs[field] = nil
        }
        return !JSONValue.object(mine).identical(to: .object(theirs))
    }

    /// Decodes a stored object (already admitted, so well-formed); nil if it is not of this
    /// kind's shape (a bug or a corrupt store: callers skip it).
    public init?(stored json: JSONValue) {
        var context = DecodeContext()
        guard let value = Self.decode(json, &context), context.typeErrors.isEmpty else { return nil }
        self = value
    }

    /// Decodes a stored object.
    public init?(_ object: StoredObject) { self.init(stored: object.json) }
}

/// The `spec`-and-`status` kinds: a status subresource whose writes touch only `status`, and
/// whose main-resource writes leave `status` as stored.
public protocol StatusKindObject: KindObject {
    associatedtype Status: WireStruct
    var status: Status { get set }
}

extension StatusKindObject {
    public func statusUpdate(of old: Self) -> Self {
        var result = old
        result.status = status
        return result
    }
}
