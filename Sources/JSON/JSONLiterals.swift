/// Literal conformances, so documents can be written in Swift as they read in JSON:
///
///     let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "spec": ["replicas": 3]]
///
/// Integer literals are `.int`, float literals `.double`, `nil` is `.null`, and a
/// dictionary literal is an object whose keys keep the order they were written in.
extension JSONValue: ExpressibleByNilLiteral {
    /// `.null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// `.bool(value)`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// `.int(value)`.
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// `.double(value)`.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    /// `.string(value)`; interpolation (`"\(name)-0"`) works too.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// `.array(elements)`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// `.object` with the members in the order written; a repeated key traps, as it does in
    /// a `Dictionary` literal (it is a mistake in the source, not in input).
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(uniqueLiteralPairs: elements))
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// An object with the members in the order written; a repeated key traps.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(uniqueLiteralPairs: elements)
    }

    init(uniqueLiteralPairs pairs: [(String, JSONValue)]) {
        self.init()
        for (key, value) in pairs {
            precondition(appendUnique(key, value), "duplicate key \"\(key)\" in a JSON literal")
        }
    }
}
