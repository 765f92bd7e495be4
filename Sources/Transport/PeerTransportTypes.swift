extension PeerTransport {
    /// What the owner (the server's Ready loop) hears from the transport, on the loop thread.
    public struct Handlers {
        /// An authenticated message from a registered peer, in the order it was sent.
        public var onMessage: (_ from: UInt64, _ payload: [UInt8]) -> Void
        /// A new authenticated connection to the peer became its connection. Called again when
        /// a newer connection replaces the current one (the peer restarted, or both dialed),
        /// without an `onPeerDown` in between; `remoteContext(of:)` has what the peer sent.
        public var onPeerUp: (_ id: UInt64) -> Void
        /// The peer's connection is gone (closed by the other side, failed, or went silent)
        /// and no replacement is being set up. A hint worth acting on at once: Raft starts a
        /// pre-vote. Not called for `removePeer` or `close()`.
        public var onPeerDown: (_ id: UInt64) -> Void
        /// Asked after a peer proved the cluster secret, before it is admitted, with the
        /// context it sent (e.g. its data directory's incarnation id); false refuses it.
        public var acceptPeer: (_ id: UInt64, _ context: [UInt8]) -> Bool

        public init(
            onMessage: @escaping (_ from: UInt64, _ payload: [UInt8]) -> Void = { _, _ in },
            onPeerUp: @escaping (_ id: UInt64) -> Void = { _ in },
            onPeerDown: @escaping (_ id: UInt64) -> Void = { _ in },
            acceptPeer: @escaping (_ id: UInt64, _ context: [UInt8]) -> Bool = { _, _ in true }
        ) {
            self.onMessage = onMessage
            self.onPeerUp = onPeerUp
            self.onPeerDown = onPeerDown
            self.acceptPeer = acceptPeer
        }
    }

    /// Bounds and timings. Every bound is named with its unit; the defaults suit a LAN.
    public struct Configuration: Sendable {
        /// Bytes a peer's queue may hold (queued frames plus bytes the kernel has not taken);
        /// `send` returns false beyond it.
        public var sendQueueBytesMax = 64 << 20
        /// Largest message payload sent or accepted; a longer incoming frame closes the
        /// connection, a longer outgoing one is refused by `send`.
        public var frameBytesMax = 64 << 20
        /// Reconnect backoff: first delay, and the cap it doubles up to (with jitter: each
        /// delay is drawn from [half, all] of the current step).
        public var reconnectDelayMinMilliseconds = 50
        public var reconnectDelayMaxMilliseconds = 2_000
        /// A dial that has not connected by then fails (and is retried with backoff).
        public var connectTimeoutMilliseconds = 2_000
        /// A connection that has not authenticated by then is closed.
        public var handshakeTimeoutMilliseconds = 5_000
        /// Ping period on established connections (RTT, liveness).
        public var pingIntervalMilliseconds = 1_000
        /// An established connection with nothing received for this long is closed.
        public var silenceTimeoutMilliseconds = 10_000
        /// Inbound connections still handshaking at once; more are refused at accept.
        public var pendingHandshakesMax = 64

        public init() {}
    }

    /// Where a peer listens.
    public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
        public var host: String
        public var port: UInt16
        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }
        public var description: String { "\(host):\(port)" }
    }

    /// Counters for one peer (for metrics and tests).
    public struct PeerStats: Equatable, Sendable {
        public var connected = false
        /// "address:port" of the other end of the current connection.
        public var remoteAddress: String?
        /// Bytes read from and written to the peer's established connections (all frames, with
        /// headers and tags).
        public var bytesIn: UInt64 = 0
        public var bytesOut: UInt64 = 0
        /// DATA frames delivered to `onMessage`, and accepted by `send`.
        public var messagesIn: UInt64 = 0
        public var messagesOut: UInt64 = 0
        /// `send` calls that returned false (no connection, queue full, too large).
        public var messagesDropped: UInt64 = 0
        /// Bytes queued now (see `Configuration.sendQueueBytesMax`).
        public var queuedBytes = 0
        /// Round-trip time of the last PING/PONG.
        public var lastRoundTripNanoseconds: UInt64?
        /// Times the peer came up again after having been down.
        public var reconnectCount: UInt64 = 0
        /// Outbound connection attempts, and those that failed before authenticating.
        public var dialAttempts: UInt64 = 0
        public var dialFailures: UInt64 = 0

        public init() {}
    }
}

/// Per-peer state (loop thread).
final class PeerLink {
    let id: UInt64
    var address: PeerTransport.PeerAddress
    /// The established connection, if any.
    var active: PeerConnection?
    /// Our own outbound connection while it handshakes.
    var dialing: PeerConnection?
    /// True from `TCPConnection.connect` until our dial is established or has failed.
    var isDialing = false
    /// Identifies the current dial (a completion for an older one is ignored).
    var dialGeneration: UInt64 = 0
    var reconnectTimer: LoopTimer
    var failedDials = 0
    /// `onPeerUp` was the last of up/down reported.
    var reportedUp = false
    var everUp = false
    /// When a frame last arrived over a connection of this link that has since closed
    /// (loop milliseconds); the open connection keeps its own.
    var heardBeforeAtMilliseconds: UInt64?
    var stats = PeerTransport.PeerStats()

    init(id: UInt64, address: PeerTransport.PeerAddress, loop: EventLoop) {
        self.id = id
        self.address = address
        reconnectTimer = LoopTimer(loop: loop)
    }
}
