import Store

// # The HTTP API of a shoal member
//
// Every member serves the same API; `shoal` (the CLI), kubectl-style clients, curl and
// Prometheus talk to any of them, over HTTPS (docs/tls.md; plain HTTP only with `shoal agent
// --insecure-http`). All routes but the first three need the header
// `Authorization: Bearer <token>` or a client certificate signed by the cluster CA (401
// otherwise). Bodies are JSON; every failure is a
// Kubernetes `Status` object (`{"kind":"Status",...,"reason":"NotFound","code":404}`).
//
// | method | path | answer | runs on |
// | --- | --- | --- | --- |
// | GET | `/healthz` | 200 `ok`, or 503 with one detail line each (no auth) | any member |
// | GET | `/readyz` | 200 `ok`, or 503 with one detail line each (no auth) | any member |
// | GET | `/metrics` | Prometheus text, `text/plain; version=0.0.4` (no auth) | any member |
// | GET | `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}` | discovery (APIVersions, APIGroupList, APIResourceList) | any member |
// | GET | `/api/v1/namespaces/{ns}/{plural}` | list (`{Kind}List`) or `?watch=true` | any member |
// | GET | `/api/v1/{plural}` | list or watch across namespaces (or of a cluster-scoped kind) | any member |
// | GET | `/api/v1/namespaces/{ns}/{plural}/{name}`, `/api/v1/{plural}/{name}` (cluster-scoped) | the object | any member |
// | POST | `/api/v1/namespaces/{ns}/{plural}`, `/api/v1/{plural}` (cluster-scoped) | 201 + object | leader (forwarded) |
// | PUT | `.../{plural}/{name}` | 200 + object (`metadata.resourceVersion` in the body is the optimistic lock: 409 Conflict when stale) | leader (forwarded) |
// | DELETE | `.../{plural}/{name}` | 200 + the object's last state; optional body `{"preconditions":{"resourceVersion":"N","uid":"..."}}` or `?resourceVersion=N` | leader (forwarded) |
// | (same) | `/apis/{group}/{version}/[namespaces/{ns}/]{plural}[/{name}]` | as above, for kinds of API groups | |
// | GET | `/api/v1/namespaces/{ns}/pods/{name}/log` | the container's log, text (`container`, `previous`, `follow`, `tailLines`, `timestamps`, `limitBytes`); read where the pod runs | any member |
// | GET, POST | `/api/v1/namespaces/{ns}/pods/{name}/exec`, `/attach`, `/portforward` | a protocol upgrade (WebSocket or SPDY/3.1) joined to the runtime's streaming server on the pod's member (`command`, `container`, `stdin`, `stdout`, `stderr`, `tty`) | any member |
// | GET | `/shoal/v1/status` | this member's view (`ClusterService.status()`) | any member |
// | GET | `/shoal/v1/members` | every member (`members()`) | leader (forwarded) |
// | POST | `/shoal/v1/members` | admit a member; body `{"name","host","peerPort","apiPort","incarnation"}` (`admitMember`) | leader (forwarded) |
// | DELETE | `/shoal/v1/members/{name}` | remove a (dead) member (`removeMember`) | leader (forwarded) |
// | POST | `/shoal/v1/init` | bootstrap a one-member cluster here (`initializeCluster`) | this agent |
// | POST | `/shoal/v1/join` | body `{"endpoint":"IP:PORT","token":"..."}`: join that cluster (`joinCluster`) | this agent |
// | POST | `/shoal/v1/leave` | leave the cluster gracefully (`leaveCluster`) | this member |
// | GET | `/shoal/v1/token` | `{"token":"..."}`, or 404 when this agent belongs to no cluster | this member |
// | GET | `/shoal/v1/credentials` | `{"certificateAuthority": PEM}` (the cluster CA); with `?clientCertificate=true` also a new `admin` (`system:masters`) client certificate and key: `"clientCertificate"`, `"clientKey"` (`credentials`, for `shoal kubeconfig`) | this member |
//
// Cluster routes answer 200 with the JSON the member's completion gives, or its
// `ServiceError` as a `Status` (status code and reason as the member chose them).
//
// Status codes and reasons of failures: 400 BadRequest (malformed JSON, body contradicting
// the URL, bad parameter or selector), 401 Unauthorized, 404 NotFound (unknown route or
// kind, missing object), 405 MethodNotAllowed, 408 Timeout (a request that does not arrive
// whole within the request timeout), 409 AlreadyExists / Conflict (stale resourceVersion or
// uid precondition), 410 Expired (watch from a version older than the history), 413
// RequestEntityTooLarge, 422 Invalid (field errors), 429 TooManyRequests (watch limit, or
// the member's), 431 (headers too large), 503 ServiceUnavailable (no leader, leader
// unreachable, too many connections; with `Retry-After: 1`), 504 Timeout (not answered within
// the request timeout). Malformed HTTP is answered with its status, then the connection closes.
//
// Query parameters of object reads:
// - `labelSelector=` (lists and watches): Kubernetes syntax (`app=web,tier!=db`); a bad one is 400.
// - Consistency: reads are **linearizable** by default (the member confirms it is up to date
//   with the leader, Raft ReadIndex, before serving from its store). `resourceVersion=0` or
//   `consistency=stale` serve this member's store at once: faster, possibly behind.
// - `watch=true` (or `1`) streams `{"type":"ADDED|MODIFIED|DELETED","object":{...}}` lines
//   (chunked). With `resourceVersion=N`: every change after N, then live changes (410
//   Expired when N is older than the member's history: re-list). Without a resourceVersion: one
//   ADDED per current object (after a linearizable read; `resourceVersion=0` skips it), then
//   live changes. `timeoutSeconds=` ends the stream cleanly (at most
//   `APIServer.Limits.watchTimeoutSecondsMax`). A client that reads too slowly, or whose
//   member's history restarted under it (snapshot installed), receives
//   `{"type":"ERROR","object":<Status 410 Expired>}` and the stream ends: re-list and watch again.
//   Watches only follow collections (not `.../{name}?watch=true`: 405).
//
// Object writes reaching a follower are carried out there when the service can
// (`ClusterService.canTakeWrites`: shoal members hand the command to the leader over the
// peer connection and answer once they applied it). Otherwise, and for cluster operations,
// the request is forwarded to the leader over HTTP with the header `X-Shoal-Forwarded: 1`;
// a request already carrying it is refused (503) rather than forwarded again. No known
// leader: 503 with `Retry-After: 1`. 503 means not applied; a write answered with 504
// (request timeout, leader lost after the write left) may still have been applied: read
// before retrying.
//
// Where this departs from Kubernetes: no PATCH, no DELETE of collections, no pagination
// (`limit`/`continue`), no field selectors, no `generateName`, no server-side dry run, no
// `Expect: 100-continue` (curl waits a second, then sends the body anyway); the body's
// `kind` and `apiVersion` may be omitted (the route supplies them; PUT also fills in
// `metadata.name`, both fill in `metadata.namespace`); a GET with `resourceVersion=N` (N > 0)
// is a linearizable read, not "at least N from a cache"; watch bookmarks are not sent; a
// DELETE answers with the object's last state rather than a `Status`.

