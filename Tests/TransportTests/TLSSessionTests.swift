import Foundation
import XCTest

@testable import Transport

/// The TLS state machine without sockets: two sessions talking through memory.
final class TLSSessionTests: XCTestCase {
    func testHandshakeAndEchoInMemory() throws {
        let pki = try TestPKI()
        let client = try TLSSession(context: pki.clientContext(), serverName: "127.0.0.1")
        let server = try TLSSession(context: pki.serverContext())
        XCTAssertFalse(try client.handshake())
        XCTAssertNil(pump(client, server))
        XCTAssertTrue(client.isHandshakeComplete)
        XCTAssertTrue(server.isHandshakeComplete)
        XCTAssertEqual(client.peerIdentity?.commonName, "server")
        XCTAssertNil(server.peerIdentity, "no client certificate was presented")

        let message = patternBytes(200_000)
        try client.write(message)
        XCTAssertNil(pump(client, server))
        XCTAssertEqual(try server.readAll(), message)
        try server.write(Array("pong".utf8))
        XCTAssertNil(pump(client, server))
        XCTAssertEqual(String(decoding: try client.readAll(), as: UTF8.self), "pong")
    }

    /// Records cut into single bytes (and a handshake cut the same way) still come out whole.
    func testPartialRecordsOneByteAtATime() throws {
        let pki = try TestPKI()
        let client = try TLSSession(context: pki.clientContext(presenting: pki.client), serverName: "localhost")
        let server = try TLSSession(context: pki.serverContext())
        try client.handshake()
        XCTAssertNil(pump(client, server, chunkBytes: 1))
        XCTAssertEqual(server.peerIdentity, TLSPeerIdentity(commonName: "admin", organizations: ["system:masters"]))
        let message = patternBytes(40_000, seed: 7)
        try client.write(message)
        let records = client.takeOutput()
        var received: [UInt8] = []
        for byte in records {
            try server.receive([byte])
            received += try server.readAll()
        }
        XCTAssertEqual(received, message)
    }

    func testClientCertificateFromAnotherCAIsRejected() throws {
        let pki = try TestPKI()
        let client = try TLSSession(context: pki.clientContext(presenting: pki.strangerClient), serverName: "127.0.0.1")
        let server = try TLSSession(context: pki.serverContext())
        try client.handshake()
        let error = try XCTUnwrap(pump(client, server))
        XCTAssertEqual(error.kind, .verification, "\(error)")
        XCTAssertFalse(server.isHandshakeComplete && server.peerIdentity != nil)
    }

    func testServerNameMustMatch() throws {
        let pki = try TestPKI()
        let client = try TLSSession(context: pki.clientContext(), serverName: "10.0.0.9")
        let server = try TLSSession(context: pki.serverContext())
        try client.handshake()
        let error = try XCTUnwrap(pump(client, server))
        XCTAssertEqual(error.kind, .verification)
        XCTAssertTrue(error.reason.contains("mismatch"), error.reason)
    }

    func testUntrustedServerIsRejected() throws {
        let pki = try TestPKI()
        let client = try TLSSession(context: pki.clientContext(trusting: pki.strangerCA.certificatePEM), serverName: "127.0.0.1")
        let server = try TLSSession(context: pki.serverContext())
        try client.handshake()
        XCTAssertEqual(try XCTUnwrap(pump(client, server)).kind, .verification)
    }

    func testGarbageInsteadOfClientHelloFails() throws {
        let pki = try TestPKI()
        let server = try TLSSession(context: pki.serverContext())
        try server.receive(patternBytes(300, seed: 3))
        XCTAssertThrowsError(try server.handshake()) { error in
            XCTAssertEqual((error as? TLSError)?.call, "SSL_do_handshake")
        }
    }

    func testBadConfigurationIsATypedError() throws {
        XCTAssertThrowsError(try TLSContext.client(trustedRootsPEM: "not a certificate")) { error in
            XCTAssertEqual((error as? TLSError)?.kind, .configuration)
        }
        let pki = try TestPKI()
        XCTAssertThrowsError(try TLSContext.server(certificateChainPEM: pki.server.certificatePEM,
                                                   privateKeyPEM: pki.client.privateKeyPEM)) { error in
            XCTAssertEqual((error as? TLSError)?.call, "SSL_CTX_use_PrivateKey", "\(error)")
        }
    }

    func testPlainHTTPIsRecognised() {
        XCTAssertTrue(TLSStream.looksLikePlainHTTP(Array("GET / HTTP/1.1\r\n".utf8)))
        XCTAssertTrue(TLSStream.looksLikePlainHTTP(Array("DELETE /x".utf8)))
        XCTAssertFalse(TLSStream.looksLikePlainHTTP([0x16, 0x03, 0x01, 0x00]))
        XCTAssertFalse(TLSStream.looksLikePlainHTTP(Array("GE".utf8)))
        XCTAssertFalse(TLSStream.looksLikePlainHTTP(Array("HELLOWORLDX".utf8)))
    }

    /// Not a timing assertion: prints what a full handshake costs on this machine (both
    /// sides in one thread, P-256 certificates, TLS 1.3), for docs/tls.md.
    func testHandshakeCostIsPrinted() throws {
        let pki = try TestPKI()
        let clientContext = try pki.clientContext()
        let serverContext = try pki.serverContext()
        let rounds = 50
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds {
            let client = try TLSSession(context: clientContext, serverName: "127.0.0.1")
            let server = try TLSSession(context: serverContext)
            try client.handshake()
            XCTAssertNil(pump(client, server))
        }
        let perHandshake = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(rounds) / 1e6
        print("TLS handshake (client + server CPU, in memory): \(String(format: "%.2f", perHandshake)) ms")
    }
}
