/// Authenticated, ordered peer-to-peer messaging between cluster members: what Raft sends
/// and receives through. Loop thread only.
///
/// - One TCP connection per pair of members, both sides dialing (the one-connection rule
///   and the wire protocol are documented in `PeerWire`), reconnecting with capped
///   exponential backoff and jitter.
/// - Every frame is authenticated with keys derived from the cluster secret; a peer without
///   it can neither complete the handshake nor inject, replay or reorder a frame. Only
///   peers registered with `setPeer` are admitted.
/// - `send` never blocks: it queues on the peer's connection (bounded by
///   `Configuration.sendQueueBytesMax`) and returns false when it cannot (no connection,
///   queue full): Raft retransmits what is dropped. Everything queued during one loop
///   iteration goes out in one write per peer at the end of the iteration.
/// - Messages on one connection arrive in order, exactly once; across a reconnect some may
///   be lost, none duplicated or reordered.
///
/// Call `close()` when done; the loop's shutdown also closes everything.
public final class PeerTransport {
    /// Largest hello context a peer may send (and we may set).
    public static let helloContextBytesMax = 4096
    /// Shortest cluster secret accepted (it should be random: 32 bytes is good).
    public static let clusterSecretBytesMin = 16

    public let loop: EventLoop
    public let localID: UInt64
    /// The address this transport listens on, and dials from.
    public let listenHost: String
    public let configuration: Configuration
    /// Callbacks; may be replaced at any time (on the loop thread).
    public var handlers: Handlers
    /// Sent to peers in the handshake (e.g. the data directory's incarnation id); a change
    /// applies to connections set up afterwards.
    public var helloContext: [UInt8] {
        didSet { precondition(helloContext.count <= Self.helloContextBytesMax, "helloContext over \(Self.helloContextBytesMax) bytes") }
    }
    /// Random per transport: tells peers we restarted (the one-connection rule).
    public let instanceID: UInt64
    /// The port we listen on (the ephemeral one when `listenPort` was 0).
    public var listenPort: UInt16 { server.boundPort }
    /// Handshakes refused after authentication (unknown id, `acceptPeer`, the one-connection
    /// rule, too many pending), and connections that closed before being established (bad
    /// secret, malformed frames, timeouts, refusals by either side).
    public internal(set) var refusedHandshakes: UInt64 = 0
    public internal(set) var failedHandshakes: UInt64 = 0

    let secret: [UInt8]
    let server: TCPServer
    let flushCheck: LoopCheck
    let maintenanceTimer: LoopTimer
    var links: [UInt64: PeerLink] = [:]
    /// Connections not yet established (inbound and ours), by identity.
    var pending: [ObjectIdentifier: PeerConnection] = [:]
    /// Connections with frames queued since the last flush.
    var dirty: [PeerConnection] = []
    public private(set) var isClosed = false

    /// Listens on `listenHost:listenPort` and starts serving; dials peers as they are set.
    public init(
        loop: EventLoop, localID: UInt64, listenHost: String, listenPort: UInt16,
        clusterSecret: [UInt8], helloContext: [UInt8] = [], configuration: Configuration = Configuration(),
        handlers: Handlers = Handlers()
    ) throws(UVError) {
        loop.assertOnLoopThread("PeerTransport.init")
        precondition(localID != 0, "PeerTransport: node id 0 is reserved (\"unknown\" in HELLO)")
        precondition(helloContext.count <= Self.helloContextBytesMax, "helloContext over \(Self.helloContextBytesMax) bytes")
        precondition(configuration.reconnectDelayMinMilliseconds >= 1
                     && configuration.reconnectDelayMaxMilliseconds >= configuration.reconnectDelayMinMilliseconds,
                     "PeerTransport: reconnect delays must satisfy 1 <= min <= max")
        guard clusterSecret.count >= Self.clusterSecretBytesMin else {
            throw UVError(call: "PeerTransport.init (cluster secret under \(Self.clusterSecretBytesMin) bytes)",
                          code: UVError.invalidArgument)
        }
        self.loop = loop
        self.localID = localID
        self.listenHost = listenHost
        self.configuration = configuration
        self.handlers = handlers
        self.helloContext = helloContext
        self.secret = clusterSecret
        instanceID = PeerRandom.uint64()
        server = try TCPServer(loop: loop, host: listenHost, port: listenPort)
        flushCheck = LoopCheck(loop: loop)
        maintenanceTimer = LoopTimer(loop: loop)
        server.onConnection = { [weak self] connection in
            guard let self else { return connection.abort() }
            self.accepted(connection)
        }
        flushCheck.start { [weak self] in self?.flush() }
        let period = configuration.pingIntervalMilliseconds
        maintenanceTimer.start(afterMilliseconds: period, repeatMilliseconds: period) { [weak self] in
            self?.maintain()
        }
    }

