import JSON
import Store
import Transport

/// Watches: `GET <collection>?watch=true`, answered as a chunked stream of JSON lines,
/// `{"type":"ADDED|MODIFIED|DELETED","object":{...}}\n`, as Kubernetes does.
extension APIServer {
    func startWatch(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        let query = exchange.request.query
        guard let selector = labelSelector(exchange), let stale = readConsistency(exchange) else { return }
        let version = query["resourceVersion"].flatMap(Store.parseResourceVersion)
        var timeoutSeconds = limits.watchTimeoutSecondsMax
        if let text = query["timeoutSeconds"], !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0 else {
                return exchange.respond(APIResponses.badRequest("timeoutSeconds: Invalid value: \"\(text)\": must be a whole number of seconds"))
            }
            if seconds > 0 { timeoutSeconds = min(seconds, timeoutSeconds) }
        }
        guard watchCount < limits.watchesMax else {
            return exchange.respond(APIResponses.status(429, "TooManyRequests", "too many watches on this member (\(limits.watchesMax)); retry later"))
        }
        watchCount += 1
        stats.watchesStarted += 1
        let filter = WatchFilter(kind: resource.kind, namespace: resource.namespace, selector: selector)
        let stream = WatchStream(server: self, exchange: exchange, filter: filter, timeoutSeconds: timeoutSeconds)
        exchange.onEnd = {
            stream.stop()
            self.watchCount -= 1
        }
        if let version, version > 0 {
            // Every change after `version`: no barrier needed, the backlog and the live
            // events that follow cover everything after it, however far behind this member is.
            stream.begin(after: version, service)
        } else {
            // No version: the current objects, as of a linearizable read unless the client
            // accepts this member's state as it is (`resourceVersion=0`, `consistency=stale`).
            afterReadBarrier(exchange, service, stale: stale) { service in stream.beginWithCurrentObjects(service) }
        }
    }
}

/// One watch stream: its initial events (a backlog, or the current objects as ADDED), then
/// the live events of every entry applied, filtered, never duplicated, never dropped.
///
/// No duplicates, no gaps: everything with a resourceVersion up to `watermark` has been
/// sent (or filtered out); a live delivery only sends events above it. The initial events
/// and the subscription are taken in the same loop turn, so no entry applies in between.
/// If the member's history restarts beyond the watermark (a snapshot was installed under
/// the stream), the stream ends with an ERROR event (410): the client must re-list.
final class WatchStream {
    private weak var server: APIServer?
    private let exchange: APIExchange
    private let filter: WatchFilter
    private let timeoutSeconds: Int
    private var subscription: WatchSubscription?
    /// Every change up to this resourceVersion has been handled.
    private var watermark: UInt64 = 0
    /// Bytes the stream may hold unread before the client counts as too slow.
    private var bufferBytesMax = 0
    private var stopped = false

    init(server: APIServer, exchange: APIExchange, filter: WatchFilter, timeoutSeconds: Int) {
        self.server = server
        self.exchange = exchange
        self.filter = filter
        self.timeoutSeconds = timeoutSeconds
    }

    /// Starts with the changes after `version` (410 if the history no longer has them).
    func begin(after version: UInt64, _ service: ClusterService) {
        guard exchange.isWaiting else { return }
        let store = service.store
        let backlog: [WatchEvent]
        do {
            backlog = try store.events(since: version, filter)
        } catch {
            return exchange.respond(APIResponses.status(410, "Expired", error.description))
        }
        // A version ahead of this member (it lags the leader): live events up to it are old news.
        watermark = max(version, store.revision)
        start(backlog, service)
    }

    /// Starts with one ADDED event per current object, as of the store's revision.
    func beginWithCurrentObjects(_ service: ClusterService) {
        guard exchange.isWaiting else { return }
        let (items, revision) = service.store.list(filter.kind, namespace: filter.namespace, selector: filter.selector)
        watermark = revision
        start(items.map { WatchEvent(type: .added, object: $0) }, service)
    }

    private func start(_ initial: [WatchEvent], _ service: ClusterService) {
        guard let server else { return }
        exchange.streamDeadlineMilliseconds = server.loop.nowMilliseconds + UInt64(timeoutSeconds) * 1000
        exchange.startStream(status: 200, headers: [APIResponses.jsonContentType])
        let bytes = Self.encode(initial)
        // The initial events are as large as a list answer would be; the bound is on what
        // piles up after them.
        bufferBytesMax = bytes.count + server.limits.watchBufferBytesMax
        exchange.send(bytes)
        server.stats.watchEventsSent += UInt64(initial.count)
        subscription = service.subscribe { [weak self] events in self?.deliver(events) ?? false }
    }

    /// A live delivery (one applied entry's events, or an empty nudge). False: unsubscribe.
    private func deliver(_ events: [WatchEvent]) -> Bool {
        guard !stopped, exchange.isStreaming, let server, let service = server.service else { return false }
        if service.store.oldestWatchableRevision > watermark {
            end(code: 410, reason: "Expired", message: "too old resource version: \(watermark) (\(service.store.oldestWatchableRevision)): "
                + "this member's history restarted from a snapshot; re-list and watch again")
            return false
        }
        var selected: [WatchEvent] = []
        var newest = watermark
        for event in events where event.resourceVersion > watermark {
            newest = max(newest, event.resourceVersion)
            if let visible = event.filtered(by: filter) { selected.append(visible) }
        }
        watermark = newest
        if selected.isEmpty { return true }
        let bytes = Self.encode(selected)
        if exchange.bufferedBytes + bytes.count > bufferBytesMax {
            server.stats.watchesEvicted += 1
            end(code: 410, reason: "Expired", message: "the client reads this watch too slowly (more than "
                + "\(server.limits.watchBufferBytesMax) bytes waiting); re-list and watch again")
            return false
        }
        exchange.send(bytes)
        server.stats.watchEventsSent += UInt64(selected.count)
        return true
    }

    /// Ends the stream with an ERROR event carrying a `Status`, and closes the connection.
    private func end(code: Int, reason: String, message: String) {
        var line = Array("{\"type\":\"ERROR\",\"object\":".utf8)
        APIResponses.statusBody(code: code, reason: reason, message: message).serialize(into: &line)
        line += Array("}\n".utf8)
        exchange.send(line)
        exchange.endStream(closeConnection: true)
    }

    /// The exchange ended (the stream ended, timed out or the client left): unsubscribe.
    func stop() {
        stopped = true
        subscription?.cancel()
        subscription = nil
    }

    static func encode(_ events: [WatchEvent]) -> [UInt8] {
        var bytes: [UInt8] = []
        for event in events {
            bytes += Array("{\"type\":\"\(event.type.rawValue)\",\"object\":".utf8)
            event.object.json.serialize(into: &bytes)
            bytes += Array("}\n".utf8)
        }
        return bytes
    }
}
