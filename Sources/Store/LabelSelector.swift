/// A Kubernetes label selector: requirements that must all hold.
///
/// Syntax (`init(parsing:)`), requirements separated by commas, whitespace allowed between
/// tokens: `key=value`, `key==value`, `key!=value`, `key in (v1,v2)`, `key notin (v1)`,
/// `key` (exists), `!key` (does not exist). The empty string selects everything. Keys are
/// qualified names and values label values (`Names`); `=`/`!=` accept an empty value
/// (`tier=`). Set-based `in`/`notin` need at least one value. The `>`/`<` operators
/// Kubernetes also accepts are not supported (a clear error).
public struct LabelSelector: Hashable, Sendable, CustomStringConvertible {
    /// How a requirement tests its label; the raw value is its spelling in selector text.
    public enum Operator: String, Hashable, Sendable {
        case equals = "="
        case notEquals = "!="
        case inSet = "in"
        case notInSet = "notin"
        case exists = ""
        case doesNotExist = "!"
    }

    /// One condition on one label.
    public struct Requirement: Hashable, Sendable, CustomStringConvertible {
        /// The label key (a qualified name).
        public let key: String
        /// How the label is tested.
        public let op: Operator
        /// Sorted and unique; one value for `=`/`!=`, none for `exists`/`doesNotExist`.
        public let values: [String]

        /// A requirement; `values` are deduplicated and sorted.
        public init(key: String, op: Operator, values: [String] = []) {
            self.key = key
            self.op = op
            self.values = Array(Set(values)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }

        /// Whether `labels` satisfy this requirement (`!=` and `notin` match an absent label).
        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals: return value == values.first
            case .notEquals: return value != values.first
            case .inSet: return value.map(values.contains) ?? false
            case .notInSet: return !(value.map(values.contains) ?? false)
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            }
        }

        /// The requirement in selector syntax.
        public var description: String {
            switch op {
            case .equals, .notEquals: return key + op.rawValue + (values.first ?? "")
            case .inSet, .notInSet: return "\(key) \(op.rawValue) (\(values.joined(separator: ",")))"
            case .exists: return key
            case .doesNotExist: return "!" + key
            }
        }
    }

    /// Longest selector text accepted, in bytes.
    public static let textLengthMaxBytes = 4096

    /// All must hold; in key order.
    public let requirements: [Requirement]

    /// The selector with no requirements: it matches every object.
    public static let everything = LabelSelector(requirements: [])

    /// A selector from requirements already built (not re-validated).
    public init(requirements: [Requirement]) {
        self.requirements = requirements.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// Parses Kubernetes selector syntax; a bad selector throws an error for a 400 answer.
    public init(parsing text: String) throws(LabelSelectorError) {
        guard text.utf8.count <= Self.textLengthMaxBytes else {
            throw LabelSelectorError(message: "selector is longer than \(Self.textLengthMaxBytes) bytes")
        }
        var parser = SelectorParser(text)
        self.init(requirements: try parser.parse())
    }

    /// Whether the selector has no requirements.
    public var isEverything: Bool { requirements.isEmpty }

    /// Whether `labels` satisfy every requirement.
    public func matches(_ labels: [String: String]) -> Bool { requirements.allSatisfy { $0.matches(labels) } }

    /// The canonical text: requirements in key order, joined by ",".
    public var description: String { requirements.map(\.description).joined(separator: ",") }
}

/// Why a label selector did not parse; `message` names the position (a byte offset).
public struct LabelSelectorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong and where.
    public let message: String
    /// The message with a prefix, for an API error body.
    public var description: String { "unable to parse label selector: \(message)" }
}

/// A recursive-descent parser over the selector's tokens.
private struct SelectorParser {
    enum Token: Equatable {
        case word(String)
        case equals, doubleEquals, notEquals, bang, open, close, comma, greater, less
        case end
    }

    private var tokens: [(token: Token, position: Int)] = []
    private var next = 0

