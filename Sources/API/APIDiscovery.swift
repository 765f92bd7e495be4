import JSON
import Store

/// Kubernetes API discovery, generated from `Kind.registered` and the cluster version: which
/// groups, versions and resources this server serves (what kubectl maps kinds and short
/// names to URLs with, `kubectl api-resources` and `api-versions` print, and `kubectl get
/// all` reads categories from).
///
/// Only the legacy (unaggregated) discovery documents are served; a client asking for
/// aggregated discovery (`as=APIGroupDiscoveryList`) gets them too, which client-go accepts
/// as "this server does not aggregate" and falls back to reading each group version.
enum APIDiscovery {
    /// Verbs of a collection-and-object resource.
    static let objectVerbs: [JSONValue] = ["create", "delete", "get", "list", "patch", "update", "watch"]
    /// Verbs of the untyped kinds of cluster version 1 (no PATCH).
    static let legacyVerbs: [JSONValue] = ["create", "delete", "get", "list", "update", "watch"]

    /// The served (group, version) pairs, in the order kubectl should prefer them: core first,
    /// then groups by name, a group's newest version first (apps/v1 before the betas; `apps`
    /// before `extensions`, so `kubectl get deployments` resolves to apps/v1).
    static func groupVersions(clusterVersion: Int) -> [(group: String, versions: [String])] {
        var byGroup: [String: [String]] = [:]
        for kind in Kind.registered where kind.sinceClusterVersion <= clusterVersion {
            let served = kind.model == nil || clusterVersion < 2
                ? [(kind.group, kind.version)] : kind.versions.map { ($0.group, $0.version) }
            for (group, version) in served where !(byGroup[group]?.contains(version) ?? false) {
                byGroup[group, default: []].append(version)
            }
        }
        return byGroup.keys.sorted { a, b in a.isEmpty || (!b.isEmpty && a < b) }.map { group in
            (group, byGroup[group]!.sorted(by: versionPrecedes))
        }
    }

    /// Kubernetes' version priority: GA before beta before alpha, higher numbers first.
    static func versionPrecedes(_ a: String, _ b: String) -> Bool {
        func rank(_ v: String) -> (Int, Int, Int) {
            let text = v.dropFirst()  // "v"
            let major = Int(text.prefix { $0.isNumber }) ?? 0
            let rest = text.drop { $0.isNumber }
            if rest.isEmpty { return (3, major, 0) }
            let minor = Int(rest.drop { !$0.isNumber }) ?? 0
            return (rest.hasPrefix("beta") ? 2 : 1, major, minor)
        }
        let (x, y) = (rank(a), rank(b))
        return x.0 != y.0 ? x.0 > y.0 : (x.1 != y.1 ? x.1 > y.1 : x.2 > y.2)
    }

    static func response(_ path: APIRoute.DiscoveryPath, clusterVersion: Int) -> HTTPResponse {
        switch path {
        case .coreVersions:
            return APIResponses.json(200, .object(JSONObject([
                ("kind", "APIVersions"), ("versions", ["v1"]),
                ("serverAddressByClientCIDRs", .array([.object(JSONObject([("clientCIDR", "0.0.0.0/0"), ("serverAddress", "")]))])),
            ])))
        case .groups:
            var groups: [JSONValue] = []
            for (name, versions) in groupVersions(clusterVersion: clusterVersion) where !name.isEmpty {
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
            let resources = resourceList(group: group, version: version, clusterVersion: clusterVersion)
            guard !resources.isEmpty else { return APIResponses.notFound() }
            return APIResponses.json(200, .object(JSONObject([
                ("kind", "APIResourceList"), ("apiVersion", "v1"),
                ("groupVersion", .string(group.isEmpty ? version : "\(group)/\(version)")), ("resources", .array(resources)),
            ])))
        }
    }

    /// The APIResource entries of one group version: each kind, then its subresources.
    static func resourceList(group: String, version: String, clusterVersion: Int) -> [JSONValue] {
        var resources: [JSONValue] = []
        for kind in Kind.registered where kind.sinceClusterVersion <= clusterVersion {
            let typed = kind.model != nil && clusterVersion >= 2
            let servedHere = typed ? kind.versions.contains { $0.group == group && $0.version == version }
                : kind.group == group && kind.version == version
            guard servedHere else { continue }
            var entry = JSONObject()
            entry["name"] = .string(kind.plural)
            entry["singularName"] = .string(kind.singular)
            entry["namespaced"] = .bool(kind.namespaced)
            entry["kind"] = .string(kind.name)
            entry["verbs"] = .array(typed ? objectVerbs : legacyVerbs)
            // Short names and categories only where the kind is stored: kubectl warns about a
            // short name that two groups claim, and `get all` would list a kind twice.
            let storageHere = kind.group == group && kind.version == version
            if storageHere && !kind.shortNames.isEmpty { entry["shortNames"] = .array(kind.shortNames.map { .string($0) }) }
            if storageHere && !kind.categories.isEmpty { entry["categories"] = .array(kind.categories.map { .string($0) }) }
            resources.append(.object(entry))
            guard typed else { continue }
            for subresource in Kind.Subresource.allCases where kind.subresources.contains(subresource) {
                var sub = JSONObject()
                sub["name"] = .string("\(kind.plural)/\(subresource.rawValue)")
                sub["singularName"] = ""
                sub["namespaced"] = .bool(kind.namespaced)
                switch subresource {
                case .status:
                    sub["kind"] = .string(kind.name)
                    sub["verbs"] = ["get", "patch", "update"]
                case .scale:
                    sub["group"] = "autoscaling"
                    sub["version"] = "v1"
                    sub["kind"] = "Scale"
                    sub["verbs"] = ["get", "patch", "update"]
                case .binding:
                    sub["kind"] = "Binding"
                    sub["verbs"] = ["create"]
                }
                resources.append(.object(sub))
            }
        }
        return resources
    }

    /// `/version`: what kube-apiserver reports, with shoal's own build in `gitVersion`. kubectl
    /// compares major and minor with its own (a skew of one minor version is supported).
    static func version() -> HTTPResponse {
        APIResponses.json(200, .object(JSONObject([
            ("major", "1"), ("minor", "32"), ("gitVersion", .string("\(OpenAPIDocuments.infoVersion)-shoal.\(Store.clusterVersionSupported)")),
            ("gitCommit", ""), ("gitTreeState", "clean"), ("buildDate", "2026-12-04T00:00:00Z"),
            ("goVersion", "swift"), ("compiler", "swiftc"), ("platform", "linux/amd64"),
        ])))
    }
}
