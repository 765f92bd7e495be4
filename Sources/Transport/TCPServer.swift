import CLibUV

/// A listening TCP socket (`uv_tcp_t`) on a loop. Loop thread only.
///
/// Each accepted connection is handed to `onConnection` (TCP_NODELAY and keepalive on);
/// reading starts when the receiver sets the connection's `onData`. Stays open (and keeps
/// itself alive) until `close()`.
public final class TCPServer: UVHandleOwner {
    /// The kernel's queue of connections not yet accepted.
    public static let listenBacklogMax: Int32 = 511

    public let loop: EventLoop
    /// The port actually bound (the ephemeral one when `port` was 0).
    public let boundPort: UInt16
    /// "address:port" actually bound.
    public let boundAddress: String
    /// Receives each accepted connection; the default closes it.
    public var onConnection: (TCPConnection) -> Void = { $0.abort() }
    /// Accepts that failed (the listener stays up; the error is counted, not fatal).
    public private(set) var acceptErrorCount = 0
    public private(set) var lastAcceptError: UVError?

    private var handle: UnsafeMutablePointer<uv_tcp_t>?

    /// Binds and listens on `host:port` (numeric IPv4/IPv6 address or a name resolved at
    /// once; port 0 picks an ephemeral port, see `boundPort`).
    public init(loop: EventLoop, host: String, port: UInt16) throws(UVError) {
        loop.assertOnLoopThread("TCPServer.init")
        self.loop = loop
        if loop.isShuttingDown { throw UVError(call: "uv_tcp_init", code: UVError.cancelled) }
        let address = try AddressResolver.resolveNow(loop: loop, host: host, port: port)
        let tcp = UVHandle.allocate(uv_tcp_t.self)
        do {
            try uvCheck("uv_tcp_init", uv_tcp_init(loop.uvLoop, tcp))
        } catch {
            UVHandle.deallocateUninitialized(tcp)
            throw error
        }
        // From here on the handle is known to libuv: failures close it the ordinary way.
        let bound: SocketAddress
        do {
            try address.withSockaddr { sockaddr throws(UVError) in
                try uvCheck("uv_tcp_bind", uv_tcp_bind(tcp, sockaddr, 0))
            }
            let stream = UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self)
            try uvCheck("uv_listen", uv_listen(stream, Self.listenBacklogMax, tcpServerConnection))
            bound = try Self.localAddress(tcp)
        } catch {
            UVHandle.close(tcp)
            throw error
        }
        boundPort = bound.port
        boundAddress = bound.description
        handle = tcp
        UVHandle.attach(tcp, owner: self)
    }

    private static func localAddress(_ tcp: UnsafeMutablePointer<uv_tcp_t>) throws(UVError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        return try withUnsafeMutableBytes(of: &storage) { raw throws(UVError) in
            let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
            try uvCheck("uv_tcp_getsockname", uv_tcp_getsockname(tcp, address, &length))
            guard let copy = SocketAddress(copying: address) else {
                throw UVError(call: "uv_tcp_getsockname", code: UVError.invalidArgument)
            }
            return copy
        }
    }

    func accept(status: Int32) {
        guard let handle, !UVHandle.isClosing(handle) else { return }
        do throws(UVError) {
            try uvCheck("uv_listen (connection callback)", status)
            let connection = try TCPConnection(loop: loop, connecting: false)
            do throws(UVError) {
                let server = UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_stream_t.self)
                try uvCheck("uv_accept", uv_accept(server, connection.streamForAccept))
                try connection.becomeOpen()
            } catch {
                connection.abort(error)
                throw error
            }
            onConnection(connection)
        } catch {
            acceptErrorCount += 1
            lastAcceptError = error
        }
    }

    /// Stops listening; connections already accepted stay open. Idempotent.
    public func close() {
        loop.assertOnLoopThread("TCPServer.close")
        guard let handle else { return }
        onConnection = { $0.abort() }
        UVHandle.close(handle)
    }

    func closeForLoopShutdown() { close() }

    func handleDidClose(_ closed: UnsafeMutablePointer<uv_handle_t>) {
        handle = nil
    }
}
