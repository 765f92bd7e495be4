import COpenSSL

/// One TLS connection's state machine, without I/O: OpenSSL's `SSL` between two memory
/// BIOs. Ciphertext from the peer goes in with `receive`; ciphertext for the peer comes out
/// of `takeOutput`; the caller moves the bytes (`TLSStream` on the event loop, the CLI's
/// blocking client over a socket). Nothing here blocks, so it is safe on the loop thread.
///
/// Used by one thread at a time. Every OpenSSL result is classified by `status(_:_:)`,
/// which builds its errors through `TLSError` like the gateway `tlsCheck`.
public final class TLSSession {
    /// What a read produced.
    public enum ReadResult: Equatable {
        /// This many plaintext bytes were written to the buffer.
        case bytes(Int)
        /// No whole record is buffered: feed more ciphertext.
        case needsInput
        /// The peer ended the TLS session cleanly (close_notify).
        case closed
    }

    /// The side of the handshake this session takes (its context's role).
    public let role: TLSContext.Role
    private let ssl: OpaquePointer
    /// Peer → OpenSSL (we write ciphertext in) and OpenSSL → peer (we read ciphertext out).
    private let inbound: OpaquePointer
    private let outbound: OpaquePointer
    /// True once the handshake finished (and verified the peer, where it must).
    public private(set) var isHandshakeComplete = false
    /// The peer's certificate subject, once the handshake verified it (clients always; a
    /// server only when the client presented one).
    public private(set) var peerIdentity: TLSPeerIdentity?

