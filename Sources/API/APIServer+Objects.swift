import JSON
import Store

/// Object routes, generic over `Kind.registered`: get, list, watch, create, update, patch,
/// delete, and the status, scale and binding subresources. Reads are served from this
/// member's store after a linearizable read barrier unless the client asks for a stale
/// read; writes run on the leader.
///
/// A kind is served once the cluster runs a version that has it (`Kind.sinceClusterVersion`);
/// under cluster version 1 ConfigMaps keep their untyped rules (`APIServer+LegacyWrites.swift`).
extension APIServer {
    func serveObjects(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        let request = exchange.request
        let notAllowed = { exchange.respond(APIResponses.methodNotAllowed(request.method, request.path)) }
        guard resource.kind.sinceClusterVersion <= service.store.clusterVersion else {
            return exchange.respond(APIResponses.notFound(
                "the server could not find the requested resource (\(resource.kind.plural) need cluster version \(resource.kind.sinceClusterVersion))"))
        }
        let typed = resource.version != nil && service.store.clusterVersion >= 2
        switch request.method {
        case "GET":
            guard let watch = watchRequested(exchange) else { return }
            if watch {
                guard resource.subresource == nil else { return notAllowed() }
                startWatch(exchange, resource, service)
            } else if resource.name == nil {
                list(exchange, resource, service)
            } else {
                get(exchange, resource, service)
            }
        case "POST":
            if resource.subresource == .binding && typed { return onWriter(exchange, service) { self.bind(exchange, resource, service) } }
            // Create in a namespace (or of a cluster-scoped kind), never at one object's URL.
            guard resource.name == nil, resource.namespace != nil || !resource.kind.namespaced else { return notAllowed() }
            onWriter(exchange, service) {
                typed ? self.createTyped(exchange, resource, service) : self.create(exchange, resource, service)
            }
        case "PUT":
            guard resource.name != nil, resource.subresource != .binding else { return notAllowed() }
            guard typed || resource.subresource == nil else { return notAllowed() }
            onWriter(exchange, service) {
                typed ? self.updateTyped(exchange, resource, service) : self.update(exchange, resource, service)
            }
        case "PATCH":
            guard typed, resource.name != nil, resource.subresource != .binding else { return notAllowed() }
            onWriter(exchange, service) { self.patchTyped(exchange, resource, service) }
        case "DELETE":
            guard resource.name != nil, resource.subresource == nil else { return notAllowed() }
            onWriter(exchange, service) {
                typed ? self.deleteTyped(exchange, resource, service) : self.delete(exchange, resource, service)
            }
        default:
            notAllowed()
        }
    }

    // MARK: Reads

    private func get(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let read = readOptions(exchange), let form = responseForm(exchange) else { return }
        afterReadBarrier(exchange, service, stale: read.stale) { service in
            if let minimum = read.minimum, service.store.revision < minimum {
                return exchange.respond(Self.tooLargeResourceVersion(minimum, service.store.revision))
            }
            let key = resource.key
            guard let object = service.store.get(key) else {
                return exchange.respond(APIResponses.storeResult(.notFound(key), kind: resource.kind, name: key.name))
            }
            if resource.subresource == .scale {
                guard let scale = Store.scaleJSON(of: object) else { return exchange.respond(APIResponses.notFound()) }
                return exchange.respond(APIResponses.json(200, scale))
            }
            exchange.respond(self.render([object], resource, form, single: true, list: nil))
        }
    }

    /// What consistency a read asks for: `stale` (serve this member's store at once:
    /// `resourceVersion=0`, or `consistency=stale`), and a `minimum` revision the answer must
    /// reach (`resourceVersion=N`, Kubernetes' "not older than"). Answers 400 for bad values.
    func readOptions(_ exchange: APIExchange) -> (stale: Bool, minimum: UInt64?)? {
        guard let stale = readConsistency(exchange) else { return nil }
        let query = exchange.request.query
        var minimum: UInt64?
        if let text = query["resourceVersion"], !text.isEmpty, let version = Store.parseResourceVersion(text), version > 0 {
            minimum = version
        }
        switch query["resourceVersionMatch"] {
        case nil, "", "NotOlderThan": break
        case "Exact":
            guard minimum != nil else {
                exchange.respond(APIResponses.badRequest("resourceVersionMatch: Forbidden: resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\" or unset"))
                return nil
            }
        case let other?:
            exchange.respond(APIResponses.badRequest("resourceVersionMatch: Unsupported value: \(FieldError.quote(other)): supported values: \"Exact\", \"NotOlderThan\""))
            return nil
        }
        return (stale, minimum)
    }

