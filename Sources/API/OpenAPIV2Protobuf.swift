import JSON

/// The Swagger 2.0 document in gnostic's protobuf encoding (the `openapi.v2.Document`
/// message of github.com/google/gnostic's openapiv2/OpenAPIv2.proto), which is what kubectl
/// asks `/openapi/v2` for and parses with gnostic.
///
/// This translates exactly the constructs `OpenAPIDocuments.buildV2` writes (a precondition
/// names anything else, so a new construct there cannot be dropped silently). Vendor
/// extensions (`x-...`) and enum values are `Any { yaml }` messages holding the value as JSON
/// text, which is YAML; kubectl reads them with a YAML parser.
enum OpenAPIV2Protobuf {
    /// `openapi.v2.Document`.
    static func encode(_ document: JSONValue) -> [UInt8] {
        var w = ProtobufWriter()
        let object = members(document, "document")
        for (key, value) in object {
            switch key {
            case "swagger": w.string(1, string(value, key))
            case "info": w.message(2, info(value))
            case "paths": w.message(8, paths(value))
            case "definitions": w.message(9, named(value, key) { schema($0, $1) })
            case "security": for requirement in items(value, key) { w.message(12, securityRequirement(requirement)) }
            case "securityDefinitions": w.message(13, named(value, key) { securityDefinitionsItem($0, $1) })
            default: vendorExtension(key, value, field: 16, &w, in: "document")
            }
        }
        return w.bytes
    }

    private static func info(_ value: JSONValue) -> [UInt8] {
        var w = ProtobufWriter()
        for (key, member) in members(value, "info") {
            switch key {
            case "title": w.string(1, string(member, key))
            case "version": w.string(2, string(member, key))
            case "description": w.string(3, string(member, key))
            default: vendorExtension(key, member, field: 7, &w, in: "info")
            }
        }
        return w.bytes
    }

    /// `Paths { 2: repeated NamedPathItem }`.
    private static func paths(_ value: JSONValue) -> [UInt8] {
        var w = ProtobufWriter()
        for (path, item) in members(value, "paths") {
            var named = ProtobufWriter()
            named.string(1, path)
            named.message(2, pathItem(item, path))
            w.message(2, named.bytes)
        }
        return w.bytes
    }

    private static func pathItem(_ value: JSONValue, _ path: String) -> [UInt8] {
        var w = ProtobufWriter()
        for (key, member) in members(value, path) {
            switch key {
            case "get": w.message(2, operation(member, path))
            case "put": w.message(3, operation(member, path))
            case "post": w.message(4, operation(member, path))
            case "delete": w.message(5, operation(member, path))
            case "patch": w.message(8, operation(member, path))
            case "parameters": for parameter in items(member, key) { w.message(9, parametersItem(parameter)) }
            default: vendorExtension(key, member, field: 10, &w, in: path)
            }
        }
        return w.bytes
    }

    private static func operation(_ value: JSONValue, _ path: String) -> [UInt8] {
        var w = ProtobufWriter()
        for (key, member) in members(value, path) {
            switch key {
            case "tags": for tag in items(member, key) { w.string(1, string(tag, key), always: true) }
            case "description": w.string(3, string(member, key))
            case "operationId": w.string(5, string(member, key))
            case "produces": for type in items(member, key) { w.string(6, string(type, key), always: true) }
            case "consumes": for type in items(member, key) { w.string(7, string(type, key), always: true) }
            case "parameters": for parameter in items(member, key) { w.message(8, parametersItem(parameter)) }
            case "responses": w.message(9, responses(member))
            case "schemes": for scheme in items(member, key) { w.string(10, string(scheme, key), always: true) }
            default: vendorExtension(key, member, field: 13, &w, in: path)
            }
        }
        return w.bytes
    }

    /// `ParametersItem { 1: Parameter { 1: BodyParameter | 2: NonBodyParameter } }`.
    private static func parametersItem(_ value: JSONValue) -> [UInt8] {
        let object = members(value, "parameter")
        var parameter = ProtobufWriter()
        if object["in"]?.stringValue == "body" {
            var body = ProtobufWriter()
            for (key, member) in object {
                switch key {
                case "description": body.string(1, string(member, key))
                case "name": body.string(2, string(member, key))
                case "in": body.string(3, string(member, key))
                case "required": body.bool(4, bool(member, key))
                case "schema": body.message(5, schema(member, "body"))
                default: vendorExtension(key, member, field: 6, &body, in: "body parameter")
                }
            }
            parameter.message(1, body.bytes)
        } else {
            // Query and path sub-schemas differ only in the query one's allow_empty_value (5),
            // which shifts type and format up by one.
            let isQuery = object["in"]?.stringValue == "query"
            precondition(isQuery || object["in"]?.stringValue == "path", "OpenAPI v2 protobuf: parameter in \(object["in"] ?? .null)")
            var sub = ProtobufWriter()
            for (key, member) in object {
                switch key {
                case "required": sub.bool(1, bool(member, key))
                case "in": sub.string(2, string(member, key))
                case "description": sub.string(3, string(member, key))
                case "name": sub.string(4, string(member, key))
                case "type": sub.string(isQuery ? 6 : 5, string(member, key))
                case "format": sub.string(isQuery ? 7 : 6, string(member, key))
                default: vendorExtension(key, member, field: isQuery ? 23 : 22, &sub, in: "parameter")
                }
            }
            var nonBody = ProtobufWriter()
            nonBody.message(isQuery ? 3 : 4, sub.bytes)
            parameter.message(2, nonBody.bytes)
        }
        var item = ProtobufWriter()
        item.message(1, parameter.bytes)
        return item.bytes
    }

