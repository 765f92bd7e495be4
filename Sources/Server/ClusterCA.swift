import Crypto
import Foundation
import Transport

/// The cluster's certificate authority, derived from the join token: every member computes
/// the same CA key on its own.
///
/// Why derived: the founders start from identical commands that share only the token, and
/// the token already is the cluster's root secret (peers derive their frame keys from it,
/// the API bearer token is derived from it). A CA key derived from it with HKDF under a
/// label of its own needs no coordination at all: founders, `shoal init`, and every member
/// that later joins (and so learns the token) hold the same CA key, so each can sign its
/// own serving certificate and every client that trusts the CA trusts every member. A host
/// that knows only the token and an address (`shoal join`) can derive the CA too and verify
/// that endpoint before it sends anything. The consequence: rotating the token would rotate
/// the CA (and invalidate every certificate), and anyone who holds the token can mint
/// certificates, exactly as anyone who holds it can already join the cluster.
///
/// The subject (`shoal-ca-<cluster id>`), serial number (from the public key) and validity
/// (2024 to 2124) are fixed too. Only the self-signature differs between members (ECDSA
/// signatures are randomized); any member's copy verifies every member's certificates.
enum ClusterCA {
    /// HKDF info label of the CA key: distinct from every other use of the token's secret.
    static let keyLabel = "shoal-cluster-ca-key-v1"
    /// HKDF info label of the CA of an agent that belongs to no cluster yet.
    static let localKeyLabel = "shoal-local-ca-key-v1"
    /// Fixed validity: 2024-01-01T00:00:00Z to 2124-01-01T00:00:00Z (Unix seconds).
    static let notValidBeforeUnixSeconds: Double = 1_704_067_200
    static let notValidAfterUnixSeconds: Double = 4_859_740_800
    /// Candidate keys tried before giving up (a 32-byte string is not a valid P-256 scalar
    /// with probability about 2^-32, so a second candidate is already a curiosity).
    static let keyCandidatesMax = 16

    /// The CA of the cluster `token` names.
    static func derive(token: ClusterToken) throws(ServerError) -> CertificateAuthority {
        let key = try privateKey(secret: token.secret, label: keyLabel, context: clusterIDBytes(token.clusterID))
        return try authority(key: key, commonName: "shoal-ca-\(hex16(token.clusterID))", organization: "shoal")
    }

    /// The CA of an agent that belongs to no cluster yet, derived from its local token, so
    /// that even `shoal init` and `shoal join` are sent to it over HTTPS. It is replaced
    /// by the cluster's CA once the agent joins or founds a cluster.
    static func deriveLocal(localToken: String, memberName: String) throws(ServerError) -> CertificateAuthority {
        let key = try privateKey(secret: Array(localToken.utf8), label: localKeyLabel, context: Array(memberName.utf8))
        return try authority(key: key, commonName: "shoal-local-ca-\(memberName)", organization: "shoal")
    }

    /// HKDF-SHA256 of `secret` with info `label | context | counter`, the first candidate
    /// that is a valid P-256 private key (non-zero, below the group order).
    static func privateKey(secret: [UInt8], label: String, context: [UInt8]) throws(ServerError) -> P256.Signing.PrivateKey {
        for counter in 0..<keyCandidatesMax {
            let info = Array(label.utf8) + [0] + context + [UInt8(counter)]
            let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), info: info, outputByteCount: 32)
            let bytes = derived.withUnsafeBytes { Array($0) }
            if let key = try? P256.Signing.PrivateKey(rawRepresentation: bytes) { return key }
        }
        throw .cluster("could not derive a CA key from the cluster secret in \(keyCandidatesMax) candidates")
    }

    private static func authority(key: P256.Signing.PrivateKey, commonName: String,
                                  organization: String) throws(ServerError) -> CertificateAuthority {
        // The serial number is fixed by the key, so every member's copy has the same one.
        var serial = Array(SHA256.hash(data: key.publicKey.x963Representation)).prefix(16).map { $0 }
        serial[0] = (serial[0] & 0x7f) | 0x01
        do {
            return try CertificateAuthority(
                privateKey: key, commonName: commonName, organization: organization,
                notValidBefore: Date(timeIntervalSince1970: notValidBeforeUnixSeconds),
                notValidAfter: Date(timeIntervalSince1970: notValidAfterUnixSeconds), serialNumber: serial)
        } catch {
            throw .cluster("cannot make the CA certificate: \(error)")
        }
    }

    private static func clusterIDBytes(_ id: UInt64) -> [UInt8] {
        withUnsafeBytes(of: id.bigEndian) { Array($0) }
    }
}
