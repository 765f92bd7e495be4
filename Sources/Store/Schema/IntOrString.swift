import JSON

/// An integer or a string (Kubernetes' IntOrString): a port number or a port name, a count
/// or a percentage ("25%").
public enum IntOrString: WireValue, Hashable, CustomStringConvertible {
    case int(Int32)
    case string(String)

    public static var wireShape: WireShape { .intOrString }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> IntOrString? {
        switch json {
        case .string(let text): return .string(text)
        case .int, .double:
            guard let wide = json.intValue else {
                context.typeMismatch(json, expected: "an integer or a string")
                return nil
            }
            guard let value = Int32(exactly: wide) else {
                context.badValue(json, "must fit in 32 bits")
                return nil
            }
            return .int(value)
        default:
            context.typeMismatch(json, expected: "an integer or a string")
            return nil
        }
    }
    public var wireJSON: JSONValue {
        switch self {
        case .int(let value): return .int(Int64(value))
        case .string(let text): return .string(text)
        }
    }
    public var isWireEmpty: Bool { self == .int(0) || self == .string("") }

    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .string(let text): return text
        }
    }

    /// The value scaled against `total` the way Kubernetes resolves maxSurge/maxUnavailable:
    /// an int as is, "N%" as N% of total rounded up (`roundUp`) or down. Nil for a string
    /// that is not a percentage.
    public func scaled(against total: Int32, roundUp: Bool) -> Int32? {
        switch self {
        case .int(let value): return value
        case .string(let text):
            guard text.hasSuffix("%"), let percent = Int64(text.dropLast()), percent >= 0 else { return nil }
            let product = percent * Int64(total)
            let result = roundUp ? (product + 99) / 100 : product / 100
            return Int32(clamping: result)
        }
    }
}
