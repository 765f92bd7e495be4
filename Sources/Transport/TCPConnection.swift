import CLibUV

/// One TCP connection (`uv_tcp_t`) on a loop, with TCP_NODELAY and keepalive on.
/// Loop thread only.
///
/// - Reading (and so noticing the peer's close) starts once `onData` is set; setting it back
///   to nil pauses reading, which is how a slow consumer pushes back.
/// - `write` queues and never blocks; `pendingWriteBytes` says how much is not yet handed to
///   the kernel.
/// - `onClose` is called exactly once, after the handle is gone: nil for an orderly end (the
///   peer's EOF, or `close()`/`abort()` here), the error otherwise.
/// - An open connection keeps itself alive until it is closed.
public final class TCPConnection: UVHandleOwner {
    /// TCP keepalive: seconds of idleness before the first probe.
    public static let keepaliveDelaySeconds: UInt32 = 30
    /// How long `close()` waits for queued writes to drain before it gives up on them.
    public static let closeLingerMillisecondsMax = 5_000

    public let loop: EventLoop
    /// Called with the bytes of each read, in order. Setting it starts reading.
    public var onData: (([UInt8]) -> Void)? { didSet { updateReading() } }
    /// Called once when the connection is gone (see the type's notes).
    public var onClose: ((UVError?) -> Void)?
    /// Bytes passed to `write` that the kernel has not accepted yet.
    public private(set) var pendingWriteBytes = 0
    /// Totals over the connection's life.
    public private(set) var bytesRead: UInt64 = 0
    public private(set) var bytesWritten: UInt64 = 0
    /// `uv_write` calls issued (one per `write`): how well callers coalesce.
    public private(set) var writesIssued: UInt64 = 0
    /// "address:port" of the other side (nil until connected).
    public private(set) var remoteAddress: String?
    /// "address:port" of this side (nil until connected).
    public private(set) var localAddress: String?

    private enum State { case connecting, open, closing, closed }
    private var state: State
    private var handle: UnsafeMutablePointer<uv_tcp_t>?
    private var isReading = false
    private var closeError: UVError?
    private var connectCompletion: ((Result<TCPConnection, UVError>) -> Void)?
    /// The connect timeout, then the close linger.
    private var timer: LoopTimer?

    /// A connection whose handle is initialised but not yet connected or accepted. On a loop
    /// that is shutting down, the connection is born closed.
    init(loop: EventLoop, connecting: Bool) throws(UVError) {
        loop.assertOnLoopThread("TCPConnection.init")
        self.loop = loop
        state = connecting ? .connecting : .open
        if loop.isShuttingDown {
            state = .closed
            throw UVError(call: "uv_tcp_init", code: UVError.cancelled)
        }
        let tcp = UVHandle.allocate(uv_tcp_t.self)
        do {
            try uvCheck("uv_tcp_init", uv_tcp_init(loop.uvLoop, tcp))
        } catch {
            UVHandle.deallocateUninitialized(tcp)
            state = .closed
            throw error
        }
        handle = tcp
        UVHandle.attach(tcp, owner: self)
    }

    // MARK: Connecting

    /// Connects to `host:port` (a numeric IPv4/IPv6 address or a name resolved off the loop
    /// thread). `completion` runs once on the loop thread, never before this returns (except
    /// when the loop is already shutting down), with the open connection or the error
    /// (`UV_ETIMEDOUT` after `timeoutMilliseconds`). With `localHost` (a numeric address) the
    /// connection leaves from that address: a member on a multi-homed host (or several on one
    /// loopback) speaks from the address it advertises.
    public static func connect(
        loop: EventLoop, host: String, port: UInt16, localHost: String? = nil, timeoutMilliseconds: some BinaryInteger,
        completion: @escaping (Result<TCPConnection, UVError>) -> Void
    ) {
        let connection: TCPConnection
        do {
            connection = try TCPConnection(loop: loop, connecting: true)
            if let localHost, let local = SocketAddress(numericHost: localHost, port: 0), let handle = connection.handle {
                try local.withSockaddr { sockaddr throws(UVError) in
                    try uvCheck("uv_tcp_bind", uv_tcp_bind(handle, sockaddr, 0))
                }
            }
        } catch {
            completion(.failure(error))
            return
        }
        connection.connectCompletion = completion
        let timer = LoopTimer(loop: loop)
        connection.timer = timer
        timer.start(afterMilliseconds: timeoutMilliseconds) { [weak connection] in
            connection?.failConnect(UVError(call: "uv_tcp_connect", code: UVError.timedOut))
        }
        if let address = SocketAddress(numericHost: host, port: port) {
            connection.startConnect(to: address)
        } else {
            AddressResolver.resolve(loop: loop, host: host, port: port) { [connection] result in
                switch result {
                case .success(let address): connection.startConnect(to: address)
                case .failure(let error): connection.failConnect(error)
                }
            }
        }
    }

    private func startConnect(to address: SocketAddress) {
        guard state == .connecting, let handle else { return }
        let request = UVHandle.allocate(uv_connect_t.self)
        do {
            try address.withSockaddr { sockaddr throws(UVError) in
                try uvCheck("uv_tcp_connect", uv_tcp_connect(request, handle, sockaddr, tcpConnected))
            }
        } catch {
            UVHandle.deallocateUninitialized(request)
            failConnectSoon(error)
        }
    }

    /// Reports an error from inside `connect` through the timer, so the completion still
    /// runs later.
    private func failConnectSoon(_ error: UVError) {
        timer?.start(afterMilliseconds: 0) { [weak self] in self?.failConnect(error) }
    }

