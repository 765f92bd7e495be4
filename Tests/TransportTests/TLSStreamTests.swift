import Foundation
import XCTest

@testable import Transport

/// TLS on the event loop: real sockets, the server side wrapping accepted connections.
final class TLSStreamTests: XCTestCase {
    /// What the server side saw of each connection.
    private final class ServerLog: @unchecked Sendable {
        var streams: [TLSStream] = []
        var failures: [TLSError] = []
        var closes = 0
        var identities: [TLSPeerIdentity?] = []
    }

    /// A TLS echo server on 127.0.0.1 (ephemeral port) and what it saw.
    private func startEchoServer(_ harness: LoopHarness, _ context: TLSContext,
                                 limits: TLSStream.Limits = TLSStream.Limits()) throws -> (TCPServer, ServerLog) {
        let log = ServerLog()
        let server = try XCTUnwrap(harness.sync { () -> TCPServer? in
            guard let server = try? TCPServer(loop: harness.loop, host: "127.0.0.1", port: 0) else { return nil }
            server.onConnection = { tcp in
                guard let stream = try? TLSStream(tcp: tcp, context: context, limits: limits) else { return tcp.abort(nil) }
                log.streams.append(stream)
                stream.onHandshake = { [unowned stream] error in
                    if error == nil { log.identities.append(stream.peerIdentity) }
                }
                stream.onData = { [unowned stream] bytes in stream.write(bytes) }
                stream.onClose = { [unowned stream] _ in
                    log.closes += 1
                    if let failure = stream.failure { log.failures.append(failure) }
                }
            }
            return server
        } ?? nil)
        return (server, log)
    }

    private final class Client: @unchecked Sendable {
        var stream: (any ByteStream)?
        var failure: StreamConnector.Failure?
        var received: [UInt8] = []
        var closed = false
    }

    private func connect(_ harness: LoopHarness, port: UInt16, context: TLSContext, read: Bool = true) -> Client {
        let client = Client()
        harness.sync {
            StreamConnector.tls(context).connect(loop: harness.loop, host: "127.0.0.1", port: port, timeoutMilliseconds: 5_000) { result in
                switch result {
                case .success(let stream):
                    client.stream = stream
                    stream.onClose = { _ in client.closed = true }
                    if read { stream.onData = { client.received += $0 } }
                case .failure(let failure):
                    client.failure = failure
                }
            }
        }
        harness.waitUntil("the TLS connect finished") { client.stream != nil || client.failure != nil }
        return client
    }

