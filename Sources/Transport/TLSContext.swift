import COpenSSL

/// What a TLS endpoint presents and trusts: an OpenSSL `SSL_CTX`, configured once and then
/// shared by every connection made from it (on any thread: OpenSSL allows `SSL_new` on a
/// context that is no longer changed, which is why the unchecked Sendable is sound).
///
/// Policy, the same for every context: TLS 1.2 or newer, no renegotiation, buffers released
/// while a connection is idle. Servers ask clients for a certificate only when
/// `requestClientCertificates` (and then accept connections without one; one that is
/// presented must verify against the trusted roots). Clients always verify the server's
/// certificate against the trusted roots and the name or address they dialled.
public final class TLSContext: @unchecked Sendable {
    /// Which side of the handshake connections of this context take.
    public enum Role: Sendable { case server, client }

    /// Whether connections made from this context accept (server) or dial (client).
    public let role: Role
    let context: OpaquePointer

    /// A server context: `certificateChainPEM` (the leaf first, then any intermediates)
    /// and its `privateKeyPEM`. With `clientCertificateRootsPEM`, clients are asked for a
    /// certificate (not required) and one they present must chain to these roots.
    public static func server(certificateChainPEM: String, privateKeyPEM: String,
                              clientCertificateRootsPEM: String? = nil) throws(TLSError) -> TLSContext {
        let context = try TLSContext(role: .server)
        try context.useIdentity(certificateChainPEM: certificateChainPEM, privateKeyPEM: privateKeyPEM)
        if let roots = clientCertificateRootsPEM {
            let anchors = try context.trust(rootsPEM: roots)
            for anchor in anchors {
                // Tells clients which issuer we accept (Go picks its certificate by it in TLS 1.2).
                try tlsCheck("SSL_CTX_add_client_CA", SSL_CTX_add_client_CA(context.context, anchor))
                X509_free(anchor)
            }
            // Request, do not require: SSL_VERIFY_PEER without SSL_VERIFY_FAIL_IF_NO_PEER_CERT.
            SSL_CTX_set_verify(context.context, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(context.context, SSL_VERIFY_NONE, nil)
        }
        return context
    }

    /// A client context that trusts `trustedRootsPEM` (one or more certificates) and, with
    /// `certificateChainPEM` and `privateKeyPEM`, presents that certificate when asked.
    public static func client(trustedRootsPEM: String, certificateChainPEM: String? = nil,
                              privateKeyPEM: String? = nil) throws(TLSError) -> TLSContext {
        let context = try TLSContext(role: .client)
        for anchor in try context.trust(rootsPEM: trustedRootsPEM) { X509_free(anchor) }
        if let certificateChainPEM, let privateKeyPEM {
            try context.useIdentity(certificateChainPEM: certificateChainPEM, privateKeyPEM: privateKeyPEM)
        }
        SSL_CTX_set_verify(context.context, SSL_VERIFY_PEER, nil)
        return context
    }

    private init(role: Role) throws(TLSError) {
        self.role = role
        let method = role == .server ? TLS_server_method() : TLS_client_method()
        context = try tlsCheck("SSL_CTX_new", SSL_CTX_new(method))
        do {
            try tlsCheck("SSL_CTX_set_min_proto_version",
                         shoal_SSL_CTX_set_min_proto_version(context, shoal_TLS1_2_VERSION))
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        _ = SSL_CTX_set_options(context, shoal_SSL_OP_NO_RENEGOTIATION)
        // Idle keep-alive connections then hold no 34 KiB read/write buffers each.
        _ = shoal_SSL_CTX_set_mode(context, shoal_SSL_MODE_RELEASE_BUFFERS)
        if role == .server {
            // Required once clients may present certificates and sessions are cached
            // (OpenSSL refuses to resume without it); the value only has to be stable.
            let label = Array("shoal-api".utf8)
            _ = SSL_CTX_set_session_id_context(context, label, UInt32(label.count))
            _ = shoal_SSL_CTX_set_session_cache_mode(context, shoal_SSL_SESS_CACHE_SERVER)
        }
    }

    deinit { SSL_CTX_free(context) }

    // MARK: Certificates and keys

    private func useIdentity(certificateChainPEM: String, privateKeyPEM: String) throws(TLSError) {
        let chain = try Self.certificates(fromPEM: certificateChainPEM)
        defer { for certificate in chain { X509_free(certificate) } }
        guard let leaf = chain.first else {
            throw TLSError(call: "PEM_read_bio_X509", reason: "no certificate in the PEM text", kind: .configuration)
        }
        try tlsCheck("SSL_CTX_use_certificate", SSL_CTX_use_certificate(context, leaf))
        for intermediate in chain.dropFirst() {
            try tlsCheck("SSL_CTX_add1_chain_cert", shoal_SSL_CTX_add1_chain_cert(context, intermediate))
        }
        let key = try Self.withMemoryBIO(privateKeyPEM) { bio throws(TLSError) in
            try tlsCheck("PEM_read_bio_PrivateKey", PEM_read_bio_PrivateKey(bio, nil, nil, nil))
        }
        defer { EVP_PKEY_free(key) }
        try tlsCheck("SSL_CTX_use_PrivateKey", SSL_CTX_use_PrivateKey(context, key))
        try tlsCheck("SSL_CTX_check_private_key", SSL_CTX_check_private_key(context))
    }

    /// Adds every certificate of `rootsPEM` to the context's trust store; returns them
    /// (retained: the caller frees them).
    private func trust(rootsPEM: String) throws(TLSError) -> [OpaquePointer] {
        let roots = try Self.certificates(fromPEM: rootsPEM)
        guard !roots.isEmpty else {
            throw TLSError(call: "PEM_read_bio_X509", reason: "no trusted certificate in the PEM text", kind: .configuration)
        }
        let store = SSL_CTX_get_cert_store(context)
        for root in roots {
            do {
                try tlsCheck("X509_STORE_add_cert", X509_STORE_add_cert(store, root))
            } catch {
                for certificate in roots { X509_free(certificate) }
                throw error
            }
        }
        return roots
    }

    /// Every certificate in `pem`, in order (each to be freed with `X509_free`).
    static func certificates(fromPEM pem: String) throws(TLSError) -> [OpaquePointer] {
        try withMemoryBIO(pem) { bio throws(TLSError) in
            var certificates: [OpaquePointer] = []
            while certificates.count < certificatesPerPEMMax, let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(certificate)
            }
            // The read that ends the loop queues "no start line": expected, not an error.
            _ = TLSError.drainErrorQueue()
            return certificates
        }
    }

    /// Certificates read from one PEM text at most (a chain or a CA bundle of our own).
    static let certificatesPerPEMMax = 64

    static func withMemoryBIO<T>(_ text: String, _ body: (OpaquePointer) throws(TLSError) -> T) throws(TLSError) -> T {
        let bytes = Array(text.utf8)
        var result: Result<T, TLSError>!
        bytes.withUnsafeBytes { raw in
            result = Result { () throws(TLSError) -> T in
                // BIO_new_mem_buf reads the bytes in place: the BIO must not outlive them.
                let bio = try tlsCheck("BIO_new_mem_buf", BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)))
                defer { BIO_free(bio) }
                return try body(bio)
            }
        }
        return try result.get()
    }

    // MARK: Connections

    /// A new `SSL` for one connection. A client verifies the server against `serverName`:
    /// an IP address must appear among the certificate's IP SANs, a name among its DNS
    /// SANs (and is sent as SNI).
    func makeSSL(serverName: String?) throws(TLSError) -> OpaquePointer {
        let ssl = try tlsCheck("SSL_new", SSL_new(context), kind: .openSSL)
        guard role == .client else {
            SSL_set_accept_state(ssl)
            return ssl
        }
        SSL_set_connect_state(ssl)
        if let serverName, !serverName.isEmpty {
            let parameters = SSL_get0_param(ssl)
            do {
                if SocketAddress(numericHost: serverName, port: 0) != nil {
                    try tlsCheck("X509_VERIFY_PARAM_set1_ip_asc", X509_VERIFY_PARAM_set1_ip_asc(parameters, serverName))
                } else {
                    try tlsCheck("SSL_set1_host", SSL_set1_host(ssl, serverName))
                    try tlsCheck("SSL_set_tlsext_host_name", shoal_SSL_set_tlsext_host_name(ssl, serverName))
                }
            } catch {
                SSL_free(ssl)
                throw error
            }
        }
        return ssl
    }
}
