import Foundation
import XCTest

@testable import Transport

/// Bytes 0, 1, 2, ... 250, 0, 1, ... (251 is prime, so chunk boundaries never line up).
func patternBytes(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 + seed) % 251) }
}

final class TCPTests: XCTestCase {
    /// Starts an echo server on 127.0.0.1 with an ephemeral port.
    private func startEchoServer(_ harness: LoopHarness, host: String = "127.0.0.1") -> (TCPServer, UInt16)? {
        harness.sync { () -> (TCPServer, UInt16)? in
            guard let server = try? TCPServer(loop: harness.loop, host: host, port: 0) else { return nil }
            server.onConnection = { connection in
                connection.onData = { [unowned connection] bytes in connection.write(bytes) }
            }
            return (server, server.boundPort)
        } ?? nil
    }

    /// Connects and records everything: the connection, received bytes, close reports.
    private final class Client: @unchecked Sendable {
        var connection: TCPConnection?
        var failure: UVError?
        var received: [UInt8] = []
        var closes: [UVError?] = []
    }

    private func connect(_ harness: LoopHarness, host: String = "127.0.0.1", port: UInt16,
                         timeoutMilliseconds: Int = 5_000, read: Bool = true) -> Client {
        let client = Client()
        harness.sync {
            TCPConnection.connect(loop: harness.loop, host: host, port: port,
                                  timeoutMilliseconds: timeoutMilliseconds) { result in
                switch result {
                case .success(let connection):
                    client.connection = connection
                    connection.onClose = { client.closes.append($0) }
                    if read { connection.onData = { client.received += $0 } }
                case .failure(let error):
                    client.failure = error
                }
            }
        }
        harness.waitUntil("connect finished") { client.connection != nil || client.failure != nil }
        return client
    }

