import API
import Foundation
import JSON
import Transport

#if canImport(Glibc)
import Glibc
#endif

// The API over HTTPS (docs/tls.md): the cluster CA derived from the token, this member's
// serving certificate, the contexts of the API server and of member-to-member calls, and
// what `shoal kubeconfig` is given.

/// A member's TLS material: the CA (the cluster's once it has a token, a local one before)
/// and its serving certificate, with the client context its blocking calls to other
/// members verify them with.
struct MemberTLS {
    var ca: CertificateAuthority
    /// The token the CA was derived from (nil: the local CA of an unclustered agent).
    var caToken: ClusterToken?
    var serving: ServingCertificate
    /// Trusts the CA, presents nothing (the calls carry the bearer token).
    var client: TLSContext
}

extension Member {
    /// How often the serving certificate is checked for expiry and changed names.
    static let tlsRenewCheckMilliseconds = 3_600_000
    /// The file that tells the local CLI how to reach this member's API ("https://host:port").
    static let apiEndpointFileName = "api-endpoint"
    /// Validity of the client certificates `shoal kubeconfig --client-certificate` gets, in seconds.
    static let clientCertificateValiditySeconds: Double = 365 * 86_400

    /// "https://host:port" (or "http://" with `--insecure-http`) of this member's API.
    var apiURL: String {
        "\(options.insecureHTTP ? "http" : "https")://\(options.advertiseHost):\(options.apiPort)"
    }

    // MARK: Material

    /// Brings the CA and serving certificate up to date with the identity (a token switches
    /// to the cluster's CA), the member's names and the clock. True when anything changed
    /// (then the files need writing and the API server new contexts).
    @discardableResult
    func updateTLSMaterial(now: Date = Date()) throws(ServerError) -> Bool {
        guard !options.insecureHTTP else { return false }
        let caChanged = tls == nil || tls!.caToken != identity.token
        let ca = caChanged ? try deriveCA() : tls!.ca
        let names = ServingCertificate.Names.forMember(
            name: identity.name, advertise: options.advertiseHost, listen: options.listenHost,
            hostName: Self.hostName(), interfaceAddresses: Self.interfaceAddresses())
        let (serving, renewed) = try ServingCertificate.ensure(directory: options.dataDirectory, ca: ca, commonName: identity.name,
                                                               names: names, current: tls?.serving, now: now)
        guard caChanged || renewed else { return false }
        let client: TLSContext
        do {
            client = try TLSContext.client(trustedRootsPEM: ca.certificatePEM)
        } catch {
            throw .storage("cannot use the cluster CA: \(error)")
        }
        tls = MemberTLS(ca: ca, caToken: identity.token, serving: serving, client: client)
        let expires = Int(serving.issued.certificate.notValidAfter.timeIntervalSince1970)
        Log.info("serving certificate for \(names.ipAddresses.joined(separator: ", ")), \(names.dnsNames.joined(separator: ", ")) from \(identity.token == nil ? "the local CA" : "the cluster CA"); expires at Unix time \(expires)")
        return true
    }

    private func deriveCA() throws(ServerError) -> CertificateAuthority {
        if let token = identity.token { return try ClusterCA.derive(token: token) }
        return try ClusterCA.deriveLocal(localToken: localAPIToken, memberName: identity.name)
    }

    /// The API server's settings for the current material (nil with `--insecure-http`).
    func apiTLSSettings() throws(ServerError) -> APIServer.TLS? {
        guard let tls else { return nil }
        do {
            let server = try TLSContext.server(
                certificateChainPEM: tls.serving.issued.certificatePEM, privateKeyPEM: tls.serving.issued.privateKeyPEM,
                clientCertificateRootsPEM: tls.ca.certificatePEM)
            let forwarding = try TLSContext.client(
                trustedRootsPEM: tls.ca.certificatePEM, certificateChainPEM: tls.serving.issued.certificatePEM,
                privateKeyPEM: tls.serving.issued.privateKeyPEM)
            return APIServer.TLS(server: server, forwarding: .tls(forwarding))
        } catch {
            throw .storage("cannot set up TLS with the serving certificate: \(error)")
        }
    }

    /// Writes the serving certificate and the CA certificate (`ca.crt`, which the local CLI
    /// trusts) and the API's URL. On the loop thread only before the loop runs; later in
    /// the background (`refreshTLS`).
    static func writeTLSFiles(directory: String, serving: ServingCertificate?, ca: CertificateAuthority?, apiURL: String) throws(ServerError) {
        if let serving, let ca { try serving.save(directory: directory, ca: ca) }
        try AgentIdentity.writeFile(directory: directory, name: apiEndpointFileName, bytes: Array((apiURL + "\n").utf8), mode: 0o644)
    }

