/// # shoal peer wire protocol, version 1
///
/// What `PeerTransport` speaks between members, over one TCP connection per pair.
///
/// ## Frames
///
/// Every frame is an 8-byte header, the payload, and — on every frame except HELLO — a
/// 32-byte HMAC-SHA256 tag. Integers are big-endian.
///
/// ```
///  offset  size  field
///  0       1     version        1 (anything else closes the connection)
///  1       1     type           1 HELLO, 2 AUTH, 3 DATA, 4 PING, 5 PONG, 6 READY
///  2       2     flags          0 (reserved; anything else closes the connection)
///  4       4     payload length bounded per phase: HELLO exactly 56 bytes, AUTH at most
///                               8 + helloContextBytesMax, READY 0, others frameBytesMax
///  8       n     payload
///  8+n     32    tag            HMAC-SHA256(key of this direction,
///                                 direction ‖ sequence ‖ header ‖ payload)
/// ```
///
/// `direction` is one byte, 0 for frames from the dialer to the acceptor and 1 for the
/// other way; `sequence` is a 64-bit count of the authenticated frames sent so far in that
/// direction, starting at 0 with AUTH. It is implicit (never on the wire): a replayed,
/// dropped, reordered or altered frame fails its tag. Any malformed frame, failed tag,
/// unknown type or oversized length closes the connection.
///
/// ## Handshake
///
/// ```
///  dialer                                      acceptor
///  HELLO(id, expected id, nonce_d)  ──▶   ◀──  HELLO(id, 0, nonce_a)      (plain)
///  AUTH(instance, context)          ──▶                                    seq 0, d→a key
///                                         ◀──  AUTH(instance, context)     seq 0, a→d key
///  READY                            ──▶                                    seq 1
///  DATA / PING / PONG               ◀──▶                                   seq 2… / 1…
/// ```
///
/// HELLO payload (56 bytes): the magic `"shoal/p1"`, the sender's node id (u64), the node
/// id the dialer expects to reach (u64; 0 from the acceptor), a 32-byte random nonce.
///
/// Session keys: `HKDF-SHA256(ikm: cluster secret, salt: nonce_d ‖ nonce_a,
/// info: "shoal peer v1 d->a" or "shoal peer v1 a->d" ‖ dialer HELLO payload ‖ acceptor
/// HELLO payload, 32 bytes)`. Both nonces are fresh, so keys (and every tag) are new for
/// each connection; tampering with a HELLO yields different keys and fails AUTH.
///
/// AUTH payload: the sender's instance id (u64, random per `PeerTransport`: a new one
/// means the peer restarted) and its opaque hello context (at most `helloContextBytesMax`).
/// A valid AUTH proves knowledge of the cluster secret. The acceptor answers only after it
/// verified the dialer's AUTH and admitted it (registered id, `acceptPeer`, the
/// one-connection rule), so a prober without the secret gets no tag to attack offline.
/// The dialer admits the acceptor the same way on its AUTH, and says so with READY (empty
/// payload): the connection is the dialer's from READY on, and the acceptor's once READY
/// arrives and still passes the one-connection rule. So the acceptor never sends messages
/// into a connection the dialer is about to refuse. Refusal is closing.
///
/// PING payload: 8 opaque bytes (the sender's clock); PONG echoes them. RTT = now − echo.
///
/// ## One connection per pair
///
/// Both sides dial. When a second authenticated connection to the same peer appears, the
/// side keeps: (1) the new one if the peer's instance id changed (it restarted: the old
/// connection is stale); else (2) the new one if both were dialed by the same side (that
/// side dials only when it lost the old one); else (3) the one dialed by the lower node id.
/// Both ends apply the same rule to the same facts, so they agree on the survivor. In
/// addition, the higher id does not take its own dial while it has admitted the lower id's
/// dial and awaits its READY. Messages in flight on a connection that loses are dropped
/// (Raft retransmits); this only happens while a pair's connections are being set up.
public enum PeerWire {
    public static let version: UInt8 = 1
    public static let headerBytes = 8
    public static let tagBytes = 32
    public static let nonceBytes = 32
    public static let helloMagic: [UInt8] = Array("shoal/p1".utf8)
    public static let helloPayloadBytes = 8 + 8 + 8 + 32
    /// Instance id before the context in an AUTH payload.
    static let authFixedBytes = 8
    /// Direction bytes in the MAC input.
    static let directionDialerToAcceptor: UInt8 = 0
    static let directionAcceptorToDialer: UInt8 = 1

