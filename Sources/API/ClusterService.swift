import JSON
import Store

/// What the HTTP API needs from the member it runs in. The `Server` module implements it;
/// tests use a fake. Every method is called on the event-loop thread, and every completion
/// is called on it too (possibly later, once Raft has committed or confirmed leadership).
public protocol ClusterService: AnyObject {
    // MARK: Identity and health

    /// The bearer token API clients must present (all routes but health, readiness, metrics).
    var apiToken: String { get }
    /// This member's name (as in `shoal members`).
    var memberName: String { get }
    /// Liveness: the process and its storage work. Detail lines for the body.
    func health() -> (ok: Bool, detail: [String])
    /// Readiness: a leader is known and this member has applied what it was told is committed.
    func readiness() -> (ok: Bool, detail: [String])
    /// Prometheus text-format metrics (version 0.0.4).
    func metricsText() -> String

    // MARK: Leadership (writes and cluster operations go to the leader)

    /// True when this member leads and can propose.
    var isLeader: Bool { get }
    /// The leader's API address, when another member leads (the API server then forwards
    /// writes there); nil when no leader is known (answer 503 so the client retries).
    var leaderAPIEndpoint: (host: String, port: UInt16)? { get }
    /// True when `propose` can take an object write here: this member leads, or it hands
    /// writes to the leader itself (over its peer connection). When false, the API server
    /// forwards the HTTP request to `leaderAPIEndpoint` instead.
    var canTakeWrites: Bool { get }

    // MARK: Objects

    /// The replicated object store as applied on this member (read-only on the loop thread).
    var store: Store { get }
    /// Proposes a write (on the leader, or handed to it when `canTakeWrites` says so) and
    /// completes with the store's result once the entry commits and applies here (or with an
    /// error: 503 not applied, 429 overloaded, 504 may have been applied).
    /// For a create, fills in what the store must not invent (uid, creationTimestamp).
    func propose(_ write: ObjectWrite, completion: @escaping (Result<StoreResult, ServiceError>) -> Void)
    /// Admits a typed write against a copy of this member's store without proposing it
    /// (`dryRun=All`): the result the write would have now, filled in as `propose` would.
    func dryRun(_ write: TypedWrite) -> StoreResult
    /// Completes once a linearizable read may be served from `store` (ReadIndex confirmed
    /// and applied); `.stale` reads skip this.
    func awaitLinearizableRead(completion: @escaping (Result<Void, ServiceError>) -> Void)
    /// Runs `work` on a helper thread and `then` with its result back on the loop thread: for
    /// answers too large to build on the loop without stalling Raft (big lists).
    func offLoop<T: Sendable>(_ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void)
    /// Calls `deliver` with the events of every entry applied from now on, in order, until
    /// it returns false or the subscription is cancelled. Backlog (events since a version)
    /// comes from `store.events(since:_:)`.
    func subscribe(_ deliver: @escaping ([WatchEvent]) -> Bool) -> WatchSubscription

    // MARK: Cluster operations (shoal CLI)

    /// This member's view: role, term, leader, indexes, membership (JSON for `shoal status`).
    func status() -> JSONValue
    /// The leader's view of every member (for `shoal members`): name, address, role,
    /// voter/learner, match index, last contact, health. Only on the leader.
    func members() -> JSONValue
    /// Bootstraps a one-member cluster on an agent that belongs to none; returns the join token.
    func initializeCluster(completion: @escaping (Result<JSONValue, ServiceError>) -> Void)
    /// Makes this (unclustered) agent join the cluster whose member answers at `endpoint`.
    func joinCluster(endpoint: String, token: String, completion: @escaping (Result<JSONValue, ServiceError>) -> Void)
    /// On the leader: admits a new member (body: name, address, peerPort, apiPort, incarnation).
    func admitMember(_ request: JSONValue, completion: @escaping (Result<JSONValue, ServiceError>) -> Void)
    /// Gracefully removes this member (transferring leadership first if it leads).
    func leaveCluster(completion: @escaping (Result<JSONValue, ServiceError>) -> Void)
    /// On the leader: removes a (dead) member by name.
    func removeMember(named name: String, completion: @escaping (Result<JSONValue, ServiceError>) -> Void)
    /// The join token (for `shoal token`).
    func joinToken() -> String?
    /// For `shoal kubeconfig`: `{"certificateAuthority": PEM}` (the CA clients verify
    /// members against), plus with `clientCertificate` a new certificate and key for the
    /// user `admin` in `system:masters`, signed by the cluster CA
    /// (`"clientCertificate"`, `"clientKey"`, PEM).
    func credentials(clientCertificate: Bool) -> Result<JSONValue, ServiceError>

    // MARK: Pods (the node agent)