    /// 504 as Kubernetes answers a read of a revision the server has not reached.
    static func tooLargeResourceVersion(_ asked: UInt64, _ current: UInt64) -> HTTPResponse {
        var response = APIResponses.status(504, "Timeout", "Too large resource version: \(asked), current: \(current)")
        response.headers.append(("Retry-After", "1"))
        return response
    }

    /// The form the Accept header asks for; answers 406 and returns nil when none is possible.
    func responseForm(_ exchange: APIExchange) -> ResponseForm? {
        if let form = ResponseForm.negotiate(exchange.request.header("accept"), includeObject: exchange.request.query["includeObject"]) {
            return form
        }
        exchange.respond(APIResponses.status(406, "NotAcceptable",
                                             "only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io"))
        return nil
    }

    /// Objects in the resource's version, as the form asks: one object, a list, a Table or
    /// metadata only. Pure (it may run off the loop: `APIServer+List.swift`).
    func render(_ objects: [StoredObject], _ resource: ResourcePath, _ form: ResponseForm, single: Bool,
                list: ListMetadata?) -> HTTPResponse {
        Self.render(objects, resource, form, single: single, list: list)
    }

    static func render(_ objects: [StoredObject], _ resource: ResourcePath, _ form: ResponseForm, single: Bool,
                       list: ListMetadata?) -> HTTPResponse {
        switch form {
        case .table(let version, let include):
            var response = APIResponses.json(200, APITable.table(objects, resource: resource, tableVersion: version, include: include, list: list))
            response.headers = [("Content-Type", "application/json;as=Table;v=\(version);g=meta.k8s.io")]
            return response
        case .partialMetadata(let version):
            let items = objects.map { APITable.partialMetadata($0, version: version) }
            if single { return APIResponses.json(200, items[0]) }
            var body = JSONObject()
            body["kind"] = "PartialObjectMetadataList"
            body["apiVersion"] = .string("meta.k8s.io/\(version)")
            body["metadata"] = .object(list?.json ?? JSONObject())
            body["items"] = .array(items)
            return APIResponses.json(200, .object(body))
        case .objects:
            if single { return APIResponses.jsonBytes(200, text(objects[0], resource)) }
            return APIResponses.jsonBytes(200, listBody(objects, resource, list ?? ListMetadata(resourceVersion: 0)))
        }
    }

    /// A stored object as the resource's version shows it.
    func present(_ object: StoredObject, _ resource: ResourcePath) -> JSONValue { Self.present(object, resource) }

    static func present(_ object: StoredObject, _ resource: ResourcePath) -> JSONValue {
        guard let version = resource.version else { return object.json }
        return version.present(object.json)
    }

    /// A stored object as the resource's version shows it, as JSON text: the object's shared
    /// text when the version is the one it is stored in.
    static func text(_ object: StoredObject, _ resource: ResourcePath) -> [UInt8] {
        if resource.version == nil || resource.version?.apiVersion == resource.kind.apiVersion { return object.jsonText }
        return present(object, resource).serialized()
    }