    func testEchoOverTheLoop() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let pki = try TestPKI()
        let (server, log) = try startEchoServer(harness, pki.serverContext())
        let client = connect(harness, port: server.boundPort, context: try pki.clientContext())
        let stream = try XCTUnwrap(client.stream, "\(String(describing: client.failure))")
        let message = patternBytes(3 << 20, seed: 1)
        harness.sync {
            // Several writes, some larger than a record.
            stream.write(Array(message[0..<100]))
            stream.write(Array(message[100..<(1 << 20)]))
            stream.write(Array(message[(1 << 20)...]))
        }
        harness.waitUntil("the echo") { client.received.count >= message.count }
        XCTAssertEqual(client.received, message)
        XCTAssertEqual(harness.sync { log.identities }, [nil], "no client certificate was presented")
        harness.sync { stream.close() }
        harness.waitUntil("both sides closed") { client.closed && log.closes == 1 }
        XCTAssertEqual(harness.sync { log.failures.count }, 0)
    }

    func testClientCertificateIsVerifiedAndNamed() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let pki = try TestPKI()
        let (server, log) = try startEchoServer(harness, pki.serverContext())
        let client = connect(harness, port: server.boundPort, context: try pki.clientContext(presenting: pki.client))
        XCTAssertNotNil(client.stream, "\(String(describing: client.failure))")
        harness.waitUntil("the server's handshake") { log.identities.count == 1 }
        XCTAssertEqual(harness.sync { log.identities.first ?? nil },
                       TLSPeerIdentity(commonName: "admin", organizations: ["system:masters"]))
    }

    func testUnverifiableClientCertificateFailsTheHandshake() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let pki = try TestPKI()
        let (server, log) = try startEchoServer(harness, pki.serverContext())
        let client = connect(harness, port: server.boundPort, context: try pki.clientContext(presenting: pki.strangerClient))
        // In TLS 1.3 the client may finish before the server judges its certificate: then
        // the connection closes right after.
        if client.stream != nil {
            harness.sync { client.stream?.write(Array("hello".utf8)) }
            harness.waitUntil("the client is disconnected") { client.closed }
            XCTAssertEqual(harness.sync { client.received }, [])
        }
        harness.waitUntil("the server gave up") { log.failures.count == 1 }
        XCTAssertEqual(harness.sync { log.failures.first?.kind }, .verification)
        XCTAssertEqual(harness.sync { log.identities.count }, 0)
    }

    func testGarbageInsteadOfClientHelloClosesWithoutCrash() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let pki = try TestPKI()
        let (server, log) = try startEchoServer(harness, pki.serverContext())
        for seed in 0..<3 {
            let raw = try RawClient(port: server.boundPort)
            raw.send([0x16, 0x03, 0x01, 0xff, 0xff] + patternBytes(2000, seed: seed))
            XCTAssertNotNil(raw.readToEnd(), "the server closes the connection")
        }
        let raw = try RawClient(port: server.boundPort)
        raw.send(patternBytes(5000, seed: 9))
        XCTAssertNotNil(raw.readToEnd())
        harness.waitUntil("four failures") { log.failures.count == 4 }
        XCTAssertTrue(harness.sync { log.failures.allSatisfy { $0.kind == .openSSL } } ?? false)
        // The server still serves.
        let client = connect(harness, port: server.boundPort, context: try pki.clientContext())
        XCTAssertNotNil(client.stream)
    }

    func testPlainHTTPToTheTLSPortGetsA400AndTheClose() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let pki = try TestPKI()
        let (server, log) = try startEchoServer(harness, pki.serverContext())
        let raw = try RawClient(port: server.boundPort)
        raw.send(Array("GET /api HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let answer = String(decoding: try XCTUnwrap(raw.readToEnd()), as: UTF8.self)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), answer)
        XCTAssertTrue(answer.contains("HTTPS"), answer)
        harness.waitUntil("the failure is recorded") { log.failures.count == 1 }
        XCTAssertEqual(harness.sync { log.failures.first?.kind }, .plainHTTP)
    }

    func testSilentClientTimesOutInTheHandshake() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let pki = try TestPKI()
        var limits = TLSStream.Limits()
        limits.handshakeTimeoutMilliseconds = 200
        let (server, log) = try startEchoServer(harness, pki.serverContext(), limits: limits)
        let raw = try RawClient(port: server.boundPort)
        XCTAssertEqual(raw.readToEnd(), [], "closed without a word")
        harness.waitUntil("the timeout is recorded") { log.failures.count == 1 }
        XCTAssertEqual(harness.sync { log.failures.first?.kind }, .handshakeTimeout)
    }

    func testOversizedInputIsRefused() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let pki = try TestPKI()
        var limits = TLSStream.Limits()
        limits.inputBufferedBytesMax = 4096
        let (server, log) = try startEchoServer(harness, pki.serverContext(), limits: limits)
        let raw = try RawClient(port: server.boundPort)
        // A record header announcing 16 KiB, then its body arriving: held until whole.
        raw.send([0x16, 0x03, 0x01, 0x40, 0x00] + [UInt8](repeating: 1, count: 10_000))
        _ = raw.readToEnd()
        harness.waitUntil("the failure is recorded") { log.failures.count == 1 }
        XCTAssertTrue([.bufferLimit, .openSSL].contains(harness.sync { log.failures.first?.kind } ?? nil))
    }

    /// A consumer that pauses (onData = nil) gets the records that were already decrypted
    /// when it resumes, without new bytes arriving.
    func testPausedConsumerResumesWithBufferedRecords() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let pki = try TestPKI()
        let received = Unchecked<[UInt8]>([])
        let accepted = Unchecked<TLSStream?>(nil)
        let context = try pki.serverContext()
        let server = try XCTUnwrap(harness.sync { () -> TCPServer? in
            let server = try? TCPServer(loop: harness.loop, host: "127.0.0.1", port: 0)
            server?.onConnection = { tcp in
                let stream = try! TLSStream(tcp: tcp, context: context)
                accepted.value = stream
                stream.onData = { [unowned stream] bytes in
                    received.value += bytes
                    stream.onData = nil  // pause after every delivery
                }
            }
            return server
        } ?? nil)
        let client = connect(harness, port: server.boundPort, context: try pki.clientContext())
        let message = patternBytes(100_000, seed: 5)
        harness.sync { client.stream?.write(message) }
        harness.waitUntil("the first delivery") { !received.value.isEmpty }
        while harness.sync({ received.value.count }) ?? 0 < message.count {
            harness.idle(milliseconds: 5)
            harness.sync {
                accepted.value?.onData = { [unowned stream = accepted.value!] bytes in
                    received.value += bytes
                    stream.onData = nil
                }
            }
            harness.waitUntil("another delivery") { received.value.count == message.count || accepted.value?.onData == nil }
        }
        XCTAssertEqual(harness.sync { received.value }, message)
    }
}
