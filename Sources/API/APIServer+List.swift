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
            let items = view.list(filter).drop { !position.precedes($0.key) }
            return exchange.respond(page(Array(items), view, pageSize, resource, form))
        }
        if query["resourceVersionMatch"] == "Exact", let minimum = read.minimum {
            // An exact revision: the live store if it is there, or a view kept for pagination.
            let now = loop.nowMilliseconds
            if service.store.revision == minimum {
                return exchange.respond(page(service.store.listView.list(filter), service.store.listView, pageSize, resource, form))
            }
            guard let view = listPages.view(at: minimum, now: now) else {
                return exchange.respond(APIResponses.status(410, "Expired", "too old resource version: \(minimum) (\(service.store.revision))"))
            }
            return exchange.respond(page(view.list(filter), view, pageSize, resource, form))
        }
        afterReadBarrier(exchange, service, stale: read.stale) { service in
            if let minimum = read.minimum, service.store.revision < minimum {
                return exchange.respond(Self.tooLargeResourceVersion(minimum, service.store.revision))
            }
            let view = service.store.listView
            exchange.respond(self.page(view.list(filter), view, pageSize, resource, form))
        }
    }

    /// One page of `items` (all of them without a page size), with a continue token when more
    /// follow; the view is kept so the next page shows the same revision.
    private func page(_ items: [StoredObject], _ view: StoreListView, _ pageSize: Int?, _ resource: ResourcePath,
                      _ form: ResponseForm) -> HTTPResponse {
        var metadata = ListMetadata(resourceVersion: view.revision)
        var shown = items
        if let pageSize, items.count > pageSize {
            shown = Array(items.prefix(pageSize))
            let last = shown[shown.count - 1].key
            metadata.continueToken = ListPages.Position(revision: view.revision, namespace: last.namespace, name: last.name).token
            metadata.remainingItemCount = items.count - pageSize
            listPages.keep(view, now: loop.nowMilliseconds)
        }
        return render(shown, resource, form, single: false, list: metadata)
    }
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
    struct Position {
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
