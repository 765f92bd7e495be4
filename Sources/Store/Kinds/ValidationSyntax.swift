/// Syntax checks the pod and node rules share (Kubernetes' util/validation), each returning
/// Kubernetes' message(s) for a bad value, or nothing when the value is valid.
enum ValidationSyntax {
    /// Longest port name (an IANA service name), in bytes.
    static let portNameLengthMax = 15

    /// An IANA service name, as port names must be: each broken rule is one message.
    static func portNameErrors(_ name: String) -> [String] {
        let bytes = Array(name.utf8)
        var errors: [String] = []
        if bytes.count > portNameLengthMax { errors.append("must be no more than \(portNameLengthMax) characters") }
        if bytes.isEmpty || !bytes.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }) {
            errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if !bytes.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) {
            errors.append("must contain at least one letter (a-z)")
        }
        if name.contains("--") { errors.append("must not contain consecutive hyphens") }
        if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") {
            errors.append("must not begin or end with a hyphen")
        }
        return errors
    }

    /// An environment variable name under Kubernetes 1.32's relaxed rule (printable ASCII
    /// but '='); nil when valid.
    static func envVarNameError(_ name: String) -> String? {
        let valid = !name.isEmpty && name.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "=") }
        return valid ? nil : "a valid environment variable name must consist only of printable ASCII characters other than '='"
    }

    /// An HTTP header name; nil when valid.
    static func httpHeaderNameError(_ name: String) -> String? {
        let valid = !name.isEmpty && name.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        return valid ? nil : "a valid HTTP header must consist of alphanumeric characters or '-' "
            + "(e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"
    }

    /// The message for an address that is not an IP address.
    static let ipAddressMessage = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    /// The message for a CIDR that does not parse.
    static let cidrMessage = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"

    /// The IP family of `text` (4 or 6), or nil when it is not an address.
    static func ipFamily(_ text: String) -> Int? {
        if isIPv4(Substring(text)) { return 4 }
        if isIPv6(Substring(text)) { return 6 }
        return nil
    }

    /// The IP family of a CIDR (`10.244.1.0/24`, `fd00::/64`), or nil when it does not parse.
    static func cidrFamily(_ text: String) -> Int? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), parts[1].utf8.allSatisfy(isDigit), parts[1].utf8.count <= 3 else {
            return nil
        }
        if isIPv4(parts[0]) { return bits <= 32 ? 4 : nil }
        if isIPv6(parts[0]) { return bits <= 128 ? 6 : nil }
        return nil
    }

    /// A relative path without a ".." element (volume item paths).
    static func relativePathErrors(_ path: String) -> [String] {
        var errors: [String] = []
        if path.hasPrefix("/") { errors.append("must be a relative path") }
        if path.split(separator: "/").contains("..") { errors.append("must not contain '..'") }
        return errors
    }

    // MARK: Addresses

    static func isIPv4(_ text: Substring) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.utf8.count <= 3 && part.utf8.allSatisfy(isDigit) && Int(part)! <= 255
        }
    }

    static func isIPv6(_ text: Substring) -> Bool {
        guard text.contains(":"), text.utf8.count <= 45 else { return false }
        var body = text
        var groupsNeeded = 8
        // An embedded IPv4 address at the end stands for two groups.
        if let lastColon = body.lastIndex(of: ":"), body[body.index(after: lastColon)...].contains(".") {
            guard isIPv4(body[body.index(after: lastColon)...]) else { return false }
            body = body[...lastColon]
            if body.hasSuffix(":") && !body.hasSuffix("::") { body = body.dropLast() }
            groupsNeeded = 6
        }
        let halves = body.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ part: Substring) -> Int? {
            if part.isEmpty { return 0 }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for piece in pieces where piece.isEmpty || piece.utf8.count > 4 || !piece.utf8.allSatisfy(isHexDigit) { return nil }
            return pieces.count
        }
        guard let first = groups(halves[0]) else { return false }
        if halves.count == 1 { return first == groupsNeeded }
        guard let second = groups(halves[1]) else { return false }
        return first + second < groupsNeeded
    }

    // MARK: Bytes

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    static func isHexDigit(_ b: UInt8) -> Bool {
        isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
    }
    static func isLowerAlphanumeric(_ b: UInt8) -> Bool { isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) }
    static func isAlphanumeric(_ b: UInt8) -> Bool { isLowerAlphanumeric(b) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) }
}

private extension Substring {
    /// Splits on a multi-character separator (no Foundation).
    func components(separatedBy separator: String) -> [Substring] {
        var parts: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}
