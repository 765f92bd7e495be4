import JSON
import Store

/// One served resource: a registered kind at one of the versions it is served in. Built from
/// `Kind.registered` only, so a kind added there appears in the documents with no change here.
struct OpenAPIResource {
    let kind: Kind
    let group: String
    let version: String
    /// The served version's schema; nil for untyped kinds (shoal-internal, free-form).
    let schema: StructSchema?

    /// Every registered kind at every served version, in registry order.
    static var all: [OpenAPIResource] {
        Kind.registered.flatMap { kind -> [OpenAPIResource] in
            if kind.model == nil || kind.versions.isEmpty {
                return [OpenAPIResource(kind: kind, group: kind.group, version: kind.version, schema: nil)]
            }
            return kind.versions.map { OpenAPIResource(kind: kind, group: $0.group, version: $0.version, schema: $0.schema) }
        }
    }

    /// "api/v1" or "apis/{group}/{version}": the key of the OpenAPI v3 index.
    var groupVersionPath: String { OpenAPIResource.groupVersionPath(group: group, version: version) }

    static func groupVersionPath(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// Whether the kind is typed (admitted through its schema, patchable, with subresources).
    var typed: Bool { schema != nil }

    var gvk: OpenAPIGVK { OpenAPIGVK(group: group, version: version, kind: kind.name) }
}

/// A query or path parameter.
struct OpenAPIParameter {
    let name: String
    let location: String
    let description: String
    let type: String
    let required: Bool

    static func query(_ name: String, _ type: String, _ description: String) -> OpenAPIParameter {
        OpenAPIParameter(name: name, location: "query", description: description, type: type, required: false)
    }

    static let name = OpenAPIParameter(name: "name", location: "path", description: "The object's name.", type: "string", required: true)
    static let namespace = OpenAPIParameter(name: "namespace", location: "path", description: "The namespace of the objects.",
                                            type: "string", required: true)

    /// What list (and watch) requests take.
    static let list: [OpenAPIParameter] = [
        .query("allowWatchBookmarks", "boolean", "With watch: also send BOOKMARK events, which carry only a newer resourceVersion."),
        .query("continue", "string", "The token of the previous page (its metadata.continue) to read the next page of a list."),
        .query("fieldSelector", "string", "Only objects whose fields match, e.g. metadata.name=web,status.phase!=Running."),
        .query("labelSelector", "string", "Only objects whose labels match, e.g. app=web,tier in (front,back)."),
        .query("limit", "integer", "Most objects in one page; the answer's metadata.continue reads the next page."),
        .query("resourceVersion", "string", "Which revision to read or watch from (with resourceVersionMatch: how it applies)."),
        .query("resourceVersionMatch", "string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
        .query("sendInitialEvents", "boolean", "With watch: start with ADDED events for the objects that exist, then a BOOKMARK."),
        .query("timeoutSeconds", "integer", "End the list or watch after this many seconds."),
        .query("watch", "boolean", "Stream changes (watch events) instead of answering with a list."),
    ]

    /// What create, replace and patch requests take. kubectl looks for `fieldValidation` on a
    /// kind's PATCH operation to decide that the server checks fields (unknown or duplicate
    /// fields are refused under Strict), and then leaves validation to the server.
    static let write: [OpenAPIParameter] = [
        .query("dryRun", "string", "All: check the request and answer as if it were done, without doing it."),
        .query("fieldManager", "string", "The name of the actor making the change (kubectl sends its own)."),
        .query("fieldValidation", "string",
               "What to do with unknown or duplicate fields in the body: Ignore, Warn (answer with a warning) or Strict (refuse the request)."),
    ]

    /// What delete requests take (as well as a DeleteOptions body).
    static let delete: [OpenAPIParameter] = [
        .query("dryRun", "string", "All: check the delete without doing it."),
        .query("gracePeriodSeconds", "integer", "Seconds the object gets to stop before it is removed; 0 deletes at once."),
        .query("orphanDependents", "boolean", "Deprecated (use propagationPolicy): orphan the dependents instead of deleting them."),
        .query("propagationPolicy", "string", "What happens to dependents: Orphan, Background or Foreground."),
    ]
}

/// One operation of a path, independent of the dialect it is written in.
struct OpenAPIOperation {
    /// The HTTP method, lowercase ("get", "put", "post", "patch", "delete").
    let method: String
    /// `x-kubernetes-action`: get, list, post, put, patch or delete.
    let action: String
    let operationID: String
    let description: String
    let tag: String
    let gvk: OpenAPIGVK?
    let parameters: [OpenAPIParameter]
    /// The request body's definition name and media types (nil: no body).
    let body: (definition: String, mediaTypes: [String], required: Bool)?
    /// The definition of the success responses' bodies.
    let response: String
    /// The success codes ("200", "201", ...).
    let successCodes: [String]
    /// Whether the operation can stream watch events (`watch=true`).
    let watchable: Bool
}

/// One path and its operations.
struct OpenAPIPathItem {
    let path: String
    let parameters: [OpenAPIParameter]
    var operations: [OpenAPIOperation]
}

/// The paths of one served resource, in the forms shoal serves (no deprecated `/watch/`
/// paths and no deletecollection, which shoal does not serve; `?watch=true` on a list).
enum OpenAPIPaths {
    /// The media types a PATCH body may have.
    static let patchMediaTypes = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"]