    public enum FrameType: UInt8, Sendable {
        case hello = 1, auth = 2, data = 3, ping = 4, pong = 5, ready = 6

        /// Every frame but HELLO carries a tag.
        var isAuthenticated: Bool { self != .hello }
    }

    /// Why a connection's byte stream was rejected.
    public enum Malformed: Error, Equatable, Sendable {
        case badVersion(UInt8), badType(UInt8), badFlags(UInt16)
        case tooLong(Int), unexpected(FrameType), badPayload(FrameType), badTag(FrameType)
        case wrongPeer(UInt64)
    }

    struct Hello: Equatable {
        var senderID: UInt64
        var expectedID: UInt64
        var nonce: [UInt8]

        func encoded() -> [UInt8] {
            var bytes = PeerWire.helloMagic
            bytes.reserveCapacity(PeerWire.helloPayloadBytes)
            bytes.appendBigEndian(senderID)
            bytes.appendBigEndian(expectedID)
            bytes.append(contentsOf: nonce)
            return bytes
        }

        init(senderID: UInt64, expectedID: UInt64, nonce: [UInt8]) {
            precondition(nonce.count == PeerWire.nonceBytes, "hello nonce must be \(PeerWire.nonceBytes) bytes")
            self.senderID = senderID
            self.expectedID = expectedID
            self.nonce = nonce
        }

        init(decoding payload: [UInt8]) throws(Malformed) {
            guard payload.count == PeerWire.helloPayloadBytes,
                  payload.starts(with: PeerWire.helloMagic) else { throw .badPayload(.hello) }
            senderID = payload.loadBigEndian(at: 8)
            expectedID = payload.loadBigEndian(at: 16)
            nonce = Array(payload[24..<56])
        }
    }

    struct Auth: Equatable {
        var instanceID: UInt64
        var context: [UInt8]

        func encoded() -> [UInt8] {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(PeerWire.authFixedBytes + context.count)
            bytes.appendBigEndian(instanceID)
            bytes.append(contentsOf: context)
            return bytes
        }

        init(instanceID: UInt64, context: [UInt8]) {
            self.instanceID = instanceID
            self.context = context
        }

        init(decoding payload: [UInt8]) throws(Malformed) {
            guard payload.count >= PeerWire.authFixedBytes else { throw .badPayload(.auth) }
            instanceID = payload.loadBigEndian(at: 0)
            context = Array(payload[PeerWire.authFixedBytes...])
        }
    }

    static func header(type: FrameType, payloadBytes: Int) -> [UInt8] {
        precondition(payloadBytes >= 0 && payloadBytes <= Int(UInt32.max), "frame payload of \(payloadBytes) bytes")
        var header: [UInt8] = [version, type.rawValue, 0, 0]
        header.reserveCapacity(headerBytes)
        header.appendBigEndian(UInt32(payloadBytes))
        return header
    }
}

extension [UInt8] {
    mutating func appendBigEndian<Value: FixedWidthInteger>(_ value: Value) {
        var big = value.bigEndian
        Swift.withUnsafeBytes(of: &big) { append(contentsOf: $0) }
    }

    func loadBigEndian<Value: FixedWidthInteger>(at offset: Int, as type: Value.Type = Value.self) -> Value {
        precondition(offset >= 0 && offset + MemoryLayout<Value>.size <= count, "read past the end of a frame")
        var value: Value = 0
        for index in offset..<(offset + MemoryLayout<Value>.size) {
            value = value << 8 | Value(self[index])
        }
        return value
    }
}
