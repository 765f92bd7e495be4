import Foundation
import JSON
import Store
import XCTest

@testable import API

/// The OpenAPI documents: their structure, that every reference resolves, that every
/// registered kind is there with its GVK, that writes advertise `fieldValidation` (kubectl's
/// test for server-side validation), and the HTTP answers. `OPENAPI_DUMP_DIR=<dir>` writes
/// the documents there (for trying them with kubectl or other tools).
final class OpenAPITests: XCTestCase {
    /// Every served (group, version, kind) of a typed kind.
    private var typedGVKs: [OpenAPIGVK] {
        Kind.registered.filter { $0.model != nil }.flatMap { kind in
            kind.versions.map { OpenAPIGVK(group: $0.group, version: $0.version, kind: kind.name) }
        }
    }

    private func gvPath(_ gvk: OpenAPIGVK) -> String { OpenAPIResource.groupVersionPath(group: gvk.group, version: gvk.version) }

    // MARK: v3

    func testIndexListsEveryServedGroupVersionWithTheDocumentsHash() throws {
        let index = OpenAPIDocuments.v3Index()
        let paths = try XCTUnwrap(index["paths"]?.objectValue)
        var expected = Set<String>()
        for kind in Kind.registered {
            if kind.model == nil { expected.insert(OpenAPIResource.groupVersionPath(group: kind.group, version: kind.version)) }
            for version in kind.versions { expected.insert(OpenAPIResource.groupVersionPath(group: version.group, version: version.version)) }
        }
        XCTAssertEqual(Set(paths.keys), expected)
        XCTAssertTrue(expected.contains("api/v1"))
        for (path, entry) in paths {
            let url = try XCTUnwrap(entry["serverRelativeURL"]?.stringValue)
            let document = try XCTUnwrap(OpenAPIDocuments.v3(groupVersionPath: path), path)
            let hash = OpenAPIHash.hex(document.serialized())
            XCTAssertEqual(url, "/openapi/v3/\(path)?hash=\(hash)")
            XCTAssertEqual(hash.count, 64)
        }
        XCTAssertNil(OpenAPIDocuments.v3(groupVersionPath: "apis/nothing.example/v9"))
    }

    func testV3DocumentsAreOpenAPI3WithResolvableReferences() throws {
        for path in OpenAPIDocuments.v3GroupVersionPaths {
            let document = try XCTUnwrap(OpenAPIDocuments.v3(groupVersionPath: path))
            XCTAssertEqual(document["openapi"], "3.0.0", path)
            XCTAssertEqual(document["info"]?["title"], "Kubernetes")
            let schemas = try XCTUnwrap(document["components"]?["schemas"]?.objectValue, path)
            XCTAssertFalse(try XCTUnwrap(document["paths"]?.objectValue).isEmpty)
            for reference in references(in: document) {
                XCTAssertTrue(reference.hasPrefix("#/components/schemas/"), "\(path): \(reference)")
                let name = String(reference.dropFirst("#/components/schemas/".count))
                XCTAssertNotNil(schemas[name], "\(path): \(reference) does not resolve")
            }
            // The document is the same bytes every time it is built (its hash is a cache key).
            let parts = path.split(separator: "/").map(String.init)
            let group = parts[0] == "api" ? "" : parts[1]
            let version = parts.last!
            let again = OpenAPIDocuments.buildV3(group: group, version: version, resources: OpenAPIResource.all.filter {
                $0.group == group && $0.version == version
            })
            XCTAssertEqual(again.serialized(), document.serialized(), path)
        }
    }