    func connected(status: Int32) {
        guard state == .connecting else { return }  // timed out or closed meanwhile
        if let error = UVError.status("uv_tcp_connect", status) {
            failConnect(error)
            return
        }
        do {
            try becomeOpen()
        } catch {
            failConnect(error)
            return
        }
        timer?.close()
        timer = nil
        let completion = connectCompletion
        connectCompletion = nil
        completion?(.success(self))
        updateReading()
    }

    private func failConnect(_ error: UVError) {
        guard state == .connecting else { return }
        let completion = connectCompletion
        connectCompletion = nil
        abort(error)
        completion?(.failure(error))
    }

    /// Socket options and addresses, once connected or accepted.
    func becomeOpen() throws(UVError) {
        guard let handle else { throw UVError(call: "uv_tcp_nodelay", code: UVError.notConnected) }
        try uvCheck("uv_tcp_nodelay", uv_tcp_nodelay(handle, 1))
        try uvCheck("uv_tcp_keepalive", uv_tcp_keepalive(handle, 1, Self.keepaliveDelaySeconds))
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        try withUnsafeMutableBytes(of: &storage) { raw throws(UVError) in
            let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
            try uvCheck("uv_tcp_getpeername", uv_tcp_getpeername(handle, address, &length))
            remoteAddress = SocketAddress(copying: address)?.description
            length = Int32(MemoryLayout<sockaddr_storage>.size)
            try uvCheck("uv_tcp_getsockname", uv_tcp_getsockname(handle, address, &length))
            localAddress = SocketAddress(copying: address)?.description
        }
        state = .open
    }

    /// The raw handle, for `uv_accept`.
    var streamForAccept: UnsafeMutablePointer<uv_stream_t>? {
        handle.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: uv_stream_t.self) }
    }

    // MARK: Reading

    private var stream: UnsafeMutablePointer<uv_stream_t>? { streamForAccept }

    func updateReading() {
        guard state == .open, let stream else { return }
        let wanted = onData != nil
        if wanted == isReading { return }
        do {
            if wanted {
                try uvCheck("uv_read_start", uv_read_start(stream, tcpAllocate, tcpRead))
            } else {
                try uvCheck("uv_read_stop", uv_read_stop(stream))
            }
            isReading = wanted
        } catch {
            abort(error)
        }
    }

    func didRead(_ count: Int, _ buffer: UnsafePointer<uv_buf_t>?) {
        if count > 0, let base = buffer?.pointee.base {
            bytesRead += UInt64(count)
            guard state == .open else { return }
            onData?(Array(UnsafeRawBufferPointer(start: base, count: count)))
        } else if count == Int(UVError.endOfFile) {
            close()
        } else if count < 0 {
            abort(UVError(call: "uv_read", code: Int32(count)))
        }
    }

    // MARK: Writing

    /// Queues `bytes`; never blocks. Returns false (dropping them) when the connection is not
    /// open.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        loop.assertOnLoopThread("TCPConnection.write")
        guard state == .open, let stream else { return false }
        if bytes.isEmpty { return true }
        let request = WriteRequest.allocate(copying: bytes)
        var buffer = uv_buf_init(WriteRequest.payload(request), UInt32(bytes.count))
        do {
            try uvCheck("uv_write", uv_write(request, stream, &buffer, 1, tcpWritten))
        } catch {
            WriteRequest.deallocate(request)
            abort(error)
            return false
        }
        pendingWriteBytes += bytes.count
        writesIssued += 1
        return true
    }

    func didWrite(_ count: Int, status: Int32) {
        pendingWriteBytes -= count
        if let error = UVError.status("uv_write", status) {
            if error.code != UVError.cancelled { abort(error) }
            return
        }
        bytesWritten += UInt64(count)
        if state == .closing && pendingWriteBytes == 0 { closeHandle() }
    }

    // MARK: Closing

    /// Closes after queued writes drain (at most `closeLingerMillisecondsMax`); no more
    /// `onData`. Idempotent. A connection still connecting fails with `UV_ECANCELED`.
    public func close() {
        loop.assertOnLoopThread("TCPConnection.close")
        switch state {
        case .connecting:
            failConnect(UVError(call: "uv_tcp_connect", code: UVError.cancelled))
        case .open:
            stopReading()
            if pendingWriteBytes == 0 {
                closeHandle()
            } else {
                state = .closing
                let linger = LoopTimer(loop: loop)
                timer = linger
                linger.start(afterMilliseconds: Self.closeLingerMillisecondsMax) { [weak self] in
                    self?.closeHandle()
                }
            }
        case .closing, .closed:
            return
        }
    }

    /// Closes at once, dropping queued writes. `error` (if any) is what `onClose` reports;
    /// the first cause recorded wins. Idempotent.
    public func abort(_ error: UVError? = nil) {
        loop.assertOnLoopThread("TCPConnection.abort")
        if state == .closed { return }
        if closeError == nil { closeError = error }
        closeHandle()
    }

    /// True once `close()` or `abort()` ran or the peer went away.
    public var isClosed: Bool { state == .closing || state == .closed }

    private func stopReading() {
        if isReading, let stream { _ = try? uvCheck("uv_read_stop", uv_read_stop(stream)) }
        isReading = false
    }

    private func closeHandle() {
        state = .closed
        isReading = false
        timer?.close()
        timer = nil
        if let handle { UVHandle.close(handle) }
    }

    func closeForLoopShutdown() {
        if state == .connecting {
            failConnect(UVError(call: "uv_tcp_connect", code: UVError.cancelled))
        } else {
            abort()
        }
    }

    func handleDidClose(_ closed: UnsafeMutablePointer<uv_handle_t>) {
        handle = nil
        state = .closed
        let callback = onClose
        onClose = nil
        onData = nil
        connectCompletion = nil
        callback?(closeError)
    }
}
