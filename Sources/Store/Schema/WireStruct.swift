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
        var object = JSONObject(capacity: fields.count)
        // Fields are read in place through their offsets in `value` (a stored property's
        // value is borrowed, not copied: reading a nested struct through its key path copied
        // it whole, with a retain per reference inside, which was most of an encode's cost).
        withUnsafePointer(to: value) { pointer in
            let base = UnsafeRawPointer(pointer)
            for field in fields {
                let json = field.encodeAt.map { $0(base) } ?? field.encode(value)
                if let json { object.appendNew(field.schema.name, json) }
            }
        }
        return object
    }
}

/// One declared field of `Root`: its schema, and how to read it from and write it to JSON.
/// A class, so that walking a struct's fields (every decode and encode does) passes one
/// reference per field instead of copying the schema's strings and closures.
public final class WireField<Root>: Sendable {
    public let schema: FieldSchema
    let decode: @Sendable (inout Root, JSONValue, inout DecodeContext) -> Void
    let encode: @Sendable (Root) -> JSONValue?
    /// The same as `encode`, reading the field at its offset from the root's address (nil
    /// when the key path is not a stored property's).
    let encodeAt: (@Sendable (UnsafeRawPointer) -> JSONValue?)?

    init(schema: FieldSchema, decode: @escaping @Sendable (inout Root, JSONValue, inout DecodeContext) -> Void,
         encode: @escaping @Sendable (Root) -> JSONValue?, encodeAt: (@Sendable (UnsafeRawPointer) -> JSONValue?)? = nil) {
        self.schema = schema
        self.decode = decode
        self.encode = encode
        self.encodeAt = encodeAt
    }

    /// A reader of the `V?` at `offset` bytes into a `Root`: nil when it is nil, the wrapped
    /// value borrowed in place otherwise.
    static func optionalReader<V>(_ offset: Int?, _ read: @escaping @Sendable (borrowing V) -> JSONValue)
        -> (@Sendable (UnsafeRawPointer) -> JSONValue?)? {
        guard let offset else { return nil }
        return { base in
            let pointer = base.advanced(by: offset).assumingMemoryBound(to: V?.self)
            guard pointer.pointee != nil else { return nil }
            return withUnsafePointer(to: pointer.pointee!) { read($0.pointee) }
        }
    }

    /// A reader of the `V` at `offset` bytes into a `Root` (nil offset: none).
    static func reader<V, Result>(_ offset: Int?, _ read: @escaping @Sendable (borrowing V) -> Result)
        -> (@Sendable (UnsafeRawPointer) -> Result)? {
        guard let offset else { return nil }
        return { base in read(base.advanced(by: offset).assumingMemoryBound(to: V.self).pointee) }
    }

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
                  encode: { root in root[keyPath: keyPath].wireJSON },
                  encodeAt: reader(MemoryLayout<Root>.offset(of: keyPath)) { (value: borrowing V) in value.wireJSON })
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
                  },
                  encodeAt: reader(MemoryLayout<Root>.offset(of: keyPath)) { (value: borrowing V) in
                      value.isWireEmpty ? JSONValue?.none : value.wireJSON
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
                  encode: { root in root[keyPath: keyPath]?.wireJSON },
                  encodeAt: optionalReader(MemoryLayout<Root>.offset(of: keyPath)) { (value: borrowing V) in value.wireJSON })
    }
}
