import JSON
import Store

/// Lists: label and field selectors, `resourceVersion`/`resourceVersionMatch`, and
/// pagination with `limit` and `continue`.
///
/// Pagination follows Kubernetes' contract: every page of one list shows the store at the
/// revision of the first page (the token carries it), whatever was written since. kube-
/// apiserver gets that from etcd's multi-version store; shoal keeps a view of its tables at
/// that revision (`StoreListView`, sharing storage with the live store) for
/// `ListPages.viewLifetimeMilliseconds`. A token older than that, or from another member
/// (views are per member), is answered 410 Expired, as Kubernetes answers a token whose
/// revision was compacted: the client lists again.
extension APIServer {
    /// Objects of a kind from which a list is gathered and rendered on a helper thread: a
    /// large answer (10,000 pods are 16 MB of JSON) would otherwise hold the loop for long
    /// enough to depose a leader (measured: 150-220 ms per list of 10,000 pods).
    static let backgroundListObjectsMin = 512

    func list(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        let query = exchange.request.query
        guard let read = readOptions(exchange), let form = responseForm(exchange),
              let selector = labelSelector(exchange), let fields = fieldSelector(exchange, resource.kind),
              let limit = integerParameter(exchange, "limit") else { return }
        let filter = WatchFilter(kind: resource.kind, namespace: resource.namespace, selector: selector, fields: fields)
        let pageSize = limit.present && limit.value > 0 ? Int(min(limit.value, Int64(ListPages.pageSizeMax))) : nil
        if let token = query["continue"], !token.isEmpty {
            guard let position = ListPages.Position(token: token) else {
                return exchange.respond(APIResponses.badRequest("continue: Invalid value: \(FieldError.quote(token)): not a continue token"))
            }
            guard let view = listPages.view(at: position.revision, now: loop.nowMilliseconds) else {
                return exchange.respond(APIResponses.status(
                    410, "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."))
            }
            return serve(ListQuery(view: view, filter: filter, after: position, pageSize: pageSize, resource: resource, form: form),
                         exchange, service)
        }
        if query["resourceVersionMatch"] == "Exact", let minimum = read.minimum {
            // An exact revision: the live store if it is there, or a view kept for pagination.
            let now = loop.nowMilliseconds
            let view: StoreListView
            if service.store.revision == minimum {
                view = service.store.listView
            } else {
                guard let kept = listPages.view(at: minimum, now: now) else {
                    return exchange.respond(APIResponses.status(410, "Expired", "too old resource version: \(minimum) (\(service.store.revision))"))
                }
                view = kept
            }
            return serve(ListQuery(view: view, filter: filter, after: nil, pageSize: pageSize, resource: resource, form: form),
                         exchange, service)
        }
        afterReadBarrier(exchange, service, stale: read.stale) { service in
            if let minimum = read.minimum, service.store.revision < minimum {
                return exchange.respond(Self.tooLargeResourceVersion(minimum, service.store.revision))
            }
            self.serve(ListQuery(view: service.store.listView, filter: filter, after: nil, pageSize: pageSize,
                                 resource: resource, form: form), exchange, service)
        }
    }

    /// Answers a list: on the loop when the kind has few objects, otherwise gathered and
    /// rendered on a helper thread (the view and the objects are immutable values), with the
    /// answer and the view to keep for the next page handed back to the loop.
    private func serve(_ query: ListQuery, _ exchange: APIExchange, _ service: ClusterService) {
        let finish = { [weak self] (answer: ListAnswer) in
            guard let self, exchange.isWaiting else { return }
            if answer.keepView { self.listPages.keep(query.view, now: self.loop.nowMilliseconds) }
            exchange.respond(answer.response)
        }
        if query.view.count(query.filter.kind) < Self.backgroundListObjectsMin {
            return finish(query.answer())
        }
        service.offLoop({ query.answer() }, then: finish)
    }
}

/// What one list asks for, as a value a helper thread can answer.
struct ListQuery: Sendable {
    let view: StoreListView
    let filter: WatchFilter
    /// Continue after this position (a continue token's), or from the start.
    let after: ListPages.Position?
    let pageSize: Int?
    let resource: ResourcePath
    let form: ResponseForm

