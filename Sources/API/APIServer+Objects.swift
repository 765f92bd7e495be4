import JSON
import Store

/// Object routes, generic over `Kind.registered`: get, list, create, update, delete (watch:
/// `APIServer+Watch.swift`). Reads are served from this member's store after a linearizable
/// read barrier unless the client asks for a stale read; writes run on the leader.
extension APIServer {
    func serveObjects(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        let request = exchange.request
        let notAllowed = { exchange.respond(APIResponses.methodNotAllowed(request.method, request.path)) }
        switch request.method {
        case "GET":
            guard let watch = watchRequested(exchange) else { return }
            if watch {
                guard resource.name == nil else { return notAllowed() }  // watch a collection (with a selector)
                startWatch(exchange, resource, service)
            } else if resource.name == nil {
                list(exchange, resource, service)
            } else {
                get(exchange, resource, service)
            }
        case "POST":
            // Create in a namespace (or of a cluster-scoped kind), never at one object's URL.
            guard resource.name == nil, resource.namespace != nil || !resource.kind.namespaced else { return notAllowed() }
            onWriter(exchange, service) { self.create(exchange, resource, service) }
        case "PUT":
            guard resource.name != nil else { return notAllowed() }
            onWriter(exchange, service) { self.update(exchange, resource, service) }
        case "DELETE":
            guard resource.name != nil else { return notAllowed() }
            onWriter(exchange, service) { self.delete(exchange, resource, service) }
        default:
            notAllowed()
        }
    }

    // MARK: Reads

    private func get(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let stale = readConsistency(exchange) else { return }
        afterReadBarrier(exchange, service, stale: stale) { service in
            let key = ObjectKey(kind: resource.kind, namespace: resource.namespace ?? "", name: resource.name ?? "")
            if let object = service.store.get(key) {
                exchange.respond(APIResponses.json(200, object.json))
            } else {
                exchange.respond(APIResponses.storeResult(.notFound(key), kind: resource.kind, name: key.name))
            }
        }
    }

