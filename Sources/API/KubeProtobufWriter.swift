/// Protobuf wire-format writing: tags, varints and length-delimited fields (proto3: scalar
/// fields at their zero value are left out unless `always`).
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func tag(_ field: Int, _ wireType: UInt8) { varint(UInt64(field) << 3 | UInt64(wireType)) }

    /// A length-delimited field (a nested message, even an empty one: it is set).
    mutating func message(_ field: Int, _ payload: [UInt8]) {
        tag(field, 2)
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    mutating func string(_ field: Int, _ text: String, always: Bool = false) {
        guard always || !text.isEmpty else { return }
        message(field, Array(text.utf8))
    }

    /// 8 little-endian bytes (the payload of a wire type 1 field, or of a packed double).
    mutating func fixed64(_ bits: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(8 * i))) }
    }

    mutating func bool(_ field: Int, _ flag: Bool, always: Bool = false) {
        guard always || flag else { return }
        tag(field, 0)
        varint(flag ? 1 : 0)
    }
}