    func testEchoOverLoopbackWithEphemeralPort() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let (_, port) = try XCTUnwrap(startEchoServer(harness))
        XCTAssertNotEqual(port, 0)
        let client = connect(harness, port: port)
        let connection = try XCTUnwrap(client.connection, "\(String(describing: client.failure))")
        let message = patternBytes(3 << 20)
        harness.sync {
            XCTAssertEqual(connection.remoteAddress, "127.0.0.1:\(port)")
            // Several writes of odd sizes; the echo comes back whole and in order.
            var offset = 0
            for size in [1, 7, 65_537, 1 << 20] + Array(repeating: 100_003, count: 20) where offset < message.count {
                let end = min(message.count, offset + size)
                XCTAssertTrue(connection.write(Array(message[offset..<end])))
                offset = end
            }
            XCTAssertTrue(connection.write(Array(message[offset...])))
        }
        harness.waitUntil("echo complete") { client.received.count >= message.count }
        harness.sync {
            XCTAssertEqual(client.received, message)
            XCTAssertEqual(connection.pendingWriteBytes, 0)
            connection.close()
            connection.close()
            XCTAssertFalse(connection.write([1]))
        }
        harness.waitUntil("onClose") { !client.closes.isEmpty }
        harness.idle(milliseconds: 10)
        harness.sync {
            XCTAssertEqual(client.closes.count, 1)
            XCTAssertNil(client.closes[0] as UVError?)
        }
    }

    /// The other side closing is an orderly EOF: onClose(nil), exactly once.
    func testPeerCloseReportsOrderlyEOFOnce() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let accepted = Unchecked<TCPConnection?>(nil)
        let port = try XCTUnwrap(harness.sync { () -> UInt16? in
            let server = try? TCPServer(loop: harness.loop, host: "127.0.0.1", port: 0)
            server?.onConnection = { accepted.value = $0 }
            return server?.boundPort
        } ?? nil)
        let client = connect(harness, port: port)
        XCTAssertNotNil(client.connection)
        harness.waitUntil("accepted") { accepted.value != nil }
        harness.sync { accepted.value!.close() }
        harness.waitUntil("client saw the close") { client.closes.count == 1 }
        harness.idle(milliseconds: 10)
        harness.sync {
            XCTAssertEqual(client.closes.count, 1)
            XCTAssertNil(client.closes[0] as UVError?)
        }
    }

    /// close() right after a large write still delivers every byte, then EOF.
    func testCloseFlushesQueuedWrites() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let received = Unchecked([UInt8]())
        let serverClosed = Unchecked(false)
        let port = try XCTUnwrap(harness.sync { () -> UInt16? in
            let server = try? TCPServer(loop: harness.loop, host: "127.0.0.1", port: 0)
            server?.onConnection = { connection in
                connection.onData = { received.value += $0 }
                connection.onClose = { _ in serverClosed.value = true }
            }
            return server?.boundPort
        } ?? nil)
        let client = connect(harness, port: port, read: false)
        let connection = try XCTUnwrap(client.connection)
        let message = patternBytes(8 << 20, seed: 3)
        harness.sync {
            connection.write(message)
            connection.close()
        }
        harness.waitUntil("server saw EOF") { serverClosed.value }
        harness.sync { XCTAssertEqual(received.value, message) }
    }

    func testConnectRefused() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        // A port that was just ours and is now closed.
        let port = try XCTUnwrap(harness.sync { () -> UInt16? in
            let server = try? TCPServer(loop: harness.loop, host: "127.0.0.1", port: 0)
            server?.close()
            return server?.boundPort
        } ?? nil)
        let client = connect(harness, port: port)
        XCTAssertNil(client.connection)
        XCTAssertEqual(client.failure?.code, UVError.connectionRefused)
        XCTAssertEqual(client.failure?.call, "uv_tcp_connect")
    }

    /// A zero timeout fires before the connect can complete (timers run before I/O polling).
    func testConnectTimeout() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let (_, port) = try XCTUnwrap(startEchoServer(harness))
        let client = connect(harness, port: port, timeoutMilliseconds: 0)
        XCTAssertNil(client.connection)
        XCTAssertEqual(client.failure?.code, UVError.timedOut)
    }

    /// Host names resolve off the loop thread.
    func testConnectByName() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let (_, port) = try XCTUnwrap(startEchoServer(harness, host: "localhost"))
        let client = connect(harness, host: "localhost", port: port)
        let connection = try XCTUnwrap(client.connection, "\(String(describing: client.failure))")
        harness.sync { connection.write([1, 2, 3]) }
        harness.waitUntil("echo") { client.received == [1, 2, 3] }
        let bad = connect(harness, host: "no-such-host.invalid", port: port)
        XCTAssertNotNil(bad.failure)
    }

    func testIPv6WhenAvailable() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        guard let (_, port) = startEchoServer(harness, host: "::1") else {
            throw XCTSkip("no IPv6 loopback here")
        }
        let client = connect(harness, host: "::1", port: port)
        guard let connection = client.connection else { throw XCTSkip("IPv6 connect failed: \(client.failure!)") }
        harness.sync {
            XCTAssertEqual(connection.remoteAddress, "[::1]:\(port)")
            connection.write([9, 8, 7])
        }
        harness.waitUntil("echo") { client.received == [9, 8, 7] }
    }

    /// A receiver that stops reading makes the sender's pendingWriteBytes grow; reading again
    /// drains it and every byte arrives.
    func testPausedReaderBuildsPendingWrites() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let accepted = Unchecked<TCPConnection?>(nil)
        let received = Unchecked(0)
        let port = try XCTUnwrap(harness.sync { () -> UInt16? in
            let server = try? TCPServer(loop: harness.loop, host: "127.0.0.1", port: 0)
            server?.onConnection = { accepted.value = $0 }  // not reading yet
            return server?.boundPort
        } ?? nil)
        let client = connect(harness, port: port, read: false)
        let connection = try XCTUnwrap(client.connection)
        harness.waitUntil("accepted") { accepted.value != nil }
        let chunk = patternBytes(1 << 20)
        let written = Unchecked(0)
        harness.waitUntil("kernel buffers full") {
            if connection.pendingWriteBytes < (4 << 20) {
                connection.write(chunk)
                written.value += chunk.count
            }
            return connection.pendingWriteBytes >= (4 << 20)
        }
        harness.sync { accepted.value!.onData = { received.value += $0.count } }
        harness.waitUntil("drained") { connection.pendingWriteBytes == 0 && received.value == written.value }
    }
}
