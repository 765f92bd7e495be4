/// Parsing: RFC 8259, strictly. What the parser accepts is exactly the RFC grammar, plus
/// three rules of its own, each rejected with a `JSONError`:
///
/// - Duplicate object keys. RFC 8259 only says names "SHOULD be unique". The Kubernetes API
///   server rejects a request with a duplicate field under strict field validation
///   (`fieldValidation=Strict`, what `kubectl --validate=strict`, the default, asks for),
///   and shoal always does: otherwise which value wins is up to each parser, and a client,
///   the API and the replicated store must never read one document two ways.
/// - Numbers whose magnitude is beyond Double (`1e400`): JSON has no infinity to give back.
/// - The bounds in `JSONLimits` (document, string, number and container size, nesting).
///
/// Numbers written as integers that fit Int64 become `.int`; every other number (with a
/// fraction or exponent, or too large for Int64) becomes `.double`, correctly rounded.
/// `-0` is an integer and becomes `.int(0)`; `-0.0` stays `.double(-0.0)`.
/// A byte-order mark is not whitespace and is rejected, as RFC 8259 section 8.1 allows.
extension JSONValue {
    /// Parses one JSON document from UTF-8 bytes; only whitespace may follow the value.
    public static func parse(_ bytes: [UInt8], limits: JSONLimits = .default) throws(JSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONError) -> JSONValue in
            try parse(buffer, limits: limits)
        }
    }

    /// Parses one JSON document from a string (its UTF-8 form).
    public static func parse(_ text: String, limits: JSONLimits = .default) throws(JSONError) -> JSONValue {
        var text = text
        // `String.withUTF8` is not typed-throws, so the error travels back in a Result.
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONError) -> JSONValue in try parse(buffer, limits: limits) }
        }
        return try result.get()
    }

    /// Parses one JSON document from a buffer of UTF-8 bytes (e.g. an HTTP body in place).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>, limits: JSONLimits = .default) throws(JSONError) -> JSONValue {
        var parser = JSONParser(input: buffer, limits: limits)
        return try parser.parseDocument()
    }
}

/// The parser's state: a cursor over the input. Nesting is kept on an explicit stack of
/// open containers rather than the call stack, so no input can overflow the stack; the
/// depth bound then only protects what later recurses over the value.
///
/// Members of all open containers wait on two shared stacks (`pendingElements` for arrays,
/// `pendingMembers` for objects) and move into an exactly sized array when their container
/// closes: one allocation per container instead of one per growth step.
struct JSONParser {
    let input: UnsafeBufferPointer<UInt8>
    let limits: JSONLimits
    /// Offset of the next unread byte.
    var offset = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []
    /// Elements of the open arrays, innermost last.
    var pendingElements: [JSONValue] = []
    /// Members of the open objects, innermost last.
    var pendingMembers: [JSONObject.Member] = []
    /// Long keys already seen, by FNV-1a hash of their bytes (see `internedKey`).
    var keyCache: [UInt64: String] = [:]

    init(input: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        // `JSONLimits` fields are settable after init, so its ceiling is re-checked here.
        precondition(
            limits.nestingDepthMax >= 1 && limits.nestingDepthMax <= JSONLimits.nestingDepthCeiling,
            "JSONLimits.nestingDepthMax \(limits.nestingDepthMax) outside 1...\(JSONLimits.nestingDepthCeiling)")
        self.input = input
        self.limits = limits
    }

    /// One open array or object.
    struct Frame {
        let isObject: Bool
        /// Where this container's members start in `pendingElements` or `pendingMembers`.
        let start: Int
        /// The key whose value is being read (objects only) and where that key starts.
        var key = ""
        var keyOffset = 0
        /// Key to position, once the object has `JSONObject.indexedMembersMin` members:
        /// duplicate checks stay O(1) however many keys a hostile object has.
        var positions: [JSONObject.UTF8Key: Int] = [:]
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        guard input.count <= limits.documentSizeMaxBytes else {
            throw JSONError(.documentTooLarge(limitBytes: limits.documentSizeMaxBytes), at: limits.documentSizeMaxBytes)
        }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard offset == input.count else { throw JSONError(.unexpectedCharacter(input[offset]), at: offset) }
        return value
    }