    /// The Node this member is (pods bound to it run here); nil when it runs none.
    var localNodeName: String? { get }
    /// The API address of the member whose Node is `node`.
    func memberAPIEndpoint(node: String) -> (host: String, port: UInt16)?
    /// A piece of a container's log file on this member, from `request.offset`.
    func readContainerLog(_ request: ContainerLogRequest, completion: @escaping (Result<ContainerLogChunk, ServiceError>) -> Void)
    /// A one-time URL on this member's container runtime's streaming server (`http://HOST:PORT/PATH`)
    /// for a session with a pod that runs here (`kubectl exec`, `attach`, `port-forward`).
    func podStreamingURL(_ request: PodStreamRequest, completion: @escaping (Result<String, ServiceError>) -> Void)
}

extension ClusterService {
    public var localNodeName: String? { nil }
    public func memberAPIEndpoint(node: String) -> (host: String, port: UInt16)? { nil }
    public func readContainerLog(_ request: ContainerLogRequest, completion: @escaping (Result<ContainerLogChunk, ServiceError>) -> Void) {
        completion(.failure(.unavailable("this member runs no pods")))
    }
    public func podStreamingURL(_ request: PodStreamRequest, completion: @escaping (Result<String, ServiceError>) -> Void) {
        completion(.failure(.unavailable("this member runs no pods")))
    }
}

/// A write an API request asks for.
public enum ObjectWrite: Sendable {
    /// Cluster version 1's untyped writes.
    case create(object: JSONValue)
    case update(object: JSONValue, expectedResourceVersion: UInt64?)
    case delete(key: ObjectKey, expectedResourceVersion: UInt64?, expectedUID: String?)
    /// A typed write (cluster version 2 on); the service fills in its uid (creates) and time.
    case typed(TypedWrite)
}

/// Why the service could not do what was asked (mapped to a Kubernetes Status body). Built
/// with the typed constructors below, which keep each code with its Kubernetes reason; the
/// memberwise initializer is for relaying an answer another member gave.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    /// HTTP status code (e.g. 503 no leader, 429 overloaded, 504 timeout, 400 bad request).
    public var status: Int
    /// Kubernetes `reason` (e.g. "ServiceUnavailable", "Timeout", "BadRequest").
    public var reason: String
    public var message: String

    public init(status: Int, reason: String, message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(status) \(reason): \(message)" }

    /// 503: no leader, not the leader, not in a cluster, a write not applied; the client retries.
    public static func unavailable(_ message: String) -> ServiceError { .init(status: 503, reason: "ServiceUnavailable", message: message) }
    /// 504: no answer in time; the operation may still take effect.
    public static func timeout(_ message: String) -> ServiceError { .init(status: 504, reason: "Timeout", message: message) }
    /// 400: the request itself is wrong.
    public static func badRequest(_ message: String) -> ServiceError { .init(status: 400, reason: "BadRequest", message: message) }
    /// 404: what the request names does not exist.
    public static func notFound(_ message: String) -> ServiceError { .init(status: 404, reason: "NotFound", message: message) }
    /// 409: what the request would create exists already.
    public static func alreadyExists(_ message: String) -> ServiceError { .init(status: 409, reason: "AlreadyExists", message: message) }
    /// 409: the request conflicts with work in progress.
    public static func conflict(_ message: String) -> ServiceError { .init(status: 409, reason: "Conflict", message: message) }
    /// 429: too much in flight; the client retries later.
    public static func tooManyRequests(_ message: String) -> ServiceError { .init(status: 429, reason: "TooManyRequests", message: message) }
    /// 413: the request is larger than a write may be.
    public static func tooLarge(_ message: String) -> ServiceError { .init(status: 413, reason: "RequestEntityTooLarge", message: message) }
    /// 500: the member failed (storage, certificates); the request was fine.
    public static func internalError(_ message: String) -> ServiceError { .init(status: 500, reason: "InternalError", message: message) }
}

/// A live watch registration; `cancel()` stops deliveries (idempotent).
public final class WatchSubscription {
    private var onCancel: (() -> Void)?
    public init(onCancel: @escaping () -> Void) { self.onCancel = onCancel }
    public func cancel() {
        onCancel?()
        onCancel = nil
    }
}

extension ClusterService {
    /// By default only the leader takes writes; followers' requests are forwarded over HTTP.
    public var canTakeWrites: Bool { isLeader }

    /// By default the work runs at once, on the loop (test doubles).
    public func offLoop<T: Sendable>(_ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void) {
        then(work())
    }

    /// By default a service has no certificate authority to share.
    public func credentials(clientCertificate: Bool) -> Result<JSONValue, ServiceError> {
        .failure(ServiceError.notFound("this member serves no TLS credentials"))
    }
}
