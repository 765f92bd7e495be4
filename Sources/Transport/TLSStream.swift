import CLibUV

/// TLS over a `TCPConnection`, driven on the event loop: a `TLSSession` (OpenSSL between
/// memory BIOs) fed with what the connection reads, its output written back to the
/// connection. Nothing blocks: a handshake or a record that is not complete yet waits for
/// the next read. Loop thread only; a `ByteStream`, so connection code is unchanged.
///
/// Bounds (`Limits`): the handshake must finish within `handshakeTimeoutMilliseconds`;
/// at most `inputBufferedBytesMax` bytes of ciphertext wait undecrypted (more: the peer is
/// abusive, the connection is aborted); at most `earlyWriteBytesMax` bytes written before
/// the handshake completes are held. A peer that sends garbage instead of a ClientHello
/// fails the handshake (OpenSSL's alert is sent, then the connection closes); one that
/// speaks plain HTTP gets a short plain-text 400 saying the port speaks HTTPS, then the
/// connection closes. `failure` says what went wrong; `onClose` then reports a
/// `UVError` with code `UV_EPROTO` naming the failed TLS call.
public final class TLSStream: ByteStream {
    /// Bounds, each with its unit last.
    public struct Limits: Sendable {
        /// From the first byte accepted (or the connect) to a completed handshake.
        public var handshakeTimeoutMilliseconds = 10_000
        /// Ciphertext received and not yet decrypted; a record is at most ~16 KiB, and reading
        /// pauses while the consumer does, so only a misbehaving peer comes near this.
        public var inputBufferedBytesMax = 1 << 20
        /// Plaintext written before the handshake completed (sent once it does).
        public var earlyWriteBytesMax = 4 << 20

        public init() {}
    }

    /// The loop of the connection; every use of the stream happens on its thread.
    public let loop: EventLoop
    /// The connection carrying the ciphertext.
    public let tcp: TCPConnection
    /// The bounds this stream enforces.
    public let limits: Limits
    /// Called with the plaintext of each record, in order. Setting it starts reading.
    public var onData: (([UInt8]) -> Void)? {
        didSet {
            updateReading()
            if onData != nil && oldValue == nil && state == .open { scheduleDrain() }
        }
    }
    /// Called once when the stream is gone: nil for an orderly end, otherwise the connection's
    /// error or, after a TLS failure, a `UV_EPROTO` error naming the failed call (see `failure`).
    public var onClose: ((UVError?) -> Void)?
    /// Called once when the handshake completes (nil) or fails (the error), before `onClose`.
    public var onHandshake: ((TLSError?) -> Void)?
    /// Why the stream failed, if it did.
    public private(set) var failure: TLSError?
    /// The verified certificate of the peer (see `TLSSession.peerIdentity`).
    public var peerIdentity: TLSPeerIdentity? { session.peerIdentity }
    /// True once the handshake finished.
    public var isHandshakeComplete: Bool { session.isHandshakeComplete }
    /// Plaintext not yet handed to the kernel: held early writes and queued ciphertext.
    public var pendingWriteBytes: Int { tcp.pendingWriteBytes + earlyWriteBytes }
    /// True once the stream closed, failed, or the peer went away.
    public var isClosed: Bool { state == .closed || tcp.isClosed }

    private enum State { case handshaking, open, closed }
    private var state: State = .handshaking
    private let session: TLSSession
    private var earlyWrites: [[UInt8]] = []
    private var earlyWriteBytes = 0
    private var handshakeTimer: LoopTimer?
    private var drainTimer: LoopTimer?
    private var sawFirstBytes = false
    private var draining = false

