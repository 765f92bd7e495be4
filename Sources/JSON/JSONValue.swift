/// A JSON document as a value: what the store keeps and the API speaks. Pure Swift (no
/// Foundation), so the pure `Store` module can use it. Objects keep their keys in insertion
/// order, so what a client sent comes back in the same shape.
///
/// Strings (values and keys) are equal when their UTF-8 bytes are, as RFC 8259 section 8.3
/// and Kubernetes (Go) compare them, not by Swift's canonical equivalence, under which
/// "é" (U+00E9) and "e\u{301}" are one string: a change to either must be seen as a change.
public enum JSONValue: Equatable, Hashable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer that fits 64 bits (kept exact: replicas, ports, sizes).
    case int(Int64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, keys in insertion order.
    case object(JSONObject)

    /// Structural equality; strings by their bytes. (Hashing stays the synthesized one:
    /// byte-equal strings are canonically equal, so equal values hash alike.)
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return JSONObject.UTF8Key.bytesEqual(x, y)
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
    }
}

extension JSONValue {
    /// The object, when this is one.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// The string, when this is one.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The flag, when this is a boolean.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// An integer, also from a double with no fractional part that fits Int64.
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        // Convert and compare rather than `d.rounded() == d`: `rounded()` calls libm's
        // `round`, which a pure executable does not link (undefined reference).
        case .double(let d) where d >= -0x1p63 && d < 0x1p63:
            let truncated = Int64(d)
            return Double(truncated) == d ? truncated : nil
        default: return nil
        }
    }
    /// A number as a Double, from `.double` or `.int` (large integers round).
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
    /// True for `.null`.
    public var isNull: Bool { self == .null }

    /// The element at `index` when this is an array and the index is in range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The value at `key` when this is an object; setting on a non-object does nothing.
    public subscript(key: String) -> JSONValue? {
        get { objectValue?[key] }
        set {
            guard case .object(var o) = self else { return }
            self = .null  // let go of the payload so `o` is uniquely referenced: no copy
            o[key] = newValue
            self = .object(o)
        }
    }
}