    /// `serverName` (clients): the IP address or DNS name the server's certificate must name.
    public init(context: TLSContext, serverName: String? = nil) throws(TLSError) {
        role = context.role
        let ssl = try context.makeSSL(serverName: serverName)
        guard let inbound = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.fromQueue("BIO_new", fallback: "out of memory", kind: .openSSL)
        }
        guard let outbound = BIO_new(BIO_s_mem()) else {
            BIO_free(inbound)
            SSL_free(ssl)
            throw TLSError.fromQueue("BIO_new", fallback: "out of memory", kind: .openSSL)
        }
        // The SSL owns both BIOs from here on (SSL_free frees them).
        SSL_set_bio(ssl, inbound, outbound)
        self.ssl = ssl
        self.inbound = inbound
        self.outbound = outbound
    }

    deinit { SSL_free(ssl) }

    // MARK: Ciphertext in and out

    /// Hands ciphertext from the peer to OpenSSL (memory BIOs take everything).
    public func receive(_ bytes: some Collection<UInt8>) throws(TLSError) {
        if bytes.isEmpty { return }
        let written = bytes.withContiguousStorageIfAvailable { raw in
            BIO_write(inbound, raw.baseAddress, Int32(raw.count))
        } ?? Array(bytes).withUnsafeBytes { raw in BIO_write(inbound, raw.baseAddress, Int32(raw.count)) }
        guard written == Int32(bytes.count) else {
            throw TLSError.fromQueue("BIO_write", fallback: "took \(written) of \(bytes.count) bytes", kind: .openSSL)
        }
    }

    /// Ciphertext received but not yet consumed by OpenSSL.
    public var bufferedInputBytes: Int { Int(BIO_ctrl_pending(inbound)) }

    /// Ciphertext waiting to be sent to the peer.
    public var pendingOutputBytes: Int { Int(BIO_ctrl_pending(outbound)) }

    /// Takes every byte OpenSSL wrote for the peer (empty when there is none).
    public func takeOutput() -> [UInt8] {
        let count = pendingOutputBytes
        guard count > 0 else { return [] }
        // Uninitialized: BIO_read fills it (zeroing first cost a pass over every byte sent).
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = max(0, Int(BIO_read(outbound, buffer.baseAddress, Int32(count))))
        }
    }

    // MARK: Handshake, reading, writing

    /// Advances the handshake; true once it is complete (then `peerIdentity` is set).
    @discardableResult
    public func handshake() throws(TLSError) -> Bool {
        if isHandshakeComplete { return true }
        ERR_clear_error()
        switch try status("SSL_do_handshake", SSL_do_handshake(ssl)) {
        case .done:
            isHandshakeComplete = true
            peerIdentity = verifiedPeer()
            return true
        case .needsInput:
            return false
        case .closed:
            throw TLSError(call: "SSL_do_handshake", reason: "the peer closed the TLS session during the handshake", kind: .openSSL)
        }
    }

    /// Decrypts at most one record's worth into `buffer`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> ReadResult {
        precondition(isHandshakeComplete, "TLSSession.read before the handshake completed")
        ERR_clear_error()
        let result = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        switch try status("SSL_read", result) {
        case .done: return .bytes(Int(result))
        case .needsInput: return .needsInput
        case .closed: return .closed
        }
    }

    /// Encrypts `plaintext`; its records are then in `takeOutput()`.
    public func write(_ plaintext: [UInt8]) throws(TLSError) {
        try write(plaintext, range: plaintext.indices)
    }

    /// Encrypts `plaintext[range]`; its records are then in `takeOutput()`.
    public func write(_ plaintext: [UInt8], range: Range<Int>) throws(TLSError) {
        precondition(isHandshakeComplete, "TLSSession.write before the handshake completed")
        precondition(range.lowerBound >= 0 && range.upperBound <= plaintext.count, "TLSSession.write range out of bounds")
        var offset = range.lowerBound
        while offset < range.upperBound {
            let count = min(range.upperBound - offset, Self.writeSliceBytesMax)
            ERR_clear_error()
            let result = plaintext.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32(count)) }
            switch try status("SSL_write", result) {
            case .done: offset += Int(result)
            case .needsInput, .closed:
                throw TLSError(call: "SSL_write", reason: "the TLS session cannot take data any more", kind: .openSSL)
            }
        }
    }

    /// Plaintext handed to one `SSL_write` at most (it is encrypted into the output BIO at
    /// once; slicing keeps each call's temporary memory small).
    static let writeSliceBytesMax = 1 << 20

    /// Queues a close_notify alert (see `takeOutput`). Idempotent; no effect before the
    /// handshake completed.
    public func shutdown() {
        guard isHandshakeComplete else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        _ = TLSError.drainErrorQueue()
    }

    // MARK: Results

    private enum Status { case done, needsInput, closed }

    /// Classifies an OpenSSL I/O result (`SSL_get_error`): progress, a need for more input
    /// (memory BIOs never make OpenSSL wait to write), a clean close, or a typed error.
    private func status(_ call: String, _ result: Int32) throws(TLSError) -> Status {
        if result > 0 { return .done }
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .needsInput
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                _ = TLSError.drainErrorQueue()
                let why = String(cString: X509_verify_cert_error_string(verify))
                throw TLSError(call: call, reason: "certificate verification failed: \(why)", kind: .verification)
            }
            throw TLSError.fromQueue(call, fallback: "SSL_get_error \(code)")
        }
    }

    /// The peer certificate's subject, when OpenSSL verified it.
    private func verifiedPeer() -> TLSPeerIdentity? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        guard SSL_get_verify_result(ssl) == X509_V_OK else { return nil }
        return TLSPeerIdentity(certificate: certificate)
    }
}

/// Who a verified peer certificate names (its subject), for authentication.
public struct TLSPeerIdentity: Equatable, Sendable {
    /// The subject's common name (CN): a user name, or a member's name.
    public var commonName: String
    /// The subject's organizations (O): group names, e.g. `system:masters`.
    public var organizations: [String]

    public init(commonName: String, organizations: [String]) {
        self.commonName = commonName
        self.organizations = organizations
    }

    init(certificate: OpaquePointer) {
        var commonName = ""
        var organizations: [String] = []
        if let name = X509_get_subject_name(certificate) {
            for index in 0..<X509_NAME_entry_count(name) {
                guard let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry),
                      let bytes = ASN1_STRING_get0_data(data) else { continue }
                let text = String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(data))), as: UTF8.self)
                switch OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)) {
                case NID_commonName: commonName = text
                case NID_organizationName: organizations.append(text)
                default: break
                }
            }
        }
        self.init(commonName: commonName, organizations: organizations)
    }
}
