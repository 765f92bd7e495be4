import Transport

/// One client connection of the API server: parses requests (keep-alive, pipelining),
/// dispatches them, and writes the answers strictly in request order. Loop thread only.
/// The bytes come from a `ByteStream`: plain TCP, or TLS over it (`APIServer.TLS`).
///
/// Bounds: at most `pipelinedRequestsMax` requests dispatched at once (more wait parsed,
/// and reading pauses); reading also pauses while more than `writeBacklogBytesMax` bytes
/// wait for the client to read them. A parse failure is answered with its status (a
/// `Status` body) after the answers before it, then the connection closes, lingering while
/// what the client still sends is read and dropped (at most `drainBytesMax`), so closing
/// does not reset the connection under the answer.
final class APIConnection {
    let stream: any ByteStream
    private weak var server: APIServer?
    private let limits: APIServer.Limits
    private let parser: HTTPRequestParser
    /// Exchanges in request order; the first is the one being written.
    private var exchanges: [APIExchange] = []
    /// Parsed requests not yet dispatched (beyond `pipelinedRequestsMax`), and a parse
    /// failure to answer after them.
    private var undispatched: [Pending] = []
    private enum Pending {
        case request(HTTPRequest)
        case failure(HTTPRequestParser.Failure)
    }
    private var pumping = false
    private var pumpAgain = false
    /// Last time the client sent bytes or an answer finished, loop milliseconds.
    private var lastActivityMilliseconds: UInt64
    /// False once no further request will be read (a `Connection: close` request, a parse
    /// failure, the server closing).
    private var acceptsRequests = true
    /// Set once the client's further bytes are only drained: (deadline, bytes drained).
    private var drain: (deadlineMilliseconds: UInt64, bytes: Int)?
    /// When bytes of a request not yet complete started arriving, loop milliseconds.
    private var partialSinceMilliseconds: UInt64?
    /// Set once the connection closes after its last answer.
    private var closing = false
    /// Bytes read and dropped because no further request is taken.
    private var ignoredBytes = 0
    private(set) var isClosed = false
    /// After an upgrade request: the client's bytes that followed it, kept for the stream the
    /// connection may be joined to (at most `upgradeEarlyBytesMax`).
    private var upgradeEarly: [UInt8]?
    /// Once an upgrade was accepted: the connection carries bytes to and from another stream
    /// and no longer speaks HTTP.
    private var tunnel: StreamTunnel?

    /// Bytes a client may send after an upgrade request before it is answered.
    static let upgradeEarlyBytesMax = 64 << 10
    /// Bytes a tunnel holds for a slow reader before it stops reading from the other end.
    static let tunnelBacklogBytesMax = 1 << 20

    init(stream: any ByteStream, server: APIServer, limits: APIServer.Limits, nowMilliseconds: UInt64) {
        self.stream = stream
        self.server = server
        self.limits = limits
        parser = HTTPRequestParser(limits: limits.request)
        lastActivityMilliseconds = nowMilliseconds
    }

    func start() {
        stream.onClose = { [weak self] _ in self?.closed() }
        stream.onData = { [weak self] bytes in self?.received(bytes) }
    }

    var pendingWriteBytes: Int { stream.pendingWriteBytes }
    /// The client's certificate, when it presented one that chains to the cluster CA (the
    /// TLS handshake fails for one that does not): such a client is authenticated.
    var clientIdentity: TLSPeerIdentity? { (stream as? TLSStream)?.peerIdentity }
    func isHead(_ exchange: APIExchange) -> Bool { exchanges.first === exchange }

    // MARK: Reading

