/// The shape of a value on the wire: what OpenAPI documents, what the protobuf decoder reads,
/// and what strategic merge patch consults. Every typed value (`WireValue`) names its shape;
/// struct shapes point at their `StructSchema`.
public indirect enum WireShape: Sendable {
    /// A string; `values` lists the allowed ones when it is an enum (empty: any string).
    case string(values: [String] = [])
    /// A 32-bit integer (protobuf varint).
    case int32
    /// A 64-bit integer (protobuf varint).
    case int64
    /// true or false (protobuf varint).
    case bool
    /// A floating-point number (protobuf fixed64).
    case double
    /// Bytes: a base64 string in JSON, bytes in protobuf.
    case bytes
    /// An integer or a string (Kubernetes' IntOrString).
    case intOrString
    /// A resource quantity ("500m", "1Gi"): a string in JSON.
    case quantity
    /// A time: RFC 3339 in JSON (`micro`: with microseconds), seconds and nanos in protobuf.
    case time(micro: Bool)
    /// A duration ("1h2m3s") in JSON, nanoseconds in protobuf.
    case duration
    /// Any JSON (Kubernetes' RawExtension): kept as sent.
    case freeform
    /// A list of elements of one shape.
    case array(WireShape)
    /// A map from strings to values of one shape.
    case map(WireShape)
    /// An object with known fields (a Go struct). Lazy, so schemas may refer to each other
    /// whatever order they are initialized in.
    case object(@Sendable () -> StructSchema)
}

/// How a list field behaves under merges, as Kubernetes' struct tags and list markers say.
public struct ListSemantics: Hashable, Sendable {
    /// `x-kubernetes-list-type`: "atomic" (replaced whole), "set" or "map" (merged).
    public var listType: String?
    /// `x-kubernetes-list-map-keys` for list type "map".
    public var mapKeys: [String]
    /// Strategic merge patch: lists merge element-wise (`patchStrategy:"merge"`).
    public var merge: Bool
    /// Strategic merge patch: the element key for lists of objects (`patchMergeKey`).
    public var mergeKey: String?
    /// Strategic merge patch: `$retainKeys` applies (`patchStrategy:"retainKeys"`).
    public var retainKeys: Bool

    public init(listType: String? = nil, mapKeys: [String] = [], merge: Bool = false, mergeKey: String? = nil,
                retainKeys: Bool = false) {
        self.listType = listType
        self.mapKeys = mapKeys
        self.merge = merge
        self.mergeKey = mergeKey
        self.retainKeys = retainKeys
    }

    /// No special behaviour: lists replaced whole.
    public static let none = ListSemantics()

    /// A list of objects merged by `key` (`patchStrategy:"merge" patchMergeKey:key`,
    /// `listType=map` with `listMapKey=key`).
    public static func mergeBy(_ key: String, listType: String? = "map") -> ListSemantics {
        ListSemantics(listType: listType, mapKeys: listType == "map" ? [key] : [], merge: true, mergeKey: key)
    }

    /// A list of scalars merged as a set (`patchStrategy:"merge"`, e.g. finalizers).
    public static let mergeSet = ListSemantics(listType: "set", merge: true)

    /// A list replaced whole (`listType=atomic`).
    public static let atomic = ListSemantics(listType: "atomic")

    /// An object whose `$retainKeys` directive applies.
    public static let retainKeysObject = ListSemantics(retainKeys: true)
}

/// When a field appears in JSON, mirroring Go's encoding of Kubernetes' types.
public enum Presence: Sendable {
    /// Always written (a Go value field without omitempty, or a struct value).
    case always
    /// Written unless empty (a Go value field with omitempty): "", 0, false, [] and {} are
    /// left out, and a zero read from protobuf means "absent".
    case omitEmpty
    /// Written when set, whatever its value (a Go pointer field): 0 and false are kept.
    case optional
}

/// A field of a struct, without its Swift type: what OpenAPI, protobuf and patches need.
public struct FieldSchema: Sendable {
    /// The JSON name.
    public let name: String
    /// The protobuf field number, when the type has a protobuf form.
    public let number: Int?
    /// What the field means (OpenAPI `description`, `kubectl explain`).
    public let doc: String
    /// When it is written.
    public let presence: Presence
    /// Whether OpenAPI lists it as required.
    public let required: Bool
    /// How lists and objects in it merge.
    public let semantics: ListSemantics
    /// The value's shape (lazy: see `WireShape.object`).
    public let shape: @Sendable () -> WireShape
}

/// A struct type: its OpenAPI definition name, description and fields in wire order.
public final class StructSchema: Sendable {
    /// The OpenAPI definition name, e.g. "io.k8s.api.core.v1.Container".
    public let definition: String
    /// What the type is.
    public let doc: String
    /// The fields in the order they are written.
    public let fields: [FieldSchema]
    /// For top-level kinds: the group, version and kind OpenAPI tags it with.
    public let groupVersionKinds: [(group: String, version: String, kind: String)]
    private let positions: [String: Int]
    private let byNumber: [Int: Int]

    public init(definition: String, doc: String, fields: [FieldSchema],
                groupVersionKinds: [(group: String, version: String, kind: String)] = []) {
        self.definition = definition
        self.doc = doc
        self.fields = fields
        self.groupVersionKinds = groupVersionKinds
        var positions: [String: Int] = [:]
        var byNumber: [Int: Int] = [:]
        for (i, field) in fields.enumerated() {
            precondition(positions[field.name] == nil, "\(definition) declares field \(field.name) twice")
            positions[field.name] = i
            if let number = field.number {
                precondition(byNumber[number] == nil, "\(definition) declares protobuf field \(number) twice")
                byNumber[number] = i
            }
        }
        self.positions = positions
        self.byNumber = byNumber
    }

    /// The field called `name`, or nil.
    public func field(named name: String) -> FieldSchema? { positions[name].map { fields[$0] } }

    /// The field with protobuf number `number`, or nil.
    public func field(number: Int) -> FieldSchema? { byNumber[number].map { fields[$0] } }
}
