import JSON

/// A Kubernetes field selector: `metadata.name=web,status.phase!=Running`. Each requirement
/// tests one field the kind exposes (`metadata.name`, `metadata.namespace` and the kind's
/// `Kind.fieldLabels`) for equality (`=` or `==`) or inequality (`!=`). Values may escape
/// `,`, `=`, `!` and `\` with a backslash.
public struct FieldSelector: Hashable, Sendable, CustomStringConvertible {
    /// One test.
    public struct Requirement: Hashable, Sendable {
        public let field: String
        public let equals: Bool
        public let value: String
    }

    /// All must hold, in the order written.
    public let requirements: [Requirement]

    /// The selector with no requirements.
    public static let everything = FieldSelector(requirements: [])

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// Longest selector text accepted, in bytes.
    public static let textLengthMaxBytes = 4096

    /// Parses `text` for `kind`; a syntax error or a field the kind does not expose throws.
    public init(parsing text: String, kind: Kind) throws(LabelSelectorError) {
        guard text.utf8.count <= Self.textLengthMaxBytes else {
            throw LabelSelectorError(message: "field selector is longer than \(Self.textLengthMaxBytes) bytes")
        }
        var requirements: [Requirement] = []
        for term in Self.split(text, on: ",") where !term.allSatisfy({ $0 == " " }) {
            let (field, equals, rawValue): (String, Bool, String)
            if let range = Self.firstUnescaped(term, "!=") {
                field = String(term[..<range.lowerBound]); equals = false; rawValue = String(term[range.upperBound...])
            } else if let range = Self.firstUnescaped(term, "==") {
                field = String(term[..<range.lowerBound]); equals = true; rawValue = String(term[range.upperBound...])
            } else if let range = Self.firstUnescaped(term, "=") {
                field = String(term[..<range.lowerBound]); equals = true; rawValue = String(term[range.upperBound...])
            } else {
                throw LabelSelectorError(message: "invalid selector: '\(term)'; can't understand '\(term)'")
            }
            let name = field.trimmingCharacters(in: " ")
            guard name == "metadata.name" || name == "metadata.namespace" || kind.fieldLabels[name] != nil else {
                throw FieldSelector.unsupported(name, kind)
            }
            requirements.append(Requirement(field: name, equals: equals, value: Self.unescape(rawValue)))
        }
        self.requirements = requirements
    }

    /// Whether the selector has no requirements.
    public var isEverything: Bool { requirements.isEmpty }

    /// Whether `object` satisfies every requirement.
    public func matches(_ object: StoredObject) -> Bool {
        requirements.allSatisfy { requirement in
            let actual: String
            switch requirement.field {
            case "metadata.name": actual = object.key.name
            case "metadata.namespace": actual = object.key.namespace
            default: actual = object.key.kind.fieldLabels[requirement.field]?(object.json) ?? ""
            }
            return (actual == requirement.value) == requirement.equals
        }
    }

    /// The value `field` must equal for every match (a `field=value` requirement), if any:
    /// lists can look objects up directly instead of scanning.
    public func requiredValue(of field: String) -> String? {
        requirements.first { $0.field == field && $0.equals }?.value
    }

    public var description: String {
        requirements.map { "\($0.field)\($0.equals ? "=" : "!=")\($0.value)" }.joined(separator: ",")
    }

    static func unsupported(_ field: String, _ kind: Kind) -> LabelSelectorError {
        LabelSelectorError(message: "field label not supported: \(field)")
    }

    private static func split(_ text: String, on separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var escaped = false
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == separator {
                parts.append(text[start..<i])
                start = text.index(after: i)
            }
            i = text.index(after: i)
        }
        parts.append(text[start...])
        return parts
    }

    private static func firstUnescaped(_ text: Substring, _ operatorText: String) -> Range<Substring.Index>? {
        var i = text.startIndex
        var escaped = false
        while i < text.endIndex {
            if escaped {
                escaped = false
            } else if text[i] == "\\" {
                escaped = true
            } else if text[i...].hasPrefix(operatorText) {
                return i..<text.index(i, offsetBy: operatorText.count)
            }
            i = text.index(after: i)
        }
        return nil
    }

    private static func unescape(_ text: String) -> String {
        var out = ""
        var escaped = false
        for c in text {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}

extension String {
    /// Drops leading and trailing `c`s.
    func trimmingCharacters(in c: Character) -> String {
        var slice = self[...]
        while slice.first == c { slice = slice.dropFirst() }
        while slice.last == c { slice = slice.dropLast() }
        return String(slice)
    }
}
