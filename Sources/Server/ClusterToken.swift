
/// The join token: what a host needs to become a member. It names the cluster and carries
/// the shared secret from which peers derive the keys that authenticate every frame
/// (PeerTransport). Printed by `shoal init`, given to `shoal agent --token` and `shoal join`.
///
///     shoal1.<cluster id, 16 hex>.<secret, 64 hex>
public struct ClusterToken: Equatable, Sendable, CustomStringConvertible {
    /// Identifies the cluster; members of another cluster are refused.
    public var clusterID: UInt64
    /// 32 bytes shared by every member; never logged.
    public var secret: [UInt8]

    public static let prefix = "shoal1"
    public static let secretBytes = 32

    public init(clusterID: UInt64, secret: [UInt8]) {
        precondition(secret.count == Self.secretBytes, "a cluster secret is \(Self.secretBytes) bytes")
        self.clusterID = clusterID
        self.secret = secret
    }

    /// A new token from the system's random source.
    public static func generate() -> ClusterToken {
        var random = SystemRandomNumberGenerator()
        var id: UInt64 = 0
        while id == 0 { id = random.next() }
        return ClusterToken(clusterID: id, secret: (0..<secretBytes).map { _ in UInt8.random(in: 0...255, using: &random) })
    }

    /// Parses a token; nil unless it has exactly the documented shape.
    public init?(parsing text: String) {
        let parts = text.trimmingWhitespace().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.prefix, parts[1].count == 16, parts[2].count == 2 * Self.secretBytes,
              let id = UInt64(parts[1], radix: 16), id != 0, let secret = decodeHex(parts[2]) else { return nil }
        self.init(clusterID: id, secret: secret)
    }

    public var description: String { "\(Self.prefix).\(hex16(clusterID)).\(encodeHex(secret))" }

    /// The secret the peer transport derives its session keys from: bound to the cluster id
    /// so that a token of another cluster can never authenticate here.
    public var peerSecret: [UInt8] {
        var bytes = Array("shoal-peer-v1".utf8)
        withUnsafeBytes(of: clusterID.littleEndian) { bytes.append(contentsOf: $0) }
        return bytes + secret
    }
}

/// A member's identity in Raft: derived from its advertised peer address, so the identical
/// `shoal agent --peers a,b,c` command on every host yields the same ids everywhere.
public enum MemberID {
    public static func of(host: String, peerPort: UInt16) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, 64-bit
        for byte in Array("\(host):\(peerPort)".utf8) { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h == 0 ? 1 : h
    }
}

func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

func encodeHex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xf)])
    }
    return String(decoding: out, as: UTF8.self)
}

func decodeHex<S: StringProtocol>(_ text: S) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(chars.count / 2)
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var i = 0
    while i < chars.count {
        guard let high = nibble(chars[i]), let low = nibble(chars[i + 1]) else { return nil }
        out.append(high << 4 | low)
        i += 2
    }
    return out
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
