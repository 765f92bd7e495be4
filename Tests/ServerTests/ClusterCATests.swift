import Foundation
import X509
import XCTest

@testable import Server
import Transport

/// The cluster CA derived from the join token, and the serving certificates it signs.
final class ClusterCATests: XCTestCase {
    let token = ClusterToken(clusterID: 0x1234_5678_9abc_def0, secret: (0..<32).map { UInt8($0) })

    func testTwoIndependentDerivationsFromOneTokenGiveTheSameCA() throws {
        let first = try ClusterCA.derive(token: token)
        let second = try ClusterCA.derive(token: ClusterToken(parsing: token.description)!)
        XCTAssertEqual(first.privateKey.rawRepresentation, second.privateKey.rawRepresentation)
        XCTAssertEqual(first.certificate.publicKey, second.certificate.publicKey)
        XCTAssertEqual(first.certificate.subject, second.certificate.subject)
        XCTAssertEqual(first.certificate.serialNumber, second.certificate.serialNumber)
        XCTAssertEqual(first.certificate.notValidBefore, second.certificate.notValidBefore)
        XCTAssertEqual(first.certificate.notValidAfter, second.certificate.notValidAfter)
        XCTAssertEqual(try first.certificate.extensions.basicConstraints, .isCertificateAuthority(maxPathLength: 0))
        XCTAssertTrue("\(first.certificate.subject)".contains("shoal-ca-123456789abcdef0"), "\(first.certificate.subject)")
    }

    func testDifferentTokensGiveDifferentCAs() throws {
        let other = ClusterToken(clusterID: token.clusterID, secret: (0..<32).map { UInt8(31 - $0) })
        let otherID = ClusterToken(clusterID: token.clusterID + 1, secret: token.secret)
        let keys = try [token, other, otherID].map { try ClusterCA.derive(token: $0).privateKey.rawRepresentation }
        XCTAssertEqual(Set(keys).count, 3)
        let local = try ClusterCA.deriveLocal(localToken: "abc", memberName: "m1")
        XCTAssertFalse(keys.contains(local.privateKey.rawRepresentation), "the local CA is a CA of its own")
    }

    /// A serving certificate made from one derivation verifies, in OpenSSL, against the CA
    /// certificate of another (whose signature bytes differ: ECDSA is randomized).
    func testServingCertificateVerifiesWithOpenSSLAgainstAnotherDerivation() throws {
        let directory = try temporaryDirectory()
        let signer = try ClusterCA.derive(token: token)
        let verifier = try ClusterCA.derive(token: token)
        let names = ServingCertificate.Names.forMember(name: "shoal-10-0-0-5", advertise: "10.0.0.5", listen: nil,
                                                       hostName: "node-a", interfaceAddresses: [])
        let (serving, renewed) = try ServingCertificate.ensure(directory: directory, ca: signer, commonName: "shoal-10-0-0-5", names: names)
        XCTAssertTrue(renewed)
        let server = try TLSContext.server(certificateChainPEM: serving.issued.certificatePEM, privateKeyPEM: serving.issued.privateKeyPEM,
                                           clientCertificateRootsPEM: verifier.certificatePEM)
        for name in ["10.0.0.5", "127.0.0.1", "10.96.0.1", "localhost", "shoal-10-0-0-5", "node-a", "kubernetes.default.svc"] {
            let client = try TLSSession(context: TLSContext.client(trustedRootsPEM: verifier.certificatePEM), serverName: name)
            XCTAssertNil(try handshake(client, TLSSession(context: server)), "verified as \(name)")
            XCTAssertEqual(client.peerIdentity?.commonName, "shoal-10-0-0-5")
        }
        let wrongName = try TLSSession(context: TLSContext.client(trustedRootsPEM: verifier.certificatePEM), serverName: "10.0.0.6")
        XCTAssertEqual(try handshake(wrongName, TLSSession(context: server))?.kind, .verification)
        let otherCA = try ClusterCA.derive(token: ClusterToken.generate())
        let stranger = try TLSSession(context: TLSContext.client(trustedRootsPEM: otherCA.certificatePEM), serverName: "10.0.0.5")
        XCTAssertEqual(try handshake(stranger, TLSSession(context: server))?.kind, .verification)
    }

