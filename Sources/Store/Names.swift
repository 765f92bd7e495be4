/// The name syntaxes Kubernetes uses, checked byte by byte (all of them are ASCII-only).
/// Each check returns nil when the text is valid, or the Kubernetes-style message saying
/// what is wrong, so callers can prefix the field path (`metadata.name: Invalid value: ...`).
public enum Names {
    /// Longest DNS-1123 label (a namespace), in bytes.
    public static let dnsLabelLengthMax = 63
    /// Longest DNS-1123 subdomain (most object names), in bytes.
    public static let dnsSubdomainLengthMax = 253
    /// Longest name part of a qualified name (a label or annotation key), in bytes.
    public static let qualifiedNameLengthMax = 63
    /// Longest label value, in bytes.
    public static let labelValueLengthMax = 63
    /// Longest ConfigMap data key, in bytes.
    public static let configKeyLengthMax = 253

    /// A DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter
    /// or digit, at most 63 bytes. Namespaces are labels.
    public static func dnsLabelError(_ text: String) -> String? {
        let bytes = text.utf8
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > dnsLabelLengthMax { return "must be no more than \(dnsLabelLengthMax) characters" }
        if !isDNSLabel(bytes[...]) {
            return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                + "and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')"
        }
        return nil
    }

    /// A DNS-1123 subdomain: dot-separated labels, at most 253 bytes. Most object names.
    public static func dnsSubdomainError(_ text: String) -> String? {
        dnsSubdomainError(text.utf8[...])
    }

    /// `dnsSubdomainError` of a part of a string (no copy of it).
    static func dnsSubdomainError(_ bytes: Substring.UTF8View) -> String? {
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > dnsSubdomainLengthMax { return "must be no more than \(dnsSubdomainLengthMax) characters" }
        if !isSubdomain(bytes) {
            return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                + "and must start and end with an alphanumeric character (e.g. 'example.com')"
        }
        return nil
    }

    /// A qualified name (label and annotation keys): an optional DNS subdomain prefix and '/',
    /// then 1...63 bytes of letters, digits, '-', '_' and '.', starting and ending alphanumeric.
    public static func qualifiedNameError(_ text: String) -> String? {
        let all = text.utf8[...]
        var bytes = all
        if let slash = all.firstIndex(of: UInt8(ascii: "/")) {
            let prefix = all[..<slash]
            bytes = all[all.index(after: slash)...]
            if bytes.contains(UInt8(ascii: "/")) {
                return "a qualified name must consist of an optional DNS subdomain prefix and '/', then a name"
            }
            if prefix.isEmpty { return "prefix part must not be empty" }
            if let error = dnsSubdomainError(Substring(prefix).utf8) { return "prefix part \(error)" }
        }
        if bytes.isEmpty { return "name part must not be empty" }
        if bytes.count > qualifiedNameLengthMax { return "name part must be no more than \(qualifiedNameLengthMax) characters" }
        if !isLabelText(bytes) {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', "
                + "and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')"
        }
        return nil
    }

    /// A label value: empty, or 1...63 bytes of letters, digits, '-', '_' and '.', starting
    /// and ending alphanumeric.
    public static func labelValueError(_ text: String) -> String? {
        let bytes = text.utf8[...]
        if bytes.isEmpty { return nil }
        if bytes.count > labelValueLengthMax { return "must be no more than \(labelValueLengthMax) characters" }
        if !isLabelText(bytes) {
            return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                + "and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345')"
        }
        return nil
    }

    /// A ConfigMap key: 1...253 bytes of letters, digits, '-', '_' and '.', not "." or "..".
    public static func configKeyError(_ text: String) -> String? {
        let bytes = text.utf8
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > configKeyLengthMax { return "must be no more than \(configKeyLengthMax) characters" }
        if text == "." || text == ".." { return "must not be '.' or '..'" }
        if !bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }) {
            return "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name')"
        }
        return nil
    }

    private static func isLowerAlphanumeric(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        isLowerAlphanumeric(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
    }

    /// The label syntax without its length bound: Kubernetes bounds only a subdomain's total
    /// length, not each of its labels (so a 253-byte name without dots is valid).
    private static func isDNSLabel<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        guard let first = bytes.first, isLowerAlphanumeric(first) else { return false }
        var last = first
        for b in bytes {
            guard isLowerAlphanumeric(b) || b == UInt8(ascii: "-") else { return false }
            last = b
        }
        return isLowerAlphanumeric(last)
    }

    /// Dot-separated DNS labels, in one pass.
    private static func isSubdomain(_ bytes: Substring.UTF8View) -> Bool {
        var start = bytes.startIndex
        var i = start
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: ".") {
                guard isDNSLabel(bytes[start..<i]) else { return false }
                start = bytes.index(after: i)
            }
            i = bytes.index(after: i)
        }
        return isDNSLabel(bytes[start..<bytes.endIndex])
    }

    private static func isLabelText<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        guard let first = bytes.first, isAlphanumeric(first) else { return false }
        var last = first
        for b in bytes {
            guard isAlphanumeric(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") else { return false }
            last = b
        }
        return isAlphanumeric(last)
    }
}

extension Names {
    /// Longest name of kinds whose names only need to be path segments, in bytes.
    public static let pathSegmentLengthMax = 253

    /// A name usable as one URL path segment: not empty, not "." or "..", no '/' or '%'
    /// (Events, Leases and EndpointSlices accept such names in Kubernetes).
    public static func pathSegmentError(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > pathSegmentLengthMax { return "must be no more than \(pathSegmentLengthMax) characters" }
        if text == "." || text == ".." { return "may not be '.' or '..'" }
        if text.contains("/") || text.contains("%") { return "may not contain '/' or '%'" }
        if text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "may not contain control characters" }
        return nil
    }
}
