import JSON
import XCTest

/// Strings: UTF-8 validity, escapes and surrogate pairs, in and out.
final class JSONUnicodeTests: XCTestCase {
    /// `"` + bytes + `"` parses exactly when the bytes are valid UTF-8 with nothing that
    /// must be escaped, and then to exactly those bytes. The oracle is the standard
    /// library: `String(decoding:)` repairs invalid input, so a valid input survives a
    /// decode/encode unchanged and an invalid one does not.
    func testRawUTF8AgreesWithStandardLibraryOnRandomBytes() throws {
        var random = SplitMix64(seed: 0x5EED_0001)
        // Bytes drawn mostly from the interesting region: leads, continuations, ASCII.
        let pool: [UInt8] = Array(0x80...0xFF) + [0x41, 0x7F, 0x20]
        for _ in 0..<50_000 {
            let count = Int.random(in: 1...6, using: &random)
            let bytes = (0..<count).map { _ in pool.randomElement(using: &random)! }
            let valid = Array(String(decoding: bytes, as: UTF8.self).utf8) == bytes
            let document = [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]
            let parsed = try? JSONValue.parse(document)
            XCTAssertEqual(parsed != nil, valid, render(bytes))
            if let parsed { XCTAssertEqual(parsed.stringValue.map { Array($0.utf8) }, bytes) }
        }
    }