    /// The paths of `resource`, with every definition they name included in `definitions`.
    static func items(for resource: OpenAPIResource, definitions: inout OpenAPIDefinitions) -> [OpenAPIPathItem] {
        let kind = resource.kind
        let name = kind.name
        let gvk = resource.gvk
        let object = definition(of: resource, definitions: &definitions)
        let list = listDefinition(of: resource, object: object, definitions: &definitions)
        let status = definitions.include(OpenAPIMeta.Status.wireInfo.schema)
        let deleteOptions = definitions.include(OpenAPIMeta.DeleteOptions.wireInfo.schema,
                                                gvks: [OpenAPIGVK(group: resource.group, version: resource.version, kind: "DeleteOptions")])
        definitions.include(OpenAPIMeta.WatchEvent.wireInfo.schema,
                            gvks: [OpenAPIGVK(group: resource.group, version: resource.version, kind: "WatchEvent")])
        let patch = definitions.include(OpenAPIMeta.Patch.wireInfo.schema)

        let tag = tag(group: resource.group, version: resource.version)
        let id = idPrefix(group: resource.group, version: resource.version)
        let scope = kind.namespaced ? "Namespaced" : ""
        let base = "/" + resource.groupVersionPath
        let collection = kind.namespaced ? "\(base)/namespaces/{namespace}/\(kind.plural)" : "\(base)/\(kind.plural)"
        let scopeParameters: [OpenAPIParameter] = kind.namespaced ? [.namespace] : []

        func operation(_ method: String, _ action: String, _ verb: String, suffix: String = "", _ description: String,
                       gvk: OpenAPIGVK, parameters: [OpenAPIParameter] = [],
                       body: (String, [String], Bool)? = nil, response: String, codes: [String] = ["200"],
                       watchable: Bool = false, scope: String = scope) -> OpenAPIOperation {
            OpenAPIOperation(method: method, action: action, operationID: "\(verb)\(id)\(scope)\(name)\(suffix)",
                             description: description, tag: tag, gvk: gvk, parameters: parameters,
                             body: body.map { (definition: $0.0, mediaTypes: $0.1, required: $0.2) },
                             response: response, successCodes: codes, watchable: watchable)
        }

        var items: [OpenAPIPathItem] = []
        items.append(OpenAPIPathItem(path: collection, parameters: scopeParameters, operations: [
            operation("get", "list", "list", "list or watch objects of kind \(name)", gvk: gvk, parameters: OpenAPIParameter.list,
                      response: list, watchable: true),
            operation("post", "post", "create", "create a \(name)", gvk: gvk, parameters: OpenAPIParameter.write,
                      body: (object, ["*/*"], true), response: object, codes: ["200", "201", "202"]),
        ]))
        var one = [
            operation("get", "get", "read", "read the specified \(name)", gvk: gvk, response: object),
            operation("put", "put", "replace", "replace the specified \(name)", gvk: gvk, parameters: OpenAPIParameter.write,
                      body: (object, ["*/*"], true), response: object, codes: ["200", "201"]),
        ]
        if resource.typed {
            one.append(operation("patch", "patch", "patch", "partially update the specified \(name)", gvk: gvk,
                                 parameters: OpenAPIParameter.write, body: (patch, patchMediaTypes, true), response: object,
                                 codes: ["200", "201"]))
        }
        one.append(operation("delete", "delete", "delete", "delete a \(name)", gvk: gvk, parameters: OpenAPIParameter.delete,
                             body: (deleteOptions, ["*/*"], false), response: status, codes: ["200", "202"]))
        items.append(OpenAPIPathItem(path: "\(collection)/{name}", parameters: [.name] + scopeParameters, operations: one))
        if kind.namespaced {
            items.append(OpenAPIPathItem(path: "\(base)/\(kind.plural)", parameters: [], operations: [
                operation("get", "list", "list", suffix: "ForAllNamespaces", "list or watch objects of kind \(name) in every namespace",
                          gvk: gvk, parameters: OpenAPIParameter.list, response: list, watchable: true, scope: ""),
            ]))
        }
        guard resource.typed else { return items }
        for subresource in Kind.Subresource.allCases where kind.subresources.contains(subresource) {
            let path = "\(collection)/{name}/\(subresource.rawValue)"
            let parameters: [OpenAPIParameter] = [.name] + scopeParameters
            switch subresource {
            case .status:
                items.append(OpenAPIPathItem(path: path, parameters: parameters, operations: [
                    operation("get", "get", "read", suffix: "Status", "read status of the specified \(name)", gvk: gvk, response: object),
                    operation("put", "put", "replace", suffix: "Status", "replace status of the specified \(name)", gvk: gvk,
                              parameters: OpenAPIParameter.write, body: (object, ["*/*"], true), response: object, codes: ["200", "201"]),
                    operation("patch", "patch", "patch", suffix: "Status", "partially update status of the specified \(name)", gvk: gvk,
                              parameters: OpenAPIParameter.write, body: (patch, patchMediaTypes, true), response: object,
                              codes: ["200", "201"]),
                ]))
            case .scale:
                let scale = definitions.include(Scale.wireInfo.schema)
                let scaleGVK = OpenAPIGVK(group: "autoscaling", version: "v1", kind: "Scale")
                items.append(OpenAPIPathItem(path: path, parameters: parameters, operations: [
                    operation("get", "get", "read", suffix: "Scale", "read scale of the specified \(name)", gvk: scaleGVK, response: scale),
                    operation("put", "put", "replace", suffix: "Scale", "replace scale of the specified \(name)", gvk: scaleGVK,
                              parameters: OpenAPIParameter.write, body: (scale, ["*/*"], true), response: scale, codes: ["200", "201"]),
                    operation("patch", "patch", "patch", suffix: "Scale", "partially update scale of the specified \(name)", gvk: scaleGVK,
                              parameters: OpenAPIParameter.write, body: (patch, patchMediaTypes, true), response: scale,
                              codes: ["200", "201"]),
                ]))
            case .binding:
                let binding = definitions.include(Binding.wireInfo.schema)
                let bindingGVK = OpenAPIGVK(group: "", version: "v1", kind: "Binding")
                items.append(OpenAPIPathItem(path: path, parameters: parameters, operations: [
                    operation("post", "post", "create", suffix: "Binding", "create binding of a \(name)", gvk: bindingGVK,
                              parameters: OpenAPIParameter.write, body: (binding, ["*/*"], true), response: binding,
                              codes: ["200", "201", "202"]),
                ]))
            }
        }
        return items
    }

