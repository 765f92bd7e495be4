import Crypto
import Foundation
import Transport
import X509

/// This member's serving certificate: a random P-256 key of its own (kept in the data
/// directory, mode 0600, never sent anywhere) certified by the cluster CA for every name
/// and address a client may use to reach it (`Names.forMember`). It also serves as the
/// member's client certificate towards other members (forwarded requests).
///
/// Reissued when the names change (a new address, a join that switched the CA) or when it
/// is within `renewBeforeSeconds` of expiring; the key stays.
struct ServingCertificate {
    static let keyFileName = "serving.key"
    static let certificateFileName = "serving.crt"
    /// The CA certificate, for the local CLI (and anyone else) to verify members with.
    static let caFileName = "ca.crt"
    /// How long an issued serving certificate is valid, in seconds.
    static let validitySeconds: Double = 365 * 86_400
    /// Renewed this long before it expires, in seconds.
    static let renewBeforeSeconds: Double = 30 * 86_400

    let key: P256.Signing.PrivateKey
    let issued: IssuedCertificate

    /// What the certificate names (subject alternative names).
    struct Names: Equatable {
        var dnsNames: [String]
        var ipAddresses: [String]

        /// The names of a member: every address it advertises or listens on (all of the
        /// host's addresses when it listens on all of them), 127.0.0.1 and localhost, its
        /// member name and host name, and the names and ClusterIP by which pods will reach
        /// the API as the `kubernetes` Service.
        static func forMember(name: String, advertise: String, listen: String?, hostName: String?,
                              interfaceAddresses: [String]) -> Names {
            var ips = [advertise]
            if let listen, listen != "0.0.0.0", listen != "::" { ips.append(listen) }
            if listen == "0.0.0.0" || listen == "::" { ips += interfaceAddresses }
            ips += ["127.0.0.1", kubernetesServiceIP]
            var dns = ["localhost", name]
            if let hostName, isDNSName(hostName) { dns.append(hostName.lowercased()) }
            dns += kubernetesServiceNames
            return Names(dnsNames: unique(dns), ipAddresses: unique(ips))
        }

        /// The first address of the default Service range: the future `kubernetes` Service.
        static let kubernetesServiceIP = "10.96.0.1"
        static let kubernetesServiceNames = ["kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                             "kubernetes.default.svc.cluster.local"]

        private static func unique(_ values: [String]) -> [String] {
            var seen: Set<String> = []
            return values.filter { seen.insert($0).inserted }
        }

        static func isDNSName(_ text: String) -> Bool {
            !text.isEmpty && text.count <= 253 && text.utf8.allSatisfy {
                ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x2e
            }
        }
    }

    /// `current` (or, without it, the certificate stored in `directory`) if it is still right
    /// for `ca`, the key and `names` at `now`; otherwise a new one for the same key (`save`
    /// writes it). `renewed` says which. Only without `current` does this touch the disk (to
    /// read, and to make the key on first use): a running member passes what it holds.
    static func ensure(directory: String, ca: CertificateAuthority, commonName: String, names: Names,
                       current: ServingCertificate? = nil,
                       now: Date = Date()) throws(ServerError) -> (certificate: ServingCertificate, renewed: Bool) {
        let key: P256.Signing.PrivateKey
        if let current {
            key = current.key
            if isCurrent(current.issued.certificate, ca: ca, key: key, names: names, now: now) { return (current, false) }
        } else {
            key = try loadOrCreateKey(directory: directory)
            if let text = try? String(contentsOfFile: joinPathText(directory, certificateFileName), encoding: .utf8),
               let stored = try? Certificate(pemEncoded: text),
               isCurrent(stored, ca: ca, key: key, names: names, now: now) {
                return (ServingCertificate(key: key, issued: IssuedCertificate(certificate: stored, certificatePEM: text,
                                                                               privateKeyPEM: key.pemRepresentation)), false)
            }
        }
        let issued: IssuedCertificate
        do {
            issued = try ca.issue(CertificateRequest(commonName: commonName, organizations: ["shoal:members"],
                                                     dnsNames: names.dnsNames, ipAddresses: names.ipAddresses,
                                                     usage: [.server, .client], validitySeconds: validitySeconds),
                                  key: key, now: now)
        } catch {
            throw .storage("cannot issue the serving certificate: \(error)")
        }
        return (ServingCertificate(key: key, issued: issued), true)
    }

    /// Writes the certificate (the key was written when made) and the CA certificate.
    func save(directory: String, ca: CertificateAuthority) throws(ServerError) {
        try AgentIdentity.writeFile(directory: directory, name: Self.certificateFileName,
                                    bytes: Array(issued.certificatePEM.utf8), mode: 0o644)
        try AgentIdentity.writeFile(directory: directory, name: Self.caFileName, bytes: Array(ca.certificatePEM.utf8), mode: 0o644)
    }

    /// Issued by `ca` (its signature verifies with the CA's key), for `key`, naming exactly
    /// `names`, and not about to expire.
    static func isCurrent(_ certificate: Certificate, ca: CertificateAuthority, key: P256.Signing.PrivateKey,
                          names: Names, now: Date) -> Bool {
        guard certificate.issuer == ca.certificate.subject,
              ca.certificate.publicKey.isValidSignature(certificate.signature, for: certificate),
              certificate.publicKey == Certificate.PublicKey(key.publicKey),
              certificate.notValidAfter.timeIntervalSince(now) > renewBeforeSeconds,
              certificate.notValidBefore <= now,
              let alternativeNames = try? certificate.extensions.subjectAlternativeNames else { return false }
        var dns: Set<String> = []
        var ips: Set<[UInt8]> = []
        for name in alternativeNames {
            switch name {
            case .dnsName(let text): dns.insert(text)
            case .ipAddress(let octets): ips.insert(Array(octets.bytes))
            default: return false
            }
        }
        return dns == Set(names.dnsNames) && ips == Set(names.ipAddresses.compactMap(IPAddressText.bytes))
    }

    /// The serving key: read from the data directory, or made and written there (0600).
    static func loadOrCreateKey(directory: String) throws(ServerError) -> P256.Signing.PrivateKey {
        let path = joinPathText(directory, keyFileName)
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            do {
                return try P256.Signing.PrivateKey(pemRepresentation: text)
            } catch {
                throw .storage("\(path) is not a P-256 private key (\(error)); remove it to make a new one")
            }
        }
        let key = P256.Signing.PrivateKey()
        try AgentIdentity.writeSecretFile(directory: directory, name: keyFileName, bytes: Array(key.pemRepresentation.utf8))
        return key
    }

    private static func joinPathText(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

/// Textual IP addresses as the bytes an X.509 IP SAN holds.
enum IPAddressText {
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }
}