    deinit {
        if !isClosed && loop.isOnLoopThread { tearDown() }
    }

    // MARK: Peers

    /// Registers (or moves) a peer and dials it. Registering our own id is ignored.
    public func setPeer(_ id: UInt64, host: String, port: UInt16) {
        loop.assertOnLoopThread("PeerTransport.setPeer")
        guard !isClosed, id != localID, id != 0 else { return }
        let address = PeerAddress(host: host, port: port)
        if let link = links[id] {
            link.address = address
            if link.active == nil && !link.isDialing {
                link.failedDials = 0
                link.reconnectTimer.stop()
                dial(link)
            }
            return
        }
        let link = PeerLink(id: id, address: address, loop: loop)
        links[id] = link
        dial(link)
    }

    /// Forgets a peer and closes its connections (no `onPeerDown`).
    public func removePeer(_ id: UInt64) {
        loop.assertOnLoopThread("PeerTransport.removePeer")
        guard let link = links.removeValue(forKey: id) else { return }
        link.reconnectTimer.close()
        link.active?.close()
        link.dialing?.close()
        for connection in pending.values where connection.remoteID == id { connection.close() }
    }

    /// The registered peers and their addresses.
    public var peers: [UInt64: PeerAddress] {
        loop.assertOnLoopThread("PeerTransport.peers")
        return links.mapValues(\.address)
    }

    /// Registered peers with an established connection, in ascending order.
    public var connectedPeers: [UInt64] {
        loop.assertOnLoopThread("PeerTransport.connectedPeers")
        return links.values.filter { $0.active != nil }.map(\.id).sorted()
    }

    public func isConnected(_ id: UInt64) -> Bool {
        loop.assertOnLoopThread("PeerTransport.isConnected")
        return links[id]?.active != nil
    }

    /// Milliseconds since a frame last arrived from peer `id` over any of its connections
    /// (pings are answered every `pingIntervalMilliseconds`, so a live peer's stays below about
    /// that plus a round trip); nil when nothing ever arrived or the peer is unknown.
    public func silenceMilliseconds(of id: UInt64) -> UInt64? {
        loop.assertOnLoopThread("PeerTransport.silenceMilliseconds")
        guard let link = links[id] else { return nil }
        guard let heard = link.active?.lastReceivedAtMilliseconds ?? link.heardBeforeAtMilliseconds else { return nil }
        let now = loop.nowMilliseconds
        return now >= heard ? now - heard : 0
    }

    /// The hello context the peer sent on its current connection.
    public func remoteContext(of id: UInt64) -> [UInt8]? {
        loop.assertOnLoopThread("PeerTransport.remoteContext")
        return links[id]?.active?.remoteContext
    }

    /// Counters per registered peer.
    public var stats: [UInt64: PeerStats] {
        loop.assertOnLoopThread("PeerTransport.stats")
        return links.mapValues { link in
            var stats = link.stats
            stats.connected = link.active != nil
            stats.queuedBytes = link.active?.queuedBytes ?? 0
            stats.remoteAddress = link.active?.connection.remoteAddress
            return stats
        }
    }

    // MARK: Sending

    /// Queues `payload` for peer `id`. False (dropped) when the peer is unknown or not
    /// connected, its queue would exceed `sendQueueBytesMax`, or the payload exceeds
    /// `frameBytesMax`. Never blocks; goes out at the end of this loop iteration.
    @discardableResult
    public func send(to id: UInt64, _ payload: [UInt8]) -> Bool {
        loop.assertOnLoopThread("PeerTransport.send")
        guard let link = links[id] else { return false }
        let frameBytes = PeerWire.headerBytes + payload.count + PeerWire.tagBytes
        guard let connection = link.active, connection.phase == .established,
              payload.count <= configuration.frameBytesMax,
              connection.queuedBytes + frameBytes <= configuration.sendQueueBytesMax else {
            link.stats.messagesDropped += 1
            return false
        }
        connection.appendFrame(.data, payload)
        link.stats.messagesOut += 1
        return true
    }

    // MARK: Closing

    /// Stops listening, closes every connection and timer. Idempotent; no `onPeerDown`.
    public func close() {
        loop.assertOnLoopThread("PeerTransport.close")
        tearDown()
    }

    private func tearDown() {
        if isClosed { return }
        isClosed = true
        server.close()
        flushCheck.close()
        maintenanceTimer.close()
        for link in links.values {
            link.reconnectTimer.close()
            link.active?.close()
            link.dialing?.close()
        }
        for connection in pending.values { connection.close() }
        links = [:]
        pending = [:]
        dirty = []
    }
}