    func testEveryServedKindHasAGVKTaggedSchemaAndList() throws {
        for gvk in typedGVKs {
            let document = try XCTUnwrap(OpenAPIDocuments.v3(groupVersionPath: gvPath(gvk)))
            let schemas = try XCTUnwrap(document["components"]?["schemas"]?.objectValue)
            let tagged = schemas.filter { _, schema in gvks(of: schema).contains(gvk) }
            XCTAssertEqual(tagged.count, 1, "\(gvk): \(tagged.map(\.key))")
            guard let (name, schema) = tagged.first else { continue }
            XCTAssertEqual(schema["type"], "object")
            XCTAssertNotNil(schema["properties"]?["metadata"], name)
            XCTAssertNotNil(schema["description"]?.stringValue, name)
            let list = try XCTUnwrap(schemas[name + "List"], "\(name)List")
            XCTAssertTrue(gvks(of: list).contains(OpenAPIGVK(group: gvk.group, version: gvk.version, kind: gvk.kind + "List")))
            XCTAssertEqual(list["required"], ["items"])
        }
        // Untyped kinds get a free-form schema.
        for kind in Kind.registered where kind.model == nil {
            let document = try XCTUnwrap(OpenAPIDocuments.v3(groupVersionPath: OpenAPIResource.groupVersionPath(group: kind.group, version: kind.version)))
            let schemas = try XCTUnwrap(document["components"]?["schemas"]?.objectValue)
            let gvk = OpenAPIGVK(group: kind.group, version: kind.version, kind: kind.name)
            let schema = try XCTUnwrap(schemas.first { gvks(of: $0.value).contains(gvk) }?.value, kind.name)
            XCTAssertEqual(schema["x-kubernetes-preserve-unknown-fields"], true)
        }
    }

