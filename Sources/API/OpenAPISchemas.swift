import JSON
import Store

/// The two dialects shoal publishes: Swagger 2.0 (`/openapi/v2`) and OpenAPI 3.0
/// (`/openapi/v3/...`). They differ in where definitions live, in how a reference carries a
/// description (3.0 ignores siblings of `$ref`, so kube-apiserver wraps it in `allOf`), and in
/// what a schema may say (3.0 has `anyOf` and `x-kubernetes-preserve-unknown-fields`).
enum OpenAPIDialect: Sendable {
    case swagger2
    case openAPI3

    /// Where `$ref`s point.
    var referencePrefix: String {
        switch self {
        case .swagger2: return "#/definitions/"
        case .openAPI3: return "#/components/schemas/"
        }
    }
}

/// A group, version and kind, as `x-kubernetes-group-version-kind` lists them.
struct OpenAPIGVK: Hashable, Sendable {
    let group: String
    let version: String
    let kind: String

    var json: JSONValue {
        // Keys in Go's (sorted) order, as kube-apiserver writes them.
        .object(JSONObject([("group", .string(group)), ("kind", .string(kind)), ("version", .string(version))]))
    }
}

/// The named definitions of one document: every `StructSchema` reachable from the roots the
/// paths name, rendered once each under its OpenAPI definition name, plus the definitions
/// built here (lists, untyped kinds, and the scalar types kube-apiserver names: Time,
/// MicroTime, Quantity, IntOrString).
///
/// Two schemas with one definition name are one definition (a kind's served version is a
/// copy of its type's schema that adds the GVK): the first seen is rendered, and the GVKs
/// of all are listed.
struct OpenAPIDefinitions {
    let dialect: OpenAPIDialect
    private var rendered: [String: JSONObject] = [:]
    private var queued: Set<String> = []
    private var queue: [StructSchema] = []
    private var gvks: [String: [OpenAPIGVK]] = [:]

    init(dialect: OpenAPIDialect) { self.dialect = dialect }

    static let timeDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
    static let microTimeDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
    static let quantityDefinition = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    static let intOrStringDefinition = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"

    /// `{"$ref": ...}` to the definition called `name`.
    func reference(_ name: String) -> JSONObject {
        JSONObject([("$ref", .string(dialect.referencePrefix + name))])
    }

    /// Includes `schema` (and, once rendered, everything it reaches); its GVKs and `extra`
    /// are listed on the definition. Returns the definition name.
    @discardableResult
    mutating func include(_ schema: StructSchema, gvks extra: [OpenAPIGVK] = []) -> String {
        let name = schema.definition
        addGVKs(schema.groupVersionKinds.map { OpenAPIGVK(group: $0.group, version: $0.version, kind: $0.kind) } + extra, to: name)
        if !queued.contains(name) {
            queued.insert(name)
            queue.append(schema)
        }
        return name
    }

    /// Includes a definition built by hand (it must not reach unincluded schemas).
    mutating func include(named name: String, _ definition: JSONObject, gvks extra: [OpenAPIGVK] = []) {
        addGVKs(extra, to: name)
        if !queued.contains(name) {
            queued.insert(name)
            rendered[name] = definition
        }
    }

    private mutating func addGVKs(_ list: [OpenAPIGVK], to name: String) {
        for gvk in list where !(gvks[name] ?? []).contains(gvk) { gvks[name, default: []].append(gvk) }
    }

