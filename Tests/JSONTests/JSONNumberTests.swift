import JSON
import XCTest

/// Numbers: Int64 exactly, everything else as the correctly rounded Double, no infinity.
final class JSONNumberTests: XCTestCase {
    func testIntegerBoundaries() throws {
        XCTAssertEqual(try JSONValue.parse("9223372036854775807"), .int(Int64.max))
        XCTAssertEqual(try JSONValue.parse("-9223372036854775808"), .int(Int64.min))
        XCTAssertEqual(try JSONValue.parse("9223372036854775808"), .double(9223372036854775808.0))
        XCTAssertEqual(try JSONValue.parse("-9223372036854775809"), .double(-9223372036854775809.0))
        XCTAssertEqual(try JSONValue.parse("18446744073709551616"), .double(18446744073709551616.0))
        XCTAssertEqual(try JSONValue.parse("99999999999999999999"), .double(1e20))
        XCTAssertEqual(try JSONValue.parse("1000000000000000000"), .int(1_000_000_000_000_000_000))
        XCTAssertEqual(try JSONValue.parse("0"), .int(0))
        XCTAssertEqual(try JSONValue.parse("-1"), .int(-1))
        XCTAssertEqual(JSONValue.int(Int64.min).jsonString, "-9223372036854775808")
        XCTAssertEqual(JSONValue.int(Int64.max).jsonString, "9223372036854775807")
        XCTAssertEqual(JSONValue.int(0).jsonString, "0")
        XCTAssertEqual(JSONValue.int(-10).jsonString, "-10")
    }

    /// `-0` is written as an integer, and Int64 has no negative zero: it becomes `.int(0)`.
    /// `-0.0` keeps its sign as a Double, and prints back as `-0.0`.
    func testNegativeZero() throws {
        XCTAssertEqual(try JSONValue.parse("-0"), .int(0))
        guard case .double(let zero) = try JSONValue.parse("-0.0") else { return XCTFail("not a double") }
        XCTAssertEqual(zero.sign, .minus)
        guard case .double(let zeroExp) = try JSONValue.parse("-0e5") else { return XCTFail("not a double") }
        XCTAssertEqual(zeroExp.sign, .minus)
        XCTAssertEqual(JSONValue.double(-0.0).jsonString, "-0.0")
        XCTAssertTrue(identical(try JSONValue.parse("-0.0"), .double(-0.0)))
    }

    func testFractionsAndExponentsAreDoubles() throws {
        XCTAssertEqual(try JSONValue.parse("1.0"), .double(1))
        XCTAssertEqual(try JSONValue.parse("1e0"), .double(1))
        XCTAssertEqual(try JSONValue.parse("1E+2"), .double(100))
        XCTAssertEqual(try JSONValue.parse("0.1"), .double(0.1))
        XCTAssertEqual(try JSONValue.parse("-2.5e-3"), .double(-0.0025))
        XCTAssertEqual(try JSONValue.parse("1e-400"), .double(0))
        XCTAssertEqual(try JSONValue.parse("0e999999999999999999999"), .double(0))
        XCTAssertEqual(try JSONValue.parse("1.7976931348623157e308"), .double(.greatestFiniteMagnitude))
        XCTAssertEqual(try JSONValue.parse("4.9406564584124654e-324"), .double(.leastNonzeroMagnitude))
        XCTAssertEqual(try JSONValue.parse("2.2250738585072011e-308"), .double(Double("2.2250738585072011e-308")!))
        XCTAssertEqual(try JSONValue.parse("9007199254740993.0"), .double(9007199254740992))
        XCTAssertEqual(try JSONValue.parse("0.30000000000000004"), .double(0.1 + 0.2))
        XCTAssertEqual(try JSONValue.parse("123456789012345678901234567890e-10"), .double(12345678901234567890.1234567890))
        XCTAssertEqual(try JSONValue.parse("0.000000000000000000000000000000000000001"), .double(1e-39))
    }