    /// Wraps an accepted (server) or connected (client) connection and starts the
    /// handshake; `serverName` (clients) is what the server's certificate must name.
    public init(tcp: TCPConnection, context: TLSContext, serverName: String? = nil,
                limits: Limits = Limits()) throws(TLSError) {
        tcp.loop.assertOnLoopThread("TLSStream.init")
        loop = tcp.loop
        self.tcp = tcp
        self.limits = limits
        session = try TLSSession(context: context, serverName: serverName)
        // The connection's callbacks retain this stream until the connection is gone, as
        // the connection keeps itself alive until it closes.
        tcp.onClose = { [self] error in tcpClosed(error) }
        let timer = LoopTimer(loop: loop)
        handshakeTimer = timer
        timer.start(afterMilliseconds: limits.handshakeTimeoutMilliseconds) { [weak self] in
            guard let self, self.state == .handshaking else { return }
            self.fail(TLSError(call: "TLS handshake", reason: "not complete within \(self.limits.handshakeTimeoutMilliseconds) ms",
                               kind: .handshakeTimeout))
        }
        updateReading()
        if session.role == .client { advance() }  // the ClientHello
    }

    // MARK: Reading

    /// The connection is read while the handshake runs, and afterwards while the consumer
    /// wants data (so a slow consumer pushes back on the peer, as with plain TCP).
    private func updateReading() {
        let wanted = state == .handshaking || (state == .open && onData != nil)
        if wanted && tcp.onData == nil {
            tcp.onData = { [unowned self] bytes in received(bytes) }
        } else if !wanted && tcp.onData != nil {
            tcp.onData = nil
        }
    }

    private func received(_ bytes: [UInt8]) {
        guard state != .closed else { return }
        if !sawFirstBytes {
            sawFirstBytes = true
            if session.role == .server, Self.looksLikePlainHTTP(bytes) { return refusePlainHTTP() }
        }
        do {
            try session.receive(bytes)
        } catch {
            return fail(error)
        }
        if session.bufferedInputBytes > limits.inputBufferedBytesMax {
            return fail(TLSError(call: "TLS read", reason: "more than \(limits.inputBufferedBytesMax) bytes of ciphertext buffered",
                                 kind: .bufferLimit))
        }
        advance()
    }

    /// Runs the handshake as far as the input allows, then decrypts records for the
    /// consumer while it wants them, then sends what OpenSSL produced.
    private func advance() {
        if state == .handshaking {
            do {
                guard try session.handshake() else { return flush() }
            } catch {
                return fail(error)
            }
            handshakeCompleted()
        }
        deliver()
        flush()
    }

    private func handshakeCompleted() {
        state = .open
        handshakeTimer?.close()
        handshakeTimer = nil
        let held = earlyWrites
        earlyWrites = []
        earlyWriteBytes = 0
        for bytes in held where !encrypt(bytes) { return }
        updateReading()
        let callback = onHandshake
        onHandshake = nil
        callback?(nil)
    }

    /// Hands decrypted records to the consumer until OpenSSL needs input or the consumer
    /// pauses (sets `onData` to nil) or closes.
    private func deliver() {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        let buffer = loop.tlsReadBuffer
        while state == .open, let consumer = onData {
            let result: TLSSession.ReadResult
            do {
                result = try session.read(into: buffer)
            } catch {
                return fail(error)
            }
            switch result {
            case .bytes(let count):
                consumer(Array(UnsafeRawBufferPointer(rebasing: buffer[0..<count])))
            case .needsInput:
                return
            case .closed:
                // The peer's close_notify: the end of its data, like a TCP EOF.
                return close()
            }
        }
    }

    /// Resumes delivery of records that were decrypted-ready while the consumer paused:
    /// no new bytes may arrive to trigger it. At the next loop iteration, like a read.
    private func scheduleDrain() {
        if drainTimer == nil { drainTimer = LoopTimer(loop: loop) }
        drainTimer?.start(afterMilliseconds: 0) { [weak self] in
            guard let self, self.state == .open else { return }
            self.deliver()
            self.flush()
        }
    }

    // MARK: Writing

