import JSON

/// A typed value with a JSON wire form: what the kinds' Swift types are built from.
///
/// Decoding is lenient about nothing but is total: a JSON value of the wrong type is recorded
/// in the `DecodeContext` and yields nil (the field stays unset), never a crash. `null` never
/// reaches `decode`: for a field it means "absent", and in a list it means the type's
/// `wireNull` (Go decodes null into a zero value).
public protocol WireValue: Sendable, Equatable {
    /// The shape OpenAPI, protobuf and patches see.
    static var wireShape: WireShape { get }
    /// The value `json` holds, or nil after recording why it is not one.
    static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> Self?
    /// What a `null` list element decodes to (nil: null is a type error there).
    static var wireNull: Self? { get }
    /// The JSON form.
    var wireJSON: JSONValue { get }
    /// Whether this is Go's zero value, which an omitempty field leaves out.
    var isWireEmpty: Bool { get }
}

extension WireValue {
    public static var wireNull: Self? { nil }
}

extension String: WireValue {
    public static var wireShape: WireShape { .string() }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> String? {
        if case .string(let text) = json { return text }
        context.typeMismatch(json, expected: "a string")
        return nil
    }
    public static var wireNull: String? { "" }
    public var wireJSON: JSONValue { .string(self) }
    public var isWireEmpty: Bool { isEmpty }
}

extension Bool: WireValue {
    public static var wireShape: WireShape { .bool }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> Bool? {
        if case .bool(let flag) = json { return flag }
        context.typeMismatch(json, expected: "a boolean")
        return nil
    }
    public static var wireNull: Bool? { false }
    public var wireJSON: JSONValue { .bool(self) }
    public var isWireEmpty: Bool { !self }
}

extension Int32: WireValue {
    public static var wireShape: WireShape { .int32 }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> Int32? {
        guard let wide = json.intValue else {
            context.typeMismatch(json, expected: "an integer")
            return nil
        }
        guard let value = Int32(exactly: wide) else {
            context.badValue(json, "must fit in 32 bits")
            return nil
        }
        return value
    }
    public static var wireNull: Int32? { 0 }
    public var wireJSON: JSONValue { .int(Int64(self)) }
    public var isWireEmpty: Bool { self == 0 }
}

extension Int64: WireValue {
    public static var wireShape: WireShape { .int64 }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> Int64? {
        if let value = json.intValue { return value }
        context.typeMismatch(json, expected: "an integer")
        return nil
    }
    public static var wireNull: Int64? { 0 }
    public var wireJSON: JSONValue { .int(self) }
    public var isWireEmpty: Bool { self == 0 }
}

extension Double: WireValue {
    public static var wireShape: WireShape { .double }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> Double? {
        if let value = json.doubleValue { return value }
        context.typeMismatch(json, expected: "a number")
        return nil
    }
    public static var wireNull: Double? { 0 }
    public var wireJSON: JSONValue {
        if let exact = Int64(exactly: self) { return .int(exact) }
        return .double(self)
    }
    public var isWireEmpty: Bool { self == 0 }
}

extension Array: WireValue where Element: WireValue {
    public static var wireShape: WireShape { .array(Element.wireShape) }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> [Element]? {
        guard case .array(let items) = json else {
            context.typeMismatch(json, expected: "a list")
            return nil
        }
        var result: [Element] = []
        result.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let decoded: Element? = context.within(.index(i)) { context in
                if item.isNull {
                    if let zero = Element.wireNull { return zero }
                    context.typeMismatch(item, expected: "a value, not null")
                    return nil
                }
                return Element.decode(item, &context)
            }
            if let decoded { result.append(decoded) }
        }
        return result
    }
    public static var wireNull: [Element]? { [] }
    public var wireJSON: JSONValue { .array(map(\.wireJSON)) }
    public var isWireEmpty: Bool { isEmpty }
}

extension Dictionary: WireValue where Key == String, Value: WireValue {
    public static var wireShape: WireShape { .map(Value.wireShape) }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> [String: Value]? {
        guard case .object(let members) = json else {
            context.typeMismatch(json, expected: "an object")
            return nil
        }
        var result: [String: Value] = [:]
        result.reserveCapacity(members.count)
        for (key, item) in members {
            let decoded: Value? = context.within(.key(key)) { context in
                if item.isNull { return Value.wireNull ?? nil }
                return Value.decode(item, &context)
            }
            if let decoded { result[key] = decoded }
        }
        return result
    }
    public static var wireNull: [String: Value]? { [:] }
    /// Keys in byte order, as Go writes maps: one object has one JSON form.
    public var wireJSON: JSONValue {
        var object = JSONObject()
        for key in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { object[key] = self[key]!.wireJSON }
        return .object(object)
    }
    public var isWireEmpty: Bool { isEmpty }
}

/// Any JSON, kept as sent (Kubernetes' RawExtension and free-form fields).
public struct RawJSON: WireValue, Hashable {
    public var value: JSONValue
    public init(_ value: JSONValue) { self.value = value }
    public static var wireShape: WireShape { .freeform }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> RawJSON? { RawJSON(json) }
    public static var wireNull: RawJSON? { RawJSON(.null) }
    public var wireJSON: JSONValue { value }
    public var isWireEmpty: Bool { value.isNull }
}
