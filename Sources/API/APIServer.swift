import JSON
import Store
import Transport

/// The member's HTTP/1.1 API server (routes: `APIRoute.swift`), on the member's event loop.
/// Loop thread only: create it there, and every request is handled there, against a
/// `ClusterService` whose completions also come back there.
///
/// Everything a client can make it hold is bounded (`Limits`): connections, header and body
/// bytes, requests in flight per connection, bytes waiting for a slow reader, watches and
/// the bytes each may buffer, forwarded responses. A client that breaks the protocol gets a
/// `Status` answer and a closed connection; nothing it sends can crash the member.
///
/// With `tls` (the default for a member) every connection speaks HTTPS (`APIServer.TLS`),
/// and a client certificate that chains to the cluster CA authenticates its requests as a
/// bearer token does; without it, plain HTTP (`shoal agent --insecure-http`, for debugging).
///
/// Like `TCPServer`, it keeps itself alive while it listens: call `close()` to stop it.
/// It does not retain the service (the member usually owns both); requests that arrive
/// after the service is gone are answered 503.
public final class APIServer {
    /// Bounds, each with its unit last.
    public struct Limits: Sendable {
        /// Open client connections; more are answered 503 and closed.
        public var connectionsMax = 1_024
        /// Request head and body (the body bound is Kubernetes' 3 MiB request limit).
        public var request: HTTPParser.Limits
        /// Requests of one connection dispatched but not yet answered (pipelining); more are
        /// held parsed, and the connection is not read until some are answered.
        public var pipelinedRequestsMax = 16
        /// Answer bytes a connection may hold unread by its client before it stops reading
        /// (and so stops taking requests) from it.
        public var writeBacklogBytesMax = 16 << 20
        /// A connection with no request in flight is closed after this much silence.
        public var idleTimeoutMilliseconds = 90_000
        /// A request not answered within this is answered 504 (a watch: until it starts).
        public var requestTimeoutMilliseconds = 30_000
        /// Open watch streams on this member; more are answered 429.
        public var watchesMax = 1_000
        /// Bytes of live events one watch may hold for a client that does not read them
        /// (beyond its initial snapshot), before it is ended with a 410 ERROR event and
        /// disconnected.
        public var watchBufferBytesMax = 8 << 20
        /// Longest a watch stream lasts (`timeoutSeconds` may ask for less), in seconds.
        public var watchTimeoutSecondsMax = 1_800
        /// Largest answer accepted from the leader for a forwarded request, in bytes.
        public var forwardResponseBytesMax = 16 << 20
        /// After a failure answer that closes the connection, the client's further input
        /// is drained before closing, so the close does not reset the connection under the
        /// answer: for at most this long, ...
        public var lingerMilliseconds = 2_000
        /// ... or until the client has been quiet this long once the answer is written, ...
        public var lingerQuietMilliseconds = 200
        /// ... and for at most this many bytes (also the bound on bytes read and dropped
        /// after a `Connection: close` request).
        public var drainBytesMax = 1 << 20
        /// How often deadlines (timeouts, idleness) are checked: their resolution.
        public var sweepIntervalMilliseconds = 100

        public init() {
            request = HTTPParser.Limits()
            request.bodyBytesMax = 3 << 20
        }
    }

    /// Counters for `/metrics` (see `writeMetrics(into:)`).
    public struct Stats: Sendable {
        /// Client connections taken.
        public internal(set) var connectionsAccepted: UInt64 = 0
        /// Client connections refused at `connectionsMax` (answered 503).
        public internal(set) var connectionsRejected: UInt64 = 0
        /// Requests that were malformed, too large, or did not arrive in time.
        public internal(set) var parseFailures: UInt64 = 0
        /// Requests without a valid bearer token (401).
        public internal(set) var unauthorized: UInt64 = 0
        /// Requests answered 504.
        public internal(set) var requestTimeouts: UInt64 = 0
        /// Object reads served from this member's store at once.
        public internal(set) var staleReads: UInt64 = 0
        /// Object reads that waited for the linearizable read barrier.
        public internal(set) var linearizableReads: UInt64 = 0
        /// Requests forwarded to the leader.
        public internal(set) var forwarded: UInt64 = 0
        /// Forwarded requests the leader did not answer (unreachable, malformed answer).
        public internal(set) var forwardFailures: UInt64 = 0
        /// Watch streams accepted.
        public internal(set) var watchesStarted: UInt64 = 0
        /// Watch streams ended because their client read too slowly.
        public internal(set) var watchesEvicted: UInt64 = 0
        /// Watch events sent, initial ones included.
        public internal(set) var watchEventsSent: UInt64 = 0
        /// Answers by method ("GET", "POST", "PUT", "DELETE", "other") and status code.
        public internal(set) var responses: [String: [Int: UInt64]] = [:]
        /// Time from dispatch to answer of requests that are not streams, in seconds.
        public internal(set) var requestDuration = MetricsHistogram()
    }

