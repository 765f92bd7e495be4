import JSON
import Store
import Transport

/// Watches: `GET <collection>?watch=true`, answered as a chunked stream of JSON lines,
/// `{"type":"ADDED|MODIFIED|DELETED","object":{...}}\n`, as Kubernetes does.
extension APIServer {
    func startWatch(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        let query = exchange.request.query
        guard let selector = labelSelector(exchange), var fields = fieldSelector(exchange, resource.kind),
              let stale = readConsistency(exchange), let form = responseForm(exchange) else { return }
        if let name = resource.name {
            // A watch of one object (kubectl's older form): its collection, by name.
            guard let named = try? FieldSelector(parsing: "metadata.name=\(Self.escapeSelectorValue(name))," + fields.description,
                                                 kind: resource.kind) else {
                return exchange.respond(APIResponses.badRequest("cannot watch \(resource.description)"))
            }
            fields = named
        }
        let version = query["resourceVersion"].flatMap(Store.parseResourceVersion)
        var timeoutSeconds = limits.watchTimeoutSecondsMax
        if let text = query["timeoutSeconds"], !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0 else {
                return exchange.respond(APIResponses.badRequest("timeoutSeconds: Invalid value: \"\(text)\": must be a whole number of seconds"))
            }
            if seconds > 0 { timeoutSeconds = min(seconds, timeoutSeconds) }
        }
        let bookmarks = query["allowWatchBookmarks"] == "true"
        let sendInitialEvents: Bool
        switch query["sendInitialEvents"] {
        case nil, "", "false": sendInitialEvents = false
        case "true":
            guard query["resourceVersionMatch"] == "NotOlderThan" else {
                return exchange.respond(APIResponses.badRequest(
                    "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
            }
            sendInitialEvents = true
        case let other?:
            return exchange.respond(APIResponses.badRequest("sendInitialEvents: Invalid value: \(FieldError.quote(other)): must be true or false"))
        }
        guard watchCount < limits.watchesMax else {
            return exchange.respond(APIResponses.status(429, "TooManyRequests", "too many watches on this member (\(limits.watchesMax)); retry later"))
        }
        watchCount += 1
        stats.watchesStarted += 1
        let filter = WatchFilter(kind: resource.kind, namespace: resource.namespace, selector: selector, fields: fields)
        let stream = WatchStream(server: self, exchange: exchange, filter: filter, resource: resource, form: form,
                                 bookmarks: bookmarks || sendInitialEvents, timeoutSeconds: timeoutSeconds)
        exchange.onEnd = {
            stream.stop()
            self.watchCount -= 1
        }
        if sendInitialEvents {
            // A "watch list": the current objects (at least at `version`), then a bookmark
            // marking their end, then live changes.
            afterReadBarrier(exchange, service, stale: stale) { service in
                stream.beginWithCurrentObjects(service, initialEventsEnd: true)
            }
        } else if let version, version > 0 {
            // Every change after `version`: no barrier needed, the backlog and the live
            // events that follow cover everything after it, however far behind this member is.
            stream.begin(after: version, service)
        } else {
            // No version: the current objects, as of a linearizable read unless the client
            // accepts this member's state as it is (`resourceVersion=0`, `consistency=stale`).
            afterReadBarrier(exchange, service, stale: stale) { service in stream.beginWithCurrentObjects(service) }
        }
    }

    /// A value usable in a field selector term (`,`, `=`, `!` and `\` escaped).
    static func escapeSelectorValue(_ value: String) -> String {
        var out = ""
        for c in value {
            if c == "," || c == "=" || c == "!" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

/// One watch stream: its initial events (a backlog, or the current objects as ADDED), then
/// the live events of every entry applied, filtered, never duplicated, never dropped; each
/// object in the version the client watches through, or as a one-row Table (`kubectl get -w`).
/// With bookmarks allowed, a BOOKMARK event carries the stream's resourceVersion every
/// `bookmarkIntervalMilliseconds` that something was applied, so a client that restarts its
/// watch resumes from there instead of re-listing.
///
/// No duplicates, no gaps: everything with a resourceVersion up to `watermark` has been
/// sent (or filtered out); a live delivery only sends events above it. The initial events
/// and the subscription are taken in the same loop turn, so no entry applies in between.
/// If the member's history restarts beyond the watermark (a snapshot was installed under
/// the stream), the stream ends with an ERROR event (410): the client must re-list.
final class WatchStream {
    /// Least time between two bookmarks, in milliseconds.
    static let bookmarkIntervalMilliseconds: UInt64 = 10_000

    private weak var server: APIServer?
    private let exchange: APIExchange
    private let filter: WatchFilter
    private let resource: ResourcePath
    private let form: ResponseForm
    private let bookmarks: Bool
    private let timeoutSeconds: Int
    /// Whether a Table's column definitions were sent (only the first event carries them).
    private var sentColumns = false
    private var lastBookmarkMilliseconds: UInt64 = 0
    /// The resourceVersion of the last event or bookmark sent.
    private var lastSentVersion: UInt64 = 0
    private var subscription: WatchSubscription?
    /// Every change up to this resourceVersion has been handled.
    private var watermark: UInt64 = 0
    /// Bytes the stream may hold unread before the client counts as too slow.
    private var bufferBytesMax = 0
    private var stopped = false

    init(server: APIServer, exchange: APIExchange, filter: WatchFilter, resource: ResourcePath, form: ResponseForm,
         bookmarks: Bool, timeoutSeconds: Int) {
        self.server = server
        self.exchange = exchange
        self.filter = filter
        self.resource = resource
        self.form = form
        self.bookmarks = bookmarks
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

    /// Starts with one ADDED event per current object, as of the store's revision (then, for
    /// a watch list, a bookmark marking the end of them).
    func beginWithCurrentObjects(_ service: ClusterService, initialEventsEnd: Bool = false) {
        guard exchange.isWaiting else { return }
        let (items, revision) = service.store.list(filter)
        watermark = revision
        start(items.map { WatchEvent(type: .added, object: $0) }, service, initialEventsEnd: initialEventsEnd)
    }

    private func start(_ initial: [WatchEvent], _ service: ClusterService, initialEventsEnd: Bool = false) {
        guard let server else { return }
        exchange.streamDeadlineMilliseconds = server.loop.nowMilliseconds + UInt64(timeoutSeconds) * 1000
        exchange.startStream(status: 200, headers: [APIResponses.jsonContentType])
        var bytes = encode(initial)
        if initialEventsEnd { bytes += bookmark(watermark, initialEventsEnd: true) }
        lastBookmarkMilliseconds = server.loop.nowMilliseconds
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
        let oldest = service.store.oldestWatchableRevision(filter.kind)
        if oldest > watermark {
            end(code: 410, reason: "Expired", message: "too old resource version: \(watermark) (\(oldest)): "
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
        if selected.isEmpty {
            let now = server.loop.nowMilliseconds
            if bookmarks && watermark > lastSentVersion && now >= lastBookmarkMilliseconds + Self.bookmarkIntervalMilliseconds {
                lastBookmarkMilliseconds = now
                exchange.send(bookmark(watermark, initialEventsEnd: false))
            }
            return true
        }
        let bytes = encode(selected)
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

    /// The events as JSON lines, each object as the stream's form shows it.
    func encode(_ events: [WatchEvent]) -> [UInt8] {
        var bytes: [UInt8] = []
        for event in events {
            bytes += Array("{\"type\":\"\(event.type.rawValue)\",\"object\":".utf8)
            switch form {
            case .objects:
                // The object's shared text: every watch sends the same bytes, printed once.
                bytes += APIServer.text(event.object, resource)
            case .table(let version, let include):
                APITable.table([event.object], resource: resource, tableVersion: version, include: include,
                               list: ListMetadata(resourceVersion: event.resourceVersion), withColumns: !sentColumns)
                    .serialize(into: &bytes)
                sentColumns = true
            case .partialMetadata(let version):
                APITable.partialMetadata(event.object, version: version).serialize(into: &bytes)
            }
            bytes += Array("}\n".utf8)
            lastSentVersion = max(lastSentVersion, event.resourceVersion)
        }
        return bytes
    }

    /// A BOOKMARK event: an object of the watched kind carrying only `metadata.resourceVersion`
    /// (and, ending a watch list's initial events, the `k8s.io/initial-events-end` annotation).
    private func bookmark(_ version: UInt64, initialEventsEnd: Bool) -> [UInt8] {
        var metadata = JSONObject()
        metadata["resourceVersion"] = .string(String(version))
        if initialEventsEnd { metadata["annotations"] = .object(JSONObject([("k8s.io/initial-events-end", "true")])) }
        let object: JSONValue = .object(JSONObject([
            ("kind", .string(resource.kind.name)), ("apiVersion", .string(resource.apiVersion)), ("metadata", .object(metadata)),
        ]))
        var bytes = Array("{\"type\":\"BOOKMARK\",\"object\":".utf8)
        object.serialize(into: &bytes)
        bytes += Array("}\n".utf8)
        lastSentVersion = max(lastSentVersion, version)
        return bytes
    }
}
