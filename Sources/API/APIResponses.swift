import JSON
import Store

/// The responses the API server builds: Kubernetes `Status` bodies for every failure, and
/// the JSON and text bodies of successes.
enum APIResponses {
    static let jsonContentType = ("Content-Type", "application/json")
    static let textContentType = ("Content-Type", "text/plain; charset=utf-8")
    /// What Prometheus expects of `/metrics`.
    static let metricsContentType = ("Content-Type", "text/plain; version=0.0.4")
    /// Seconds a client should wait before retrying a 503 or 429.
    static let retryAfterSeconds = 1

    // MARK: Status (failures)

    /// A Kubernetes `Status` failure:
    /// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,"reason":...,"details":...,"code":N}`.
    static func statusBody(code: Int, reason: String, message: String, details: JSONObject? = nil) -> JSONValue {
        var status = JSONObject()
        status["kind"] = "Status"
        status["apiVersion"] = "v1"
        status["metadata"] = .object(JSONObject())
        status["status"] = "Failure"
        status["message"] = .string(message)
        status["reason"] = .string(reason)
        if let details { status["details"] = .object(details) }
        status["code"] = .int(Int64(code))
        return .object(status)
    }

    /// A Kubernetes `Status` success (what a binding answers).
    static func statusBody(success code: Int) -> JSONValue {
        .object(JSONObject([
            ("kind", "Status"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())), ("status", "Success"),
            ("code", .int(Int64(code))),
        ]))
    }

    /// The HTTP response carrying a `Status`; 503 and 429 also say when to retry.
    static func status(_ code: Int, _ reason: String? = nil, _ message: String, details: JSONObject? = nil) -> HTTPResponse {
        var headers = [jsonContentType]
        if code == 503 || code == 429 { headers.append(("Retry-After", String(retryAfterSeconds))) }
        let body = statusBody(code: code, reason: reason ?? defaultReason(code), message: message, details: details)
        return HTTPResponse(status: code, headers: headers, body: body.serialized())
    }

    /// A `ServiceError` from the member, as a `Status`.
    static func status(_ error: ServiceError) -> HTTPResponse {
        status(error.status, error.reason.isEmpty ? nil : error.reason, error.message)
    }

    /// Kubernetes' `StatusReason` for a code, when the caller names none.
    static func defaultReason(_ code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 408: return "Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 413: return "RequestEntityTooLarge"
        case 415: return "UnsupportedMediaType"
        case 422: return "Invalid"
        case 429: return "TooManyRequests"
        case 503: return "ServiceUnavailable"
        case 504: return "Timeout"
        default: return code >= 500 ? "InternalError" : "BadRequest"
        }
    }

    static func notFound(_ message: String = "the server could not find the requested resource") -> HTTPResponse {
        status(404, "NotFound", message)
    }

    static func methodNotAllowed(_ method: String, _ path: String) -> HTTPResponse {
        status(405, "MethodNotAllowed", "the server does not allow method \(method) on \(path)")
    }

    static func badRequest(_ message: String) -> HTTPResponse { status(400, "BadRequest", message) }

    // MARK: Successes

    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: [jsonContentType], body: value.serialized())
    }

    static func jsonBytes(_ status: Int, _ bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [jsonContentType], body: bytes)
    }

    static func text(_ status: Int, _ text: String, contentType: (String, String) = textContentType) -> HTTPResponse {
        HTTPResponse(status: status, headers: [contentType], body: Array(text.utf8))
    }

    // MARK: Store results

    /// What a write's `StoreResult` answers: the object (201 created, 200 updated or
    /// deleted) or the `Status` Kubernetes gives for the failure.
    static func storeResult(_ result: StoreResult, kind: Kind, name: String?) -> HTTPResponse {
        switch result {
        case .created(let object), .updated(let object), .deleted(let object):
            return json(result.httpStatus, object.json)
        case .notFound(let key):
            return status(404, "NotFound", "\(resourceName(key.kind)) \"\(key.name)\" not found", details: details(key))
        case .alreadyExists(let key):
            return status(409, "AlreadyExists", "\(resourceName(key.kind)) \"\(key.name)\" already exists", details: details(key))
        case .conflict(let key, let reason):
            return status(409, "Conflict", "Operation cannot be fulfilled on \(resourceName(key.kind)) \"\(key.name)\": \(reason)",
                          details: details(key))
        case .invalid(let reason):
            let code = result.httpStatus
            if code == 400 { return status(400, "BadRequest", reason) }
            let subject = name.map { "\(kind.name) \"\($0)\" is invalid: " } ?? "\(kind.name) is invalid: "
            var detail = JSONObject()
            if let name { detail["name"] = .string(name) }
            detail["kind"] = .string(kind.plural)
            return status(code, "Invalid", subject + reason, details: detail)
        case .batchAborted(_, let inner):
            return storeResult(inner, kind: kind, name: name)
        case .batch(let results):
            return json(200, .array(results.compactMap { $0.object?.json }))
        case .rejected(let rejection):
            return status(rejection)
        case .stale(let reason):
            // Proposers retry stale writes; a client sees one only when retries ran out.
            return status(409, "Conflict", "the write raced with others and was not applied (\(reason)); retry")
        }
    }

    /// A typed write's refusal as a `Status`: details name the object and list the causes.
    static func status(_ rejection: Rejection) -> HTTPResponse {
        var detail = JSONObject()
        if !rejection.name.isEmpty { detail["name"] = .string(rejection.name) }
        if !rejection.group.isEmpty { detail["group"] = .string(rejection.group) }
        if !rejection.kind.isEmpty { detail["kind"] = .string(rejection.kind) }
        if !rejection.causes.isEmpty {
            detail["causes"] = .array(rejection.causes.map { cause in
                var object = JSONObject()
                object["reason"] = .string(cause.kind.rawValue)
                object["message"] = .string(cause.message)
                object["field"] = .string(cause.field)
                return .object(object)
            })
        }
        return status(rejection.code, rejection.reason, rejection.message, details: detail.isEmpty ? nil : detail)
    }

    static func details(_ key: ObjectKey) -> JSONObject {
        var detail = JSONObject()
        detail["name"] = .string(key.name)
        if !key.kind.group.isEmpty && key.kind.model != nil { detail["group"] = .string(key.kind.group) }
        detail["kind"] = .string(key.kind.plural)
        return detail
    }

    /// How Kubernetes names a resource in messages: `deployments.apps`, or `configmaps` for
    /// the core group (and for shoal's untyped kinds, as they always were).
    static func resourceName(_ kind: Kind) -> String {
        kind.group.isEmpty || kind.model == nil ? kind.plural : "\(kind.plural).\(kind.group)"
    }
}
