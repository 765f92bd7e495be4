/// Why a document was rejected and where: the zero-based byte offset into the input and a
/// short reason. Its `description` reads like `unexpected character 'x' at byte 12`, fit
/// to return to an API client as is.
public struct JSONError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong at `offsetBytes`.
    public enum Reason: Equatable, Hashable, Sendable {
        /// A byte that cannot start or continue the construct being read.
        case unexpectedCharacter(UInt8)
        /// The input ended inside a value (or held no value at all).
        case unexpectedEnd
        /// A number with a leading zero (`01`, `-007`): RFC 8259 forbids them.
        case leadingZero
        /// A `.` or exponent marker not followed by a digit (`1.`, `2e`, `3e+`).
        case digitExpected
        /// A well-formed number whose magnitude is beyond Double (`1e400`): rejected rather
        /// than turned into infinity, which JSON cannot express.
        case numberOutOfRange
        /// A raw control character (U+0000 to U+001F) inside a string; it must be escaped.
        case controlCharacterInString(UInt8)
        /// A backslash followed by something other than `"\/bfnrtu`.
        case invalidEscape(UInt8)
        /// `\u` not followed by four hexadecimal digits.
        case invalidUnicodeEscape
        /// A `\uD800`-`\uDFFF` escape that is not half of a high-low surrogate pair.
        case loneSurrogate(UInt16)
        /// Bytes that are not well-formed UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
        case invalidUTF8
        /// An object naming the same key twice (the `String` is the key).
        case duplicateKey(String)
        /// The document is longer than `JSONLimits.documentSizeMaxBytes` (the bound).
        case documentTooLarge(limitBytes: Int)
        /// Arrays and objects nest deeper than `JSONLimits.nestingDepthMax` (the bound).
        case nestingTooDeep(limitLevels: Int)
        /// A string longer than `JSONLimits.stringSizeMaxBytes` once unescaped (the bound).
        case stringTooLong(limitBytes: Int)
        /// An array or object with more than `JSONLimits.containerMembersMax` members.
        case tooManyMembers(limit: Int)
        /// A number token longer than `JSONLimits.numberSizeMaxBytes` (the bound).
        case numberTooLong(limitBytes: Int)
    }

    /// What was wrong.
    public let reason: Reason
    /// Zero-based offset of the offending byte in the input.
    public let offsetBytes: Int

    /// An error at `offsetBytes` for `reason`.
    public init(_ reason: Reason, at offsetBytes: Int) {
        self.reason = reason
        self.offsetBytes = offsetBytes
    }

    /// `"<reason> at byte <offset>"`.
    public var description: String { "\(reason) at byte \(offsetBytes)" }
}

extension JSONError.Reason: CustomStringConvertible {
    /// Longest part of a key quoted in a message, in characters: a hostile key can be
    /// megabytes long and an error message should stay one line.
    static let quotedKeyMaxCharacters = 64

    /// A short phrase, e.g. `unexpected character 'x'`.
    public var description: String {
        switch self {
        case .unexpectedCharacter(let byte): return "unexpected character \(Self.show(byte))"
        case .unexpectedEnd: return "unexpected end of input"
        case .leadingZero: return "leading zero in number"
        case .digitExpected: return "digit expected in number"
        case .numberOutOfRange: return "number out of range of Double"
        case .controlCharacterInString(let byte): return "unescaped control character \(Self.show(byte)) in string"
        case .invalidEscape(let byte): return "invalid escape '\\' followed by \(Self.show(byte))"
        case .invalidUnicodeEscape: return "invalid \\u escape (four hex digits expected)"
        case .loneSurrogate(let unit): return "lone surrogate \\u\(Self.hex(UInt32(unit), digits: 4))"
        case .invalidUTF8: return "invalid UTF-8"
        case .duplicateKey(let key):
            let shown = key.count > Self.quotedKeyMaxCharacters
                ? String(key.prefix(Self.quotedKeyMaxCharacters)) + "..." : key
            return "duplicate key \(JSONValue.string(shown).jsonString)"
        case .documentTooLarge(let limit): return "document larger than \(limit) bytes"
        case .nestingTooDeep(let limit): return "nesting deeper than \(limit) levels"
        case .stringTooLong(let limit): return "string longer than \(limit) bytes"
        case .tooManyMembers(let limit): return "more than \(limit) members in array or object"
        case .numberTooLong(let limit): return "number longer than \(limit) bytes"
        }
    }

    /// `'x'` for printable ASCII, `byte 0x0A` otherwise.
    private static func show(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hex(UInt32(byte), digits: 2))"
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
