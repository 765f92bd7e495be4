import JSON

/// A typed struct with a JSON wire form declared field by field (`WireStructInfo`): the
/// declaration is the single source of its decoding, its encoding (in declaration order,
/// Kubernetes' field order), its OpenAPI schema, its protobuf numbers and its merge rules.
public protocol WireStruct: WireValue {
    /// The empty value every decode starts from.
    init()
    /// The fields, in the order they are written.
    static var wireInfo: WireStructInfo<Self> { get }
}

extension WireStruct {
    public static var wireShape: WireShape { .object({ wireInfo.schema }) }
    public static var wireNull: Self? { Self() }
    /// Go's omitempty never leaves out a struct value.
    public var isWireEmpty: Bool { false }

    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> Self? {
        guard case .object(let members) = json else {
            context.typeMismatch(json, expected: "an object")
            return nil
        }
        return wireInfo.decode(members, &context)
    }

    public var wireJSON: JSONValue { .object(Self.wireInfo.encode(self)) }

    /// Decodes a whole object; nil with errors in `context` when a member has the wrong type.
    public init?(json: JSONValue, context: inout DecodeContext) {
        guard let value = Self.decode(json, &context) else { return nil }
        self = value
    }
}

/// The declared fields of a `WireStruct` type, with what decoding needs to find them fast.
public final class WireStructInfo<Root: WireStruct>: Sendable {
    /// The fields in wire order.
    public let fields: [WireField<Root>]
    /// The type-erased schema (OpenAPI, protobuf, patches).
    public let schema: StructSchema
    private let positions: [String: Int]

    /// `definition` is the OpenAPI definition name (e.g. "io.k8s.api.core.v1.PodSpec").
    public init(_ definition: String, _ doc: String, _ fields: [WireField<Root>],
                groupVersionKinds: [(group: String, version: String, kind: String)] = []) {
        self.fields = fields
        schema = StructSchema(definition: definition, doc: doc, fields: fields.map(\.schema),
                              groupVersionKinds: groupVersionKinds)
        var positions: [String: Int] = [:]
        for (i, field) in fields.enumerated() { positions[field.schema.name] = i }
        self.positions = positions
    }

    /// A copy with more fields (an older API version's extra fields), under another name.
    public func adding(_ extra: [WireField<Root>], definition: String,
                       groupVersionKinds: [(group: String, version: String, kind: String)] = []) -> WireStructInfo<Root> {
        WireStructInfo(definition, schema.doc, fields + extra, groupVersionKinds: groupVersionKinds)
    }

    /// Decodes the members of a JSON object: known fields set, unknown ones recorded, `null`
    /// members left unset.
    public func decode(_ members: JSONObject, _ context: inout DecodeContext) -> Root {
        var value = Root()
        for (name, json) in members {
            guard let position = positions[name] else {
                context.unknownField(name)
                continue
            }
            if json.isNull { continue }
            context.within(.field(name)) { context in fields[position].decode(&value, json, &context) }
        }
        return value
    }

    /// The JSON members of `value`, in declaration order, leaving out what its presence rule
    /// says to leave out.
    public func encode(_ value: Root) -> JSONObject {
        var object = JSONObject()
        for field in fields {
            if let json = field.encode(value) { object[field.schema.name] = json }
        }
        return object
    }
}

/// One declared field of `Root`: its schema, and how to read it from and write it to JSON.
public struct WireField<Root>: Sendable {
    public let schema: FieldSchema
    let decode: @Sendable (inout Root, JSONValue, inout DecodeContext) -> Void
    let encode: @Sendable (Root) -> JSONValue?

    /// A field Go always writes (a value without omitempty, or a struct value).
    public static func always<V: WireValue>(
        _ name: String, _ number: Int?, _ keyPath: WritableKeyPath<Root, V> & Sendable, _ doc: String,
        required: Bool = false, semantics: ListSemantics = .none
    ) -> WireField {
        WireField(schema: FieldSchema(name: name, number: number, doc: doc, presence: .always, required: required,
                                      semantics: semantics, shape: { V.wireShape }),
                  decode: { root, json, context in
                      if let value = V.decode(json, &context) { root[keyPath: keyPath] = value }
                  },
                  encode: { root in root[keyPath: keyPath].wireJSON })
    }

    /// A field Go writes unless it is empty (a value with omitempty): "", 0, false, empty
    /// lists and maps are left out.
    public static func omitEmpty<V: WireValue>(
        _ name: String, _ number: Int?, _ keyPath: WritableKeyPath<Root, V> & Sendable, _ doc: String,
        required: Bool = false, semantics: ListSemantics = .none
    ) -> WireField {
        WireField(schema: FieldSchema(name: name, number: number, doc: doc, presence: .omitEmpty, required: required,
                                      semantics: semantics, shape: { V.wireShape }),
                  decode: { root, json, context in
                      if let value = V.decode(json, &context) { root[keyPath: keyPath] = value }
                  },
                  encode: { root in
                      let value = root[keyPath: keyPath]
                      // Not a bare `nil`: JSONValue is nil-literal convertible, so that would write null.
                      return value.isWireEmpty ? JSONValue?.none : value.wireJSON
                  })
    }

    /// A field Go writes when it is set, whatever its value (a pointer): nil is absent.
    public static func optional<V: WireValue>(
        _ name: String, _ number: Int?, _ keyPath: WritableKeyPath<Root, V?> & Sendable, _ doc: String,
        required: Bool = false, semantics: ListSemantics = .none
    ) -> WireField {
        WireField(schema: FieldSchema(name: name, number: number, doc: doc, presence: .optional, required: required,
                                      semantics: semantics, shape: { V.wireShape }),
                  decode: { root, json, context in
                      if let value = V.decode(json, &context) { root[keyPath: keyPath] = value }
                  },
                  encode: { root in root[keyPath: keyPath]?.wireJSON })
    }
}
