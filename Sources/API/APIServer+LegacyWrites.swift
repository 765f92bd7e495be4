import JSON
import Store

/// Writes under cluster version 1 (the first release): untyped ConfigMaps (and Members), with
/// the JSON kept as sent. From version 2 on, `APIServer+Writes.swift` admits typed writes.
extension APIServer {
    // MARK: Writes (on the leader)

    func create(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let object = objectBody(exchange, resource) else { return }
        let name = object["metadata"]?["name"]?.stringValue
        propose(.create(object: object), exchange, resource, name: name, service)
    }

    func update(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let object = objectBody(exchange, resource) else { return }
        propose(.update(object: object, expectedResourceVersion: nil), exchange, resource, name: resource.name, service)
    }

    func delete(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
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

}
