import Transport

/// Header marking a request one member forwarded to another; a member that does not lead
/// refuses such a request instead of forwarding it again (no loops while leadership moves).
let forwardedHeader = "X-Shoal-Forwarded"

extension APIServer {
    /// Forwards the request to the leader and relays its answer; 503 (with `Retry-After`)
    /// when no leader is known, the leader cannot be reached, or the request was already
    /// forwarded once.
    func forwardToLeader(_ exchange: APIExchange, _ service: ClusterService) {
        if exchange.request.header(forwardedHeader) != nil {
            return exchange.respond(APIResponses.status(
                503, "ServiceUnavailable", "this member does not lead and the request was already forwarded once; leadership is changing, retry"))
        }
        guard let leader = service.leaderAPIEndpoint else {
            return exchange.respond(APIResponses.status(503, "ServiceUnavailable", "no leader is known yet; retry"))
        }
        stats.forwarded += 1
        LeaderForwarder(server: self, exchange: exchange, host: leader.host, port: leader.port).start()
    }
}

/// One forwarded request: an HTTP/1.1 client on the loop (one connection per request,
/// `Connection: close`), whose answer is relayed to the waiting exchange. If the exchange
/// ends first (request timeout, client gone), the upstream connection is aborted.
///
/// It speaks as the clients do (`APIServer.forwardingConnector`): over TLS it verifies the
/// leader's certificate against the cluster CA and the leader's address, and presents this
/// member's certificate, which authenticates the request at the leader whether the client
/// used a bearer token (relayed too) or a client certificate (which cannot be relayed).
/// One handshake per forwarded request: cluster operations are rare, and object writes go
/// to the leader over the peer connection instead.
final class LeaderForwarder {
    /// Hop-by-hop headers (RFC 9110 section 7.6.1) and the framing headers this side sets itself.
    static let headersNotRelayed: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "content-length", "host", "proxy-authorization", "proxy-authenticate", "x-shoal-forwarded",
    ]

    private weak var server: APIServer?
    private let exchange: APIExchange
    private let host: String
    private let port: UInt16
    private let parser: HTTPParser
    private var connection: (any ByteStream)?
    private var finished = false

    init(server: APIServer, exchange: APIExchange, host: String, port: UInt16) {
        self.server = server
        self.exchange = exchange
        self.host = host
        self.port = port
        var limits = HTTPParser.Limits()
        limits.bodyBytesMax = server.limits.forwardResponseBytesMax
        parser = HTTPParser(.response, limits: limits)
    }

    func start() {
        guard let server else { return }
        exchange.onEnd = { [weak self] in self?.abandon() }
        let local = server.host == "0.0.0.0" || server.host == "::" ? nil : server.host
        server.forwardingConnector.connect(loop: server.loop, host: host, port: port, localHost: local,
                                           timeoutMilliseconds: server.limits.requestTimeoutMilliseconds) { result in
            switch result {
            case .success(let connection): self.connected(connection)
            case .failure(let error): self.fail("cannot reach the leader at \(self.endpoint): \(error)")
            }
        }
    }

    private var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private func connected(_ connection: any ByteStream) {
        guard !finished else { return connection.abort(nil) }
        self.connection = connection
        connection.onClose = { _ in self.upstreamClosed() }
        connection.onData = { bytes in self.received(bytes) }
        connection.write(requestBytes())
    }

    /// The request as sent to the leader: same method, target, headers and body, framed
    /// by this side, marked as forwarded.
    private func requestBytes() -> [UInt8] {
        let request = exchange.request
        var head = "\(request.method) \(request.target) HTTP/1.1\r\nHost: \(endpoint)\r\n"
        for (name, value) in request.headers where !Self.headersNotRelayed.contains(name) {
            head += "\(name): \(value)\r\n"
        }
        head += "\(forwardedHeader): 1\r\nContent-Length: \(request.body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + request.body
    }

    private func received(_ bytes: [UInt8]) {
        guard !finished else { return }
        do {
            if let answer = try parser.feed(bytes).first { relay(answer) }
        } catch {
            fail("the leader at \(endpoint) sent a malformed answer: \(error.reason)", status: 502)
        }
    }

    private func upstreamClosed() {
        guard !finished else { return }
        // An answer framed by the connection's end.
        if let answer = try? parser.finish().first { return relay(answer) }
        // The request went out: the leader may have carried it out before it went away.
        fail("the leader at \(endpoint) closed the connection without answering; a write may still be applied: read before retrying",
             status: 504)
    }

    private func relay(_ answer: HTTPParser.Message) {
        finished = true
        connection?.abort(nil)
        connection = nil
        let headers = answer.headers.filter { !Self.headersNotRelayed.contains($0.name) }
        exchange.respond(HTTPResponse(status: answer.status, headers: headers, body: answer.body))
    }

    private func fail(_ message: String, status: Int = 503) {
        guard !finished else { return }
        finished = true
        connection?.abort(nil)
        connection = nil
        server?.stats.forwardFailures += 1
        let reason = status == 503 ? "ServiceUnavailable" : status == 504 ? "Timeout" : "InternalError"
        exchange.respond(APIResponses.status(status, reason, message))
    }

    /// The exchange ended before the leader answered: drop the upstream request.
    private func abandon() {
        finished = true
        connection?.abort(nil)
        connection = nil
    }
}
