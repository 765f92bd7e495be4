/// A JSON Pointer (RFC 6901), the address in a JSON patch operation: `/spec/containers/0/image`.
/// The empty pointer is the whole document; every other starts with `/` and is a list of
/// reference tokens, in which `~1` stands for `/` and `~0` for `~`. A token that meets a list
/// must be an index (`0`, or digits without a leading zero) or `-`, the place after the last
/// element (RFC 6902 allows it only where a value is added).
struct JSONPointer: Sendable {
    /// The reference tokens, unescaped.
    let tokens: [String]
    /// The pointer as written.
    let text: String

    /// What a token says when it meets a list.
    enum ArrayToken: Equatable {
        /// An index; it may still be out of range.
        case index(Int)
        /// `-`: just past the last element.
        case end
        /// Not an index: letters, a sign, a leading zero, or empty.
        case invalid
    }

    /// Most digits an index may have before it is taken as out of range rather than read:
    /// 18 digits always fit an Int.
    static let indexDigitsMax = 18

    /// Parses `text`; throws `unprocessable` (kube-apiserver's answer to a bad path) for a
    /// pointer that is not empty and does not start with `/`, for a `~` not followed by 0 or
    /// 1, and for more than `tokensMax` tokens (such a path could only reach deeper than a
    /// document may nest).
    init(parsing text: String, tokensMax: Int) throws(PatchFailure) {
        self.text = text
        guard !text.isEmpty else {
            tokens = []
            return
        }
        var scalars = text.unicodeScalars.makeIterator()
        guard scalars.next() == "/" else {
            throw PatchFailure(.unprocessable, "\(PatchValues.quoted(text)) is not a JSON pointer: it must be empty or start with \"/\"")
        }
        var tokens: [String] = []
        var token = String.UnicodeScalarView()
        while let scalar = scalars.next() {
            switch scalar {
            case "/":
                tokens.append(String(token))
                token = String.UnicodeScalarView()
                guard tokens.count < tokensMax else {
                    throw PatchFailure(.unprocessable, "the path has more than \(tokensMax) levels")
                }
            case "~":
                switch scalars.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default:
                    throw PatchFailure(.unprocessable, "\(PatchValues.quoted(text)) is not a JSON pointer: \"~\" must be followed by 0 (for \"~\") or 1 (for \"/\")")
                }
            default:
                token.append(scalar)
            }
        }
        tokens.append(String(token))
        self.tokens = tokens
    }

    /// The pointer to the first `count` tokens, written as a pointer (`/spec/containers`).
    func prefix(_ count: Int) -> String {
        tokens.prefix(count).reduce(into: "") { text, token in text += "/" + Self.escape(token) }
    }

    /// How messages name the value at the first `count` tokens: the quoted pointer, or
    /// "the object" for the root.
    func describePrefix(_ count: Int) -> String {
        count == 0 ? "the object" : PatchValues.quoted(prefix(count))
    }

    /// Whether `other` lies strictly inside the value this pointer names.
    func isProperPrefix(of other: JSONPointer) -> Bool {
        tokens.count < other.tokens.count && Self.sameTokens(tokens[...], other.tokens.prefix(tokens.count))
    }

    /// Whether both pointers name the same place (tokens compared by their bytes).
    func sameTarget(as other: JSONPointer) -> Bool {
        tokens.count == other.tokens.count && Self.sameTokens(tokens[...], other.tokens[...])
    }

    private static func sameTokens(_ a: ArraySlice<String>, _ b: ArraySlice<String>) -> Bool {
        zip(a, b).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }

    /// `token` read as a list position.
    static func arrayToken(_ token: String) -> ArrayToken {
        if token == "-" { return .end }
        let digits = Array(token.utf8)
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return .invalid }
        guard digits.count == 1 || digits[0] != UInt8(ascii: "0") else { return .invalid }
        guard digits.count <= indexDigitsMax else { return .index(Int.max) }
        return .index(digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) })
    }

    /// `token` with `~` and `/` escaped again.
    static func escape(_ token: String) -> String {
        var escaped = ""
        for scalar in token.unicodeScalars {
            switch scalar {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