    /// {"kind":"<Kind>List","apiVersion":...,"metadata":{...},"items":[...]}, built item by
    /// item from each object's shared text rather than printed as one JSONValue (lists are
    /// the largest answers).
    static func listBody(_ items: [StoredObject], _ resource: ResourcePath, _ list: ListMetadata) -> [UInt8] {
        var body: [UInt8] = []
        var head = JSONObject()
        head["kind"] = .string(resource.kind.name + "List")
        head["apiVersion"] = .string(resource.apiVersion)
        head["metadata"] = .object(list.json)
        head["items"] = .array([])
        JSONValue.object(head).serialize(into: &body)
        body.removeLast(2)  // "]}"
        var texts: [[UInt8]] = []
        texts.reserveCapacity(items.count)
        var total = body.count + 2
        for item in items {
            let itemText = text(item, resource)
            total += itemText.count + 1
            texts.append(itemText)
        }
        body.reserveCapacity(total)
        for (i, itemText) in texts.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body += itemText
        }
        body += Array("]}".utf8)
        return body
    }

    /// Whether a read may skip the barrier: `resourceVersion=0` (Kubernetes: "any version")
    /// or `consistency=stale`. Answers 400 and returns nil for values it does not know.
    func readConsistency(_ exchange: APIExchange) -> Bool? {
        let query = exchange.request.query
        if let version = query["resourceVersion"], !version.isEmpty, Store.parseResourceVersion(version) == nil {
            exchange.respond(APIResponses.badRequest("resourceVersion: Invalid value: \"\(version)\": must be a decimal revision"))
            return nil
        }
        switch query["consistency"] {
        case nil, "", "linearizable": return query["resourceVersion"] == "0"
        case "stale": return true
        case let other?:
            exchange.respond(APIResponses.badRequest("consistency: Unsupported value: \"\(other)\": must be \"linearizable\" or \"stale\""))
            return nil
        }
    }

    /// The `labelSelector` parameter (everything when absent); answers 400 and returns nil
    /// for one that does not parse.
    func labelSelector(_ exchange: APIExchange) -> LabelSelector? {
        guard let text = exchange.request.query["labelSelector"], !text.isEmpty else { return .everything }
        do {
            return try LabelSelector(parsing: text)
        } catch {
            exchange.respond(APIResponses.badRequest(error.description))
            return nil
        }
    }

    /// Runs `serve` once this member may serve a linearizable read (at once for a stale
    /// one), unless the exchange was answered meanwhile (timeout, client gone).
    func afterReadBarrier(_ exchange: APIExchange, _ service: ClusterService, stale: Bool,
                          _ serve: @escaping (ClusterService) -> Void) {
        if stale {
            stats.staleReads += 1
            return serve(service)
        }
        stats.linearizableReads += 1
        service.awaitLinearizableRead { [weak self] result in
            guard exchange.isWaiting else { return }
            guard let service = self?.service else {
                return exchange.respond(APIResponses.status(503, "ServiceUnavailable", "the member is shutting down"))
            }
            switch result {
            case .success: serve(service)
            case .failure(let error): exchange.respond(APIResponses.status(error))
            }
        }
    }

    // MARK: Leader

    /// Runs `body` (an object write) when the service can take writes here; otherwise
    /// forwards the request to the leader over HTTP.
    func onWriter(_ exchange: APIExchange, _ service: ClusterService, _ body: () -> Void) {
        if service.canTakeWrites { return body() }
        forwardToLeader(exchange, service)
    }

    /// Runs `body` when this member leads; otherwise forwards the request to the leader.
    func onLeader(_ exchange: APIExchange, _ service: ClusterService, _ body: () -> Void) {
        if service.isLeader { return body() }
        forwardToLeader(exchange, service)
    }

    /// `watch=true` or `watch=1` (false, 0 or absent: no watch); answers 400 and returns nil
    /// for anything else.
    func watchRequested(_ exchange: APIExchange) -> Bool? {
        switch exchange.request.query["watch"] {
        case nil, "", "false", "0": return false
        case "true", "1": return true
        case let other?:
            exchange.respond(APIResponses.badRequest("watch: Invalid value: \"\(other)\": must be true or false"))
            return nil
        }
    }
}

/// A list's `metadata`: its resourceVersion and, when paginated, where to continue.
struct ListMetadata: Sendable {
    var resourceVersion: UInt64
    var continueToken: String?
    var remainingItemCount: Int?

    var json: JSONObject {
        var object = JSONObject()
        object["resourceVersion"] = .string(String(resourceVersion))
        if let continueToken { object["continue"] = .string(continueToken) }
        if let remainingItemCount { object["remainingItemCount"] = .int(Int64(remainingItemCount)) }
        return object
    }
}