    private func received(_ bytes: [UInt8]) {
        guard let server, !isClosed else { return }
        lastActivityMilliseconds = server.loop.nowMilliseconds
        if upgradeEarly != nil {
            upgradeEarly! += bytes
            if upgradeEarly!.count > Self.upgradeEarlyBytesMax { stream.abort(nil) }
            return
        }
        if var drain {
            drain.bytes += bytes.count
            self.drain = drain
            if drain.bytes > limits.drainBytesMax { stream.abort(nil) }
            return
        }
        guard acceptsRequests else {
            // After a `Connection: close` request: read only to notice the client leaving.
            ignoredBytes += bytes.count
            if ignoredBytes > limits.drainBytesMax { stream.abort(nil) }
            return
        }
        let requests: [HTTPRequest]
        do {
            requests = try parser.feed(bytes)
        } catch {
            fail(error)
            pump()
            return
        }
        // A request must arrive whole within the request timeout (no trickling headers
        // or bodies to hold a connection forever).
        if requests.isEmpty {
            if partialSinceMilliseconds == nil { partialSinceMilliseconds = lastActivityMilliseconds }
        } else {
            partialSinceMilliseconds = nil
        }
        for request in requests where acceptsRequests {
            undispatched.append(.request(request))
            if !request.keepAlive { acceptsRequests = false }  // what follows is not read
            if request.upgrade { upgradeEarly = parser.upgradeRemainder ?? [] }  // nor parsed as HTTP
        }
        if acceptsRequests, let failure = parser.failure { fail(failure) }
        pump()
    }

    /// Queues the answer to a parse failure after the requests already parsed (so their
    /// answers go first); the connection closes once it is written.
    private func fail(_ failure: HTTPRequestParser.Failure) {
        guard acceptsRequests else { return }
        acceptsRequests = false
        server?.stats.parseFailures += 1
        undispatched.append(.failure(failure))
    }

    // MARK: Dispatching and writing

    /// An exchange has bytes or has finished: write what is at the head, in order.
    func exchangeProduced(_ exchange: APIExchange) {
        guard !isClosed, exchanges.first === exchange else { return }
        pump()
    }

    /// Writes finished answers in order and dispatches waiting requests, until neither makes
    /// progress. Handlers may answer synchronously, which calls back in here: the nested call
    /// only asks for another round, so the stack never grows with the number of requests.
    private func pump() {
        if pumping {
            pumpAgain = true
            return
        }
        pumping = true
        repeat {
            pumpAgain = false
            writeHead()
            if isClosed || closing || drain != nil { break }
            dispatchSome()
        } while pumpAgain
        pumping = false
        updateReading()
    }

    private func writeHead() {
        guard let server else { return }
        while let head = exchanges.first {
            for bytes in head.takeOutput() { stream.write(bytes) }
            guard head.state == .finished || head.state == .cancelled || head.state == .upgraded else { return }
            exchanges.removeFirst()
            server.exchangeFinished(head)
            lastActivityMilliseconds = server.loop.nowMilliseconds
            if let peer = head.takeUpgradePeer() { return join(peer) }
            if !head.keepsAlive {
                closeAfterWriting(linger: head.closeAfter)
                return
            }
        }
    }

    /// Dispatches parsed requests while fewer than the limit are in flight and the client
    /// keeps up with reading.
    private func dispatchSome() {
        guard let server else { return }
        while !undispatched.isEmpty && exchanges.count < limits.pipelinedRequestsMax
                && stream.pendingWriteBytes <= limits.writeBacklogBytesMax && !isClosed && !closing && drain == nil {
            let next = undispatched.removeFirst()
            let request: HTTPRequest
            switch next {
            case .request(let parsed): request = parsed
            case .failure: request = HTTPRequest(method: "", path: "", keepAlive: false)
            }
            let exchange = APIExchange(request: request, nowMilliseconds: server.loop.nowMilliseconds,
                                       timeoutMilliseconds: limits.requestTimeoutMilliseconds)
            exchange.connection = self
            exchanges.append(exchange)
            switch next {
            case .request: server.dispatch(exchange)
            case .failure(let failure):
                exchange.respond(APIResponses.status(failure.status, nil, failure.reason), closeConnection: true)
            }
        }
    }

