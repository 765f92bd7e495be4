import JSON

/// Bytes carried as standard base64 with padding (Go's `[]byte` in JSON): Secret data,
/// ConfigMap binaryData. Kept as the base64 text, which is checked on decode.
public struct Base64Bytes: WireValue, Hashable {
    /// The base64 text.
    public let base64: String

    /// Wraps already-valid base64 text; nil when it is not standard padded base64.
    public init?(base64: String) {
        guard Self.isBase64(base64) else { return nil }
        self.base64 = base64
    }

    /// Encodes `bytes`.
    public init(bytes: [UInt8]) { base64 = Self.encode(bytes) }

    public static var wireShape: WireShape { .bytes }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> Base64Bytes? {
        guard case .string(let text) = json else {
            context.typeMismatch(json, expected: "a base64 string")
            return nil
        }
        guard let value = Base64Bytes(base64: text) else {
            context.badValue(json, "must be standard base64 with padding")
            return nil
        }
        return value
    }
    public static var wireNull: Base64Bytes? { Base64Bytes(bytes: []) }
    public var wireJSON: JSONValue { .string(base64) }
    public var isWireEmpty: Bool { base64.isEmpty }

    /// The decoded byte count.
    public var byteCount: Int {
        let bytes = Array(base64.utf8)
        let padding = bytes.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        return bytes.count / 4 * 3 - padding
    }

    /// The decoded bytes (the value was checked to be base64 when it was decoded).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(byteCount)
        var accumulator: UInt32 = 0
        var bits = 0
        for character in base64.utf8 {
            let value: UInt32
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(character - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(character - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            default: continue
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(n >> UInt32(shift) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            var n = UInt32(bytes[i]) << 16
            if rest == 2 { n |= UInt32(bytes[i + 1]) << 8 }
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is standard base64 with padding.
    public static func isBase64(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return false }
        let padding = bytes.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return false }
        return bytes.dropLast(padding).allSatisfy { b in
            (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "+") || b == UInt8(ascii: "/")
        }
    }
}
