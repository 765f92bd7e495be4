import JSON
import Store

/// The OpenAPI documents shoal serves, generated from `Kind.registered` (every kind's
/// served schemas) and built once, on first use: they depend on nothing else.
///
/// - `GET /openapi/v3`: the index, one entry per served group version
///   (`{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}}}`).
///   kubectl 1.32 reads it, then the documents of the group versions it needs: for
///   `kubectl explain`, for the strategic merge patches of `kubectl apply` (the
///   `x-kubernetes-patch-*` extensions), and to decide that the server validates fields
///   (the `fieldValidation` parameter of the kind's PATCH operation).
/// - `GET /openapi/v3/{api/v1 | apis/{group}/{version}}`: one OpenAPI 3.0 document per
///   group version.
/// - `GET /openapi/v2`: one Swagger 2.0 document for everything, in JSON or in gnostic's
///   protobuf encoding (see `v2Response` for when kubectl asks for it).
///
/// The index lists only group versions: kubectl ignores other entries (kube-apiserver's
/// "api", "apis", "version", ... paths serve nothing kubectl reads).
public enum OpenAPIDocuments {
    /// `info.version` of the documents: the Kubernetes API version shoal follows.
    public static let infoVersion = "v1.32.0"
    /// The media type kubectl asks `/openapi/v2` for.
    public static let v2ProtobufMediaType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    /// The Content-Type kube-apiserver answers protobuf v2 with (a dot where the request had "@").
    public static let v2ProtobufContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    /// A document with its bytes and their digest.
    struct Document: Sendable {
        let value: JSONValue
        let bytes: [UInt8]
        /// Uppercase hex SHA-256 of `bytes`: the `hash` of v3 URLs and the ETag.
        let hash: String

        init(_ value: JSONValue) {
            self.value = value
            bytes = value.serialized()
            hash = OpenAPIHash.hex(bytes)
        }

        init(protobuf bytes: [UInt8]) {
            value = .null
            self.bytes = bytes
            hash = OpenAPIHash.hex(bytes)
        }
    }

    // MARK: Entry points

    /// The Swagger 2.0 document (`GET /openapi/v2`).
    public static func v2() -> JSONValue { v2JSON.value }

    /// The OpenAPI v3 index (`GET /openapi/v3`).
    public static func v3Index() -> JSONValue { v3IndexDocument.value }

    /// The OpenAPI 3.0 document of one group version, by its index key ("api/v1",
    /// "apis/apps/v1"); nil when no kind is served there.
    public static func v3(groupVersionPath: String) -> JSONValue? { v3Documents[groupVersionPath]?.value }

    /// Builds every document now (they are otherwise built by the first request for each,
    /// on whatever thread serves it). Building all of them takes a few hundred milliseconds
    /// in a debug build: call this off the event loop at startup to keep that off it.
    public static func prepare() {
        _ = v3IndexDocument
        _ = v2Protobuf
    }

    /// The group version paths the v3 index lists, in byte order.
    public static var v3GroupVersionPaths: [String] { v3Documents.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) }

    // MARK: Cached documents

    static let v2JSON = Document(buildV2())
    static let v2Protobuf = Document(protobuf: OpenAPIV2Protobuf.encode(v2JSON.value))
    static let v3Documents: [String: Document] = {
        var documents: [String: Document] = [:]
        for (group, version, resources) in groupVersions() {
            documents[OpenAPIResource.groupVersionPath(group: group, version: version)] =
                Document(buildV3(group: group, version: version, resources: resources))
        }
        return documents
    }()
    static let v3IndexDocument: Document = {
        var paths = JSONObject()
        for path in v3GroupVersionPaths {
            paths[path] = .object(JSONObject([("serverRelativeURL", .string("/openapi/v3/\(path)?hash=\(v3Documents[path]!.hash)"))]))
        }
        return Document(.object(JSONObject([("paths", .object(paths))])))
    }()

    // MARK: Building

    /// The served resources grouped by group version, in order of first appearance.
    static func groupVersions() -> [(group: String, version: String, resources: [OpenAPIResource])] {
        var result: [(group: String, version: String, resources: [OpenAPIResource])] = []
        for resource in OpenAPIResource.all {
            if let i = result.firstIndex(where: { $0.group == resource.group && $0.version == resource.version }) {
                result[i].resources.append(resource)
            } else {
                result.append((resource.group, resource.version, [resource]))
            }
        }
        return result
    }

    static func buildV3(group: String, version: String, resources: [OpenAPIResource]) -> JSONValue {
        var definitions = OpenAPIDefinitions(dialect: .openAPI3)
        var items = [OpenAPIPaths.discoveryItem(group: group, version: version, definitions: &definitions)]
        for resource in resources { items += OpenAPIPaths.items(for: resource, definitions: &definitions) }
        let paths = render(items, definitions)
        let schemas = definitions.render()
        return .object(JSONObject([
            ("openapi", "3.0.0"),
            ("info", info),
            ("paths", .object(paths)),
            ("components", .object(JSONObject([
                ("schemas", .object(schemas)),
                ("securitySchemes", .object(JSONObject([("BearerToken", bearerToken)]))),
            ]))),
            ("security", [["BearerToken": []]]),
        ]))
    }

    static func buildV2() -> JSONValue {
        var definitions = OpenAPIDefinitions(dialect: .swagger2)
        var items: [OpenAPIPathItem] = []
        for (group, version, resources) in groupVersions() {
            items.append(OpenAPIPaths.discoveryItem(group: group, version: version, definitions: &definitions))
            for resource in resources { items += OpenAPIPaths.items(for: resource, definitions: &definitions) }
        }
        let paths = render(items, definitions)
        let schemas = definitions.render()
        return .object(JSONObject([
            ("swagger", "2.0"),
            ("info", info),
            ("paths", .object(paths)),
            ("definitions", .object(schemas)),
            ("securityDefinitions", .object(JSONObject([("BearerToken", bearerToken)]))),
            ("security", [["BearerToken": []]]),
        ]))
    }

    private static func render(_ items: [OpenAPIPathItem], _ definitions: OpenAPIDefinitions) -> JSONObject {
        var paths = JSONObject()
        for item in items.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }) {
            precondition(paths[item.path] == nil, "two resources claim the OpenAPI path \(item.path)")
            paths[item.path] = .object(OpenAPIRender.pathItem(item, definitions))
        }
        return paths
    }

    private static let info: JSONValue = .object(JSONObject([("title", "Kubernetes"), ("version", .string(infoVersion))]))

    private static let bearerToken: JSONValue = .object(JSONObject([
        ("type", "apiKey"), ("description", "Bearer token authentication"), ("name", "authorization"), ("in", "header"),
    ]))
}