    public let loop: EventLoop
    /// The address it listens on; forwarded requests leave from it too.
    public let host: String
    public let limits: Limits
    /// The port actually bound (the ephemeral one when 0 was asked for).
    public let boundPort: UInt16
    public internal(set) var stats = Stats()
    /// Open client connections.
    public var connectionCount: Int { connections.count }
    /// Open watch streams (and watches waiting to start).
    public internal(set) var watchCount = 0
    /// Store views kept for the next pages of paginated lists (`APIServer+List.swift`).
    var listPages = ListPages()
    /// HTTPS settings (nil: plain HTTP). The member swaps its contexts when it renews its
    /// certificate; connections already open keep the one they started with.
    public let tls: TLS?

    weak var service: ClusterService?
    private var listener: TCPServer?
    private var sweepTimer: LoopTimer?
    private var connections: [ObjectIdentifier: APIConnection] = [:]

    /// Listens on `host:port` (port 0: an ephemeral port, see `boundPort`); speaks HTTPS
    /// with `tls`, plain HTTP without.
    public init(loop: EventLoop, host: String, port: UInt16, service: ClusterService,
                limits: Limits = Limits(), tls: TLS? = nil) throws(UVError) {
        loop.assertOnLoopThread("APIServer.init")
        precondition(limits.connectionsMax >= 1 && limits.pipelinedRequestsMax >= 1 && limits.sweepIntervalMilliseconds >= 1,
                     "APIServer limits must allow a connection, a request and a sweep: \(limits)")
        self.loop = loop
        self.host = host
        self.limits = limits
        self.service = service
        self.tls = tls
        let listener = try TCPServer(loop: loop, host: host, port: port)
        self.listener = listener
        boundPort = listener.boundPort
        listener.onConnection = { connection in self.accept(connection) }
        let timer = LoopTimer(loop: loop)
        sweepTimer = timer
        timer.start(afterMilliseconds: limits.sweepIntervalMilliseconds, repeatMilliseconds: limits.sweepIntervalMilliseconds) {
            self.sweep()
        }
    }

    /// Stops listening and closes every connection (watches end, forwarded requests are
    /// dropped). Idempotent.
    public func close() {
        loop.assertOnLoopThread("APIServer.close")
        listener?.close()
        listener = nil
        sweepTimer?.close()
        sweepTimer = nil
        for connection in connections.values { connection.close() }
    }

    // MARK: Connections

    private func accept(_ tcp: TCPConnection) {
        guard connections.count < limits.connectionsMax else {
            stats.connectionsRejected += 1
            // Over TLS the answer would cost a handshake the member cannot afford now: just close.
            if tls == nil {
                let busy = APIResponses.status(503, "ServiceUnavailable", "too many connections (\(limits.connectionsMax)); retry later")
                tcp.write(busy.serialized(keepAlive: false))
            }
            tcp.close()
            return
        }
        let stream: any ByteStream
        if let tls {
            do {
                stream = try TLSStream(tcp: tcp, context: tls.server, limits: tls.limits)
            } catch {
                tls.noteFailure(error)
                return tcp.abort(nil)
            }
        } else {
            stream = tcp
        }
        stats.connectionsAccepted += 1
        let connection = APIConnection(stream: stream, server: self, limits: limits, nowMilliseconds: loop.nowMilliseconds)
        connections[ObjectIdentifier(connection)] = connection
        connection.start()
    }

    func connectionClosed(_ connection: APIConnection) {
        connections[ObjectIdentifier(connection)] = nil
    }

    private func sweep() {
        let now = loop.nowMilliseconds
        for connection in Array(connections.values) { connection.sweep(now: now) }
    }

    /// Bookkeeping when an exchange leaves its connection (answered or abandoned).
    func exchangeFinished(_ exchange: APIExchange) {
        guard exchange.status != 0, !exchange.request.method.isEmpty else { return }
        let method = ["GET", "POST", "PUT", "DELETE"].contains(exchange.request.method) ? exchange.request.method : "other"
        stats.responses[method, default: [:]][exchange.status, default: 0] += 1
        if !exchange.streamed {
            stats.requestDuration.observe(Double(loop.nowMilliseconds &- exchange.startMilliseconds) / 1000)
        }
    }

    // MARK: Dispatch

