import Crypto

/// The two per-direction keys of one connection (wire protocol v1, see `PeerWire`).
struct PeerSessionKeys {
    var sending: FrameAuthenticator
    var receiving: FrameAuthenticator

    static let infoLabelDialerToAcceptor = Array("shoal peer v1 d->a".utf8)
    static let infoLabelAcceptorToDialer = Array("shoal peer v1 a->d".utf8)
    static let keyBytes = 32

    /// Derives both directions' keys from the cluster secret and both HELLO payloads.
    static func derive(secret: [UInt8], dialerHello: PeerWire.Hello, acceptorHello: PeerWire.Hello,
                       localIsDialer: Bool) -> PeerSessionKeys {
        let secretKey = SymmetricKey(data: secret)
        let salt = dialerHello.nonce + acceptorHello.nonce
        let transcript = dialerHello.encoded() + acceptorHello.encoded()
        func key(_ label: [UInt8]) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: secretKey, salt: salt, info: label + transcript,
                                   outputByteCount: keyBytes)
        }
        let dialerToAcceptor = FrameAuthenticator(
            key: key(infoLabelDialerToAcceptor), direction: PeerWire.directionDialerToAcceptor)
        let acceptorToDialer = FrameAuthenticator(
            key: key(infoLabelAcceptorToDialer), direction: PeerWire.directionAcceptorToDialer)
        return localIsDialer
            ? PeerSessionKeys(sending: dialerToAcceptor, receiving: acceptorToDialer)
            : PeerSessionKeys(sending: acceptorToDialer, receiving: dialerToAcceptor)
    }
}

/// Tags or verifies the frames of one direction, counting their sequence numbers.
struct FrameAuthenticator {
    let key: SymmetricKey
    let direction: UInt8
    /// The sequence number of the next frame (0 is the AUTH frame).
    private(set) var sequence: UInt64 = 0
    /// HMAC keyed once: keying hashes the key into the inner and outer pads, so each frame
    /// starts from a copy of this instead of keying again (a measurable cost per message).
    private let keyed: HMAC<SHA256>

    init(key: SymmetricKey, direction: UInt8) {
        self.key = key
        self.direction = direction
        self.keyed = HMAC<SHA256>(key: key)
    }

    private func code(header: [UInt8], payload: [UInt8]) -> HashedAuthenticationCode<SHA256> {
        var prefix: [UInt8] = [direction]
        prefix.reserveCapacity(1 + 8 + header.count)
        prefix.appendBigEndian(sequence)
        prefix.append(contentsOf: header)
        var hmac = keyed
        hmac.update(data: prefix)
        hmac.update(data: payload)
        return hmac.finalize()
    }

    /// The tag for the next frame sent; advances the sequence.
    mutating func tag(header: [UInt8], payload: [UInt8]) -> [UInt8] {
        let tag = Array(code(header: header, payload: payload))
        sequence += 1
        return tag
    }

    /// Checks the next received frame's tag (in constant time); advances the sequence only
    /// when it is valid (an invalid frame closes the connection anyway).
    mutating func verify(_ frame: PeerFrame) -> Bool {
        guard frame.tag.count == PeerWire.tagBytes,
              code(header: frame.header, payload: frame.payload) == frame.tag else { return false }
        sequence += 1
        return true
    }
}

/// Random bytes for nonces and instance ids (this module is the impure shell; RaftCore
/// never sees this generator).
enum PeerRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func uint64() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// Uniform in `range`.
    static func uint64(in range: ClosedRange<UInt64>) -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return UInt64.random(in: range, using: &generator)
    }
}
