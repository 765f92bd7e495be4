import JSON
import XCTest

/// Errors name the reason and the byte; messages are fit to hand back to a client.
final class JSONErrorTests: XCTestCase {
    func testUnexpectedCharacterMessage() {
        let error = parseError(#"{"name": 1, x}"#)
        XCTAssertEqual(error, JSONError(.unexpectedCharacter(UInt8(ascii: "x")), at: 12))
        XCTAssertEqual(error?.description, "unexpected character 'x' at byte 12")
    }

    func testReasonsAndOffsets() {
        let cases: [(String, [UInt8], JSONError.Reason, Int)] = [
            ("empty", doc(), .unexpectedEnd, 0),
            ("whitespace only", doc("  \n"), .unexpectedEnd, 3),
            ("unterminated array", doc("[1, 2"), .unexpectedEnd, 5),
            ("unterminated string", doc(#"["abc"#), .unexpectedEnd, 5),
            ("trailing comma", doc("[1,]"), .unexpectedCharacter(UInt8(ascii: "]")), 3),
            ("object trailing comma", doc(#"{"a":1,}"#), .unexpectedCharacter(UInt8(ascii: "}")), 7),
            ("comment", doc("[1 /* x */]"), .unexpectedCharacter(UInt8(ascii: "/")), 3),
            ("trailing content", doc("{} {}"), .unexpectedCharacter(UInt8(ascii: "{")), 3),
            ("leading zero", doc("[01]"), .leadingZero, 1),
            ("negative leading zero", doc("-007"), .leadingZero, 0),
            ("no fraction digit", doc("1.]"), .digitExpected, 2),
            ("no exponent digit", doc("1e+x"), .digitExpected, 3),
            ("bare minus at end", doc("-"), .unexpectedEnd, 1),
            ("NaN", doc("NaN"), .unexpectedCharacter(UInt8(ascii: "N")), 0),
            ("Infinity", doc("-Infinity"), .unexpectedCharacter(UInt8(ascii: "I")), 1),
            ("overflow", doc("[1, 1e400]"), .numberOutOfRange, 4),
            ("raw newline", doc("\"a\nb\""), .controlCharacterInString(0x0A), 2),
            ("bad escape", doc(#""a\qb""#), .invalidEscape(UInt8(ascii: "q")), 2),
            ("bad hex", doc(#""\u12G4""#), .invalidUnicodeEscape, 5),
            ("lone high", doc(#""ab\uD800""#), .loneSurrogate(0xD800), 3),
            ("lone low", doc(#""\uDC00\uD800""#), .loneSurrogate(0xDC00), 1),
            ("high then non-low", doc(#""\uD83D\u0041""#), .loneSurrogate(0xD83D), 1),
            ("invalid UTF-8", doc("\"ok", 0xC3, 0x28, "\""), .invalidUTF8, 3),
            ("invalid UTF-8 outside string", doc("[", 0xC3, 0xA9, "]"), .unexpectedCharacter(0xC3), 1),
            ("duplicate key", doc(#"{"a": 1, "b": 2, "a": 3}"#), .duplicateKey("a"), 17),
            ("nested duplicate", doc(#"[{"x": {"k": 1, "k": 1}}]"#), .duplicateKey("k"), 16),
            ("literal typo", doc("[tru]"), .unexpectedCharacter(UInt8(ascii: "]")), 4),
            ("BOM", doc(0xEF, 0xBB, 0xBF, "{}"), .unexpectedCharacter(0xEF), 0),
        ]
        for (name, bytes, reason, offset) in cases {
            XCTAssertEqual(parseError(bytes), JSONError(reason, at: offset), name)
        }
    }

    func testDescriptions() {
        XCTAssertEqual(JSONError(.unexpectedEnd, at: 5).description, "unexpected end of input at byte 5")
        XCTAssertEqual(JSONError(.unexpectedCharacter(0x0A), at: 1).description, "unexpected character byte 0x0A at byte 1")
        XCTAssertEqual(JSONError(.controlCharacterInString(0x01), at: 2).description,
                       "unescaped control character byte 0x01 in string at byte 2")
        XCTAssertEqual(JSONError(.loneSurrogate(0xD800), at: 3).description, #"lone surrogate \uD800 at byte 3"#)
        XCTAssertEqual(JSONError(.duplicateKey("a\"b"), at: 4).description, #"duplicate key "a\"b" at byte 4"#)
        XCTAssertEqual(JSONError(.numberOutOfRange, at: 0).description, "number out of range of Double at byte 0")
        XCTAssertEqual(JSONError(.nestingTooDeep(limitLevels: 100), at: 100).description,
                       "nesting deeper than 100 levels at byte 100")
        let longKey = String(repeating: "k", count: 1000)
        let message = JSONError(.duplicateKey(longKey), at: 0).description
        XCTAssertLessThan(message.count, 100, "a hostile key must not make a huge message")
    }

    func testStringOverloadMatchesBytes() {
        let text = #"{"metadata": {"name": "web-0"}, "x": [1, 2.5, true, null]}"#
        XCTAssertEqual(try JSONValue.parse(text), try JSONValue.parse(Array(text.utf8)))
        XCTAssertThrowsError(try JSONValue.parse("{,}")) { error in
            XCTAssertEqual(error as? JSONError, JSONError(.unexpectedCharacter(UInt8(ascii: ",")), at: 1))
        }
    }
}
