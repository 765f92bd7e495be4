import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority with a P-256 key (swift-certificates makes the X.509): its own
/// self-signed certificate, and certificates it issues for servers and clients.
///
/// Everything about the CA certificate is fixed by the arguments (subject, validity, serial
/// number, key) except its signature: ECDSA signatures are randomized, so two derivations
/// of the same CA yield certificates that differ in those bytes only. Either copy verifies
/// every certificate the CA issues (verifiers find an issuer by its subject and key).
public struct CertificateAuthority {
    /// The CA's signing key (never leaves the process).
    public let privateKey: P256.Signing.PrivateKey
    /// The CA's self-signed certificate.
    public let certificate: Certificate
    /// `certificate` as PEM text (what clients are given to trust).
    public let certificatePEM: String

    /// A CA for `privateKey` with subject `commonName` (and `organization`), valid between
    /// the two dates, with `serialNumber` (at most 20 bytes, first bit clear).
    public init(privateKey: P256.Signing.PrivateKey, commonName: String, organization: String? = nil,
                notValidBefore: Date, notValidAfter: Date, serialNumber: [UInt8]) throws(CertificateError) {
        self.privateKey = privateKey
        let key = Certificate.PrivateKey(privateKey)
        let made = try CertificateError.wrap("creating the CA certificate") {
            let name = try DistinguishedName {
                CommonName(commonName)
                if let organization { OrganizationName(organization) }
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            }
            return try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(bytes: serialNumber), publicKey: key.publicKey,
                notValidBefore: notValidBefore, notValidAfter: notValidAfter, issuer: name, subject: name,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: key)
        }
        certificate = made
        certificatePEM = try CertificateError.wrap("encoding the CA certificate") { try made.serializeAsPEM().pemString }
    }

    /// A CA with a new random key, valid from an hour ago for `validitySeconds` (tests and
    /// throwaway setups; a shoal cluster derives its CA from the join token instead).
    public static func random(commonName: String, validitySeconds: Double = 86_400 * 365) throws(CertificateError) -> CertificateAuthority {
        let now = Date()
        var serial = (0..<16).map { _ in UInt8.random(in: 0...255) }
        serial[0] &= 0x7f
        return try CertificateAuthority(privateKey: P256.Signing.PrivateKey(), commonName: commonName,
                                        notValidBefore: now - 3600, notValidAfter: now + validitySeconds, serialNumber: serial)
    }

    /// Whether this CA's key is `publicKey` (did this CA issue a certificate, by its key).
    public func owns(_ publicKey: Certificate.PublicKey) -> Bool { Certificate.PublicKey(privateKey.publicKey) == publicKey }

    // MARK: Issuing

    /// Issues a certificate for `request` with a new random P-256 key.
    public func issue(_ request: CertificateRequest, now: Date = Date()) throws(CertificateError) -> IssuedCertificate {
        try issue(request, key: P256.Signing.PrivateKey(), now: now)
    }

    /// Issues a certificate for `request` with the subject's `key`, valid from a little before
    /// `now` (clocks of members and clients differ) for `request.validitySeconds`.
    public func issue(_ request: CertificateRequest, key: P256.Signing.PrivateKey, now: Date = Date()) throws(CertificateError) -> IssuedCertificate {
        let subjectKey = Certificate.PublicKey(key.publicKey)
        let issuerKey = Certificate.PrivateKey(privateKey)
        var alternativeNames = request.dnsNames.map { GeneralName.dnsName($0) }
        for address in request.ipAddresses {
            guard let bytes = IPAddressBytes.parse(address) else {
                throw CertificateError(reason: "'\(address)' is not an IPv4 or IPv6 address")
            }
            alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        var usages: [ExtendedKeyUsage.Usage] = []
        if request.usage.contains(.server) { usages.append(.serverAuth) }
        if request.usage.contains(.client) { usages.append(.clientAuth) }
        let notValidAfter = min(now + request.validitySeconds, certificate.notValidAfter)
        var serial = (0..<16).map { _ in UInt8.random(in: 0...255) }
        serial[0] &= 0x7f
        let issued = try CertificateError.wrap("issuing a certificate for \(request.commonName)") {
            let subject = try DistinguishedName {
                for organization in request.organizations { OrganizationName(organization) }
                CommonName(request.commonName)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage(usages)
                SubjectKeyIdentifier(hash: subjectKey)
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: issuerKey.publicKey).keyIdentifier)
                if !alternativeNames.isEmpty { SubjectAlternativeNames(alternativeNames) }
            }
            return try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(bytes: serial), publicKey: subjectKey,
                notValidBefore: now - Self.backdateSeconds, notValidAfter: notValidAfter, issuer: certificate.subject,
                subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: issuerKey)
        }
        let pem = try CertificateError.wrap("encoding a certificate") { try issued.serializeAsPEM().pemString }
        return IssuedCertificate(certificate: issued, certificatePEM: pem, privateKeyPEM: key.pemRepresentation)
    }

    /// How far before "now" issued certificates start to be valid, in seconds: a client
    /// whose clock is a little behind the member's must not see a certificate from the future.
    public static let backdateSeconds: Double = 3_600
}

/// What an issued certificate names and may be used for.
public struct CertificateRequest: Sendable {
    /// Server authentication, client authentication, or both.
    public struct Usage: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let server = Usage(rawValue: 1)
        public static let client = Usage(rawValue: 2)
    }

    /// The subject's CN: a member's or a user's name.
    public var commonName: String
    /// The subject's O entries: a client's groups (e.g. `system:masters`).
    public var organizations: [String] = []
    /// DNS names among the subject alternative names.
    public var dnsNames: [String] = []
    /// IPv4/IPv6 addresses among the subject alternative names.
    public var ipAddresses: [String] = []
    /// What the certificate may authenticate (its extended key usage).
    public var usage: Usage
    /// How long the certificate is valid (never beyond the CA), in seconds.
    public var validitySeconds: Double

    public init(commonName: String, organizations: [String] = [], dnsNames: [String] = [], ipAddresses: [String] = [],
                usage: Usage, validitySeconds: Double) {
        self.commonName = commonName
        self.organizations = organizations
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.usage = usage
        self.validitySeconds = validitySeconds
    }
}

/// A certificate and the private key it certifies, as PEM text (PKCS#8 for the key).
public struct IssuedCertificate: Sendable {
    /// The certificate, parsed.
    public let certificate: Certificate
    /// The certificate as PEM text.
    public let certificatePEM: String
    /// The subject's private key as PEM text (PKCS#8).
    public let privateKeyPEM: String

    public init(certificate: Certificate, certificatePEM: String, privateKeyPEM: String) {
        self.certificate = certificate
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}

/// Why a certificate could not be made or read (swift-certificates' or swift-asn1's error,
/// in words, with what was being done).
public struct CertificateError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }

    /// Runs `body`, turning any error into a `CertificateError` about `what`.
    static func wrap<T>(_ what: String, _ body: () throws -> T) throws(CertificateError) -> T {
        do {
            return try body()
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError(reason: "\(what): \(error)")
        }
    }
}

/// Textual IP addresses to the bytes an X.509 IP SAN holds (4 or 16).
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        if let v4 = parseIPv4(text) { return v4 }
        var storage = in6_addr()
        guard text.contains(":"), inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
        return withUnsafeBytes(of: storage) { Array($0) }
    }

    private static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return bytes
    }
}
