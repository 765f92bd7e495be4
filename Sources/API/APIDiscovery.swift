import JSON
import Store

/// Kubernetes API discovery, generated from `Kind.registered`: which groups, versions and
/// resources this server serves (what kubectl-style clients read to map a kind to a URL).
enum APIDiscovery {
    /// The verbs every registered kind supports.
    static let verbs: [JSONValue] = ["create", "delete", "get", "list", "update", "watch"]

    static func response(_ path: APIRoute.DiscoveryPath) -> HTTPResponse {
        switch path {
        case .coreVersions:
            return APIResponses.json(200, .object(JSONObject([
                ("kind", "APIVersions"), ("versions", ["v1"]), ("serverAddressByClientCIDRs", .array([])),
            ])))
        case .groups:
            var groups: [JSONValue] = []
            let names = Set(Kind.registered.map(\.group)).subtracting([""]).sorted()
            for name in names {
                let versions = Set(Kind.registered.filter { $0.group == name }.map(\.version)).sorted()
                let entries: [JSONValue] = versions.map { version in
                    .object(JSONObject([("groupVersion", .string("\(name)/\(version)")), ("version", .string(version))]))
                }
                groups.append(.object(JSONObject([
                    ("name", .string(name)), ("versions", .array(entries)), ("preferredVersion", entries[0]),
                ])))
            }
            return APIResponses.json(200, .object(JSONObject([
                ("kind", "APIGroupList"), ("apiVersion", "v1"), ("groups", .array(groups)),
            ])))
        case .resources(let group, let version):
            let kinds = Kind.registered.filter { $0.group == group && $0.version == version }
            guard !kinds.isEmpty else { return APIResponses.notFound() }
            let resources: [JSONValue] = kinds.map { kind in
                .object(JSONObject([
                    ("name", .string(kind.plural)), ("singularName", .string(kind.name.lowercased())),
                    ("namespaced", .bool(kind.namespaced)), ("kind", .string(kind.name)), ("verbs", .array(verbs)),
                ]))
            }
            return APIResponses.json(200, .object(JSONObject([
                ("kind", "APIResourceList"), ("apiVersion", "v1"),
                ("groupVersion", .string(kinds[0].apiVersion)), ("resources", .array(resources)),
            ])))
        }
    }
}