    /// Reads one value starting at `offset` (whitespace already skipped), containers and all.
    mutating func parseValue() throws(JSONError) -> JSONValue {
        var stack: [Frame] = []
        var value: JSONValue
        nextValue: while true {
            guard offset < input.count else { throw JSONError(.unexpectedEnd, at: offset) }
            switch input[offset] {
            case UInt8(ascii: "{"):
                guard stack.count < limits.nestingDepthMax else {
                    throw JSONError(.nestingTooDeep(limitLevels: limits.nestingDepthMax), at: offset)
                }
                offset += 1
                skipWhitespace()
                if offset < input.count && input[offset] == UInt8(ascii: "}") {
                    offset += 1
                    value = .object(JSONObject())
                } else {
                    let keyOffset = offset
                    let key = try parseKey()
                    stack.append(Frame(isObject: true, start: pendingMembers.count, key: key, keyOffset: keyOffset))
                    continue nextValue
                }
            case UInt8(ascii: "["):
                guard stack.count < limits.nestingDepthMax else {
                    throw JSONError(.nestingTooDeep(limitLevels: limits.nestingDepthMax), at: offset)
                }
                offset += 1
                skipWhitespace()
                if offset < input.count && input[offset] == UInt8(ascii: "]") {
                    offset += 1
                    value = .array([])
                } else {
                    stack.append(Frame(isObject: false, start: pendingElements.count))
                    continue nextValue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            case let byte:
                throw JSONError(.unexpectedCharacter(byte), at: offset)
            }

            // Hand `value` to the innermost open container; close every container that
            // ends here, until one continues with another member or the stack is empty.
            while let top = stack.indices.last {
                skipWhitespace()
                let isObject = stack[top].isObject
                if isObject {
                    try addMember(value, to: &stack[top])
                } else {
                    pendingElements.append(value)
                }
                guard offset < input.count else { throw JSONError(.unexpectedEnd, at: offset) }
                let separator = input[offset]
                if separator == UInt8(ascii: ",") {
                    let members = (isObject ? pendingMembers.count : pendingElements.count) - stack[top].start
                    guard members < limits.containerMembersMax else {
                        throw JSONError(.tooManyMembers(limit: limits.containerMembersMax), at: offset)
                    }
                    offset += 1
                    skipWhitespace()
                    if isObject {
                        stack[top].keyOffset = offset
                        stack[top].key = try parseKey()
                    }
                    continue nextValue
                }
                guard separator == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                    throw JSONError(.unexpectedCharacter(separator), at: offset)
                }
                offset += 1
                let frame = stack.removeLast()
                if isObject {
                    let members = Self.moveTail(of: &pendingMembers, from: frame.start, filler: JSONObject.Member(key: "", value: .null))
                    value = .object(JSONObject(uniqueMembers: members, positions: frame.positions))
                } else {
                    value = .array(Self.moveTail(of: &pendingElements, from: frame.start, filler: .null))
                }
            }
            return value
        }
    }

    /// Moves `pending[start...]` into a new, exactly sized array and drops it from `pending`.
    /// Moving (rather than copying, then destroying the originals) saves a retain and a
    /// release per member; the vacated slots get `filler`, which holds no references, so
    /// the final `removeSubrange` has nothing to release.
    static func moveTail<Element>(of pending: inout [Element], from start: Int, filler: Element) -> [Element] {
        let count = pending.count - start
        precondition(count >= 0, "moveTail from \(start) of \(pending.count) pending values")
        guard count > 0 else { return [] }
        let moved = pending.withUnsafeMutableBufferPointer { source in
            [Element](unsafeUninitializedCapacity: count) { target, initialized in
                let vacated = source.baseAddress! + start
                target.baseAddress!.moveInitialize(from: vacated, count: count)
                vacated.initialize(repeating: filler, count: count)
                initialized = count
            }
        }
        pending.removeSubrange(start...)
        return moved
    }

    /// Adds the member `frame.key: value` to the innermost open object, rejecting a key
    /// it already has.
    private mutating func addMember(_ value: JSONValue, to frame: inout Frame) throws(JSONError) {
        let count = pendingMembers.count - frame.start
        if count >= JSONObject.indexedMembersMin {
            guard frame.positions.updateValue(count, forKey: JSONObject.UTF8Key(frame.key)) == nil else {
                throw JSONError(.duplicateKey(frame.key), at: frame.keyOffset)
            }
        } else {
            for position in frame.start..<pendingMembers.count
            where JSONObject.UTF8Key.bytesEqual(pendingMembers[position].key, frame.key) {
                throw JSONError(.duplicateKey(frame.key), at: frame.keyOffset)
            }
        }
        pendingMembers.append(JSONObject.Member(key: frame.key, value: value))
        if count + 1 == JSONObject.indexedMembersMin {
            frame.positions.reserveCapacity(JSONObject.indexedMembersMin * 2)
            for position in frame.start..<pendingMembers.count {
                frame.positions[JSONObject.UTF8Key(pendingMembers[position].key)] = position - frame.start
            }
        }
    }

    /// Reads `"key"`, whitespace, `:` and whitespace, leaving `offset` at the value.
    mutating func parseKey() throws(JSONError) -> String {
        guard offset < input.count else { throw JSONError(.unexpectedEnd, at: offset) }
        guard input[offset] == UInt8(ascii: "\"") else {
            throw JSONError(.unexpectedCharacter(input[offset]), at: offset)
        }
        let key = try parseString(interning: true)
        skipWhitespace()
        guard offset < input.count else { throw JSONError(.unexpectedEnd, at: offset) }
        guard input[offset] == UInt8(ascii: ":") else {
            throw JSONError(.unexpectedCharacter(input[offset]), at: offset)
        }
        offset += 1
        skipWhitespace()
        return key
    }

    /// Consumes `literal` (`true`, `false`, `null`) at `offset`.
    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for byte in expected {
            guard offset < input.count else { throw JSONError(.unexpectedEnd, at: offset) }
            guard input[offset] == byte else { throw JSONError(.unexpectedCharacter(input[offset]), at: offset) }
            offset += 1
        }
    }

    /// Skips the four whitespace bytes RFC 8259 allows: space, tab, line feed, carriage return.
    @inline(__always)
    mutating func skipWhitespace() {
        while offset < input.count {
            switch input[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }
}
