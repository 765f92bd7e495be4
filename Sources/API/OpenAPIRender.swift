import JSON
import Store

/// Writes path items and operations in one dialect, as kube-apiserver lays them out
/// (`x-kubernetes-action` and `x-kubernetes-group-version-kind` on every operation, query
/// parameters on the operation, path parameters on the path item).
enum OpenAPIRender {
    /// The media type of success answers (shoal answers JSON, whatever else a client offers).
    static let responseMediaType = "application/json"
    /// The media type of a watch stream.
    static let watchMediaType = "application/json;stream=watch"

    static func pathItem(_ item: OpenAPIPathItem, _ definitions: OpenAPIDefinitions) -> JSONObject {
        var object = JSONObject()
        for operation in item.operations { object[operation.method] = .object(self.operation(operation, definitions)) }
        if !item.parameters.isEmpty {
            object["parameters"] = .array(item.parameters.map { .object(parameter($0, definitions.dialect)) })
        }
        return object
    }

    static func operation(_ operation: OpenAPIOperation, _ definitions: OpenAPIDefinitions) -> JSONObject {
        let dialect = definitions.dialect
        var object = JSONObject()
        object["tags"] = .array([.string(operation.tag)])
        object["description"] = .string(operation.description)
        object["operationId"] = .string(operation.operationID)
        var parameters = operation.parameters.map { JSONValue.object(parameter($0, dialect)) }
        let response = definitions.reference(operation.response)
        var responses = JSONObject()
        switch dialect {
        case .swagger2:
            if let body = operation.body {
                object["consumes"] = .array(body.mediaTypes.map { .string($0) })
                parameters.insert(.object(JSONObject([
                    ("name", "body"), ("in", "body"), ("required", .bool(body.required)),
                    ("schema", .object(definitions.reference(body.definition))),
                ])), at: 0)
            } else {
                object["consumes"] = ["*/*"]
            }
            var produces: [JSONValue] = [.string(responseMediaType)]
            if operation.watchable { produces.append(.string(watchMediaType)) }
            object["produces"] = .array(produces)
            object["schemes"] = ["https"]
            for code in operation.successCodes {
                responses[code] = .object(JSONObject([("description", .string(describe(code))), ("schema", .object(response))]))
            }
        case .openAPI3:
            if let body = operation.body {
                var content = JSONObject()
                for mediaType in body.mediaTypes {
                    content[mediaType] = .object(JSONObject([("schema", .object(definitions.reference(body.definition)))]))
                }
                var requestBody = JSONObject([("content", .object(content))])
                if body.required { requestBody["required"] = true }
                object["requestBody"] = .object(requestBody)
            }
            var content = JSONObject([(responseMediaType, .object(JSONObject([("schema", .object(response))])))])
            if operation.watchable {
                // A watch answers with a stream of WatchEvents rather than the list.
                let event = definitions.reference(OpenAPIMeta.WatchEvent.wireInfo.schema.definition)
                content[watchMediaType] = .object(JSONObject([("schema", .object(event))]))
            }
            for code in operation.successCodes {
                responses[code] = .object(JSONObject([("description", .string(describe(code))), ("content", .object(content))]))
            }
        }
        if !parameters.isEmpty { object["parameters"] = .array(parameters) }
        responses["401"] = .object(JSONObject([("description", "Unauthorized")]))
        object["responses"] = .object(responses)
        object["x-kubernetes-action"] = .string(operation.action)
        if let gvk = operation.gvk { object["x-kubernetes-group-version-kind"] = gvk.json }
        return object
    }

    static func parameter(_ parameter: OpenAPIParameter, _ dialect: OpenAPIDialect) -> JSONObject {
        var object = JSONObject([
            ("name", .string(parameter.name)), ("in", .string(parameter.location)),
            ("description", .string(parameter.description)),
        ])
        if parameter.required { object["required"] = true }
        switch dialect {
        case .swagger2: object["type"] = .string(parameter.type)
        case .openAPI3: object["schema"] = .object(JSONObject([("type", .string(parameter.type))]))
        }
        return object
    }

    private static func describe(_ code: String) -> String {
        switch code {
        case "200": return "OK"
        case "201": return "Created"
        case "202": return "Accepted"
        default: return code
        }
    }
}
