import JSON

// The byte coding shared by commands (StoreCommand) and snapshots (Store+Snapshot).
//
// JSON values travel in a compact tagged binary form rather than as JSON text: it needs no
// number parsing (so a Double decodes to exactly the bits that were encoded on the leader),
// it is cheaper to decode on every member, and it does not wait on the text printer. Every
// encoding is canonical: one value has exactly one byte sequence, so equal stores give equal
// snapshot bytes.
//
//   value   := tag payload
//   tag 0 null | 1 false | 2 true
//   tag 3 int       zigzag LEB128 varint
//   tag 4 double    8 bytes, IEEE 754 bits little-endian (finite only)
//   tag 5 string    varint byte count, UTF-8 bytes (validated on decode)
//   tag 6 array     varint count, values
//   tag 7 object    varint count, (string key, value) pairs in the object's key order
//
// Decoding is total: truncated, oversized, overlong or unknown input is a `BinaryDecodeError`,
// never a crash, and nesting deeper than `Store.valueDepthMax` is rejected before it can
// exhaust the stack.

/// Why bytes did not decode: a reason for a person, with the offset where it was found.
struct BinaryDecodeError: Error, Equatable {
    let reason: String
}

/// Appends the canonical binary form of values to a byte buffer.
struct ByteSink {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// Fixed-width 8 bytes, little-endian.
    mutating func fixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// Fixed-width 4 bytes, little-endian.
    mutating func fixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    /// LEB128: 7 bits per byte, high bit set on all but the last.
    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func string(_ value: String) {
        varint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: byte(0)
        case .bool(let b): byte(b ? 2 : 1)
        case .int(let i):
            byte(3)
            varint(UInt64(bitPattern: (i << 1) ^ (i >> 63)))
        case .double(let d):
            precondition(d.isFinite, "a JSON double must be finite, got \(d)")
            byte(4)
            fixed64(d.bitPattern)
        case .string(let s):
            byte(5)
            string(s)
        case .array(let items):
            byte(6)
            varint(UInt64(items.count))
            for item in items { self.value(item) }
        case .object(let object):
            byte(7)
            varint(UInt64(object.count))
            for (key, item) in object {
                string(key)
                self.value(item)
            }
        }
    }
}

/// The number of bytes `ByteSink.value` would append for `value`, without allocating.
func binarySize(of value: JSONValue) -> Int {
    func varintSize(_ v: UInt64) -> Int {
        var size = 1
        var rest = v >> 7
        while rest != 0 { size += 1; rest >>= 7 }
        return size
    }
    func stringSize(_ s: String) -> Int { let n = s.utf8.count; return varintSize(UInt64(n)) + n }
    switch value {
    case .null, .bool: return 1
    case .int(let i): return 1 + varintSize(UInt64(bitPattern: (i << 1) ^ (i >> 63)))
    case .double: return 9
    case .string(let s): return 1 + stringSize(s)
    case .array(let items): return items.reduce(1 + varintSize(UInt64(items.count))) { $0 + binarySize(of: $1) }
    case .object(let object):
        return object.reduce(1 + varintSize(UInt64(object.count))) { $0 + stringSize($1.key) + binarySize(of: $1.value) }
    }
}

/// Reads the binary form back, checking every length against the bytes that remain.
struct ByteSource {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from offset: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset == end }

    func failure(_ reason: String) -> BinaryDecodeError { BinaryDecodeError(reason: "\(reason) at byte \(offset)") }

    mutating func byte() throws(BinaryDecodeError) -> UInt8 {
        guard offset < end else { throw failure("unexpected end of input") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func fixed64() throws(BinaryDecodeError) -> UInt64 {
        guard remaining >= 8 else { throw failure("unexpected end of input") }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
        offset += 8
        return value
    }

    mutating func fixed32() throws(BinaryDecodeError) -> UInt32 {
        guard remaining >= 4 else { throw failure("unexpected end of input") }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
        offset += 4
        return value
    }

    mutating func varint() throws(BinaryDecodeError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw failure("varint overflows 64 bits") }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 {
                // Canonical form only: a final zero group (other than a lone 0) is overlong.
                if b == 0 && shift > 0 { throw failure("overlong varint") }
                return value
            }
            shift += 7
        }
    }

    /// A count or length that must fit in what remains, each unit taking at least one byte.
    mutating func length() throws(BinaryDecodeError) -> Int {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw failure("length \(n) exceeds the \(remaining) bytes left") }
        return Int(n)
    }

    mutating func raw(count: Int) throws(BinaryDecodeError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw failure("unexpected end of input") }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func string() throws(BinaryDecodeError) -> String {
        let start = offset
        let utf8 = try raw(count: try length())
        // Nearly every string in a manifest is ASCII, and ASCII is valid UTF-8: skip the
        // (much slower) generic validation for it.
        let isASCII = utf8.withUnsafeBufferPointer { buffer in buffer.allSatisfy { $0 < 0x80 } }
        if isASCII { return String(decoding: utf8, as: UTF8.self) }
        guard let s = String(validating: utf8, as: UTF8.self) else {
            throw BinaryDecodeError(reason: "invalid UTF-8 in string at byte \(start)")
        }
        return s
    }

    mutating func value(depth: Int = 1) throws(BinaryDecodeError) -> JSONValue {
        let tag = try byte()
        switch tag {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3:
            let z = try varint()
            return .int(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
        case 4:
            let d = Double(bitPattern: try fixed64())
            guard d.isFinite else { throw failure("non-finite number") }
            return .double(d)
        case 5: return .string(try string())
        case 6, 7:
            guard depth <= Store.valueDepthMax else { throw failure("nesting deeper than \(Store.valueDepthMax)") }
            let count = try length()
            if tag == 6 {
                var items: [JSONValue] = []
                items.reserveCapacity(count)
                for _ in 0..<count { items.append(try value(depth: depth + 1)) }
                return .array(items)
            }
            var object = JSONObject(capacity: count)
            for _ in 0..<count {
                let key = try string()
                let item = try value(depth: depth + 1)
                // One search per key (every entry's objects are decoded on every member).
                guard object.appendUnique(key, item) else { throw failure("duplicate key \"\(key)\"") }
            }
            return .object(object)
        default:
            throw BinaryDecodeError(reason: "unknown value tag \(tag) at byte \(offset - 1)")
        }
    }
}

/// FNV-1a, 64-bit: a small, stable content hash (not a checksum against an adversary).
struct FNV1a64 {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ bytes: [UInt8]) { add(bytes[...]) }

    /// Concrete (not generic over Sequence): this runs over every snapshot byte.
    mutating func add(_ bytes: ArraySlice<UInt8>) {
        var hash = value
        bytes.withUnsafeBufferPointer { buffer in
            for b in buffer { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        }
        value = hash
    }
}

extension JSONValue {
    /// Equal down to the bytes of the canonical binary form. `==` compares strings by their
    /// UTF-8 bytes too, but this also tells 1 from 1.0 and keeps key order significant, so
    /// "no change" means exactly what a watcher would see.
    func identical(to other: JSONValue) -> Bool {
        guard self == other else { return false }
        var a = ByteSink()
        var b = ByteSink()
        a.value(self)
        b.value(other)
        return a.bytes == b.bytes
    }
}
