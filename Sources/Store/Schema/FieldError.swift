/// One problem with one field, as Kubernetes' field error lists report it. The API turns a
/// list of these into a 422 `Status` whose `details.causes` carry `reason`, `message` and
/// `field`, and whose message joins `description`s.
public struct FieldError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The Kubernetes `CauseType` of the problem.
    public enum Kind: String, Hashable, Sendable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case duplicate = "FieldValueDuplicate"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case notFound = "FieldValueNotFound"
        case typeInvalid = "FieldValueTypeInvalid"

        /// The words that follow the path in the message.
        var words: String {
            switch self {
            case .required: return "Required value"
            case .invalid: return "Invalid value"
            case .notSupported: return "Unsupported value"
            case .duplicate: return "Duplicate value"
            case .forbidden: return "Forbidden"
            case .tooLong: return "Too long"
            case .tooMany: return "Too many"
            case .notFound: return "Not found"
            case .typeInvalid: return "Invalid value"
            }
        }
    }

    /// What kind of problem.
    public let kind: Kind
    /// The field, printed (`spec.replicas`).
    public let field: String
    /// The offending value as Kubernetes prints it (strings quoted), when it has one.
    public let value: String?
    /// Why, in words (may be empty).
    public let detail: String

    /// A field error; `value` is printed as given (use `FieldError.quote` for strings).
    public init(_ kind: Kind, _ path: FieldPath, value: String? = nil, _ detail: String = "") {
        self.kind = kind
        field = path.description
        self.value = value
        self.detail = detail
    }

    /// `Required value` on `path` (with an optional detail).
    public static func required(_ path: FieldPath, _ detail: String = "") -> FieldError {
        FieldError(.required, path, detail)
    }

    /// `Invalid value: "x": detail` on `path` for a string value.
    public static func invalid(_ path: FieldPath, _ value: String, _ detail: String) -> FieldError {
        FieldError(.invalid, path, value: quote(value), detail)
    }

    /// `Invalid value: 5: detail` on `path` for a number.
    public static func invalid(_ path: FieldPath, _ value: Int64, _ detail: String) -> FieldError {
        FieldError(.invalid, path, value: String(value), detail)
    }

    /// `Unsupported value: "x": supported values: "a", "b"`.
    public static func notSupported(_ path: FieldPath, _ value: String, _ supported: [String]) -> FieldError {
        FieldError(.notSupported, path, value: quote(value),
                   "supported values: " + supported.map(quote).joined(separator: ", "))
    }

    /// `Duplicate value: "x"`.
    public static func duplicate(_ path: FieldPath, _ value: String) -> FieldError {
        FieldError(.duplicate, path, value: quote(value))
    }

    /// `Forbidden: detail`.
    public static func forbidden(_ path: FieldPath, _ detail: String) -> FieldError {
        FieldError(.forbidden, path, detail)
    }

    /// `Too long: may not be more than N bytes`.
    public static func tooLong(_ path: FieldPath, maxBytes: Int) -> FieldError {
        FieldError(.tooLong, path, "may not be more than \(maxBytes) bytes")
    }

    /// The text after the path: `Invalid value: "x": detail`.
    public var message: String {
        var text = kind.words
        if let value { text += ": " + value }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }

    /// `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
    public var description: String { field.isEmpty ? message : field + ": " + message }

    /// A string as Kubernetes quotes bad values in messages (Go's %q for plain text).
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension Array where Element == FieldError {
    /// The errors' descriptions joined as Kubernetes joins an aggregate: `[a, b]` for several.
    public var joinedDescription: String {
        count == 1 ? self[0].description : "[" + map(\.description).joined(separator: ", ") + "]"
    }
}
