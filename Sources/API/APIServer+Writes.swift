import JSON
import Store

/// Typed writes (cluster version 2 on): the request is checked here (body decodes, options
/// parse, unknown fields under `fieldValidation`), proposed as a `TypedWrite`, and admitted
/// for real when the entry applies (`Store+Typed.swift`). Answers carry the object in the
/// version the client wrote through, and `Warning` headers for unknown fields under `Warn`.
extension APIServer {
    func createTyped(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let version = resource.version, let validation = fieldValidation(exchange), let dry = dryRun(exchange),
              let body = typedBody(exchange, resource, fillName: false) else { return }
        switch precheck(body, resource, version, validation) {
        case .failure(let rejection):
            exchange.respond(APIResponses.status(rejection))
        case .success(let warnings):
            let name = body["metadata"]?["name"]?.stringValue ?? ""
            let write = TypedWrite(verb: .create, kind: resource.kind.name, apiVersion: version.apiVersion,
                                   namespace: resource.namespace ?? "", name: name, body: body, fieldValidation: validation)
            submit(write, exchange, resource, service, dryRun: dry, warnings: warnings)
        }
    }

    /// The body checked before it is proposed, when that buys something: under `Warn` the
    /// unknown fields become warnings only here (the entry's result carries none). Under
    /// `Strict` and `Ignore` the entry's admission gives the same answer, so the body is not
    /// decoded twice on the way in (decoding is most of a create's cost on the member that
    /// takes it).
    private func precheck(_ body: JSONValue, _ resource: ResourcePath, _ version: ServedVersion,
                          _ validation: FieldValidation) -> Result<[String], Rejection> {
        guard validation == .warn else { return .success([]) }
        return Store.precheck(body, kind: resource.kind, version: version, fieldValidation: validation)
    }

    func updateTyped(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let version = resource.version, let validation = fieldValidation(exchange), let dry = dryRun(exchange) else { return }
        var warnings: [String] = []
        let body: JSONValue
        if resource.subresource == .scale {
            switch RequestBody.object(exchange.request) {
            case .failure(let response): return exchange.respond(response)
            case .success(let value): body = value
            }
        } else {
            guard let value = typedBody(exchange, resource, fillName: true) else { return }
            body = value
            switch precheck(body, resource, version, validation) {
            case .failure(let rejection): return exchange.respond(APIResponses.status(rejection))
            case .success(let found): warnings = found
            }
        }
        let write = TypedWrite(verb: .update, kind: resource.kind.name, apiVersion: version.apiVersion,
                               namespace: resource.namespace ?? "", name: resource.name ?? "", subresource: resource.subresource,
                               body: body, fieldValidation: validation)
        submit(write, exchange, resource, service, dryRun: dry, warnings: warnings)
    }

    func patchTyped(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let version = resource.version, let validation = fieldValidation(exchange), let dry = dryRun(exchange) else { return }
        let (type, patch): (TypedWrite.PatchType, JSONValue)
        switch RequestBody.patch(exchange.request) {
        case .failure(let response): return exchange.respond(response)
        case .success(let parsed): (type, patch) = parsed
        }
        let write = TypedWrite(verb: .patch, kind: resource.kind.name, apiVersion: version.apiVersion,
                               namespace: resource.namespace ?? "", name: resource.name ?? "", subresource: resource.subresource,
                               body: patch, patchType: type, fieldValidation: validation)
        submit(write, exchange, resource, service, dryRun: dry, warnings: patchWarnings(write, resource, service))
    }

    func deleteTyped(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let version = resource.version, let options = deleteOptions(exchange) else { return }
        let write = TypedWrite(verb: .delete, kind: resource.kind.name, apiVersion: version.apiVersion,
                               namespace: resource.namespace ?? "", name: resource.name ?? "",
                               expectedResourceVersion: options.resourceVersion, expectedUID: options.uid,
                               propagation: options.propagation, gracePeriodSeconds: options.gracePeriodSeconds)
        submit(write, exchange, resource, service, dryRun: options.dryRun, warnings: [])
    }

    func bind(_ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService) {
        guard let version = resource.version, let dry = dryRun(exchange) else { return }
        switch RequestBody.object(exchange.request) {
        case .failure(let response):
            exchange.respond(response)
        case .success(let body):
            let write = TypedWrite(verb: .create, kind: resource.kind.name, apiVersion: version.apiVersion,
                                   namespace: resource.namespace ?? "", name: resource.name ?? "", subresource: .binding,
                                   body: body)
            submit(write, exchange, resource, service, dryRun: dry, warnings: [])
        }
    }