    /// Numbers beyond Double are an error, not infinity (which JSON cannot express).
    func testOverflowIsRejected() {
        for text in ["1e400", "-1e400", "1.7976931348623159e308", "1e99999999999999999999", String(repeating: "9", count: 400)] {
            XCTAssertEqual(parseError(text), JSONError(.numberOutOfRange, at: 0), text)
        }
        XCTAssertEqual(parseError("[0, -1e309]"), JSONError(.numberOutOfRange, at: 4))
    }

    func testNumberLengthIsBounded() {
        let long = "0." + String(repeating: "1", count: JSONLimits.numberSizeMaxBytesDefault)
        XCTAssertEqual(parseError("[" + long + "]"), JSONError(.numberTooLong(limitBytes: JSONLimits.numberSizeMaxBytesDefault), at: 1))
        let fits = "0." + String(repeating: "1", count: JSONLimits.numberSizeMaxBytesDefault - 2)
        XCTAssertNil(parseError(fits))
    }

    /// The parser's fast path and its fallback both agree with the standard library's
    /// correctly rounded conversion, on tokens built to hit every branch.
    func testDoublesMatchStandardLibraryOnRandomTokens() throws {
        var random = SplitMix64(seed: 0x5EED_0002)
        for _ in 0..<20_000 {
            var token = Bool.random(using: &random) ? "-" : ""
            let integerDigits = Int.random(in: 1...22, using: &random)
            token += String(Int.random(in: 1...9, using: &random))
            for _ in 1..<integerDigits { token += String(Int.random(in: 0...9, using: &random)) }
            if Int.random(in: 0..<4, using: &random) == 0 { token = token.hasPrefix("-") ? "-0" : "0" }
            if Bool.random(using: &random) {
                token += "."
                for _ in 0..<Int.random(in: 1...20, using: &random) { token += String(Int.random(in: 0...9, using: &random)) }
            }
            if Bool.random(using: &random) {
                token += ["e", "E"].randomElement(using: &random)! + ["", "+", "-"].randomElement(using: &random)!
                token += String(Int.random(in: 0...Int.random(in: [9, 30, 400].randomElement(using: &random)!...400, using: &random), using: &random))
            }
            let expected = Double(token)!
            let isInteger = !token.contains(where: { ".eE".contains($0) })
            if isInteger, let exact = Int64(token) {
                XCTAssertEqual(try JSONValue.parse(token), .int(exact), token)
            } else if expected.isFinite {
                let parsed = try JSONValue.parse(token)
                XCTAssertTrue(identical(parsed, .double(expected)), "\(token): \(parsed) != \(expected)")
            } else {
                XCTAssertEqual(parseError(token)?.reason, .numberOutOfRange, token)
            }
        }
    }

    /// Doubles print in the shortest form that reads back as the same bits, and integral
    /// doubles keep a `.0` or exponent so they come back as `.double`.
    func testDoublePrinting() throws {
        let cases: [(Double, String)] = [
            (0.1, "0.1"), (100, "100.0"), (-2.5, "-2.5"), (1e16, "1e+16"), (1e-5, "1e-05"),
            (123456789.125, "123456789.125"), (.greatestFiniteMagnitude, "1.7976931348623157e+308"),
            (.leastNonzeroMagnitude, "5e-324"), (9007199254740992, "9007199254740992.0"),
        ]
        for (number, text) in cases {
            XCTAssertEqual(JSONValue.double(number).jsonString, text)
            XCTAssertTrue(identical(try JSONValue.parse(text), .double(number)), text)
        }
    }

    /// NaN and infinities have no JSON spelling; they print as `null` (documented).
    func testNonFiniteDoublesPrintAsNull() {
        XCTAssertEqual(JSONValue.array([.double(.nan), .double(.infinity), .double(-.infinity)]).jsonString, "[null,null,null]")
    }

    func testRandomDoubleBitPatternsRoundTrip() throws {
        var random = SplitMix64(seed: 0x5EED_0003)
        for _ in 0..<20_000 {
            let number = Double(bitPattern: random.next())
            guard number.isFinite else { continue }
            let printed = JSONValue.double(number).serialized()
            XCTAssertTrue(identical(try JSONValue.parse(printed), .double(number)), "\(number)")
        }
    }
}
