import XCTest

@testable import Transport

/// The wire format, the incremental decoder and frame authentication, without sockets.
final class PeerWireTests: XCTestCase {
    private func keys(secret: [UInt8] = testSecret) -> (dialer: PeerSessionKeys, acceptor: PeerSessionKeys) {
        let dialerHello = PeerWire.Hello(senderID: 1, expectedID: 2, nonce: [UInt8](repeating: 1, count: 32))
        let acceptorHello = PeerWire.Hello(senderID: 2, expectedID: 0, nonce: [UInt8](repeating: 2, count: 32))
        return (PeerSessionKeys.derive(secret: secret, dialerHello: dialerHello, acceptorHello: acceptorHello, localIsDialer: true),
                PeerSessionKeys.derive(secret: testSecret, dialerHello: dialerHello, acceptorHello: acceptorHello, localIsDialer: false))
    }

    private func frame(_ type: PeerWire.FrameType, _ payload: [UInt8], with sender: inout FrameAuthenticator) -> [UInt8] {
        let header = PeerWire.header(type: type, payloadBytes: payload.count)
        return header + payload + sender.tag(header: header, payload: payload)
    }

    private func decodeAll(_ bytes: [UInt8], chunk: Int) throws -> [PeerFrame] {
        var decoder = FrameDecoder(payloadBytesMax: 1 << 20)
        var frames: [PeerFrame] = []
        var offset = 0
        while offset < bytes.count {
            decoder.append(Array(bytes[offset..<min(bytes.count, offset + chunk)]))
            offset += chunk
            while let frame = try decoder.next() { frames.append(frame) }
        }
        return frames
    }

    func testHelloAndAuthRoundTrip() throws {
        let hello = PeerWire.Hello(senderID: 7, expectedID: 9, nonce: Array(0..<32))
        XCTAssertEqual(hello.encoded().count, PeerWire.helloPayloadBytes)
        XCTAssertEqual(try PeerWire.Hello(decoding: hello.encoded()), hello)
        var badMagic = hello.encoded()
        badMagic[0] ^= 1
        XCTAssertThrowsError(try PeerWire.Hello(decoding: badMagic))
        XCTAssertThrowsError(try PeerWire.Hello(decoding: Array(hello.encoded().dropLast())))
        let auth = PeerWire.Auth(instanceID: 0xDEAD_BEEF, context: [1, 2, 3])
        XCTAssertEqual(try PeerWire.Auth(decoding: auth.encoded()), auth)
        XCTAssertThrowsError(try PeerWire.Auth(decoding: [1, 2, 3]))
    }

    /// Frames split at every chunk size decode to the same frames, and verify in order.
    func testIncrementalDecodingAtAnySplit() throws {
        var (dialer, acceptor) = keys()
        var stream: [UInt8] = []
        let payloads: [[UInt8]] = [[], [1], patternBytes(1000), patternBytes(70_000, seed: 5)]
        for payload in payloads { stream += frame(.data, payload, with: &dialer.sending) }
        for chunk in [1, 2, 7, 8, 9, 40, 4096, stream.count] {
            var receiving = acceptor.receiving
            let frames = try decodeAll(stream, chunk: chunk)
            XCTAssertEqual(frames.map(\.payload), payloads, "chunk \(chunk)")
            for frame in frames { XCTAssertTrue(receiving.verify(frame), "chunk \(chunk)") }
        }
        _ = acceptor
    }

    func testMalformedHeadersAreRejected() {
        func decode(_ bytes: [UInt8], max: Int = 100) -> PeerWire.Malformed? {
            var decoder = FrameDecoder(payloadBytesMax: max)
            decoder.append(bytes)
            do {
                _ = try decoder.next()
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(decode([2, 3, 0, 0, 0, 0, 0, 0]), .badVersion(2))
        XCTAssertEqual(decode([1, 9, 0, 0, 0, 0, 0, 0]), .badType(9))
        XCTAssertEqual(decode([1, 3, 0, 1, 0, 0, 0, 0]), .badFlags(1))
        XCTAssertEqual(decode([1, 3, 0, 0, 0, 0, 0, 101]), .tooLong(101))
        XCTAssertEqual(decode([1, 3, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]), .tooLong(0xFFFF_FFFF))
        XCTAssertNil(decode([1, 3, 0, 0, 0, 0, 0, 100]), "a frame at the bound waits for its bytes")
    }

    /// Tags bind direction, sequence, type and payload: a flipped bit, a replay, a reorder, a
    /// reflected frame or another secret all fail.
    func testAuthenticationCatchesTamperingReplayAndReordering() throws {
        var (dialer, acceptor) = keys()
        let first = frame(.data, [1, 2, 3], with: &dialer.sending)
        let second = frame(.data, [4, 5, 6], with: &dialer.sending)
        let frames = try decodeAll(first + second, chunk: 1000)

        var receiving = acceptor.receiving
        XCTAssertTrue(receiving.verify(frames[0]))
        XCTAssertFalse(receiving.verify(frames[0]), "replay")

        receiving = acceptor.receiving
        XCTAssertFalse(receiving.verify(frames[1]), "reordered")

        for index in 0..<first.count {
            var flipped = first
            flipped[index] ^= 0x10
            receiving = acceptor.receiving
            if let frame = try? decodeAll(flipped, chunk: 1000).first {
                XCTAssertFalse(receiving.verify(frame), "bit flipped at \(index)")
            }
        }

        var reflected = dialer.receiving  // the dialer's own frame sent back to it
        XCTAssertFalse(reflected.verify(frames[0]), "reflected")

        let otherSecret = keys(secret: Array("another secret of enough length".utf8))
        var stranger = otherSecret.dialer.sending
        let forged = try decodeAll(frame(.data, [1, 2, 3], with: &stranger), chunk: 1000)[0]
        receiving = acceptor.receiving
        XCTAssertFalse(receiving.verify(forged), "other secret")
    }
}