    func testServingCertificateNamesEveryAddressAndTheKubernetesService() throws {
        let ca = try ClusterCA.derive(token: token)
        let names = ServingCertificate.Names.forMember(name: "shoal-10-0-0-5", advertise: "10.0.0.5", listen: "0.0.0.0",
                                                       hostName: "Node_A", interfaceAddresses: ["192.168.1.9", "10.0.0.5"])
        let (serving, _) = try ServingCertificate.ensure(directory: try temporaryDirectory(), ca: ca, commonName: "shoal-10-0-0-5", names: names)
        let alternativeNames = try XCTUnwrap(serving.issued.certificate.extensions.subjectAlternativeNames)
        var dns: [String] = []
        var ips: [[UInt8]] = []
        for name in alternativeNames {
            if case .dnsName(let text) = name { dns.append(text) }
            if case .ipAddress(let octets) = name { ips.append(Array(octets.bytes)) }
        }
        XCTAssertEqual(Set(dns), ["localhost", "shoal-10-0-0-5", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                  "kubernetes.default.svc.cluster.local"], "a host name with '_' is left out")
        XCTAssertEqual(Set(ips), [[10, 0, 0, 5], [192, 168, 1, 9], [127, 0, 0, 1], [10, 96, 0, 1]])
        let usage = try XCTUnwrap(serving.issued.certificate.extensions.extendedKeyUsage)
        XCTAssertTrue(usage.contains(.serverAuth) && usage.contains(.clientAuth))
    }

    func testServingCertificateIsKeptOrReissuedAsNeeded() throws {
        let directory = try temporaryDirectory()
        let ca = try ClusterCA.derive(token: token)
        let names = ServingCertificate.Names.forMember(name: "m", advertise: "10.0.0.5", listen: nil, hostName: nil, interfaceAddresses: [])
        let (first, _) = try ServingCertificate.ensure(directory: directory, ca: ca, commonName: "m", names: names)
        try first.save(directory: directory, ca: ca)
        var keyInfo = stat()
        XCTAssertEqual(stat(directory + "/serving.key", &keyInfo), 0)
        XCTAssertEqual(keyInfo.st_mode & 0o777, 0o600)

        let (same, renewedSame) = try ServingCertificate.ensure(directory: directory, ca: ca, commonName: "m", names: names)
        XCTAssertFalse(renewedSame)
        XCTAssertEqual(same.issued.certificatePEM, first.issued.certificatePEM)

        var moved = names
        moved.ipAddresses[0] = "10.0.0.6"
        XCTAssertTrue(try ServingCertificate.ensure(directory: directory, ca: ca, commonName: "m", names: moved).renewed, "new address")
        let otherCA = try ClusterCA.derive(token: ClusterToken.generate())
        XCTAssertTrue(try ServingCertificate.ensure(directory: directory, ca: otherCA, commonName: "m", names: names).renewed, "new CA")
        let nearExpiry = Date().addingTimeInterval(ServingCertificate.validitySeconds - ServingCertificate.renewBeforeSeconds + 3600)
        let (renewed, didRenew) = try ServingCertificate.ensure(directory: directory, ca: ca, commonName: "m", names: names, now: nearExpiry)
        XCTAssertTrue(didRenew, "near expiry")
        XCTAssertEqual(renewed.key.rawRepresentation, first.key.rawRepresentation, "the key stays")
    }

    // MARK: Helpers

    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Runs a handshake in memory; the first error, if any.
    private func handshake(_ client: TLSSession, _ server: TLSSession) -> TLSError? {
        do throws(TLSError) {
            try client.handshake()
            for _ in 0..<20 {
                let toServer = client.takeOutput()
                if !toServer.isEmpty {
                    try server.receive(toServer)
                    try server.handshake()
                }
                let toClient = server.takeOutput()
                if !toClient.isEmpty {
                    try client.receive(toClient)
                    try client.handshake()
                }
                if toServer.isEmpty && toClient.isEmpty { break }
            }
            return client.isHandshakeComplete && server.isHandshakeComplete ? nil
                : TLSError(call: "test", reason: "the handshake stalled", kind: .io)
        } catch {
            return error
        }
    }
}