    /// Routes one request: health, readiness and metrics need no token; everything else
    /// does, or a verified client certificate (checked before the route, as Kubernetes
    /// does, so probing paths reveals nothing).
    func dispatch(_ exchange: APIExchange) {
        let request = exchange.request
        let route = APIRoute(path: request.path)
        let open = route == .health || route == .readiness || route == .metrics
        guard let service else {
            return exchange.respond(APIResponses.status(503, "ServiceUnavailable", "the member is shutting down"))
        }
        if !open && exchange.connection?.clientIdentity == nil
            && !BearerToken.authorizes(request.header("authorization"), token: service.apiToken) {
            stats.unauthorized += 1
            var response = APIResponses.status(401, "Unauthorized", "Unauthorized")
            response.headers.append(("WWW-Authenticate", "Bearer"))
            return exchange.respond(response)
        }
        guard let route else { return exchange.respond(APIResponses.notFound()) }
        switch route {
        case .health, .readiness:
            guard request.method == "GET" else { return exchange.respond(APIResponses.methodNotAllowed(request.method, request.path)) }
            let (ok, detail) = route == .health ? service.health() : service.readiness()
            let body = ok ? "ok" : (detail + ["\(route == .health ? "healthz" : "readyz") check failed"]).joined(separator: "\n") + "\n"
            exchange.respond(APIResponses.text(ok ? 200 : 503, body))
        case .metrics:
            guard request.method == "GET" else { return exchange.respond(APIResponses.methodNotAllowed(request.method, request.path)) }
            exchange.respond(APIResponses.text(200, service.metricsText(), contentType: APIResponses.metricsContentType))
        case .discovery(let path):
            guard request.method == "GET" else { return exchange.respond(APIResponses.methodNotAllowed(request.method, request.path)) }
            exchange.respond(APIDiscovery.response(path, clusterVersion: service.store.clusterVersion))
        case .version:
            guard request.method == "GET" else { return exchange.respond(APIResponses.methodNotAllowed(request.method, request.path)) }
            exchange.respond(APIDiscovery.version())
        case .openAPI(let path):
            guard request.method == "GET" else { return exchange.respond(APIResponses.methodNotAllowed(request.method, request.path)) }
            serveOpenAPI(exchange, path)
        case .objects(let resource):
            serveObjects(exchange, resource, service)
        case .cluster(let path):
            serveCluster(exchange, path, service)
        case let .podLog(namespace, name):
            servePodLog(exchange, namespace: namespace, name: name, service)
        case let .podStream(namespace, name, kind):
            servePodStream(exchange, namespace: namespace, name: name, kind: kind, service)
        }
    }

    // MARK: Metrics

    /// Appends the API server's own metric families (`shoal_api_*`) for the member's `/metrics`.
    public func writeMetrics(into metrics: inout MetricsText) {
        var samples: [(labels: [(String, String)], value: Double)] = []
        for method in stats.responses.keys.sorted() {
            for (code, count) in stats.responses[method]!.sorted(by: { $0.key < $1.key }) {
                samples.append(([("method", method), ("code", String(code))], Double(count)))
            }
        }
        metrics.counter("shoal_api_requests_total", help: "HTTP requests answered, by method and status code.", samples: samples)
        metrics.histogram("shoal_api_request_duration_seconds",
                          help: "Time from a request's arrival to its answer (watches excluded).", stats.requestDuration)
        metrics.gauge("shoal_api_connections", help: "Open API client connections.", value: Double(connections.count))
        metrics.counter("shoal_api_connections_rejected_total", help: "Connections refused at the connection limit.",
                        value: Double(stats.connectionsRejected))
        metrics.counter("shoal_api_parse_failures_total", help: "Malformed or oversized requests.", value: Double(stats.parseFailures))
        metrics.counter("shoal_api_unauthorized_total", help: "Requests without a valid bearer token.", value: Double(stats.unauthorized))
        metrics.counter("shoal_api_request_timeouts_total", help: "Requests answered 504.", value: Double(stats.requestTimeouts))
        metrics.counter("shoal_api_reads_total", help: "Object reads, by consistency.",
                        samples: [([("consistency", "linearizable")], Double(stats.linearizableReads)),
                                  ([("consistency", "stale")], Double(stats.staleReads))])
        metrics.counter("shoal_api_forwarded_total", help: "Requests forwarded to the leader.", value: Double(stats.forwarded))
        metrics.counter("shoal_api_forward_failures_total", help: "Forwarded requests the leader did not answer.",
                        value: Double(stats.forwardFailures))
        metrics.gauge("shoal_api_watches", help: "Open watch streams.", value: Double(watchCount))
        metrics.counter("shoal_api_watches_started_total", help: "Watch streams started.", value: Double(stats.watchesStarted))
        metrics.counter("shoal_api_watches_evicted_total", help: "Watch streams ended because the client read too slowly.",
                        value: Double(stats.watchesEvicted))
        metrics.counter("shoal_api_watch_events_total", help: "Watch events sent.", value: Double(stats.watchEventsSent))
    }
}

/// Bearer-token checks in time independent of where the tokens differ.
enum BearerToken {
    /// Whether `header` is `Bearer <token>`. An empty configured token authorizes nothing.
    static func authorizes(_ header: String?, token: String) -> Bool {
        guard !token.isEmpty, let header else { return false }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)  // the scheme is case-insensitive (RFC 7235)
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 }) else { return false }
        return constantTimeEqual(Array(bytes[scheme.count...]), Array(token.utf8))
    }

    /// Compares every byte whatever the first difference; only the length leaks.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        difference |= a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
