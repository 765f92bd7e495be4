import JSON
import XCTest

/// Property tests over seeded random values: printing then parsing gives the value back,
/// bit for bit; parsing any spelling of a document then printing is stable; and mangled
/// documents are rejected or parsed, never crash.
final class JSONRoundTripTests: XCTestCase {
    func testParsePrintRoundTripsRandomValues() throws {
        var generator = ValueGenerator(seed: 0x5EED_1001)
        for iteration in 0..<5_000 {
            let value = generator.value()
            let printed = value.serialized()
            let parsed = try JSONValue.parse(printed)
            XCTAssertTrue(identical(parsed, value), "#\(iteration): \(value) came back as \(parsed)")
            XCTAssertEqual(parsed.hashValue, value.hashValue, "#\(iteration)")
            XCTAssertEqual(parsed.serialized(), printed, "#\(iteration)")
            XCTAssertTrue(identical(try JSONValue.parse(value.prettyPrinted()), value), "#\(iteration) pretty")
        }
    }

    /// The same value spelled with random whitespace, escapes (`\u` for anything, surrogate
    /// pairs, `\/`) and number forms parses to that value and prints like it.
    func testAnySpellingParsesToTheSameValueAndPrintsStably() throws {
        var generator = ValueGenerator(seed: 0x5EED_1002)
        var spelling = SplitMix64(seed: 0x5EED_1003)
        for iteration in 0..<3_000 {
            let value = generator.value()
            var text: [UInt8] = []
            spell(value, into: &text, using: &spelling)
            let parsed = try JSONValue.parse(text)
            XCTAssertTrue(identical(parsed, value), "#\(iteration): \(render(text))")
            let printed = parsed.serialized()
            XCTAssertEqual(printed, value.serialized(), "#\(iteration)")
            XCTAssertEqual(try JSONValue.parse(printed).serialized(), printed, "#\(iteration)")
        }
    }

    /// Mutated documents: every outcome is a value or a JSONError, and values that do
    /// come out still round-trip.
    func testMangledDocumentsNeverCrash() throws {
        var generator = ValueGenerator(seed: 0x5EED_1004)
        var random = SplitMix64(seed: 0x5EED_1005)
        let interesting: [UInt8] = Array("[]{}\",:\\/-+.eE0123456789 \t\nutfalsn".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF]
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = generator.value().serialized()
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0...bytes.count, using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0 where position < bytes.count: bytes[position] = interesting.randomElement(using: &random)!
                case 1: bytes.insert(interesting.randomElement(using: &random)!, at: position)
                case 2 where position < bytes.count: bytes.remove(at: position)
                case 3: bytes.removeSubrange(position...)
                default:
                    let end = min(bytes.count, position + Int.random(in: 1...8, using: &random))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                }
            }
            do {
                let value = try JSONValue.parse(bytes)
                accepted += 1
                XCTAssertTrue(identical(try JSONValue.parse(value.serialized()), value), render(bytes))
            } catch {
                XCTAssertTrue(error.offsetBytes >= 0 && error.offsetBytes <= bytes.count, "\(error) for \(render(bytes))")
            }
        }
        XCTAssertGreaterThan(accepted, 0, "mutation should sometimes keep a document valid")
    }

    /// Writes `value` as valid JSON, choosing among the spellings RFC 8259 allows.
    private func spell(_ value: JSONValue, into out: inout [UInt8], using random: inout SplitMix64) {
        func space() {
            for _ in 0..<[0, 0, 0, 1, 2].randomElement(using: &random)! {
                out.append([0x20, 0x09, 0x0A, 0x0D].randomElement(using: &random)!)
            }
        }
        space()
        switch value {
        case .null, .bool:
            out += value.serialized()
        case .int(let integer):
            out += Array(String(integer).utf8)
        case .double(let number):
            var text = number.description
            if Bool.random(using: &random) { text = String(text.map { $0 == "e" ? "E" : $0 }) }
            out += Array(text.utf8)
        case .string(let text):
            spellString(text, into: &out, using: &random)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            space()
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                spell(element, into: &out, using: &random)
            }
            space()
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            space()
            for (index, (key, member)) in object.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                space()
                spellString(key, into: &out, using: &random)
                space()
                out.append(UInt8(ascii: ":"))
                spell(member, into: &out, using: &random)
            }
            space()
            out.append(UInt8(ascii: "}"))
        }
        space()
    }

    private func spellString(_ text: String, into out: inout [UInt8], using random: inout SplitMix64) {
        func hex(_ unit: UInt16) -> [UInt8] {
            let digits = String(unit, radix: 16, uppercase: Bool.random(using: &random))
            return Array(("\\u" + String(repeating: "0", count: 4 - digits.count) + digits).utf8)
        }
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            let mustEscape = scalar.value < 0x20 || scalar == "\"" || scalar == "\\"
            if mustEscape || Int.random(in: 0..<4, using: &random) == 0 {
                if scalar == "/" && Bool.random(using: &random) {
                    out += Array(#"\/"#.utf8)
                } else {
                    for unit in String(scalar).utf16 { out += hex(unit) }
                }
            } else {
                out += Array(String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Random JSON values from a seed, biased toward the hard parts: boundary integers,
/// every kind of Double, strings full of escapes and multi-byte scalars, nesting.
struct ValueGenerator {
    var random: SplitMix64
    let depthMax = 5

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func value(depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0..<(depth >= depthMax ? 5 : 8), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(integer())
        case 3: return .double(double())
        case 4: return .string(string())
        case 5: return .array((0..<Int.random(in: 0...5, using: &random)).map { _ in value(depth: depth + 1) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...5, using: &random) { object[string()] = value(depth: depth + 1) }
            return .object(object)
        }
    }

    mutating func integer() -> Int64 {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return [0, 1, -1, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1].randomElement(using: &random)!
        case 1: return Int64.random(in: -1000...1000, using: &random)
        default: return Int64(bitPattern: random.next()) >> Int64.random(in: 0...63, using: &random)
        }
    }

    mutating func double() -> Double {
        switch Int.random(in: 0..<5, using: &random) {
        case 0: return [0.0, -0.0, 1.0, -1.0, 0.1, 1e22, 1e23, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
                        .leastNormalMagnitude, -.greatestFiniteMagnitude, 9007199254740994].randomElement(using: &random)!
        case 1: return Double(Int.random(in: -100_000...100_000, using: &random)) / 100
        case 2: return Double(Int64.random(in: -(1 << 60)...(1 << 60), using: &random))
        default:
            while true {
                let number = Double(bitPattern: random.next())
                if number.isFinite { return number }
            }
        }
    }

    mutating func string() -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...10, using: &random) {
            let value: UInt32
            switch Int.random(in: 0..<8, using: &random) {
            case 0: value = UInt32.random(in: 0x00...0x1F, using: &random)
            case 1: value = [0x22, 0x5C, 0x2F, 0x7F, 0x20].randomElement(using: &random)!
            case 2: value = UInt32.random(in: 0x80...0x7FF, using: &random)
            case 3: value = [UInt32.random(in: 0x800...0xD7FF, using: &random), UInt32.random(in: 0xE000...0xFFFF, using: &random)].randomElement(using: &random)!
            case 4: value = UInt32.random(in: 0x10000...0x10FFFF, using: &random)
            case 5: value = [0x301, 0x2028, 0x2029, 0xFEFF, 0xFFFD, 0x1F600].randomElement(using: &random)!
            default: value = UInt32.random(in: 0x21...0x7E, using: &random)
            }
            scalars.append(Unicode.Scalar(value)!)
        }
        return String(scalars)
    }
}
