import JSON
import XCTest

/// Every bound in `JSONLimits` is enforced at its edge, with the bound in the error.
final class JSONLimitsTests: XCTestCase {
    func testNestingAtTheDefaultLimit() throws {
        let depth = JSONLimits.nestingDepthMaxDefault
        let atLimit = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        XCTAssertNotNil(try JSONValue.parse(atLimit))
        let beyond = String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)
        XCTAssertEqual(parseError(beyond), JSONError(.nestingTooDeep(limitLevels: depth), at: depth))
        let objects = String(repeating: #"{"a":"#, count: depth + 1) + "1" + String(repeating: "}", count: depth + 1)
        XCTAssertEqual(parseError(objects), JSONError(.nestingTooDeep(limitLevels: depth), at: depth * 5))
        let mixedAtLimit = String(repeating: #"{"a":["#, count: depth / 2) + String(repeating: "]}", count: depth / 2)
        XCTAssertNotNil(try JSONValue.parse(mixedAtLimit))
    }

    /// Hostile depth is cut off at the limit, not by the stack: millions of brackets,
    /// unclosed, closed, or as objects, fail fast with an error.
    func testHostileNestingNeverOverflowsTheStack() {
        let million = 1_000_000
        let unclosed = [UInt8](repeating: UInt8(ascii: "["), count: million)
        XCTAssertEqual(parseError(unclosed)?.reason, .nestingTooDeep(limitLevels: JSONLimits.nestingDepthMaxDefault))
        let deepest = JSONLimits(nestingDepthMax: JSONLimits.nestingDepthCeiling, documentSizeMaxBytes: 4 * million)
        XCTAssertEqual(parseError(unclosed, limits: deepest)?.reason, .nestingTooDeep(limitLevels: JSONLimits.nestingDepthCeiling))
        let closed = unclosed + [UInt8](repeating: UInt8(ascii: "]"), count: million)
        XCTAssertEqual(parseError(closed, limits: deepest)?.reason, .nestingTooDeep(limitLevels: JSONLimits.nestingDepthCeiling))
    }

    /// At the ceiling, the parsed value is as deep as anything may get; comparing,
    /// hashing, printing and destroying it must all fit the stack.
    func testValuesAtTheDepthCeilingAreUsable() throws {
        let depth = JSONLimits.nestingDepthCeiling
        let limits = JSONLimits(nestingDepthMax: depth)
        let text = String(repeating: #"{"k":["#, count: depth / 2) + "0" + String(repeating: "]}", count: depth / 2)
        let value = try JSONValue.parse(text, limits: limits)
        XCTAssertEqual(value.jsonString, text)
        XCTAssertEqual(value, try JSONValue.parse(value.prettyPrinted(), limits: limits))
        XCTAssertEqual(Set([value, value]).count, 1)
    }

    func testDocumentSize() {
        let limits = JSONLimits(documentSizeMaxBytes: 10)
        XCTAssertNil(parseError("[1,2,3,45]", limits: limits))
        XCTAssertEqual(parseError("[1,2,3,456]", limits: limits), JSONError(.documentTooLarge(limitBytes: 10), at: 10))
        XCTAssertEqual(parseError("1         ", limits: limits), nil, "whitespace counts, and fits")
    }

    /// Strings are measured after unescaping, in UTF-8 bytes; keys count as strings.
    func testStringSize() {
        let limits = JSONLimits(stringSizeMaxBytes: 4)
        XCTAssertNil(parseError(#"["abcd"]"#, limits: limits))
        XCTAssertEqual(parseError(#"["abcde"]"#, limits: limits), JSONError(.stringTooLong(limitBytes: 4), at: 1))
        XCTAssertNil(parseError(#"["\u00e9\u00e9"]"#, limits: limits), "two 2-byte scalars are 4 bytes")
        XCTAssertEqual(parseError(#"["\u00e9\u00e9x"]"#, limits: limits)?.reason, .stringTooLong(limitBytes: 4))
        XCTAssertEqual(parseError(#"{"abcde": 1}"#, limits: limits), JSONError(.stringTooLong(limitBytes: 4), at: 1))
    }

    func testContainerMembers() {
        let limits = JSONLimits(containerMembersMax: 3)
        XCTAssertNil(parseError("[1,2,3]", limits: limits))
        XCTAssertEqual(parseError("[1,2,3,4]", limits: limits), JSONError(.tooManyMembers(limit: 3), at: 6))
        XCTAssertNil(parseError(#"{"a":1,"b":2,"c":3}"#, limits: limits))
        XCTAssertEqual(parseError(#"{"a":1,"b":2,"c":3,"d":4}"#, limits: limits), JSONError(.tooManyMembers(limit: 3), at: 18))
        XCTAssertNil(parseError("[[1,2,3],[1,2,3],[1,2,3]]", limits: limits), "the bound is per container")
    }

    func testDefaultsAreTheDocumentedConstants() {
        let limits = JSONLimits.default
        XCTAssertEqual(limits.nestingDepthMax, 100)
        XCTAssertEqual(limits.documentSizeMaxBytes, 8 * 1024 * 1024)
        XCTAssertEqual(limits.stringSizeMaxBytes, 2 * 1024 * 1024)
        XCTAssertEqual(limits.containerMembersMax, 100_000)
        XCTAssertEqual(limits.numberSizeMaxBytes, 1_024)
    }
}