    func testUTF8BoundaryForms() {
        let valid: [[UInt8]] = [
            [0xC2, 0x80], [0xDF, 0xBF],                          // U+0080, U+07FF
            [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF],              // U+0800, U+D7FF
            [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF],              // U+E000, U+FFFF
            [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],  // U+10000, U+10FFFF
        ]
        let invalid: [[UInt8]] = [
            [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF],          // stray continuation, overlong
            [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // overlong, surrogates
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
            [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xFF],
            [0xC2], [0xE1, 0x80], [0xF1, 0x80, 0x80],            // truncated before the quote
            [0xC2, 0x41], [0xE1, 0x80, 0x41],                    // continuation missing
        ]
        for bytes in valid {
            XCTAssertNil(parseError(doc("\"") + bytes + doc("\"")), render(bytes))
            XCTAssertNil(parseError(doc(#""\n"#) + bytes + doc("\"")), "after an escape: " + render(bytes))
        }
        for bytes in invalid {
            XCTAssertEqual(parseError(doc("\"") + bytes + doc("\""))?.reason, .invalidUTF8, render(bytes))
            XCTAssertEqual(parseError(doc(#""\n"#) + bytes + doc("\""))?.reason, .invalidUTF8, "after an escape: " + render(bytes))
        }
        // Truncated at the very end of input, not just before a quote.
        XCTAssertEqual(parseError(doc("\"", 0xE2, 0x82)), JSONError(.invalidUTF8, at: 1))
    }

    func testEscapesDecodeToScalars() throws {
        let cases: [(String, String)] = [
            (#""\u0041\u00e9\u4e2d""#, "Aé中"),
            (#""\uD834\uDD1E""#, "\u{1D11E}"),
            (#""\ud83d\ude00x""#, "😀x"),
            (#""\uD800\uDC00""#, "\u{10000}"),
            (#""\uDBFF\uDFFF""#, "\u{10FFFF}"),
            (#""\u0000""#, "\u{0}"),
            (#""\uFEFF""#, "\u{FEFF}"),
            (#""a\/b""#, "a/b"),
            (#""tab\there""#, "tab\there"),
            (#""mixed é \u00e9 \n end""#, "mixed é é \n end"),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try JSONValue.parse(text), .string(expected), text)
        }
    }

    func testEveryLoneSurrogateIsRejected() {
        for unit in stride(from: 0xD800, through: 0xDFFF, by: 0x3F) {
            let hex = String(unit, radix: 16)
            let alone = parseError(#""\u"# + hex + #"""#)
            XCTAssertEqual(alone?.reason, .loneSurrogate(UInt16(unit)), hex)
            let thenLetter = parseError(#""\u"# + hex + #"x""#)
            XCTAssertEqual(thenLetter?.reason, .loneSurrogate(UInt16(unit)), hex)
        }
        // A low then a high is two lone surrogates, not a pair.
        XCTAssertEqual(parseError(#""\uDC00\uD800""#)?.reason, .loneSurrogate(0xDC00))
        // A high followed by a second high.
        XCTAssertEqual(parseError(#""\uD800\uD800""#)?.reason, .loneSurrogate(0xD800))
    }

    func testPrintingEscapesOnlyWhatMustBeEscaped() {
        let value: JSONValue = .string("q\" b\\ s/ nl\n cr\r tab\t bs\u{8} ff\u{C} nul\u{0} us\u{1F} del\u{7F} é 中 😀 \u{2028}")
        let expected = #""q\" b\\ s/ nl\n cr\r tab\t bs\b ff\f nul\u0000 us\u001f del"# + "\u{7F} é 中 😀 \u{2028}\""
        XCTAssertEqual(value.jsonString, expected)
        XCTAssertEqual(try JSONValue.parse(expected), value)
    }

    func testEveryControlCharacterRoundTrips() throws {
        for code in 0..<0x20 {
            let text = "a" + String(Unicode.Scalar(UInt8(code))) + "b"
            let printed = JSONValue.string(text).serialized()
            XCTAssertFalse(printed.contains { $0 < 0x20 }, "raw control byte printed for \(code)")
            XCTAssertEqual(try JSONValue.parse(printed), .string(text))
            XCTAssertEqual(parseError(doc("\"a") + [UInt8(code)] + doc("b\"")),
                           JSONError(.controlCharacterInString(UInt8(code)), at: 2))
        }
    }

    func testKeysAreStringsToo() throws {
        let value = try JSONValue.parse(#"{"\u00e9t\u00e9": 1, "été2": 2, "\ud83d\ude00": 3}"#)
        XCTAssertEqual(value.objectValue?.keys, ["été", "été2", "😀"])
        XCTAssertEqual(value.jsonString, #"{"été":1,"été2":2,"😀":3}"#)
        // Escaped and raw spellings of one key are the same key.
        XCTAssertEqual(parseError(#"{"é": 1, "\u00e9": 2}"#)?.reason, .duplicateKey("é"))
    }
}

/// The string scanner reads eight bytes at a time; a special byte must be found at every
/// position of the word and next to the end of input.
final class JSONStringScanTests: XCTestCase {
    func testSpecialBytesAtEveryPositionAndPadding() throws {
        for length in 0..<24 {
            for padding in 0..<10 {
                let tail = String(repeating: " ", count: padding)
                let plain = String(repeating: "a", count: length)
                XCTAssertEqual(try JSONValue.parse("\"" + plain + "\"" + tail), .string(plain))
                for position in 0..<length {
                    var bytes = Array(plain.utf8)
                    bytes[position] = 0x0A
                    XCTAssertEqual(parseError(doc("\"") + bytes + doc("\"") + Array(tail.utf8)),
                                   JSONError(.controlCharacterInString(0x0A), at: 1 + position))
                    var accented = Array(plain.utf8)
                    accented.replaceSubrange(position...position, with: Array("é".utf8))
                    XCTAssertEqual(try JSONValue.parse(doc("\"") + accented + doc("\"") + Array(tail.utf8)),
                                   .string(String(decoding: accented, as: UTF8.self)))
                    var escaped = Array(plain.utf8)
                    escaped.replaceSubrange(position...position, with: Array(#"\""#.utf8))
                    XCTAssertEqual(try JSONValue.parse(doc("\"") + escaped + doc("\"") + Array(tail.utf8)).stringValue?.utf8.count, length)
                    var quoted = Array(plain.utf8)
                    quoted[position] = UInt8(ascii: "\"")
                    XCTAssertEqual(parseError(doc("\"") + quoted + doc("\"") + Array(tail.utf8))?.offsetBytes, position + 2)
                }
            }
        }
    }
}
