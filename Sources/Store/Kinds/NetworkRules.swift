/// The network-shaped values Services, Endpoints and EndpointSlices carry (IP addresses, CIDRs,
/// port numbers and names, domain names), checked the way Kubernetes checks them. Each check
/// returns the Kubernetes-style message(s) for the caller to put after a field path.
///
/// Departures from Kubernetes 1.32: IPv4 addresses are parsed strictly (no leading zeros, as
/// `IPv4.parse` does and Kubernetes 1.33 does with StrictIPCIDRValidation); 1.32 still
/// accepted "010.1.1.1".
public enum NetworkRules {
    /// What a bad IP address is told.
    public static let ipMessage = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    /// What a bad CIDR is told.
    public static let cidrMessage = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
    /// What a port number outside 1...65535 is told.
    public static let portNumberMessage = "must be between 1 and 65535, inclusive"
    /// Longest named port (an IANA service name), in bytes.
    public static let portNameLengthMax = 15

    // MARK: Addresses

    /// Whether `text` is a dotted-quad IPv4 address.
    public static func isIPv4(_ text: String) -> Bool { IPv4.parse(text) != nil }

    /// Whether `text` is an IPv6 address (RFC 4291 text forms, no zone).
    public static func isIPv6(_ text: String) -> Bool { parseIPv6(text) != nil }