    /// `GET /api/v1/` or `/apis/{group}/{version}/`: the group version's resources.
    static func discoveryItem(group: String, version: String, definitions: inout OpenAPIDefinitions) -> OpenAPIPathItem {
        let list = definitions.include(OpenAPIMeta.APIResourceList.wireInfo.schema)
        let get = OpenAPIOperation(method: "get", action: "get", operationID: "get\(idPrefix(group: group, version: version))APIResources",
                                   description: "get available resources", tag: tag(group: group, version: version), gvk: nil,
                                   parameters: [], body: nil, response: list, successCodes: ["200"], watchable: false)
        return OpenAPIPathItem(path: "/\(OpenAPIResource.groupVersionPath(group: group, version: version))/", parameters: [],
                               operations: [get])
    }

    // MARK: Definitions of kinds and lists

    /// The kind's definition at this version (untyped kinds: a free-form object).
    private static func definition(of resource: OpenAPIResource, definitions: inout OpenAPIDefinitions) -> String {
        if let schema = resource.schema { return definitions.include(schema) }
        let name = definitionName(group: resource.group, version: resource.version, kind: resource.kind.name)
        var object = JSONObject([
            ("description", .string("A \(resource.kind.name) (shoal-internal; no fixed schema).")),
            ("type", "object"),
        ])
        if definitions.dialect == .openAPI3 { object["x-kubernetes-preserve-unknown-fields"] = true }
        definitions.include(named: name, object, gvks: [resource.gvk])
        return name
    }