    private func list(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let stale = readConsistency(exchange),
              let selector = labelSelector(exchange) else { return }
        afterReadBarrier(exchange, service, stale: stale) { service in
            let (items, revision) = service.store.list(resource.kind, namespace: resource.namespace, selector: selector)
            // {"kind":"<Kind>List","apiVersion":...,"metadata":{"resourceVersion":"N"},"items":[...]}, built
            // item by item rather than as one JSONValue (lists are the largest answers).
            var body: [UInt8] = []
            var head = JSONObject()
            head["kind"] = .string(resource.kind.name + "List")
            head["apiVersion"] = .string(resource.kind.apiVersion)
            head["metadata"] = .object(JSONObject([("resourceVersion", .string(String(revision)))]))
            head["items"] = .array([])
            JSONValue.object(head).serialize(into: &body)
            body.removeLast(2)  // "]}"
            for (i, item) in items.enumerated() {
                if i > 0 { body.append(UInt8(ascii: ",")) }
                item.json.serialize(into: &body)
            }
            body += Array("]}".utf8)
            exchange.respond(APIResponses.jsonBytes(200, body))
        }
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

    // MARK: Writes (on the leader)

    private func create(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let object = objectBody(exchange, resource) else { return }
        let name = object["metadata"]?["name"]?.stringValue
        propose(.create(object: object), exchange, resource, name: name, service)
    }

    private func update(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let object = objectBody(exchange, resource) else { return }
        propose(.update(object: object, expectedResourceVersion: nil), exchange, resource, name: resource.name, service)
    }

    private func delete(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        let request = exchange.request
        var version: UInt64?
        var uid: String?
        if let text = request.query["resourceVersion"], !text.isEmpty {
            guard let parsed = Store.parseResourceVersion(text) else {
                return exchange.respond(APIResponses.badRequest("resourceVersion: Invalid value: \"\(text)\": must be a decimal revision"))
            }
            version = parsed
        }
        if !request.body.isEmpty {
            // DeleteOptions: {"preconditions":{"resourceVersion":"N","uid":"..."}}
            guard let options = try? JSONValue.parse(request.body), let object = options.objectValue else {
                return exchange.respond(APIResponses.badRequest("the body of a DELETE must be a JSON object (DeleteOptions)"))
            }
            if let preconditions = object["preconditions"], !preconditions.isNull {
                guard preconditions.objectValue != nil else {
                    return exchange.respond(APIResponses.badRequest("preconditions must be an object"))
                }
                if let text = preconditions["resourceVersion"], !text.isNull {
                    guard let string = text.stringValue, let parsed = Store.parseResourceVersion(string) else {
                        return exchange.respond(APIResponses.badRequest("preconditions.resourceVersion must be a decimal revision string"))
                    }
                    if let version, version != parsed {
                        return exchange.respond(APIResponses.badRequest(
                            "preconditions.resourceVersion \(parsed) differs from the resourceVersion parameter \(version)"))
                    }
                    version = parsed
                }
                if let text = preconditions["uid"], !text.isNull {
                    guard let string = text.stringValue else {
                        return exchange.respond(APIResponses.badRequest("preconditions.uid must be a string"))
                    }
                    uid = string
                }
            }
        }
        let key = ObjectKey(kind: resource.kind, namespace: resource.namespace ?? "", name: resource.name ?? "")
        propose(.delete(key: key, expectedResourceVersion: version, expectedUID: uid), exchange, resource, name: key.name, service)
    }

    private func propose(_ write: ObjectWrite, _ exchange: APIExchange, _ resource: ResourcePath, name: String?,
                         _ service: ClusterService) {
        service.propose(write) { result in
            guard exchange.isWaiting else { return }
            switch result {
            case .success(let stored): exchange.respond(APIResponses.storeResult(stored, kind: resource.kind, name: name))
            case .failure(let error): exchange.respond(APIResponses.status(error))
            }
        }
    }

    /// The request body as the object to write, with what the route implies filled in:
    /// `kind`, `apiVersion`, `metadata.namespace` and (PUT) `metadata.name` when absent.
    /// Values that contradict the route answer 400 (nil returned); the store checks the rest.
    private func objectBody(_ exchange: APIExchange, _ resource: ResourcePath) -> JSONValue? {
        let fail = { (message: String) -> JSONValue? in
            exchange.respond(APIResponses.badRequest(message))
            return nil
        }
        let kind = resource.kind
        guard !exchange.request.body.isEmpty else { return fail("the request body is empty: expected a \(kind.name) object") }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(exchange.request.body)
        } catch {
            return fail("the request body is not valid JSON: \(error)")
        }
        guard var object = parsed.objectValue else { return fail("the request body must be a JSON object") }
        for (field, expected) in [("kind", kind.name), ("apiVersion", kind.apiVersion)] {
            switch object[field] {
            case nil, .null?: object[field] = .string(expected)
            case .string(let value)? where value == expected: break
            case let other?: return fail("\(field) \(other) in the body does not match the URL, which serves \(kind.name) (\(kind.apiVersion))")
            }
        }
        var metadata: JSONObject
        switch object["metadata"] {
        case nil, .null?: metadata = JSONObject()
        case .object(let given)?: metadata = given
        default: return fail("metadata must be an object")
        }
        if kind.namespaced, let namespace = resource.namespace {
            switch metadata["namespace"] {
            case nil, .null?, .string("")?: metadata["namespace"] = .string(namespace)
            case .string(let given)? where given == namespace: break
            case let given?:
                return fail("the namespace of the provided object (\(given)) does not match the namespace sent on the request (\(namespace))")
            }
        }
        if let name = resource.name {
            switch metadata["name"] {
            case nil, .null?, .string("")?: metadata["name"] = .string(name)
            case .string(let given)? where given == name: break
            case let given?: return fail("the name of the object (\(given)) does not match the name on the URL (\(name))")
            }
        }
        object["metadata"] = .object(metadata)
        return .object(object)
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
