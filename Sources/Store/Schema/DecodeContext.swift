import JSON

/// What the API asks of unknown fields: Kubernetes' `fieldValidation` parameter.
public enum FieldValidation: String, Sendable, CaseIterable {
    /// Unknown or duplicate fields fail the request (400), naming every one.
    case strict = "Strict"
    /// They are dropped, and the client is warned (`Warning` headers).
    case warn = "Warn"
    /// They are dropped silently.
    case ignore = "Ignore"
}

/// The state of one decode of JSON into typed values: where it is, and what it found wrong.
///
/// Decoding never stops at the first problem: values of the wrong type are recorded (the
/// field is left unset) and unknown fields are recorded (and dropped), so a client sees every
/// problem at once. Whether unknown fields are errors is the caller's choice
/// (`FieldValidation`); type errors always are (Kubernetes answers them 400).
public struct DecodeContext: Sendable {
    /// The steps to the value being decoded (a stack: pushed and popped as decoding descends,
    /// so descending allocates nothing; a `FieldPath` is built only for an error).
    private var steps: [FieldPath.Step] = []
    /// The path of the value being decoded.
    public var path: FieldPath { FieldPath(steps: steps) }
    /// Values of the wrong JSON type (or out of range), as field errors.
    public private(set) var typeErrors: [FieldError] = []
    /// Fields no schema knows, as printed paths, in the order met.
    public private(set) var unknownFields: [String] = []
    /// Most problems recorded; a hostile object with a million bad fields costs no more.
    public static let problemsMax = 100

    /// A context at the root, or at `path` (decoding a part of an object).
    public init(at path: FieldPath = FieldPath()) { steps = path.steps }

    /// Decodes under `step`, restoring the path afterwards.
    @inline(__always)
    mutating func within<T>(_ step: FieldPath.Step, _ body: (inout DecodeContext) -> T) -> T {
        steps.append(step)
        defer { steps.removeLast() }
        return body(&self)
    }

    /// Records that the value here has the wrong type: `expected` names the right one.
    public mutating func typeMismatch(_ value: JSONValue, expected: String) {
        guard typeErrors.count < Self.problemsMax else { return }
        typeErrors.append(FieldError(.typeInvalid, path, value: Self.describe(value), "must be \(expected)"))
    }

    /// Records a value of the right type that cannot be represented (out of range, bad syntax).
    public mutating func badValue(_ value: JSONValue, _ detail: String) {
        guard typeErrors.count < Self.problemsMax else { return }
        typeErrors.append(FieldError(.typeInvalid, path, value: Self.describe(value), detail))
    }

    /// Records an unknown field `name` here.
    mutating func unknownField(_ name: String) {
        guard unknownFields.count < Self.problemsMax else { return }
        unknownFields.append(path.child(name).description)
    }

    /// A short rendering of a bad value for messages (long strings and containers elided).
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return FieldError.quote(s.count > 64 ? String(s.prefix(64)) + "..." : s)
        case .array: return "array"
        case .object: return "object"
        }
    }
}