    /// The 16 bytes of an IPv6 address in text form, or nil. Accepts `::` for one or more zero
    /// groups and a dotted IPv4 address in the last 32 bits.
    public static func parseIPv6(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.count <= 45, bytes.contains(UInt8(ascii: ":")) else { return nil }
        // Split once at "::" (a second "::" is an error).
        var head: ArraySlice<UInt8> = bytes[...]
        var tail: ArraySlice<UInt8>?
        if let gap = (0..<(bytes.count - 1)).first(where: { bytes[$0] == UInt8(ascii: ":") && bytes[$0 + 1] == UInt8(ascii: ":") }) {
            head = bytes[..<gap]
            tail = bytes[(gap + 2)...]
            if tail!.count >= 2, zip(tail!, tail!.dropFirst()).contains(where: { $0 == UInt8(ascii: ":") && $1 == UInt8(ascii: ":") }) {
                return nil
            }
        }
        func groups(_ part: ArraySlice<UInt8>, last: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            let pieces = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            var result: [UInt16] = []
            for (i, piece) in pieces.enumerated() {
                if last && i == pieces.count - 1 && piece.contains(UInt8(ascii: ".")) {
                    guard let v4 = IPv4.parse(String(decoding: piece, as: UTF8.self)) else { return nil }
                    result.append(UInt16(v4 >> 16))
                    result.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard (1...4).contains(piece.count) else { return nil }
                var value: UInt16 = 0
                for b in piece {
                    guard let digit = hexDigit(b) else { return nil }
                    value = value << 4 | UInt16(digit)
                }
                result.append(value)
            }
            return result
        }
        guard let left = groups(head, last: tail == nil) else { return nil }
        var all: [UInt16]
        if let tail {
            guard let right = groups(tail, last: true), left.count + right.count <= 7 else { return nil }
            all = left + Array(repeating: 0, count: 8 - left.count - right.count) + right
        } else {
            guard left.count == 8 else { return nil }
            all = left
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    private static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Whether `text` is an IPv4 or IPv6 address.
    public static func isIP(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    /// nil for an IP address, otherwise Kubernetes' message.
    public static func ipError(_ text: String) -> String? { isIP(text) ? nil : ipMessage }

    /// Why `text` may not be an endpoint or external address: unspecified, loopback,
    /// link-local or link-local multicast (Kubernetes' ValidateNonSpecialIP). An address that
    /// does not parse gets "must be a valid IP address".
    public static func specialIPErrors(_ text: String) -> [String] {
        var errors: [String] = []
        if let v4 = IPv4.parse(text) {
            if v4 == 0 { errors.append("may not be unspecified (\(text))") }
            if v4 >> 24 == 127 { errors.append(loopbackMessage) }
            if v4 >> 16 == 0xA9FE { errors.append(linkLocalMessage) }
            if v4 >> 8 == 0xE0_0000 { errors.append(multicastMessage) }
            return errors
        }
        guard let v6 = parseIPv6(text) else { return ["must be a valid IP address"] }
        // An IPv4-mapped address (::ffff:a.b.c.d) is judged as its IPv4 address.
        if v6[0..<10].allSatisfy({ $0 == 0 }) && v6[10] == 0xFF && v6[11] == 0xFF {
            let v4 = v6[12...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return specialIPErrors(IPv4.format(v4))
        }
        if v6.allSatisfy({ $0 == 0 }) { errors.append("may not be unspecified (\(text))") }
        if v6[0..<15].allSatisfy({ $0 == 0 }) && v6[15] == 1 { errors.append(loopbackMessage) }
        if v6[0] == 0xFE && v6[1] & 0xC0 == 0x80 { errors.append(linkLocalMessage) }
        if v6[0] == 0xFF && v6[1] & 0x0F == 0x02 { errors.append(multicastMessage) }
        return errors
    }

    static let loopbackMessage = "may not be in the loopback range (127.0.0.0/8, ::1/128)"
    static let linkLocalMessage = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
    static let multicastMessage = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"

    /// nil for a CIDR ("10.0.0.0/8", "2001:db8::/32"; host bits may be set, as Go's ParseCIDR
    /// allows), otherwise Kubernetes' message.
    public static func cidrError(_ text: String) -> String? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return cidrMessage
        }
        let address = String(parts[0])
        if isIPv4(address) { return (0...32).contains(prefix) ? nil : cidrMessage }
        if isIPv6(address) { return (0...128).contains(prefix) ? nil : cidrMessage }
        return cidrMessage
    }

    // MARK: Ports and names

    /// nil for 1...65535, otherwise Kubernetes' message.
    public static func portNumberError(_ port: Int64) -> String? {
        (1...65535).contains(port) ? nil : portNumberMessage
    }

    /// Why `text` is not a port name (an IANA_SVC_NAME: at most 15 lowercase letters, digits
    /// and single inner hyphens, with at least one letter); empty when it is one.
    public static func portNameErrors(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var errors: [String] = []
        if bytes.count > portNameLengthMax { errors.append("must be no more than \(portNameLengthMax) characters") }
        let lowerOrDigit = { (b: UInt8) in (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) }
        if bytes.isEmpty || !bytes.allSatisfy({ lowerOrDigit($0) || $0 == UInt8(ascii: "-") }) {
            errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if !bytes.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) {
            errors.append("must contain at least one letter (a-z)")
        }
        if text.contains("--") { errors.append("must not contain consecutive hyphens") }
        if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") {
            errors.append("must not begin or end with a hyphen")
        }
        return errors
    }

    /// A DNS-1035 label (Service names): like a DNS-1123 label but starting with a letter.
    public static func dns1035LabelError(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > Names.dnsLabelLengthMax { return "must be no more than \(Names.dnsLabelLengthMax) characters" }
        let lower = { (b: UInt8) in b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z") }
        let digit = { (b: UInt8) in b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        let valid = lower(bytes.first!) && (lower(bytes.last!) || digit(bytes.last!))
            && bytes.allSatisfy { lower($0) || digit($0) || $0 == UInt8(ascii: "-") }
        if !valid {
            return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
                + "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
                + "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        }
        return nil
    }

    /// Field errors for a fully qualified domain name (EndpointSlice FQDN addresses): a DNS
    /// subdomain of at least two labels, a trailing dot allowed.
    public static func fqdnErrors(_ text: String, at path: FieldPath) -> [FieldError] {
        if text.isEmpty { return [.required(path)] }
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        if let error = Names.dnsSubdomainError(name) { return [.invalid(path, name, error)] }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count < 2 { return [.invalid(path, name, "should be a domain with at least two segments separated by dots")] }
        for label in labels {
            if let error = Names.dnsLabelError(String(label)) { return [.invalid(path, String(label), error)] }
        }
        return []
    }

    /// A list of strings as Go's `%#v` prints it (`[]string{"a", "b"}`), the value Kubernetes
    /// shows for list-valued field errors.
    public static func goStringList(_ items: [String]) -> String {
        "[]string{" + items.map(FieldError.quote).joined(separator: ", ") + "}"
    }
}
