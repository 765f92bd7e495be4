/// One frame cut out of the byte stream: its raw header (the MAC covers it), payload and tag.
struct PeerFrame {
    var type: PeerWire.FrameType
    var header: [UInt8]
    var payload: [UInt8]
    /// Empty for HELLO.
    var tag: [UInt8]
}

/// Cuts frames out of a TCP byte stream incrementally, with a bounded buffer.
///
/// The buffer never holds more than one frame still arriving (at most
/// `header + payloadBytesMax + tag`) plus one read, because every complete frame is taken
/// out before the next read is appended. The bound on the payload is set per phase by the
/// owner (a HELLO is 56 bytes; data frames up to `frameBytesMax`), so a peer that has not
/// authenticated cannot make us buffer megabytes.
struct FrameDecoder {
    var payloadBytesMax: Int
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already consumed.
    private var start = 0

    init(payloadBytesMax: Int) {
        self.payloadBytesMax = payloadBytesMax
    }

    /// Bytes received but not yet part of a returned frame.
    var bufferedBytes: Int { buffer.count - start }

    mutating func append(_ bytes: [UInt8]) {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, nil when more bytes are needed; throws on a malformed header.
    mutating func next() throws(PeerWire.Malformed) -> PeerFrame? {
        let available = buffer.count - start
        guard available >= PeerWire.headerBytes else { return nil }
        let versionByte = buffer[start]
        guard versionByte == PeerWire.version else { throw .badVersion(versionByte) }
        guard let type = PeerWire.FrameType(rawValue: buffer[start + 1]) else { throw .badType(buffer[start + 1]) }
        let flags = UInt16(buffer[start + 2]) << 8 | UInt16(buffer[start + 3])
        guard flags == 0 else { throw .badFlags(flags) }
        var length = 0
        for index in (start + 4)..<(start + 8) { length = length << 8 | Int(buffer[index]) }
        guard length <= payloadBytesMax else { throw .tooLong(length) }
        let tagBytes = type.isAuthenticated ? PeerWire.tagBytes : 0
        let total = PeerWire.headerBytes + length + tagBytes
        guard available >= total else {
            if buffer.capacity < start + total { buffer.reserveCapacity(start + total) }
            return nil
        }
        let payloadStart = start + PeerWire.headerBytes
        let tagStart = payloadStart + length
        let frame = PeerFrame(
            type: type,
            header: Array(buffer[start..<payloadStart]),
            payload: Array(buffer[payloadStart..<tagStart]),
            tag: Array(buffer[tagStart..<(tagStart + tagBytes)]))
        start += total
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= Self.retainedCapacityBytesMax)
            start = 0
        }
        return frame
    }

    /// Keep at most this much buffer capacity between frames (a multi-MiB frame's buffer is
    /// released once it has been consumed).
    static let retainedCapacityBytesMax = 1 << 20
}