    /// The page: the selected objects after `after`, at most `pageSize` of them, with a
    /// continue token when more follow, rendered as `form` asks.
    func answer() -> ListAnswer {
        var items = view.list(filter)
        if let after { items = Array(items.drop { !after.precedes($0.key) }) }
        var metadata = ListMetadata(resourceVersion: view.revision)
        var keepView = false
        if let pageSize, items.count > pageSize {
            let remaining = items.count - pageSize
            items = Array(items.prefix(pageSize))
            let last = items[items.count - 1].key
            metadata.continueToken = ListPages.Position(revision: view.revision, namespace: last.namespace, name: last.name).token
            metadata.remainingItemCount = remaining
            keepView = true
        }
        return ListAnswer(response: APIServer.render(items, resource, form, single: false, list: metadata), keepView: keepView)
    }
}

/// A rendered list, and whether its view must be kept for the pages that follow.
struct ListAnswer: Sendable {
    let response: HTTPResponse
    let keepView: Bool
}

/// The store views kept for the pages of lists still being read.
struct ListPages {
    /// How long a view stays after its page was served, in milliseconds.
    static let viewLifetimeMilliseconds: UInt64 = 120_000
    /// Most views kept at once (older ones go first).
    static let viewsMax = 16
    /// Most items on one page, whatever `limit` asks.
    static let pageSizeMax = 10_000

    private var views: [(view: StoreListView, expires: UInt64)] = []

    mutating func keep(_ view: StoreListView, now: UInt64) {
        views.removeAll { $0.expires <= now || $0.view.revision == view.revision }
        views.append((view, now + Self.viewLifetimeMilliseconds))
        if views.count > Self.viewsMax { views.removeFirst(views.count - Self.viewsMax) }
    }

    func view(at revision: UInt64, now: UInt64) -> StoreListView? {
        views.first { $0.view.revision == revision && $0.expires > now }?.view
    }

    /// Where a list continues: the revision it shows, and the last key served. The token is
    /// its JSON in unpadded base64url.
    struct Position: Sendable {
        let revision: UInt64
        let namespace: String
        let name: String

        init(revision: UInt64, namespace: String, name: String) {
            self.revision = revision
            self.namespace = namespace
            self.name = name
        }

        init?(token: String) {
            guard token.utf8.count <= 2048, let bytes = Base64URL.decode(token),
                  let json = try? JSONValue.parse(bytes), let text = json["rv"]?.stringValue,
                  let revision = Store.parseResourceVersion(text), let namespace = json["ns"]?.stringValue,
                  let name = json["name"]?.stringValue else { return nil }
            self.revision = revision
            self.namespace = namespace
            self.name = name
        }

        var token: String {
            Base64URL.encode(JSONValue.object(JSONObject([
                ("rv", .string(String(revision))), ("ns", .string(namespace)), ("name", .string(name)),
            ])).serialized())
        }

        /// Whether `key` comes after this position in list order (namespace, then name, by bytes).
        func precedes(_ key: ObjectKey) -> Bool {
            if namespace != key.namespace { return namespace.utf8.lexicographicallyPrecedes(key.namespace.utf8) }
            return name.utf8.lexicographicallyPrecedes(key.name.utf8)
        }
    }
}

/// Unpadded base64url (RFC 4648 section 5), for continue tokens.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let chunk = Array(bytes[i..<min(i + 3, bytes.count)])
            let n = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(16 - 8 * $1.offset) }
            for k in 0...chunk.count { out.append(alphabet[Int(n >> UInt32(18 - 6 * k) & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt32] = []
        for b in text.utf8 {
            guard let v = alphabet.firstIndex(of: b) else { return nil }
            values.append(UInt32(v))
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let chunk = Array(values[i..<min(i + 4, values.count)])
            let n = chunk.enumerated().reduce(UInt32(0)) { $0 | $1.element << UInt32(18 - 6 * $1.offset) }
            for k in 0..<(chunk.count - 1) { out.append(UInt8(truncatingIfNeeded: n >> UInt32(16 - 8 * k))) }
            i += 4
        }
        return out
    }
}