    private func updateReading() {
        guard !isClosed, tunnel == nil else { return }
        let wanted = drain != nil
            || (acceptsRequests && undispatched.isEmpty && exchanges.count < limits.pipelinedRequestsMax
                && stream.pendingWriteBytes <= limits.writeBacklogBytesMax)
            // Keep reading behind a stream or a last request, to notice the client leaving.
            || exchanges.contains(where: \.isStreaming) || (!acceptsRequests && !exchanges.isEmpty)
        if wanted && stream.onData == nil {
            stream.onData = { [weak self] bytes in self?.received(bytes) }
        } else if !wanted && stream.onData != nil {
            stream.onData = nil
        }
    }

    /// Stops taking requests and closes once the answers are written. After a failure
    /// (`linger`), the client may still be sending what we refused to read: drain it until
    /// the client closes, falls quiet, or the linger ends, so closing with unread bytes does
    /// not reset the connection under the answer.
    private func closeAfterWriting(linger: Bool) {
        acceptsRequests = false
        let rest = exchanges
        exchanges = []
        undispatched = []
        for exchange in rest {
            exchange.cancel()
            server?.exchangeFinished(exchange)
        }
        guard linger, let server else {
            closing = true
            return stream.close()
        }
        drain = (server.loop.nowMilliseconds + UInt64(limits.lingerMilliseconds), 0)
    }

    /// Joins the connection to `peer` for good: an upgrade request was the last request read
    /// (nothing after it was parsed), so only its exchange was in flight.
    private func join(_ peer: any ByteStream) {
        assert(exchanges.isEmpty && undispatched.isEmpty, "an upgrade request is the connection's last request")
        let tunnel = StreamTunnel(client: stream, peer: peer, backlogBytesMax: Self.tunnelBacklogBytesMax)
        self.tunnel = tunnel
        let early = upgradeEarly ?? []
        upgradeEarly = nil
        stream.onData = nil
        tunnel.start(early: early)
    }

    // MARK: Time and closing

    /// Called by the server's sweep timer: request timeouts, stream ends, idleness, linger,
    /// and resuming reads once the client caught up.
    func sweep(now: UInt64) {
        guard !isClosed, let server else { return }
        if let tunnel { return tunnel.sweep() }  // a joined stream has no HTTP timeouts
        if let drain {
            let quiet = stream.pendingWriteBytes == 0 && now >= lastActivityMilliseconds + UInt64(limits.lingerQuietMilliseconds)
            if quiet || now >= drain.deadlineMilliseconds { stream.close() }
            return
        }
        for exchange in exchanges {
            if exchange.isWaiting && now >= exchange.deadlineMilliseconds {
                server.stats.requestTimeouts += 1
                exchange.respond(APIResponses.status(
                    504, "Timeout", "the request did not complete within \(limits.requestTimeoutMilliseconds) ms; a write may still be applied"))
            } else if exchange.isStreaming, let end = exchange.streamDeadlineMilliseconds, now >= end {
                exchange.endStream()
            }
        }
        if let since = partialSinceMilliseconds, acceptsRequests,
           now >= since + UInt64(limits.requestTimeoutMilliseconds) {
            partialSinceMilliseconds = nil
            fail(HTTPRequestParser.Failure(
                status: 408, reason: "the request did not arrive within \(limits.requestTimeoutMilliseconds) ms"))
        }
        if exchanges.isEmpty && undispatched.isEmpty
            && now >= lastActivityMilliseconds + UInt64(limits.idleTimeoutMilliseconds) {
            stream.close()
            return
        }
        pump()  // resumes dispatching and reading once the client has read its answers
    }

    /// Closes at once (server shutdown): in-flight work is cancelled.
    func close() {
        acceptsRequests = false
        stream.close()
    }

    private func closed() {
        guard !isClosed else { return }
        isClosed = true
        stream.onData = nil
        tunnel?.end()
        if let failure = (stream as? TLSStream)?.failure { server?.tls?.noteFailure(failure) }
        let pending = exchanges
        exchanges = []
        undispatched = []
        for exchange in pending {
            exchange.cancel()
            server?.exchangeFinished(exchange)
        }
        server?.connectionClosed(self)
    }
}
