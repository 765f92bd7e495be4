import JSON

/// A write under cluster version 2 and later, as a Raft entry carries it: what the client
/// asked (verb, object or patch, subresource, options, preconditions) plus what the store
/// must not invent itself (the new object's uid, the proposer's clock).
///
/// Every typed write is admitted by the kind's typed model inside `Store.apply`: decoded in
/// the version the client used, defaulted, validated, stored in the storage version.
public struct TypedWrite: Equatable, Sendable {
    /// What to do.
    public enum Verb: UInt8, Sendable {
        case create = 1
        case update = 2
        case patch = 3
        case delete = 4
    }

    /// Which patch format `body` is in (PATCH's Content-Type).
    public enum PatchType: UInt8, Sendable, CaseIterable {
        /// `application/json-patch+json` (RFC 6902).
        case json = 1
        /// `application/merge-patch+json` (RFC 7386).
        case merge = 2
        /// `application/strategic-merge-patch+json` (Kubernetes).
        case strategic = 3

        /// The Content-Type that names it.
        public var contentType: String {
            switch self {
            case .json: return "application/json-patch+json"
            case .merge: return "application/merge-patch+json"
            case .strategic: return "application/strategic-merge-patch+json"
            }
        }
    }

    /// What happens to the objects an object owns when it is deleted.
    public enum Propagation: UInt8, Sendable, CaseIterable {
        /// They lose their reference to it and stay.
        case orphan = 1
        /// It goes at once; they are deleted after it.
        case background = 2
        /// They are deleted first; it stays (with `deletionTimestamp`) until the blocking ones are gone.
        case foreground = 3

        /// The `propagationPolicy` spelling.
        public var name: String {
            switch self {
            case .orphan: return "Orphan"
            case .background: return "Background"
            case .foreground: return "Foreground"
            }
        }
    }

    public var verb: Verb
    /// The kind's name ("Deployment").
    public var kind: String
    /// The version the client spoke ("extensions/v1beta1"): how `body` is decoded.
    public var apiVersion: String
    /// The namespace ("" for cluster-scoped kinds).
    public var namespace: String
    /// The object's name (for create: from the body, or "" with `metadata.generateName`).
    public var name: String
    /// The subresource written (status, scale, binding), or nil for the object itself.
    public var subresource: Kind.Subresource?
    /// The object (create, update), the patch document (patch) or nil (delete).
    public var body: JSONValue?
    /// The patch's format (patch only).
    public var patchType: PatchType?
    /// What to do with unknown fields.
    public var fieldValidation: FieldValidation
    /// Preconditions: the write fails (409) unless the object has this resourceVersion / uid.
    public var expectedResourceVersion: UInt64?
    public var expectedUID: String?
    /// Delete: what happens to dependents (nil: the kind's default).
    public var propagation: Propagation?
    /// Delete: seconds to let a pod stop (nil: its own `terminationGracePeriodSeconds`; 0: at once).
    public var gracePeriodSeconds: Int64?
    /// Create: the new object's uid (the proposer draws it).
    public var uid: String
    /// The proposer's clock, RFC 3339 UTC: creation and deletion timestamps.
    public var now: String

    public init(verb: Verb, kind: String, apiVersion: String, namespace: String = "", name: String = "",
                subresource: Kind.Subresource? = nil, body: JSONValue? = nil, patchType: PatchType? = nil,
                fieldValidation: FieldValidation = .strict, expectedResourceVersion: UInt64? = nil,
                expectedUID: String? = nil, propagation: Propagation? = nil, gracePeriodSeconds: Int64? = nil,
                uid: String = "", now: String = "") {
        self.verb = verb
        self.kind = kind
        self.apiVersion = apiVersion
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
        self.body = body
        self.patchType = patchType
        self.fieldValidation = fieldValidation
        self.expectedResourceVersion = expectedResourceVersion
        self.expectedUID = expectedUID
        self.propagation = propagation
        self.gracePeriodSeconds = gracePeriodSeconds
        self.uid = uid
        self.now = now
    }

