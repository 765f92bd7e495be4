import Foundation
import XCTest

@testable import Transport

/// A throwaway PKI for TLS tests: a CA, a server certificate for 127.0.0.1/localhost, a
/// client certificate, and a second CA that nobody trusts.
struct TestPKI {
    let ca: CertificateAuthority
    let server: IssuedCertificate
    let client: IssuedCertificate
    let strangerCA: CertificateAuthority
    let strangerClient: IssuedCertificate

    init() throws {
        ca = try CertificateAuthority.random(commonName: "test-ca")
        server = try ca.issue(CertificateRequest(commonName: "server", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
                                                 usage: [.server, .client], validitySeconds: 3600))
        client = try ca.issue(CertificateRequest(commonName: "admin", organizations: ["system:masters"], usage: .client,
                                                 validitySeconds: 3600))
        strangerCA = try CertificateAuthority.random(commonName: "stranger-ca")
        strangerClient = try strangerCA.issue(CertificateRequest(commonName: "mallory", usage: .client, validitySeconds: 3600))
    }

    func serverContext(requestClientCertificates: Bool = true) throws -> TLSContext {
        try TLSContext.server(certificateChainPEM: server.certificatePEM, privateKeyPEM: server.privateKeyPEM,
                              clientCertificateRootsPEM: requestClientCertificates ? ca.certificatePEM : nil)
    }

    func clientContext(presenting identity: IssuedCertificate? = nil, trusting roots: String? = nil) throws -> TLSContext {
        try TLSContext.client(trustedRootsPEM: roots ?? ca.certificatePEM, certificateChainPEM: identity?.certificatePEM,
                              privateKeyPEM: identity?.privateKeyPEM)
    }
}

/// Moves ciphertext between two sessions in memory until neither has anything to say,
/// `chunkBytes` at a time (1: every record arrives in pieces). Returns the first error.
@discardableResult
func pump(_ client: TLSSession, _ server: TLSSession, chunkBytes: Int = 1 << 20) -> TLSError? {
    for _ in 0..<10_000 {
        var moved = false
        for (from, to) in [(client, server), (server, client)] {
            let bytes = from.takeOutput()
            if bytes.isEmpty { continue }
            moved = true
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunkBytes)
                do {
                    try to.receive(bytes[offset..<end])
                    if !to.isHandshakeComplete { try to.handshake() }
                } catch {
                    return error
                }
                offset = end
            }
        }
        if !client.isHandshakeComplete {
            do { try client.handshake() } catch { return error }
        }
        if !moved && client.pendingOutputBytes == 0 && server.pendingOutputBytes == 0 { return nil }
    }
    XCTFail("the sessions kept talking")
    return nil
}

extension TLSSession {
    /// Every plaintext byte buffered now.
    func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            switch try read(into: buffer) {
            case .bytes(let n): out += buffer[0..<n]
            case .needsInput, .closed: return out
            }
        }
    }
}

/// A blocking TCP client for feeding raw bytes to a TLS port (garbage, plain HTTP).
final class RawClient {
    let fd: Int32

    init(port: UInt16, timeoutMilliseconds: Int = 5_000) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var tv = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw NSError(domain: "RawClient", code: Int(errno))
        }
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything until the server closes (or the read timeout); nil if it timed out.
    func readToEnd() -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return out }
            if n < 0 { return errno == ECONNRESET ? out : nil }
            out += buffer[0..<n]
        }
    }
}