    init(_ text: String) {
        let bytes = Array(text.utf8)
        var i = 0
        func isSpecial(_ b: UInt8) -> Bool { "=!(),<>".utf8.contains(b) || b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        while i < bytes.count {
            let b = bytes[i]
            let start = i
            switch b {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1; continue
            case UInt8(ascii: "="):
                i += 1
                if i < bytes.count && bytes[i] == UInt8(ascii: "=") { i += 1; tokens.append((.doubleEquals, start)) } else { tokens.append((.equals, start)) }
            case UInt8(ascii: "!"):
                i += 1
                if i < bytes.count && bytes[i] == UInt8(ascii: "=") { i += 1; tokens.append((.notEquals, start)) } else { tokens.append((.bang, start)) }
            case UInt8(ascii: "("): i += 1; tokens.append((.open, start))
            case UInt8(ascii: ")"): i += 1; tokens.append((.close, start))
            case UInt8(ascii: ","): i += 1; tokens.append((.comma, start))
            case UInt8(ascii: ">"): i += 1; tokens.append((.greater, start))
            case UInt8(ascii: "<"): i += 1; tokens.append((.less, start))
            default:
                while i < bytes.count && !isSpecial(bytes[i]) { i += 1 }
                tokens.append((.word(String(decoding: bytes[start..<i], as: UTF8.self)), start))
            }
        }
        tokens.append((.end, bytes.count))
    }

    private var peek: Token { tokens[next].token }
    private var position: Int { tokens[next].position }

    private mutating func take() -> Token {
        defer { if next < tokens.count - 1 { next += 1 } }
        return tokens[next].token
    }

    private func error(_ expected: String) -> LabelSelectorError {
        let found: String
        switch peek {
        case .word(let w): found = "\"\(w)\""
        case .end: found = "end of selector"
        case .equals: found = "'='"
        case .doubleEquals: found = "'=='"
        case .notEquals: found = "'!='"
        case .bang: found = "'!'"
        case .open: found = "'('"
        case .close: found = "')'"
        case .comma: found = "','"
        case .greater, .less: found = "'\(peek == .greater ? ">" : "<")' (not supported)"
        }
        return LabelSelectorError(message: "found \(found) at position \(position), expected \(expected)")
    }

    mutating func parse() throws(LabelSelectorError) -> [LabelSelector.Requirement] {
        var requirements: [LabelSelector.Requirement] = []
        if peek == .end { return [] }
        while true {
            requirements.append(try requirement())
            switch peek {
            case .end: return requirements
            case .comma:
                _ = take()
                if peek == .end { throw error("a requirement after ','") }
            default: throw error("',' or end of selector")
            }
        }
    }

    private mutating func key() throws(LabelSelectorError) -> String {
        guard case .word(let key) = peek else { throw error("a label key") }
        if let problem = Names.qualifiedNameError(key) {
            throw LabelSelectorError(message: "invalid label key \"\(key)\" at position \(position): \(problem)")
        }
        _ = take()
        return key
    }

    private mutating func value() throws(LabelSelectorError) -> String {
        guard case .word(let value) = peek else { return "" }  // an empty value, as in "tier="
        if let problem = Names.labelValueError(value) {
            throw LabelSelectorError(message: "invalid label value \"\(value)\" at position \(position): \(problem)")
        }
        _ = take()
        return value
    }

    private mutating func requirement() throws(LabelSelectorError) -> LabelSelector.Requirement {
        if peek == .bang {
            _ = take()
            return .init(key: try key(), op: .doesNotExist)
        }
        let key = try key()
        switch peek {
        case .comma, .end: return .init(key: key, op: .exists)
        case .equals, .doubleEquals: _ = take(); return .init(key: key, op: .equals, values: [try value()])
        case .notEquals: _ = take(); return .init(key: key, op: .notEquals, values: [try value()])
        case .word("in"), .word("notin"):
            let op: LabelSelector.Operator = take() == .word("in") ? .inSet : .notInSet
            guard peek == .open else { throw error("'(' after '\(op.rawValue)'") }
            _ = take()
            var values: [String] = []
            if peek == .close { throw error("at least one value for '\(op.rawValue)'") }
            while true {
                values.append(try value())
                switch peek {
                case .comma: _ = take()
                case .close: _ = take(); return .init(key: key, op: op, values: values)
                default: throw error("',' or ')' in the value list")
                }
            }
        default:
            throw error("'=', '==', '!=', 'in', 'notin', ',' or end of selector after key \"\(key)\"")
        }
    }
}
