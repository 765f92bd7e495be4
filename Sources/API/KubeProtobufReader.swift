/// Protobuf wire-format reading over a byte array: tags, varints, fixed-width numbers and
/// length-delimited ranges, every read checked against the end of its message. Values are
/// returned as offsets into the one body array (no copies until a leaf is decoded).
///
/// Only what Kubernetes' gogo-generated messages use is accepted: wire types 0 (varint),
/// 1 (fixed64), 2 (length-delimited) and 5 (fixed32). Groups (3, 4) never occur in them and
/// are refused rather than skipped, as are the undefined wire types 6 and 7.
struct KubeProtobufReader {
    /// The wire types of the protobuf encoding.
    enum WireType: UInt8, Sendable, CustomStringConvertible {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5

        var description: String {
            switch self {
            case .varint: return "varint"
            case .fixed64: return "fixed64"
            case .lengthDelimited: return "length-delimited"
            case .fixed32: return "fixed32"
            }
        }
    }

    /// One field occurrence as read: its number, wire type and payload.
    struct Field {
        let number: Int
        let wireType: WireType
        /// The varint's value (wire type 0), the fixed64's or fixed32's bits (1, 5).
        let bits: UInt64
        /// The payload's bytes (wire type 2); empty otherwise.
        let range: Range<Int>
        /// Where the field's tag starts (for error messages).
        let offset: Int
    }

    /// Largest field number protobuf allows (2^29 - 1).
    static let fieldNumberMax = (1 << 29) - 1
    /// Longest varint, in bytes (a 64-bit value needs at most 10 groups of 7 bits).
    static let varintBytesMax = 10

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    /// A reader of `range` of `bytes` (one message).
    init(_ bytes: [UInt8], _ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "reader range \(range) outside \(bytes.count) bytes")
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
    }

    /// Whether the message has no more fields.
    var isAtEnd: Bool { position >= end }

    /// The next field of the message, or nil at its end.
    mutating func next() throws(KubeProtobufError) -> Field? {
        guard position < end else { return nil }
        let start = position
        let key = try varint()
        let number = key >> 3
        guard number >= 1, number <= UInt64(Self.fieldNumberMax) else { throw .invalidFieldNumber(offset: start) }
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw .unsupportedWireType(UInt8(key & 7), offset: start)
        }
        switch wireType {
        case .varint:
            return Field(number: Int(number), wireType: wireType, bits: try varint(), range: position..<position, offset: start)
        case .fixed64:
            return Field(number: Int(number), wireType: wireType, bits: try fixed(8), range: position..<position, offset: start)
        case .fixed32:
            return Field(number: Int(number), wireType: wireType, bits: try fixed(4), range: position..<position, offset: start)
        case .lengthDelimited:
            let lengthOffset = position
            let length = try varint()
            guard length <= UInt64(end - position) else { throw .lengthOutOfBounds(offset: lengthOffset) }
            let range = position..<(position + Int(length))
            position = range.upperBound
            return Field(number: Int(number), wireType: wireType, bits: 0, range: range, offset: start)
        }
    }

    /// A base-128 varint of at most ten bytes, whose tenth byte holds only the 64th bit.
    mutating func varint() throws(KubeProtobufError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for i in 0..<Self.varintBytesMax {
            guard position < end else { throw .truncated(offset: start) }
            let byte = bytes[position]
            position += 1
            if i == Self.varintBytesMax - 1 && byte > 1 { throw .malformedVarint(offset: start) }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw .malformedVarint(offset: start)
    }

    /// `count` little-endian bytes (8: a fixed64, 4: a fixed32).
    mutating func fixed(_ count: Int) throws(KubeProtobufError) -> UInt64 {
        guard end - position >= count else { throw .truncated(offset: position) }
        var value: UInt64 = 0
        for i in 0..<count { value |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += count
        return value
    }
}
