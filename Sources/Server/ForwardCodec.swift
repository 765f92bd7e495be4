import RaftStorage

/// Writes a follower hands to the leader over the peer connection, and the leader's answers
/// (inside PeerTransport's authenticated frames, beside the Raft messages).
///
///     tag:u8(0xF1) kind:u8 requestID:u64 fields...
///
/// - kind 1, proposal: `command` (length:u32 + bytes), a `StoreCommand` the follower built.
/// - kind 2, appended: `index:u64 term:u64`, where the leader put it in its log.
/// - kind 3, refused: `status:u16 reason message` (each length:u32 + UTF-8): the leader did
///   not put it in its log (not leader, overloaded, too large).
///
/// The tag cannot start a Raft message (those start with `MessageCodec.version`, 1). The
/// follower answers its client only after it applied the entry itself, so the answer is
/// the follower's own store result and the leader sends no objects back.
enum ForwardMessage: Equatable {
    case proposal(requestID: UInt64, command: [UInt8])
    case appended(requestID: UInt64, index: UInt64, term: UInt64)
    case refused(requestID: UInt64, status: UInt16, reason: String, message: String)

    /// First byte of every forwarding message.
    static let tag: UInt8 = 0xF1
    /// Longest reason or message text accepted, in bytes.
    static let textBytesMax = 4096
    /// Largest forwarded command accepted, in bytes (Raft's own entry limit is checked by
    /// the leader's propose; this only bounds what a decoder allocates).
    static let commandBytesMax = 16 << 20

    var requestID: UInt64 {
        switch self {
        case .proposal(let id, _), .appended(let id, _, _), .refused(let id, _, _, _): return id
        }
    }

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 32)
        w.put(Self.tag)
        switch self {
        case let .proposal(id, command):
            w.put(UInt8(1)); w.put(id); w.putBytes(command)
        case let .appended(id, index, term):
            w.put(UInt8(2)); w.put(id); w.put(index); w.put(term)
        case let .refused(id, status, reason, message):
            w.put(UInt8(3)); w.put(id); w.put(status)
            w.putBytes(Array(reason.utf8.prefix(Self.textBytesMax)))
            w.putBytes(Array(message.utf8.prefix(Self.textBytesMax)))
        }
        return w.bytes
    }

    static func isForwardMessage(_ bytes: [UInt8]) -> Bool { bytes.first == tag }

    static func decode(_ bytes: [UInt8]) throws(MessageCodec.Malformed) -> ForwardMessage {
        var r = ByteReader(bytes)
        do {
            let first: UInt8 = try r.get()
            guard first == tag else { throw MessageCodec.Malformed(description: "forwarding tag \(first)") }
            let kind: UInt8 = try r.get()
            let id: UInt64 = try r.get()
            let message: ForwardMessage
            switch kind {
            case 1: message = .proposal(requestID: id, command: try r.getBytes(limit: commandBytesMax))
            case 2: message = .appended(requestID: id, index: try r.get(), term: try r.get())
            case 3:
                let status: UInt16 = try r.get()
                let reason = String(decoding: try r.getBytes(limit: textBytesMax), as: UTF8.self)
                let text = String(decoding: try r.getBytes(limit: textBytesMax), as: UTF8.self)
                message = .refused(requestID: id, status: status, reason: reason, message: text)
            default:
                throw MessageCodec.Malformed(description: "unknown forwarding kind \(kind)")
            }
            guard r.remaining == 0 else { throw MessageCodec.Malformed(description: "\(r.remaining) trailing bytes") }
            return message
        } catch let error as MessageCodec.Malformed {
            throw error
        } catch {
            throw MessageCodec.Malformed(description: "truncated forwarding message")
        }
    }
}