/// What a request path names.
enum APIRoute: Equatable {
    case health
    case readiness
    case metrics
    /// `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`.
    case discovery(DiscoveryPath)
    /// Objects of one kind: a collection (`name` nil) or one object.
    case objects(ResourcePath)
    /// `/shoal/v1/...`.
    case cluster(ClusterPath)
    /// `/version`: the server's version, as kube-apiserver reports it.
    case version
    /// `/openapi/v2`, `/openapi/v3`, `/openapi/v3/{api/v1 | apis/{group}/{version}}`.
    case openAPI(OpenAPIPath)
    /// `/api/v1/namespaces/{ns}/pods/{name}/log`: a container's log (`kubectl logs`).
    case podLog(namespace: String, name: String)
    /// `/api/v1/namespaces/{ns}/pods/{name}/{exec | attach | portforward}`: a streaming
    /// session with a pod (`kubectl exec`, `attach`, `port-forward`).
    case podStream(namespace: String, name: String, kind: PodStreamKind)

    enum OpenAPIPath: Equatable {
        case v2
        case v3Index
        case v3(String)
    }

    enum DiscoveryPath: Equatable {
        case coreVersions
        case groups
        case resources(group: String, version: String)
    }

    enum ClusterPath: Equatable {
        case status, members, initialize, join, leave, token, credentials
        case member(name: String)
    }