    /// kubectl's test (cli-runtime's QueryParamVerifierV3): a path whose PATCH operation has
    /// the kind's GVK and a `fieldValidation` query parameter, on the path or the operation.
    func testWritesAdvertiseFieldValidationAsKubectlLooksForIt() throws {
        for gvk in typedGVKs {
            let document = try XCTUnwrap(OpenAPIDocuments.v3(groupVersionPath: gvPath(gvk)))
            let paths = try XCTUnwrap(document["paths"]?.objectValue)
            var supported = false
            var strategic = false
            for (_, item) in paths {
                guard let patch = item["patch"], gvkValue(patch["x-kubernetes-group-version-kind"]) == gvk else { continue }
                let parameters = (item["parameters"]?.arrayValue ?? []) + (patch["parameters"]?.arrayValue ?? [])
                if parameters.contains(where: { $0["name"] == "fieldValidation" && $0["in"] == "query" }) { supported = true }
                if patch["requestBody"]?["content"]?["application/strategic-merge-patch+json"] != nil { strategic = true }
            }
            XCTAssertTrue(supported, "\(gvk): no PATCH with fieldValidation")
            XCTAssertTrue(strategic, "\(gvk): no PATCH taking a strategic merge patch (kubectl apply would fall back to v2)")
            // POST, PUT and PATCH all take dryRun, fieldManager and fieldValidation.
            for (path, item) in paths {
                for method in ["post", "put", "patch"] {
                    guard let operation = item[method] else { continue }
                    let names = Set((operation["parameters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
                    XCTAssertTrue(names.isSuperset(of: ["dryRun", "fieldManager", "fieldValidation"]), "\(method) \(path): \(names)")
                    XCTAssertNotNil(operation["x-kubernetes-action"], "\(method) \(path)")
                    XCTAssertNotNil(operation["requestBody"], "\(method) \(path)")
                }
            }
        }
    }

    func testOperationsOfConfigMapsAndNamespaces() throws {
        let core = try XCTUnwrap(OpenAPIDocuments.v3(groupVersionPath: "api/v1"))
        let collection = try XCTUnwrap(core["paths"]?["/api/v1/namespaces/{namespace}/configmaps"])
        XCTAssertEqual(collection["get"]?["operationId"], "listCoreV1NamespacedConfigMap")
        XCTAssertEqual(collection["get"]?["x-kubernetes-action"], "list")
        XCTAssertEqual(collection["get"]?["x-kubernetes-group-version-kind"], ["group": "", "kind": "ConfigMap", "version": "v1"])
        XCTAssertEqual(collection["get"]?["responses"]?["200"]?["content"]?["application/json"]?["schema"]?["$ref"],
                       "#/components/schemas/io.k8s.api.core.v1.ConfigMapList")
        XCTAssertEqual(collection["post"]?["operationId"], "createCoreV1NamespacedConfigMap")
        XCTAssertEqual(collection["parameters"]?[0]?["name"], "namespace")
        let one = try XCTUnwrap(core["paths"]?["/api/v1/namespaces/{namespace}/configmaps/{name}"])
        XCTAssertEqual(one["patch"]?["operationId"], "patchCoreV1NamespacedConfigMap")
        XCTAssertEqual(one["delete"]?["requestBody"]?["content"]?["*/*"]?["schema"]?["$ref"],
                       "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")
        XCTAssertNotNil(core["paths"]?["/api/v1/configmaps"]?["get"], "list across namespaces")
        XCTAssertEqual(core["paths"]?["/api/v1/configmaps"]?["get"]?["operationId"], "listCoreV1ConfigMapForAllNamespaces")
        let namespaces = try XCTUnwrap(core["paths"]?["/api/v1/namespaces/{name}/status"])
        XCTAssertEqual(namespaces["put"]?["operationId"], "replaceCoreV1NamespaceStatus")
        XCTAssertNil(core["paths"]?["/api/v1/namespaces/{namespace}/namespaces"])
        XCTAssertEqual(core["paths"]?["/api/v1/"]?["get"]?["operationId"], "getCoreV1APIResources")
    }

    func testSubresourcePathsFollowTheRegistry() throws {
        for kind in Kind.registered where kind.model != nil {
            for version in kind.versions {
                let document = try XCTUnwrap(OpenAPIDocuments.v3(groupVersionPath: OpenAPIResource.groupVersionPath(group: version.group, version: version.version)))
                let base = "/" + OpenAPIResource.groupVersionPath(group: version.group, version: version.version)
                let item = kind.namespaced ? "\(base)/namespaces/{namespace}/\(kind.plural)/{name}" : "\(base)/\(kind.plural)/{name}"
                XCTAssertNotNil(document["paths"]?[item], item)
                for subresource in Kind.Subresource.allCases {
                    let path = document["paths"]?["\(item)/\(subresource.rawValue)"]
                    XCTAssertEqual(path != nil, kind.subresources.contains(subresource), "\(item)/\(subresource.rawValue)")
                    switch subresource {
                    case .scale where path != nil:
                        XCTAssertEqual(gvkValue(path?["put"]?["x-kubernetes-group-version-kind"]),
                                       OpenAPIGVK(group: "autoscaling", version: "v1", kind: "Scale"))
                    case .binding where path != nil:
                        XCTAssertEqual(path?["post"]?["requestBody"]?["content"]?["*/*"]?["schema"]?["$ref"],
                                       "#/components/schemas/io.k8s.api.core.v1.Binding")
                    default: break
                    }
                }
            }
        }
    }

    /// What kubectl apply's strategic merge patch and explain read from the schemas.
    func testFieldSchemasCarryTypesFormatsAndMergeExtensions() throws {
        let core = try XCTUnwrap(OpenAPIDocuments.v3(groupVersionPath: "api/v1"))
        let schemas = try XCTUnwrap(core["components"]?["schemas"])
        let meta = try XCTUnwrap(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]?["properties"])
        XCTAssertEqual(meta["finalizers"]?["x-kubernetes-patch-strategy"], "merge")
        XCTAssertEqual(meta["finalizers"]?["x-kubernetes-list-type"], "set")
        XCTAssertEqual(meta["finalizers"]?["items"]?["type"], "string")
        XCTAssertEqual(meta["ownerReferences"]?["x-kubernetes-patch-merge-key"], "uid")
        XCTAssertEqual(meta["ownerReferences"]?["x-kubernetes-list-map-keys"], ["uid"])
        XCTAssertEqual(meta["ownerReferences"]?["items"]?["$ref"], "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference")
        XCTAssertEqual(meta["generation"]?["format"], "int64")
        XCTAssertEqual(meta["labels"]?["type"], "object")
        XCTAssertEqual(meta["labels"]?["additionalProperties"]?["type"], "string")
        XCTAssertEqual(meta["creationTimestamp"]?["allOf"]?[0]?["$ref"], "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time")
        XCTAssertNotNil(meta["creationTimestamp"]?["description"])
        XCTAssertEqual(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]?["format"], "date-time")
        let configMap = try XCTUnwrap(schemas["io.k8s.api.core.v1.ConfigMap"]?["properties"])
        XCTAssertEqual(configMap["binaryData"]?["additionalProperties"]?["format"], "byte")
        XCTAssertEqual(configMap["metadata"]?["allOf"]?[0]?["$ref"], "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        XCTAssertEqual(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"]?["required"], ["apiVersion", "kind", "name", "uid"])
        XCTAssertEqual(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"]?["properties"]?["object"]?["x-kubernetes-preserve-unknown-fields"], true)
        // The int-or-string and quantity types, wherever a registered kind uses them.
        var definitions = OpenAPIDefinitions(dialect: .openAPI3)
        _ = definitions.shape(.intOrString)
        _ = definitions.shape(.quantity)
        let scalars = definitions.render()
        XCTAssertEqual(scalars[OpenAPIDefinitions.intOrStringDefinition]?["x-kubernetes-int-or-string"], true)
        XCTAssertEqual(scalars[OpenAPIDefinitions.quantityDefinition]?["x-kubernetes-int-or-string"], true)
        var swagger = OpenAPIDefinitions(dialect: .swagger2)
        _ = swagger.shape(.intOrString)
        XCTAssertEqual(swagger.render()[OpenAPIDefinitions.intOrStringDefinition]?["format"], "int-or-string")
    }

    /// A definition name stands for one shape: two schemas that share a name (a kind's served
    /// copy and its type's own) must declare the same fields, or one would be published for
    /// both.
    func testSchemasSharingADefinitionNameAgree() {
        var seen: [String: [String]] = [:]
        var queue = OpenAPIResource.all.compactMap(\.schema) + [Scale.wireInfo.schema, Binding.wireInfo.schema]
        var visited = Set<ObjectIdentifier>()
        func enqueue(_ shape: WireShape) {
            switch shape {
            case .object(let schema): queue.append(schema())
            case .array(let element), .map(let element): enqueue(element)
            default: break
            }
        }
        while let schema = queue.popLast() {
            guard visited.insert(ObjectIdentifier(schema)).inserted else { continue }
            let fields = schema.fields.map { "\($0.name)=\($0.number.map(String.init) ?? "-")" }
            if let earlier = seen[schema.definition] {
                XCTAssertEqual(earlier, fields, "two different schemas are named \(schema.definition)")
            } else {
                seen[schema.definition] = fields
            }
            for field in schema.fields { enqueue(field.shape()) }
        }
        XCTAssertGreaterThan(seen.count, 10)
    }

    // MARK: v2

    func testV2IsSwagger2WithEveryKindAndResolvableReferences() throws {
        let document = OpenAPIDocuments.v2()
        XCTAssertEqual(document["swagger"], "2.0")
        let definitions = try XCTUnwrap(document["definitions"]?.objectValue)
        for reference in references(in: document) {
            XCTAssertTrue(reference.hasPrefix("#/definitions/"), reference)
            XCTAssertNotNil(definitions[String(reference.dropFirst("#/definitions/".count))], "\(reference) does not resolve")
        }
        for gvk in typedGVKs {
            XCTAssertTrue(definitions.contains { gvks(of: $0.value).contains(gvk) }, "\(gvk)")
        }
        // Swagger 2.0 has neither allOf-wrapped refs with siblings dropped nor anyOf.
        XCTAssertFalse(document.jsonString.contains("anyOf"))
        let paths = try XCTUnwrap(document["paths"]?.objectValue)
        let patch = try XCTUnwrap(paths["/api/v1/namespaces/{namespace}/configmaps/{name}"]?["patch"])
        XCTAssertEqual(patch["consumes"], .array(OpenAPIPaths.patchMediaTypes.map { .string($0) }))
        XCTAssertEqual(patch["parameters"]?[0]?["in"], "body")
        XCTAssertTrue((patch["parameters"]?.arrayValue ?? []).contains { $0["name"] == "fieldValidation" && $0["type"] == "string" })
    }

    /// The protobuf form read back field by field (gnostic's openapi.v2.Document numbers).
    func testV2ProtobufCarriesTheSameDocument() throws {
        let bytes = OpenAPIDocuments.v2Protobuf.bytes
        let json = OpenAPIDocuments.v2()
        var reader = KubeProtobufReader(bytes, 0..<bytes.count)
        var swagger = ""
        var definitionNames: [String] = []
        var pathNames: [String] = []
        var sawSecurity = false
        while let field = try reader.next() {
            switch field.number {
            case 1: swagger = String(decoding: bytes[field.range], as: UTF8.self)
            case 8: pathNames = try namesOfNamedEntries(bytes, field.range, entryField: 2)
            case 9: definitionNames = try namesOfNamedEntries(bytes, field.range, entryField: 1)
            case 13: sawSecurity = true
            default: break
            }
        }
        XCTAssertEqual(swagger, "2.0")
        XCTAssertEqual(definitionNames, try XCTUnwrap(json["definitions"]?.objectValue).keys)
        XCTAssertEqual(pathNames, try XCTUnwrap(json["paths"]?.objectValue).keys)
        XCTAssertTrue(sawSecurity)
        // A GVK extension is an Any whose yaml is the JSON text.
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("x-kubernetes-group-version-kind"))
        XCTAssertTrue(text.contains(#"[{"group":"","kind":"ConfigMap","version":"v1"}]"#))
    }

    // MARK: HTTP

    func testServingHeadersAndNegotiation() throws {
        let json = OpenAPIDocuments.v2Response(accept: "application/json", ifNoneMatch: nil)
        XCTAssertEqual(json.status, 200)
        XCTAssertEqual(header(json, "Content-Type"), "application/json")
        XCTAssertEqual(json.body, OpenAPIDocuments.v2().serialized())
        XCTAssertEqual(OpenAPIDocuments.v2Response(accept: nil, ifNoneMatch: nil).body, json.body)
        let proto = OpenAPIDocuments.v2Response(accept: OpenAPIDocuments.v2ProtobufMediaType, ifNoneMatch: nil)
        XCTAssertEqual(proto.status, 200)
        XCTAssertEqual(header(proto, "Content-Type"), "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
        XCTAssertEqual(proto.body, OpenAPIDocuments.v2Protobuf.bytes)
        XCTAssertEqual(OpenAPIDocuments.v2Response(accept: "application/xml", ifNoneMatch: nil).status, 406)
        let etag = try XCTUnwrap(header(proto, "ETag"))
        XCTAssertEqual(OpenAPIDocuments.v2Response(accept: OpenAPIDocuments.v2ProtobufMediaType, ifNoneMatch: etag).status, 304)

        let index = OpenAPIDocuments.v3IndexResponse(ifNoneMatch: nil)
        XCTAssertEqual(index.body, OpenAPIDocuments.v3Index().serialized())
        XCTAssertEqual(header(index, "Cache-Control"), "no-cache, private")
        let hash = OpenAPIDocuments.v3Documents["api/v1"]!.hash
        let current = OpenAPIDocuments.v3Response(groupVersionPath: "api/v1", hash: hash, ifNoneMatch: nil)
        XCTAssertEqual(current.status, 200)
        XCTAssertEqual(header(current, "Cache-Control"), "public, immutable")
        XCTAssertEqual(header(current, "ETag"), "\"\(hash)\"")
        let stale = OpenAPIDocuments.v3Response(groupVersionPath: "api/v1", hash: "00", ifNoneMatch: nil)
        XCTAssertEqual(header(stale, "Cache-Control"), "no-cache, private")
        XCTAssertEqual(stale.body, current.body)
        XCTAssertEqual(OpenAPIDocuments.v3Response(groupVersionPath: "api/v1", hash: hash, ifNoneMatch: "\"\(hash)\"").status, 304)
        XCTAssertEqual(OpenAPIDocuments.v3Response(groupVersionPath: "apis/none/v1", hash: nil, ifNoneMatch: nil).status, 404)
    }

    func testSHA256KnownAnswers() {
        XCTAssertEqual(OpenAPIHash.hex([]), "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")
        XCTAssertEqual(OpenAPIHash.hex(Array("abc".utf8)), "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
        XCTAssertEqual(OpenAPIHash.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1")
        XCTAssertEqual(OpenAPIHash.hex([UInt8](repeating: 0x61, count: 1000)),
                       "41EDECE42D63E8D9BF515A9BA6932E1C20CBC9F5A5D134645ADB5DB1B9737EA3")
    }

    // MARK: External validation

    /// openapi-spec-validator, when python3 has it, on every v3 document and the v2 one.
    func testDocumentsPassOpenAPISpecValidator() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-openapi-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [String] = []
        for path in OpenAPIDocuments.v3GroupVersionPaths {
            let file = directory.appendingPathComponent("v3-" + path.replacingOccurrences(of: "/", with: "_") + ".json")
            try Data(OpenAPIDocuments.v3(groupVersionPath: path)!.serialized()).write(to: file)
            files.append(file.path)
        }
        let v2 = directory.appendingPathComponent("v2.json")
        try Data(OpenAPIDocuments.v2().serialized()).write(to: v2)
        files.append(v2.path)
        let script = """
            import json, sys
            try:
                from openapi_spec_validator import validate
            except ImportError:
                sys.exit(77)
            failed = 0
            for name in sys.argv[1:]:
                try:
                    validate(json.load(open(name)))
                except Exception as error:
                    failed += 1
                    print(name, str(error)[:2000])
            sys.exit(1 if failed else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + files
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { throw XCTSkip("python3 is not available: \(error)") }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 77 { throw XCTSkip("python3 has no openapi_spec_validator") }
        XCTAssertEqual(process.terminationStatus, 0, text)
    }

    /// Writes the documents to `OPENAPI_DUMP_DIR` when it is set (a debugging aid).
    func testDumpDocumentsWhenAsked() throws {
        guard let directory = ProcessInfo.processInfo.environment["OPENAPI_DUMP_DIR"] else {
            throw XCTSkip("OPENAPI_DUMP_DIR is not set")
        }
        let base = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try Data(OpenAPIDocuments.v2().serialized()).write(to: base.appendingPathComponent("v2.json"))
        try Data(OpenAPIDocuments.v2Protobuf.bytes).write(to: base.appendingPathComponent("v2.pb"))
        try Data(OpenAPIDocuments.v3Index().serialized()).write(to: base.appendingPathComponent("v3-index.json"))
        for path in OpenAPIDocuments.v3GroupVersionPaths {
            let name = "v3-" + path.replacingOccurrences(of: "/", with: "_") + ".json"
            try Data(OpenAPIDocuments.v3(groupVersionPath: path)!.serialized()).write(to: base.appendingPathComponent(name))
        }
    }

    // MARK: Helpers

    private func references(in value: JSONValue) -> [String] {
        var found: [String] = []
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let object):
                for (key, member) in object {
                    if key == "$ref", let text = member.stringValue { found.append(text) } else { walk(member) }
                }
            case .array(let items): items.forEach(walk)
            default: break
            }
        }
        walk(value)
        return found
    }

    private func gvkValue(_ value: JSONValue?) -> OpenAPIGVK? {
        guard let value, let group = value["group"]?.stringValue, let version = value["version"]?.stringValue,
              let kind = value["kind"]?.stringValue else { return nil }
        return OpenAPIGVK(group: group, version: version, kind: kind)
    }

    private func gvks(of schema: JSONValue) -> [OpenAPIGVK] {
        (schema["x-kubernetes-group-version-kind"]?.arrayValue ?? []).compactMap(gvkValue)
    }

    private func header(_ response: HTTPResponse, _ name: String) -> String? {
        response.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The `name` (field 1) of each `{1: name, 2: value}` entry at `entryField` of a message.
    private func namesOfNamedEntries(_ bytes: [UInt8], _ range: Range<Int>, entryField: Int) throws -> [String] {
        var reader = KubeProtobufReader(bytes, range)
        var names: [String] = []
        while let entry = try reader.next() {
            guard entry.number == entryField else { continue }
            var inner = KubeProtobufReader(bytes, entry.range)
            while let member = try inner.next() {
                if member.number == 1 { names.append(String(decoding: bytes[member.range], as: UTF8.self)) }
            }
        }
        return names
    }
}