    /// `Responses { 1: repeated NamedResponseValue { name, ResponseValue { 1: Response } } }`.
    private static func responses(_ value: JSONValue) -> [UInt8] {
        var w = ProtobufWriter()
        for (code, member) in members(value, "responses") {
            var response = ProtobufWriter()
            for (key, part) in members(member, code) {
                switch key {
                case "description": response.string(1, string(part, key), always: true)
                case "schema":
                    var item = ProtobufWriter()  // SchemaItem { 1: Schema }
                    item.message(1, schema(part, code))
                    response.message(2, item.bytes)
                default: vendorExtension(key, part, field: 5, &response, in: "response")
                }
            }
            var responseValue = ProtobufWriter()
            responseValue.message(1, response.bytes)
            var named = ProtobufWriter()
            named.string(1, code)
            named.message(2, responseValue.bytes)
            w.message(1, named.bytes)
        }
        return w.bytes
    }

    /// `openapi.v2.Schema`.
    static func schema(_ value: JSONValue, _ name: String) -> [UInt8] {
        var w = ProtobufWriter()
        for (key, member) in members(value, name) {
            switch key {
            case "$ref": w.string(1, string(member, key))
            case "format": w.string(2, string(member, key))
            case "description": w.string(4, string(member, key))
            case "required": for field in items(member, key) { w.string(19, string(field, key), always: true) }
            case "enum": for option in items(member, key) { w.message(20, any(option)) }
            case "additionalProperties":
                var item = ProtobufWriter()  // AdditionalPropertiesItem { 1: Schema | 2: bool }
                if case .bool(let flag) = member { item.bool(2, flag, always: true) } else { item.message(1, schema(member, key)) }
                w.message(21, item.bytes)
            case "type":
                var type = ProtobufWriter()  // TypeItem { 1: repeated string }
                type.string(1, string(member, key), always: true)
                w.message(22, type.bytes)
            case "items":
                var items = ProtobufWriter()  // ItemsItem { 1: repeated Schema }
                items.message(1, schema(member, key))
                w.message(23, items.bytes)
            case "allOf": for part in items(member, key) { w.message(24, schema(part, key)) }
            case "properties": w.message(25, named(member, key) { schema($0, $1) })
            default: vendorExtension(key, member, field: 31, &w, in: name)
            }
        }
        return w.bytes
    }

    /// `SecurityDefinitionsItem { 2: ApiKeySecurity }`.
    private static func securityDefinitionsItem(_ value: JSONValue, _ name: String) -> [UInt8] {
        let object = members(value, name)
        precondition(object["type"]?.stringValue == "apiKey", "OpenAPI v2 protobuf: security definition \(name) is not an apiKey")
        var key = ProtobufWriter()
        for (field, member) in object {
            switch field {
            case "type": key.string(1, string(member, field))
            case "name": key.string(2, string(member, field))
            case "in": key.string(3, string(member, field))
            case "description": key.string(4, string(member, field))
            default: vendorExtension(field, member, field: 5, &key, in: name)
            }
        }
        var item = ProtobufWriter()
        item.message(2, key.bytes)
        return item.bytes
    }

    /// `SecurityRequirement { 1: repeated NamedStringArray { name, StringArray { 1: repeated string } } }`.
    private static func securityRequirement(_ value: JSONValue) -> [UInt8] {
        named(value, "security") { scopes, name in
            var array = ProtobufWriter()
            for scope in items(scopes, name) { array.string(1, string(scope, name), always: true) }
            return array.bytes
        }
    }

    // MARK: Helpers

    /// The repeated `{1: name, 2: value}` messages of a JSON object (field 1 of Definitions,
    /// Properties, SecurityDefinitions, SecurityRequirement).
    private static func named(_ value: JSONValue, _ context: String, _ encode: (JSONValue, String) -> [UInt8]) -> [UInt8] {
        var w = ProtobufWriter()
        for (name, member) in members(value, context) {
            var pair = ProtobufWriter()
            pair.string(1, name)
            pair.message(2, encode(member, name))
            w.message(1, pair.bytes)
        }
        return w.bytes
    }

    /// `NamedAny { 1: name, 2: Any { 2: yaml } }` for an `x-` key; anything else is a key this
    /// translation does not know.
    private static func vendorExtension(_ key: String, _ value: JSONValue, field: Int, _ w: inout ProtobufWriter, in context: String) {
        precondition(key.hasPrefix("x-"), "OpenAPI v2 protobuf: no encoding for \"\(key)\" in \(context)")
        var named = ProtobufWriter()
        named.string(1, key)
        named.message(2, any(value))
        w.message(field, named.bytes)
    }

    /// `Any { 2: yaml }` holding `value` as JSON text (a subset of YAML).
    private static func any(_ value: JSONValue) -> [UInt8] {
        var w = ProtobufWriter()
        w.string(2, value.jsonString, always: true)
        return w.bytes
    }

    private static func members(_ value: JSONValue, _ context: String) -> JSONObject {
        guard case .object(let object) = value else { preconditionFailure("OpenAPI v2 protobuf: \(context) is not an object") }
        return object
    }

    private static func items(_ value: JSONValue, _ context: String) -> [JSONValue] {
        guard case .array(let items) = value else { preconditionFailure("OpenAPI v2 protobuf: \(context) is not a list") }
        return items
    }

    private static func string(_ value: JSONValue, _ context: String) -> String {
        guard case .string(let text) = value else { preconditionFailure("OpenAPI v2 protobuf: \(context) is not a string") }
        return text
    }

    private static func bool(_ value: JSONValue, _ context: String) -> Bool {
        guard case .bool(let flag) = value else { preconditionFailure("OpenAPI v2 protobuf: \(context) is not a boolean") }
        return flag
    }
}
