import Foundation
import XCTest

@testable import Transport

let testSecret = Array("correct horse battery staple, 32+".utf8)

/// One member for the tests: a `PeerTransport` and everything its handlers saw.
/// Loop-confined (touch it only inside `harness.sync` / `waitUntil`).
final class PeerNode: @unchecked Sendable {
    let id: UInt64
    var transport: PeerTransport!
    var messages: [UInt64: [[UInt8]]] = [:]
    var events: [String] = []
    var ups: [UInt64] = []
    var downs: [UInt64] = []
    var acceptedContexts: [UInt64: [UInt8]] = [:]
    /// When set, acceptPeer answers with it.
    var acceptAnswer: ((UInt64, [UInt8]) -> Bool)?

    init(id: UInt64) { self.id = id }

    var port: UInt16 { transport.listenPort }

    func received(from id: UInt64) -> [[UInt8]] { messages[id] ?? [] }

    /// The active connection to `peer`, through the module's internals.
    func activeConnection(to peer: UInt64) -> PeerConnection? { transport.links[peer]?.active }
}

extension LoopHarness {
    /// Starts a transport for `id` on 127.0.0.1 with an ephemeral port.
    func startNode(_ id: UInt64, secret: [UInt8] = testSecret, context: [UInt8] = [],
                   configuration: PeerTransport.Configuration = PeerTransport.Configuration(),
                   file: StaticString = #filePath, line: UInt = #line) -> PeerNode {
        let node = PeerNode(id: id)
        let started = sync(file: file, line: line) { () -> Bool in
            do {
                node.transport = try PeerTransport(
                    loop: self.loop, localID: id, listenHost: "127.0.0.1", listenPort: 0,
                    clusterSecret: secret, helloContext: context, configuration: configuration,
                    handlers: PeerTransport.Handlers(
                        onMessage: { from, payload in node.messages[from, default: []].append(payload) },
                        onPeerUp: { peer in
                            node.ups.append(peer)
                            node.events.append("up \(peer)")
                        },
                        onPeerDown: { peer in
                            node.downs.append(peer)
                            node.events.append("down \(peer)")
                        },
                        acceptPeer: { peer, context in
                            node.acceptedContexts[peer] = context
                            return node.acceptAnswer?(peer, context) ?? true
                        }))
                return true
            } catch {
                XCTFail("PeerTransport.init: \(error)", file: file, line: line)
                return false
            }
        }
        XCTAssertEqual(started, true, file: file, line: line)
        return node
    }

    /// Registers every node with every other one.
    func mesh(_ nodes: [PeerNode]) {
        sync {
            for node in nodes {
                for other in nodes where other.id != node.id {
                    node.transport.setPeer(other.id, host: "127.0.0.1", port: other.port)
                }
            }
        }
    }

    /// Waits until every pair is connected and settled: both ends hold the same TCP
    /// connection and nothing is still handshaking.
    /// (`direct: false` when a proxy sits in between, so the addresses differ.)
    func waitConnected(_ nodes: [PeerNode], direct: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        waitUntil("all connected and settled", file: file, line: line) {
            nodes.allSatisfy { node in
                node.transport.pending.isEmpty
                    && node.transport.connectedPeers == nodes.map(\.id).filter { $0 != node.id }.sorted()
                    && nodes.allSatisfy { other in
                        other.id == node.id || !direct
                            || node.activeConnection(to: other.id)?.connection.localAddress
                                == other.activeConnection(to: node.id)?.connection.remoteAddress
                    }
            }
        }
    }
}

/// A configuration with quick reconnects for tests.
func quickConfiguration() -> PeerTransport.Configuration {
    var configuration = PeerTransport.Configuration()
    configuration.reconnectDelayMinMilliseconds = 5
    configuration.reconnectDelayMaxMilliseconds = 50
    return configuration
}

/// A man in the middle between a dialer and a listener, for the tamper and replay tests:
/// forwards bytes both ways and, when told, corrupts or repeats the next chunk going from
/// the dialer to the listener. Loop-confined.
final class TamperingProxy: @unchecked Sendable {
    enum Mode { case pass, flipLastByte, duplicate }

    var server: TCPServer!
    var mode = Mode.pass
    var tampered = 0
    var connections: [TCPConnection] = []

    init(loop: EventLoop, targetPort: UInt16) throws {
        server = try TCPServer(loop: loop, host: "127.0.0.1", port: 0)
        // Strong captures: the proxy lives as long as its server (the test's loop).
        server.onConnection = { inbound in
            self.connections.append(inbound)
            TCPConnection.connect(loop: loop, host: "127.0.0.1", port: targetPort, timeoutMilliseconds: 5_000) { result in
                guard case .success(let outbound) = result else { return inbound.abort() }
                self.connections.append(outbound)
                inbound.onData = { bytes in
                    switch self.mode {
                    case .pass:
                        outbound.write(bytes)
                    case .flipLastByte:
                        var changed = bytes
                        changed[changed.count - 1] ^= 0x01
                        outbound.write(changed)
                        self.mode = .pass
                        self.tampered += 1
                    case .duplicate:
                        outbound.write(bytes)
                        outbound.write(bytes)
                        self.mode = .pass
                        self.tampered += 1
                    }
                }
                outbound.onData = { bytes in inbound.write(bytes) }
                inbound.onClose = { _ in outbound.abort() }
                outbound.onClose = { _ in inbound.abort() }
            }
        }
    }

    var port: UInt16 { server.boundPort }
}