    /// Encrypts and queues `bytes`; before the handshake completes they are held (bounded).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        loop.assertOnLoopThread("TLSStream.write")
        switch state {
        case .closed:
            return false
        case .handshaking:
            if bytes.isEmpty { return true }
            guard earlyWriteBytes + bytes.count <= limits.earlyWriteBytesMax else {
                fail(TLSError(call: "TLS write", reason: "more than \(limits.earlyWriteBytesMax) bytes written before the handshake completed",
                              kind: .bufferLimit))
                return false
            }
            earlyWrites.append(bytes)
            earlyWriteBytes += bytes.count
            return true
        case .open:
            if bytes.isEmpty { return true }
            return encrypt(bytes)
        }
    }

    /// Encrypts and sends `bytes` a slice at a time: the ciphertext of one slice is handed to
    /// the connection before the next is encrypted, so a large write (a list of 16 MB) never
    /// makes OpenSSL's output buffer, or the array taken from it, as large as itself (growing
    /// and copying those was most of what such a write cost the loop).
    private func encrypt(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + Self.encryptSliceBytes)
            do {
                try session.write(bytes, range: offset..<end)
            } catch {
                fail(error)
                return false
            }
            flush()
            offset = end
        }
        return true
    }

    /// Plaintext encrypted before its ciphertext is handed to the connection, in bytes.
    static let encryptSliceBytes = 64 << 10

    /// Sends the ciphertext OpenSSL produced (handshake flights, records, alerts).
    private func flush() {
        let output = session.takeOutput()
        if !output.isEmpty { tcp.write(output) }
    }

    // MARK: Closing

    /// Sends close_notify, then closes the connection once queued bytes are out. Idempotent.
    public func close() {
        loop.assertOnLoopThread("TLSStream.close")
        guard state != .closed else { return }
        if state == .open {
            session.shutdown()
            flush()
        }
        finish()
        tcp.close()
    }

    /// Closes at once, dropping queued bytes. Idempotent.
    public func abort(_ error: UVError?) {
        loop.assertOnLoopThread("TLSStream.abort")
        finish()
        tcp.abort(error)
    }

    /// A failed handshake or record: send whatever OpenSSL queued (an alert), then close.
    private func fail(_ error: TLSError) {
        guard state != .closed else { return }
        if failure == nil { failure = error }
        flush()
        finish()
        tcp.close()
    }

    /// Stops reading, timers and held writes; tells a waiting `onHandshake`.
    private func finish() {
        guard state != .closed else { return }
        let wasHandshaking = state == .handshaking
        state = .closed
        earlyWrites = []
        earlyWriteBytes = 0
        handshakeTimer?.close()
        handshakeTimer = nil
        drainTimer?.close()
        drainTimer = nil
        tcp.onData = nil
        if wasHandshaking {
            let callback = onHandshake
            onHandshake = nil
            callback?(failure ?? TLSError(call: "TLS handshake", reason: "the connection closed first", kind: .io))
        }
    }

    private func tcpClosed(_ error: UVError?) {
        if state == .handshaking && failure == nil {
            failure = TLSError(call: "TLS handshake", reason: error.map { "the connection failed: \($0)" } ?? "the peer closed the connection",
                               kind: .io)
        }
        finish()
        let callback = onClose
        onClose = nil
        onData = nil
        callback?(error ?? failure.map { UVError(call: "\($0.call) (\($0.reason))", code: UVError.protocolError) })
    }

    // MARK: Plain HTTP on the TLS port

    /// A TLS connection starts with a handshake record (0x16); an HTTP request with an
    /// upper-case method name.
    static func looksLikePlainHTTP(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") else { return false }
        let word = bytes.prefix(8).prefix { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        return word.count < bytes.count && word.count >= 3 && bytes[word.count] == UInt8(ascii: " ")
    }

    /// Says (in plain text, nothing about the server) that this port speaks HTTPS, then closes.
    private func refusePlainHTTP() {
        failure = TLSError(call: "TLS handshake", reason: "the client spoke plain HTTP", kind: .plainHTTP)
        let body = "This port speaks HTTPS; use an https:// URL.\n"
        tcp.write(Array("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
        finish()
        tcp.close()
    }
}

extension EventLoop {
    /// Plaintext buffer of every TLS stream of this loop: records are decrypted into it
    /// and copied out for the consumer at once (the loop thread runs one at a time).
    var tlsReadBuffer: UnsafeMutableRawBufferPointer { readBuffer }
}