    /// The route for `path`, or nil (404).
    init?(path: String) {
        if path.utf8.count > Self.pathBytesMax { return nil }
        switch path {
        case "/healthz": self = .health; return
        case "/readyz": self = .readiness; return
        case "/metrics": self = .metrics; return
        case "/api": self = .discovery(.coreVersions); return
        case "/apis": self = .discovery(.groups); return
        case "/version": self = .version; return
        case "/openapi/v2": self = .openAPI(.v2); return
        case "/openapi/v3": self = .openAPI(.v3Index); return
        default: break
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // A leading "/" makes the first segment empty; no other segment may be (no "//", no trailing "/").
        guard segments.count >= 2, segments[0].isEmpty, !segments.dropFirst().contains(where: \.isEmpty) else { return nil }
        let parts = Array(segments.dropFirst())
        if parts.count >= 4 && parts[0] == "openapi" && parts[1] == "v3" {
            self = .openAPI(.v3(parts[2...].joined(separator: "/")))
            return
        }
        switch parts[0] {
        case "api":
            guard parts.count >= 2, parts[1] == "v1" else { return nil }
            if parts.count == 2 { self = .discovery(.resources(group: "", version: "v1")); return }
            if parts.count == 7, parts[2] == "namespaces", parts[4] == "pods", parts[6] == "log" {
                self = .podLog(namespace: parts[3], name: parts[5])
                return
            }
            if parts.count == 7, parts[2] == "namespaces", parts[4] == "pods", let kind = PodStreamKind(rawValue: parts[6]) {
                self = .podStream(namespace: parts[3], name: parts[5], kind: kind)
                return
            }
            guard let resource = ResourcePath(group: "", version: "v1", rest: Array(parts[2...])) else { return nil }
            self = .objects(resource)
        case "apis":
            guard parts.count >= 3 else { return nil }
            if parts.count == 3 { self = .discovery(.resources(group: parts[1], version: parts[2])); return }
            guard let resource = ResourcePath(group: parts[1], version: parts[2], rest: Array(parts[3...])) else { return nil }
            self = .objects(resource)
        case "shoal":
            guard parts.count >= 3, parts[1] == "v1" else { return nil }
            switch (parts.count, parts[2]) {
            case (3, "status"): self = .cluster(.status)
            case (3, "members"): self = .cluster(.members)
            case (4, "members"): self = .cluster(.member(name: parts[3]))
            case (3, "init"): self = .cluster(.initialize)
            case (3, "join"): self = .cluster(.join)
            case (3, "leave"): self = .cluster(.leave)
            case (3, "token"): self = .cluster(.token)
            case (3, "credentials"): self = .cluster(.credentials)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// Longest path routed, in bytes (names are at most 253 bytes; anything far longer is noise).
    static let pathBytesMax = 2048
}

/// A kind's collection (in one namespace, or across all of them), one object of it, or one
/// object's subresource, at one served version.
struct ResourcePath: Equatable, Sendable {
    let kind: Kind
    /// The version the path names (nil for untyped kinds, served only at their own version).
    let version: ServedVersion?
    /// Nil: every namespace (collections of namespaced kinds), or a cluster-scoped kind.
    let namespace: String?
    /// Nil: the collection.
    let name: String?
    /// `status`, `scale` or `binding` after the name; nil for the object itself.
    let subresource: Kind.Subresource?

    static func == (a: ResourcePath, b: ResourcePath) -> Bool {
        a.kind == b.kind && a.version?.apiVersion == b.version?.apiVersion && a.namespace == b.namespace
            && a.name == b.name && a.subresource == b.subresource
    }

    /// `rest` is what follows `/api/v1` or `/apis/{group}/{version}`:
    /// `[namespaces, {ns}], {plural}, [{name}, [{subresource}]]`. Nil when no registered kind
    /// is served there, its scope does not fit (a cluster-scoped kind under a namespace, one
    /// object of a namespaced kind without its namespace), or the subresource is not one the
    /// kind serves.
    init?(group: String, version: String, rest: [String]) {
        var rest = rest
        var namespace: String?
        if rest.count >= 3 && rest[0] == "namespaces",
           let found = Kind.served(group: group, version: version, plural: rest[2]), found.kind.namespaced {
            namespace = rest[1]
            rest.removeFirst(2)
        }
        guard !rest.isEmpty, rest.count <= 3, let found = Kind.served(group: group, version: version, plural: rest[0]) else {
            return nil
        }
        let (kind, served) = found
        if kind.namespaced && namespace == nil && rest.count > 1 { return nil }
        var subresource: Kind.Subresource?
        if rest.count == 3 {
            guard let named = Kind.Subresource(rawValue: rest[2]), kind.subresources.contains(named) else { return nil }
            subresource = named
        }
        self.kind = kind
        self.version = served
        self.namespace = namespace
        name = rest.count >= 2 ? rest[1] : nil
        self.subresource = subresource
    }

    /// The `apiVersion` objects are served in here.
    var apiVersion: String { version?.apiVersion ?? kind.apiVersion }

    /// The key of the named object.
    var key: ObjectKey { ObjectKey(kind: kind, namespace: namespace ?? "", name: name ?? "") }

    /// "configmaps \"web\"" or "configmaps" (for messages).
    var description: String { name.map { "\(kind.plural) \"\($0)\"" } ?? kind.plural }
}
