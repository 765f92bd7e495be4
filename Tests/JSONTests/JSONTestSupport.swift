import JSON
import XCTest

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so every random test
/// replays exactly from its seed (DESIGN principle 2: no SystemRandomNumberGenerator).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A piece of a test document: text (its UTF-8) or one raw byte, so invalid UTF-8 can be
/// written inline: `doc("[\"", 0xFF, "\"]")`.
enum DocPart: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case byte(UInt8)
    init(stringLiteral value: String) { self = .text(value) }
    init(integerLiteral value: UInt8) { self = .byte(value) }
}

func doc(_ parts: DocPart...) -> [UInt8] {
    var bytes: [UInt8] = []
    for part in parts {
        switch part {
        case .text(let text): bytes.append(contentsOf: text.utf8)
        case .byte(let byte): bytes.append(byte)
        }
    }
    return bytes
}

/// Equality that also tells -0.0 from 0.0 (Double's == does not), for round-trip checks.
func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
    case (.array(let xs), .array(let ys)):
        return xs.count == ys.count && zip(xs, ys).allSatisfy { identical($0, $1) }
    case (.object(let x), .object(let y)):
        return x.keys == y.keys && x.keys.allSatisfy { identical(x[$0]!, y[$0]!) }
    default: return a == b
    }
}

/// The error parsing `bytes` throws, or nil when it parses.
func parseError(_ bytes: [UInt8], limits: JSONLimits = .default) -> JSONError? {
    do {
        _ = try JSONValue.parse(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, limits: JSONLimits = .default) -> JSONError? {
    parseError(Array(text.utf8), limits: limits)
}

func render(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self).debugDescription + " " + bytes.map { String($0, radix: 16) }.joined(separator: " ")
}