    /// Every definition, by name in byte order (a stable document: the hash clients cache
    /// by must not change unless the schemas do).
    mutating func render() -> JSONObject {
        while let schema = queue.popLast() {
            guard rendered[schema.definition] == nil else { continue }
            rendered[schema.definition] = structDefinition(schema)
        }
        var result = JSONObject()
        for name in rendered.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            var definition = rendered[name]!
            if let list = gvks[name], !list.isEmpty {
                definition["x-kubernetes-group-version-kind"] = .array(list.map(\.json))
            }
            result[name] = .object(definition)
        }
        return result
    }

    // MARK: Structs and fields

    private mutating func structDefinition(_ schema: StructSchema) -> JSONObject {
        var definition = JSONObject()
        if !schema.doc.isEmpty { definition["description"] = .string(schema.doc) }
        definition["type"] = "object"
        var properties = JSONObject()
        for field in schema.fields { properties[field.name] = .object(property(field)) }
        if !properties.isEmpty { definition["properties"] = .object(properties) }
        let required = schema.fields.filter(\.required).map { JSONValue.string($0.name) }
        if !required.isEmpty { definition["required"] = .array(required) }
        return definition
    }

    /// A field's schema: its shape's, with its description and merge extensions.
    private mutating func property(_ field: FieldSchema) -> JSONObject {
        let shape = field.shape()
        var property = self.shape(shape)
        if property["$ref"] != nil && dialect == .openAPI3 {
            // OpenAPI 3.0 ignores the siblings of a $ref: wrap it so the description counts.
            property = JSONObject([("allOf", .array([.object(property)]))])
        }
        if !field.doc.isEmpty { property["description"] = .string(field.doc) }
        let semantics = field.semantics
        if let key = semantics.mergeKey { property["x-kubernetes-patch-merge-key"] = .string(key) }
        let strategies = (semantics.merge ? ["merge"] : []) + (semantics.retainKeys ? ["retainKeys"] : [])
        if !strategies.isEmpty { property["x-kubernetes-patch-strategy"] = .string(strategies.joined(separator: ",")) }
        if case .array = shape {
            if let listType = semantics.listType { property["x-kubernetes-list-type"] = .string(listType) }
            if !semantics.mapKeys.isEmpty { property["x-kubernetes-list-map-keys"] = .array(semantics.mapKeys.map { .string($0) }) }
        }
        return property
    }

    /// The schema of a value of `shape` (a `$ref` for structs and named scalar types).
    mutating func shape(_ shape: WireShape) -> JSONObject {
        switch shape {
        case .string(let values):
            var schema = JSONObject([("type", "string")])
            if !values.isEmpty { schema["enum"] = .array(values.map { .string($0) }) }
            return schema
        case .int32: return JSONObject([("type", "integer"), ("format", "int32")])
        case .int64: return JSONObject([("type", "integer"), ("format", "int64")])
        case .bool: return JSONObject([("type", "boolean")])
        case .double: return JSONObject([("type", "number"), ("format", "double")])
        case .bytes: return JSONObject([("type", "string"), ("format", "byte")])
        case .duration: return JSONObject([("type", "string")])
        case .freeform:
            var schema = JSONObject([("type", "object")])
            if dialect == .openAPI3 { schema["x-kubernetes-preserve-unknown-fields"] = true }
            return schema
        case .array(let element):
            return JSONObject([("type", "array"), ("items", .object(self.shape(element)))])
        case .map(let value):
            return JSONObject([("type", "object"), ("additionalProperties", .object(self.shape(value)))])
        case .object(let schema):
            return reference(include(schema()))
        case .time(let micro):
            let name = micro ? Self.microTimeDefinition : Self.timeDefinition
            include(named: name, JSONObject([
                ("description", .string(micro
                    ? "A time in RFC 3339 form with microseconds, in UTC: 2006-01-02T15:04:05.000000Z."
                    : "A time in RFC 3339 form, in UTC, to the second: 2006-01-02T15:04:05Z.")),
                ("type", "string"), ("format", "date-time"),
            ]))
            return reference(name)
        case .quantity:
            include(named: Self.quantityDefinition, intOrStringSchema(
                "An amount of a resource: a decimal number with an optional suffix, such as 500m (half a CPU), 128Mi or 1Gi (bytes), 2 or 1e3.",
                swagger2Format: nil))
            return reference(Self.quantityDefinition)
        case .intOrString:
            include(named: Self.intOrStringDefinition, intOrStringSchema(
                "An integer or a string: a port number or a port name, a count or a percentage (\"25%\").",
                swagger2Format: "int-or-string"))
            return reference(Self.intOrStringDefinition)
        }
    }

    /// Quantity and IntOrString: a string in Swagger 2.0 (as kube-apiserver publishes them),
    /// an integer or a string marked `x-kubernetes-int-or-string` in OpenAPI 3.0 (the form
    /// structural schemas use for them).
    private func intOrStringSchema(_ description: String, swagger2Format: String?) -> JSONObject {
        switch dialect {
        case .swagger2:
            var schema = JSONObject([("description", .string(description)), ("type", "string")])
            if let swagger2Format { schema["format"] = .string(swagger2Format) }
            return schema
        case .openAPI3:
            return JSONObject([
                ("description", .string(description)),
                ("anyOf", [["type": "integer"], ["type": "string"]]),
                ("x-kubernetes-int-or-string", true),
            ])
        }
    }
}