    // MARK: Encoding (tag 6 of StoreCommand)
    //
    //   typed := verb:u8 kind:string apiVersion:string namespace:string name:string
    //            subresource:u8 (0 none, 1 status, 2 scale, 3 binding) fieldValidation:u8 (1 Strict, 2 Warn, 3 Ignore)
    //            patchType:u8 (0 none) body:value (null when none) preconditions
    //            propagation:u8 (0 default) grace:u8 (0 none, 1 follows) [grace:zigzag varint]
    //            uid:string now:string

    static let subresourceCodes: [Kind.Subresource] = [.status, .scale, .binding]
    static let validationCodes: [FieldValidation] = [.strict, .warn, .ignore]

    func encode(into sink: inout ByteSink) {
        sink.byte(verb.rawValue)
        sink.string(kind)
        sink.string(apiVersion)
        sink.string(namespace)
        sink.string(name)
        sink.byte(subresource.map { UInt8(Self.subresourceCodes.firstIndex(of: $0)! + 1) } ?? 0)
        sink.byte(UInt8(Self.validationCodes.firstIndex(of: fieldValidation)! + 1))
        sink.byte(patchType?.rawValue ?? 0)
        sink.value(body ?? .null)
        sink.byte((expectedResourceVersion == nil ? 0 : 1) | (expectedUID == nil ? 0 : 2))
        if let expectedResourceVersion { sink.varint(expectedResourceVersion) }
        if let expectedUID { sink.string(expectedUID) }
        sink.byte(propagation?.rawValue ?? 0)
        if let gracePeriodSeconds {
            sink.byte(1)
            sink.varint(UInt64(bitPattern: (gracePeriodSeconds << 1) ^ (gracePeriodSeconds >> 63)))
        } else {
            sink.byte(0)
        }
        sink.string(uid)
        sink.string(now)
    }

    static func decode(from source: inout ByteSource) throws(BinaryDecodeError) -> TypedWrite {
        guard let verb = Verb(rawValue: try source.byte()) else { throw source.failure("unknown typed-write verb") }
        let kind = try source.string()
        let apiVersion = try source.string()
        let namespace = try source.string()
        let name = try source.string()
        let subresourceCode = try source.byte()
        guard subresourceCode <= subresourceCodes.count else { throw source.failure("unknown subresource \(subresourceCode)") }
        let validationCode = try source.byte()
        guard (1...validationCodes.count).contains(Int(validationCode)) else { throw source.failure("unknown field validation \(validationCode)") }
        let patchCode = try source.byte()
        guard patchCode == 0 || PatchType(rawValue: patchCode) != nil else { throw source.failure("unknown patch type \(patchCode)") }
        let body = try source.value()
        let flags = try source.byte()
        guard flags & ~3 == 0 else { throw source.failure("unknown precondition flags \(flags)") }
        let version = flags & 1 != 0 ? try source.varint() : nil
        let uidPrecondition = flags & 2 != 0 ? try source.string() : nil
        let propagationCode = try source.byte()
        guard propagationCode == 0 || Propagation(rawValue: propagationCode) != nil else {
            throw source.failure("unknown propagation \(propagationCode)")
        }
        let graceFlag = try source.byte()
        guard graceFlag <= 1 else { throw source.failure("bad grace flag \(graceFlag)") }
        var grace: Int64?
        if graceFlag == 1 {
            let zigzag = try source.varint()
            grace = Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
        }
        let uid = try source.string()
        let now = try source.string()
        return TypedWrite(
            verb: verb, kind: kind, apiVersion: apiVersion, namespace: namespace, name: name,
            subresource: subresourceCode == 0 ? nil : subresourceCodes[Int(subresourceCode) - 1],
            body: body.isNull ? nil : body, patchType: PatchType(rawValue: patchCode),
            fieldValidation: validationCodes[Int(validationCode) - 1], expectedResourceVersion: version,
            expectedUID: uidPrecondition, propagation: Propagation(rawValue: propagationCode), gracePeriodSeconds: grace,
            uid: uid, now: now)
    }
}
