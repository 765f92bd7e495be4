import Foundation
import XCTest

@testable import Transport

final class PeerTransportTests: XCTestCase {
    private func message(_ sender: UInt64, _ index: Int) -> [UInt8] {
        Array("\(sender):\(index)".utf8)
    }

    /// Three members exchange messages; each sender's messages arrive complete and in order,
    /// and one iteration's messages to a peer go out in one write.
    func testThreeNodesExchangeMessagesInOrder() {
        let harness = LoopHarness()
        defer { harness.stop() }
        var configuration = PeerTransport.Configuration()
        configuration.pingIntervalMilliseconds = 60_000  // no other traffic while counting writes
        let nodes = (1...3).map { harness.startNode(UInt64($0), context: [UInt8($0)], configuration: configuration) }
        harness.mesh(nodes)
        harness.waitConnected(nodes)
        let perPair = 500
        let writesBefore = Unchecked([String: UInt64]())
        harness.sync {
            for node in nodes {
                for other in nodes where other.id != node.id {
                    writesBefore.value["\(node.id)->\(other.id)"] = node.activeConnection(to: other.id)!.connection.writesIssued
                    for index in 0..<perPair {
                        XCTAssertTrue(node.transport.send(to: other.id, self.message(node.id, index)))
                    }
                }
            }
        }
        harness.sync {
            for node in nodes {
                for other in nodes where other.id != node.id {
                    XCTAssertEqual(node.activeConnection(to: other.id)!.connection.writesIssued,
                                   writesBefore.value["\(node.id)->\(other.id)"]! + 1,
                                   "one write per peer for the whole iteration's messages")
                }
            }
        }
        harness.waitUntil("all delivered") {
            nodes.allSatisfy { node in nodes.allSatisfy { $0.id == node.id || node.received(from: $0.id).count == perPair } }
        }
        harness.sync {
            for node in nodes {
                for other in nodes where other.id != node.id {
                    XCTAssertEqual(node.received(from: other.id), (0..<perPair).map { self.message(other.id, $0) })
                    XCTAssertEqual(node.transport.remoteContext(of: other.id), [UInt8(other.id)])
                    XCTAssertEqual(node.acceptedContexts[other.id], [UInt8(other.id)])
                    let stats = node.transport.stats[other.id]!
                    XCTAssertTrue(stats.connected)
                    XCTAssertEqual(stats.messagesOut, UInt64(perPair))
                    XCTAssertEqual(stats.messagesIn, UInt64(perPair))
                    XCTAssertGreaterThan(stats.bytesIn, 0)
                    XCTAssertGreaterThan(stats.bytesOut, 0)
                }
                XCTAssertTrue(node.downs.isEmpty)
                XCTAssertFalse(node.transport.send(to: node.id, [1]), "no sending to oneself")
                XCTAssertFalse(node.transport.send(to: 99, [1]), "no sending to an unknown peer")
            }
        }
    }