    /// After `shoal init` or `shoal join` (the CA becomes the cluster's) and on the renewal
    /// timer: renews what needs it, writes the files off the loop, and gives the API server
    /// the new contexts (connections already open keep theirs); then `done` (always called,
    /// on the loop).
    ///
    /// When the CA changed, the API switches only once `ca.crt` is written, and `shoal init`
    /// and `shoal join` answer only after that (through `done`): the local CLI reads `ca.crt`
    /// for its next call, which must find the CA the API presents. A renewal under the same
    /// CA leaves `ca.crt` as it was, so the API switches at once.
    func refreshTLS(then done: @escaping () -> Void = {}) {
        let caBefore = tls?.caToken
        let settings: APIServer.TLS
        do {
            guard try updateTLSMaterial(), let made = try apiTLSSettings() else { return done() }
            settings = made
        } catch {
            Log.warn("could not renew the serving certificate: \(error)")
            return done()
        }
        let caChanged = caBefore != tls?.caToken
        if !caChanged { adopt(settings) }
        let directory = options.dataDirectory
        let url = apiURL
        let files = UncheckedFiles(serving: tls?.serving, ca: tls?.ca)
        host.background(bulk: false, { () -> ServerError? in
            do {
                try Self.writeTLSFiles(directory: directory, serving: files.serving, ca: files.ca, apiURL: url)
                return nil
            } catch {
                return error as? ServerError ?? .storage("\(error)")
            }
        }, then: { [weak self] error in
            if let error { Log.warn("could not write the TLS files: \(error)") }
            if caChanged { self?.adopt(settings) }
            done()
        })
    }

    private func adopt(_ settings: APIServer.TLS) {
        guard let current = api?.tls else { return }
        current.server = settings.server
        current.forwarding = settings.forwarding
    }

    // MARK: Member-to-member calls

    /// A blocking client for another member's API, from the advertised address: HTTPS that
    /// verifies the member against the CA of `token` (default: this member's cluster), or
    /// plain HTTP with `--insecure-http`. A host that only knows the token (`shoal join`)
    /// can verify the endpoint it was given because it derives the same CA.
    func memberClient(host: String, port: UInt16, timeoutMilliseconds: Int, token: ClusterToken? = nil) throws(ServerError) -> HTTPClient {
        var client = HTTPClient(host: host, port: port, timeoutMilliseconds: timeoutMilliseconds, localHost: localAddress)
        guard !options.insecureHTTP else { return client }
        let wanted = token ?? identity.token
        if let tls, tls.caToken == wanted, wanted != nil {
            client.tls = tls.client
        } else {
            guard let wanted else { throw .cluster("no cluster token to verify \(host):\(port) with") }
            do {
                client.tls = try TLSContext.client(trustedRootsPEM: ClusterCA.derive(token: wanted).certificatePEM)
            } catch let error as ServerError {
                throw error
            } catch {
                throw .cluster("cannot trust the cluster CA: \(error)")
            }
        }
        return client
    }

    // MARK: shoal kubeconfig

    public func credentials(clientCertificate: Bool) -> Result<JSONValue, ServiceError> {
        guard let tls else {
            return .failure(ServiceError.notFound("this member serves plain HTTP (--insecure-http): there is no CA"))
        }
        var o = JSONObject()
        o["certificateAuthority"] = .string(tls.ca.certificatePEM)
        o["clustered"] = .bool(tls.caToken != nil)
        if clientCertificate {
            do {
                let issued = try tls.ca.issue(CertificateRequest(
                    commonName: "admin", organizations: ["system:masters"], usage: .client,
                    validitySeconds: Self.clientCertificateValiditySeconds))
                o["clientCertificate"] = .string(issued.certificatePEM)
                o["clientKey"] = .string(issued.privateKeyPEM)
            } catch {
                return .failure(ServiceError.internalError("cannot issue a client certificate: \(error)"))
            }
        }
        return .success(.object(o))
    }

    // MARK: Names

    static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        let name = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return name.isEmpty ? nil : name
    }

    /// The host's IPv4 addresses (for a member that listens on all of them).
    static func interfaceAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                var raw = v4.pointee.sin_addr
                _ = inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
            }
            addresses.append(text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return addresses
    }
}

/// The TLS files' contents handed to the background writer: immutable values, read there
/// only (which is why the unchecked Sendable is sound).
private struct UncheckedFiles: @unchecked Sendable {
    let serving: ServingCertificate?
    let ca: CertificateAuthority?
}