    // MARK: Helpers

    /// The body of a create or update as the object to admit, with what the route implies
    /// filled in: `kind`, `apiVersion`, `metadata.namespace` and (`fillName`) `metadata.name`
    /// when absent. Values that contradict the route answer 400 (nil returned).
    private func typedBody(_ exchange: APIExchange, _ resource: ResourcePath, fillName: Bool) -> JSONValue? {
        let fail = { (message: String) -> JSONValue? in
            exchange.respond(APIResponses.badRequest(message))
            return nil
        }
        let parsed: JSONValue
        switch RequestBody.object(exchange.request) {
        case .failure(let response):
            exchange.respond(response)
            return nil
        case .success(let value): parsed = value
        }
        guard var object = parsed.objectValue else { return fail("the request body must be a JSON object: a \(resource.kind.name)") }
        if object["kind"] == nil || object["kind"] == .null { object["kind"] = .string(resource.kind.name) }
        if object["apiVersion"] == nil || object["apiVersion"] == .null { object["apiVersion"] = .string(resource.apiVersion) }
        var metadata: JSONObject
        switch object["metadata"] {
        case nil, .null?: metadata = JSONObject()
        case .object(let given)?: metadata = given
        default: return fail("metadata must be an object")
        }
        if resource.kind.namespaced, let namespace = resource.namespace {
            switch metadata["namespace"] {
            case nil, .null?, .string("")?: metadata["namespace"] = .string(namespace)
            case .string(let given)? where given == namespace: break
            default: return fail("the namespace of the provided object does not match the namespace sent on the request")
            }
        }
        if fillName, let name = resource.name {
            switch metadata["name"] {
            case nil, .null?, .string("")?: metadata["name"] = .string(name)
            case .string(let given)? where given == name: break
            case let given?: return fail("the name of the object (\(given.stringValue ?? given.description)) does not match the name on the URL (\(name))")
            }
        }
        object["metadata"] = .object(metadata)
        return .object(object)
    }

    /// Warnings for unknown fields a patch would add, judged against this member's copy of
    /// the object (the write itself is judged again, exactly, when it applies).
    private func patchWarnings(_ write: TypedWrite, _ resource: ResourcePath, _ service: ClusterService) -> [String] {
        guard write.fieldValidation == .warn, resource.subresource != .scale, let version = resource.version,
              let current = service.store.get(resource.key), let type = write.patchType, let patch = write.body,
              let patched = try? Patch.apply(Store.patchContentType(type), patch: patch, to: version.present(current.json),
                                             schema: version.schema.patchSchema) else { return [] }
        if case .success(let warnings) = Store.precheck(patched, kind: resource.kind, version: version, fieldValidation: .warn, patched: true) {
            return warnings
        }
        return []
    }

    /// Proposes (or dry-runs) `write` and answers with its result.
    private func submit(_ write: TypedWrite, _ exchange: APIExchange, _ resource: ResourcePath, _ service: ClusterService,
                        dryRun: Bool, warnings: [String]) {
        if dryRun {
            return exchange.respond(typedAnswer(service.dryRun(write), resource, warnings: warnings))
        }
        service.propose(.typed(write)) { [weak self] result in
            guard exchange.isWaiting, let self else { return }
            switch result {
            case .success(let stored): exchange.respond(self.typedAnswer(stored, resource, warnings: warnings))
            case .failure(let error): exchange.respond(APIResponses.status(error))
            }
        }
    }

    /// A typed write's answer: the object in the client's version (a Scale for the scale
    /// subresource), or the Status of its failure.
    func typedAnswer(_ result: StoreResult, _ resource: ResourcePath, warnings: [String]) -> HTTPResponse {
        var response: HTTPResponse
        switch result {
        case .created(let object), .updated(let object), .deleted(let object):
            if resource.subresource == .scale, let scale = Store.scaleJSON(of: object) {
                response = APIResponses.json(result.httpStatus, scale)
            } else if resource.subresource == .binding {
                response = APIResponses.json(201, APIResponses.statusBody(success: 201))
            } else {
                response = APIResponses.json(result.httpStatus, present(object, resource))
            }
        default:
            response = APIResponses.storeResult(result, kind: resource.kind, name: resource.name)
        }
        response.addWarnings(warnings)
        return response
    }
}
