import JSON
import Store

/// The query parameters of object requests, parsed and checked once. Each parser answers the
/// exchange with a 400 (or the status Kubernetes gives) and returns nil when a value is bad.
extension APIServer {
    /// `fieldValidation`: Strict, Warn (the default, as in Kubernetes) or Ignore.
    func fieldValidation(_ exchange: APIExchange) -> FieldValidation? {
        let text = exchange.request.query["fieldValidation"] ?? ""
        if text.isEmpty { return .warn }
        if let mode = FieldValidation(rawValue: text) { return mode }
        exchange.respond(APIResponses.status(
            422, "Invalid",
            "fieldValidation: Unsupported value: \(FieldError.quote(text)): supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""))
        return nil
    }

    /// `dryRun`: absent, or "All" (the write is checked against this member's store and not
    /// committed).
    func dryRun(_ exchange: APIExchange) -> Bool? {
        switch exchange.request.query["dryRun"] {
        case nil, "": return false
        case "All": return true
        case let other?:
            exchange.respond(APIResponses.badRequest("dryRun: Unsupported value: \(FieldError.quote(other)): supported values: \"All\""))
            return nil
        }
    }

    /// `fieldSelector` for `kind` (everything when absent).
    func fieldSelector(_ exchange: APIExchange, _ kind: Kind) -> FieldSelector? {
        guard let text = exchange.request.query["fieldSelector"], !text.isEmpty else { return .everything }
        do {
            return try FieldSelector(parsing: text, kind: kind)
        } catch {
            exchange.respond(APIResponses.badRequest(error.message))
            return nil
        }
    }

    /// A non-negative integer parameter (nil when absent); answers 400 for anything else.
    func integerParameter(_ exchange: APIExchange, _ name: String) -> (present: Bool, value: Int64)? {
        guard let text = exchange.request.query[name], !text.isEmpty else { return (false, 0) }
        guard let value = Int64(text), value >= 0 else {
            exchange.respond(APIResponses.badRequest("\(name): Invalid value: \(FieldError.quote(text)): must be a non-negative integer"))
            return nil
        }
        return (true, value)
    }

    /// The delete options of a DELETE: the body's `DeleteOptions` and the query's parameters
    /// (`gracePeriodSeconds`, `propagationPolicy`, `orphanDependents`, `dryRun`), which must
    /// not disagree.
    func deleteOptions(_ exchange: APIExchange) -> DeleteOptions? {
        var options = DeleteOptions()
        let request = exchange.request
        if !request.body.isEmpty {
            guard let body = try? JSONValue.parse(request.body), let object = body.objectValue else {
                exchange.respond(APIResponses.badRequest("the body of a DELETE must be a JSON object (DeleteOptions)"))
                return nil
            }
            if let grace = object["gracePeriodSeconds"], !grace.isNull {
                guard let value = grace.intValue else {
                    exchange.respond(APIResponses.badRequest("gracePeriodSeconds must be an integer"))
                    return nil
                }
                options.gracePeriodSeconds = value
            }
            if let policy = object["propagationPolicy"]?.stringValue {
                guard let parsed = TypedWrite.Propagation.allCases.first(where: { $0.name == policy }) else {
                    exchange.respond(APIResponses.badRequest(Self.propagationMessage(policy)))
                    return nil
                }
                options.propagation = parsed
            } else if let orphan = object["orphanDependents"]?.boolValue {
                options.propagation = orphan ? .orphan : .background
            }
            if let preconditions = object["preconditions"], !preconditions.isNull {
                guard preconditions.objectValue != nil else {
                    exchange.respond(APIResponses.badRequest("preconditions must be an object"))
                    return nil
                }
                if let text = preconditions["resourceVersion"], !text.isNull {
                    guard let string = text.stringValue, let parsed = Store.parseResourceVersion(string) else {
                        exchange.respond(APIResponses.badRequest("preconditions.resourceVersion must be a decimal revision string"))
                        return nil
                    }
                    options.resourceVersion = parsed
                }
                if let text = preconditions["uid"], !text.isNull {
                    guard let uid = text.stringValue else {
                        exchange.respond(APIResponses.badRequest("preconditions.uid must be a string"))
                        return nil
                    }
                    options.uid = uid
                }
            }
            if let dry = object["dryRun"]?.arrayValue {
                options.dryRun = dry.contains(.string("All"))
            }
        }
        let query = request.query
        if let text = query["gracePeriodSeconds"], !text.isEmpty {
            guard let value = Int64(text) else {
                exchange.respond(APIResponses.badRequest("gracePeriodSeconds: Invalid value: \(FieldError.quote(text)): must be an integer"))
                return nil
            }
            options.gracePeriodSeconds = value
        }
        if let policy = query["propagationPolicy"], !policy.isEmpty {
            guard let parsed = TypedWrite.Propagation.allCases.first(where: { $0.name == policy }) else {
                exchange.respond(APIResponses.badRequest(Self.propagationMessage(policy)))
                return nil
            }
            options.propagation = parsed
        } else if let orphan = query["orphanDependents"], !orphan.isEmpty {
            options.propagation = orphan == "true" ? .orphan : .background
        }
        if let text = query["resourceVersion"], !text.isEmpty {
            guard let parsed = Store.parseResourceVersion(text) else {
                exchange.respond(APIResponses.badRequest("resourceVersion: Invalid value: \(FieldError.quote(text)): must be a decimal revision"))
                return nil
            }
            if let given = options.resourceVersion, given != parsed {
                exchange.respond(APIResponses.badRequest("preconditions.resourceVersion \(given) differs from the resourceVersion parameter \(parsed)"))
                return nil
            }
            options.resourceVersion = parsed
        }
        guard let dry = dryRun(exchange) else { return nil }
        options.dryRun = options.dryRun || dry
        if let grace = options.gracePeriodSeconds, grace < 0 { options.gracePeriodSeconds = 1 }  // Kubernetes: negative means "as soon as possible"
        return options
    }

    static func propagationMessage(_ policy: String) -> String {
        "propagationPolicy: Unsupported value: \(FieldError.quote(policy)): supported values: \"Background\", \"Foreground\", \"Orphan\""
    }
}

/// What a DELETE asks besides which object.
struct DeleteOptions {
    var gracePeriodSeconds: Int64?
    var propagation: TypedWrite.Propagation?
    var resourceVersion: UInt64?
    var uid: String?
    var dryRun = false
}