    /// Closing one side's connection: the other side hears onPeerDown at once, both
    /// reconnect, and messages flow again.
    func testReconnectAfterOneSideClosesTheConnection() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let nodes = [harness.startNode(1, configuration: quickConfiguration()),
                     harness.startNode(2, configuration: quickConfiguration())]
        harness.mesh(nodes)
        harness.waitConnected(nodes)
        harness.sync { nodes[1].activeConnection(to: 1)!.connection.abort() }
        harness.waitUntil("node 1 saw the peer go down") { nodes[0].downs == [2] }
        harness.waitConnected(nodes)
        harness.sync { XCTAssertTrue(nodes[0].transport.send(to: 2, [42])) }
        harness.waitUntil("delivered after reconnect") { nodes[1].received(from: 1) == [[42]] }
        harness.sync {
            XCTAssertGreaterThanOrEqual(nodes[0].transport.stats[2]!.reconnectCount, 1)
            XCTAssertEqual(nodes[0].ups.last, 2)
        }
    }

    /// A peer's silence: unknown until something arrived from it; a peer that went away
    /// keeps the silence of its last connection, growing (a lost peer does not look fresh just
    /// because its connection is gone), and a peer still connected stays known.
    func testSilenceOfAPeerOutlivesItsConnection() {
        let harness = LoopHarness()
        defer { harness.stop() }
        var configuration = quickConfiguration()
        configuration.pingIntervalMilliseconds = 20
        let nodes = [harness.startNode(1, configuration: configuration), harness.startNode(2, configuration: configuration),
                     harness.startNode(3, configuration: configuration)]
        harness.sync {
            XCTAssertNil(nodes[0].transport.silenceMilliseconds(of: 2), "nothing arrived yet")
            XCTAssertNil(nodes[0].transport.silenceMilliseconds(of: 99), "no such peer")
        }
        harness.mesh(nodes)
        harness.waitConnected(nodes)
        harness.sync { XCTAssertNotNil(nodes[0].transport.silenceMilliseconds(of: 2)) }
        harness.sync { nodes[1].transport.close() }
        harness.waitUntil("node 1 saw node 2 go down") { nodes[0].downs == [2] }
        let atDown = harness.sync { nodes[0].transport.silenceMilliseconds(of: 2) } ?? nil
        XCTAssertNotNil(atDown, "the closed connection's last frame is remembered")
        harness.waitUntil("node 2's silence grows") { (nodes[0].transport.silenceMilliseconds(of: 2) ?? 0) > (atDown ?? 0) }
        // Node 3 stays connected and heard throughout (how fresh its silence is, is a
        // timing matter for benchmarks, not for this test).
        harness.sync {
            XCTAssertTrue(nodes[0].transport.isConnected(3))
            XCTAssertNotNil(nodes[0].transport.silenceMilliseconds(of: 3))
        }
    }

    /// A member that restarts (a new transport, same id and port) is taken back at once:
    /// its new instance replaces the stale connection.
    func testRestartedPeerIsReconnected() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let first = harness.startNode(1, configuration: quickConfiguration())
        let second = harness.startNode(2, configuration: quickConfiguration())
        harness.mesh([first, second])
        harness.waitConnected([first, second])
        let port = second.port
        harness.sync { second.transport.close() }
        harness.waitUntil("node 1 saw node 2 go down") { first.downs == [2] }
        let restarted = PeerNode(id: 2)
        harness.waitUntil("restarted on the same port") {
            restarted.transport = try? PeerTransport(
                loop: harness.loop, localID: 2, listenHost: "127.0.0.1", listenPort: port,
                clusterSecret: testSecret, configuration: quickConfiguration(),
                handlers: .init(onMessage: { from, payload in restarted.messages[from, default: []].append(payload) }))
            return restarted.transport != nil
        }
        harness.sync { restarted.transport.setPeer(1, host: "127.0.0.1", port: first.port) }
        harness.waitConnected([first, restarted])
        harness.sync { XCTAssertTrue(first.transport.send(to: 2, [7])) }
        harness.waitUntil("delivered to the restarted member") { restarted.received(from: 1) == [[7]] }
    }

    /// Members with the wrong secret never authenticate: no onPeerUp, nothing delivered.
    func testWrongSecretIsRefused() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let member = harness.startNode(1, configuration: quickConfiguration())
        let intruder = harness.startNode(2, secret: Array("not the cluster secret at all".utf8),
                                         configuration: quickConfiguration())
        harness.mesh([member, intruder])
        harness.waitUntil("several failed handshakes on both sides") {
            member.transport.failedHandshakes >= 3 && intruder.transport.failedHandshakes >= 3
        }
        harness.sync {
            for node in [member, intruder] {
                XCTAssertTrue(node.ups.isEmpty)
                XCTAssertTrue(node.messages.isEmpty)
                XCTAssertTrue(node.acceptedContexts.isEmpty, "acceptPeer is never asked before authentication")
                XCTAssertTrue(node.transport.connectedPeers.isEmpty)
            }
            XCTAssertFalse(intruder.transport.send(to: 1, [1]))
        }
    }

    /// A raw client that sends garbage, or a HELLO followed by a forged AUTH, is closed.
    func testForgedHandshakeIsClosed() throws {
        let harness = LoopHarness()
        defer { harness.stop() }
        let member = harness.startNode(1)
        harness.sync { member.transport.setPeer(2, host: "127.0.0.1", port: 1) }
        let hello = PeerWire.Hello(senderID: 2, expectedID: 1, nonce: [UInt8](repeating: 7, count: 32)).encoded()
        let forgedAuth = PeerWire.header(type: .auth, payloadBytes: 8) + [UInt8](repeating: 0, count: 8)
            + [UInt8](repeating: 0xAB, count: PeerWire.tagBytes)
        let attempts: [[UInt8]] = [
            Array("GET / HTTP/1.1\r\n\r\n".utf8),
            PeerWire.header(type: .hello, payloadBytes: hello.count) + hello + forgedAuth,
            PeerWire.header(type: .data, payloadBytes: 1 << 30),
        ]
        for bytes in attempts {
            let closed = Unchecked<UVError??>(nil)
            harness.sync {
                TCPConnection.connect(loop: harness.loop, host: "127.0.0.1", port: member.port,
                                      timeoutMilliseconds: 5_000) { result in
                    guard case .success(let connection) = result else { return XCTFail("connect: \(result)") }
                    connection.onData = { _ in }
                    connection.onClose = { closed.value = .some($0) }
                    connection.write(bytes)
                }
            }
            harness.waitUntil("the member closed the connection") { closed.value != nil }
        }
        harness.sync {
            XCTAssertTrue(member.ups.isEmpty)
            XCTAssertTrue(member.messages.isEmpty)
            XCTAssertGreaterThanOrEqual(member.transport.failedHandshakes, 3)
        }
    }

    /// Only registered peers are admitted (after they authenticated); acceptPeer can refuse.
    func testUnregisteredOrRejectedPeerIsRefused() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let member = harness.startNode(1, configuration: quickConfiguration())
        let stranger = harness.startNode(2, context: [9, 9], configuration: quickConfiguration())
        harness.sync { stranger.transport.setPeer(1, host: "127.0.0.1", port: member.port) }
        harness.waitUntil("refusals") { member.transport.refusedHandshakes >= 2 }
        harness.sync {
            XCTAssertTrue(member.ups.isEmpty)
            XCTAssertTrue(stranger.ups.isEmpty)
            // Registered now, but acceptPeer says no (having seen the context).
            member.acceptAnswer = { _, _ in false }
            member.transport.setPeer(2, host: "127.0.0.1", port: stranger.port)
        }
        harness.waitUntil("asked and refused") { member.acceptedContexts[2] == [9, 9] && member.transport.refusedHandshakes >= 4 }
        harness.sync {
            XCTAssertTrue(member.ups.isEmpty)
            member.acceptAnswer = nil
        }
        harness.waitConnected([member, stranger])
    }
}