    /// `{definition}List`: the kind's list type.
    private static func listDefinition(of resource: OpenAPIResource, object: String,
                                       definitions: inout OpenAPIDefinitions) -> String {
        let name = object + "List"
        let listMeta = definitions.include(OpenAPIMeta.ListMeta.wireInfo.schema)
        var metadata = definitions.reference(listMeta)
        var items = JSONObject([("type", "array"), ("items", .object(definitions.reference(object)))])
        items["description"] = .string("The \(resource.kind.plural).")
        if definitions.dialect == .openAPI3 { metadata = JSONObject([("allOf", .array([.object(metadata)]))]) }
        metadata["description"] = "List metadata: the revision the list was read at, and the token of the next page."
        let definition = JSONObject([
            ("description", .string("A list of \(resource.kind.plural).")),
            ("type", "object"),
            ("properties", .object(JSONObject([
                ("apiVersion", .object(JSONObject([("type", "string"), ("description", .string("The API version: \(apiVersion(resource))."))]))),
                ("items", .object(items)),
                ("kind", .object(JSONObject([("type", "string"), ("description", .string("The kind: \(resource.kind.name)List."))]))),
                ("metadata", .object(metadata)),
            ]))),
            ("required", ["items"]),
        ])
        definitions.include(named: name, definition,
                            gvks: [OpenAPIGVK(group: resource.group, version: resource.version, kind: resource.kind.name + "List")])
        return name
    }

    private static func apiVersion(_ resource: OpenAPIResource) -> String {
        resource.group.isEmpty ? resource.version : "\(resource.group)/\(resource.version)"
    }

    /// A definition name for a kind with no schema, in kube-apiserver's style for custom
    /// resources: the group reversed, the version, the kind ("dev.shoal.v1.Member").
    static func definitionName(group: String, version: String, kind: String) -> String {
        let reversed = group.split(separator: ".").reversed().joined(separator: ".")
        return [reversed.isEmpty ? "core" : reversed, version, kind].joined(separator: ".")
    }

    // MARK: Names

    /// The group's name in tags and operation ids: "core" for the core group, the group
    /// without ".k8s.io", its dotted parts camel-cased ("rbac.authorization.k8s.io" →
    /// "rbacAuthorization", "shoal.dev" → "shoalDev").
    static func groupWord(_ group: String) -> String {
        guard !group.isEmpty else { return "core" }
        let trimmed = group.hasSuffix(".k8s.io") ? String(group.dropLast(".k8s.io".count)) : group
        let parts = trimmed.split(whereSeparator: { $0 == "." || $0 == "-" }).map(String.init)
        guard let first = parts.first else { return "core" }
        return first + parts.dropFirst().map(capitalized).joined()
    }

    /// The operations' tag: "core_v1", "apps_v1".
    static func tag(group: String, version: String) -> String { "\(groupWord(group))_\(version)" }

    /// What operation ids put between the verb and the kind: "CoreV1", "AppsV1".
    static func idPrefix(group: String, version: String) -> String { capitalized(groupWord(group)) + capitalized(version) }

    private static func capitalized(_ word: String) -> String { word.prefix(1).uppercased() + word.dropFirst() }
}
