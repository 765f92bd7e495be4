import Foundation
import XCTest

@testable import API
import JSON
import Store
import Transport

/// Carries loop-confined values across the `@Sendable` boundary of `EventLoop.post`; tests
/// touch them on the loop thread only (or after the loop handed them back).
final class Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// An event loop on a thread of its own for one test. Every wait is bounded.
final class LoopThread: @unchecked Sendable {
    static let waitSecondsMax = 15.0

    let loop = EventLoop()
    private let finished = DispatchSemaphore(value: 0)
    private var stopped = false

    init() {
        // The server's writes to clients that went away must not kill the test process
        // (the agent ignores SIGPIPE the same way).
        signal(SIGPIPE, SIG_IGN)
        let loop = loop
        let finished = finished
        let thread = Thread {
            loop.run()
            finished.signal()
        }
        thread.name = "api-test-loop"
        thread.stackSize = 8 << 20
        thread.start()
    }

    deinit {
        if !stopped { stop() }
    }

    /// Runs `body` on the loop thread and returns its result (nil after a timeout, which
    /// also fails the test).
    @discardableResult
    func sync<Result>(file: StaticString = #filePath, line: UInt = #line, _ body: @escaping () -> Result) -> Result? {
        let box = Unchecked<Result?>(nil)
        let work = Unchecked(body)
        let done = DispatchSemaphore(value: 0)
        guard loop.post({
            box.value = work.value()
            done.signal()
        }) else {
            XCTFail("loop already stopped", file: file, line: line)
            return nil
        }
        if done.wait(timeout: .now() + Self.waitSecondsMax) == .timedOut {
            XCTFail("loop did not run posted work within \(Self.waitSecondsMax) s", file: file, line: line)
            return nil
        }
        return box.value
    }

    /// Polls `condition` on the loop thread until it holds; fails the test after the bound.
    @discardableResult
    func waitUntil(_ what: String, seconds: Double = LoopThread.waitSecondsMax,
                   file: StaticString = #filePath, line: UInt = #line, _ condition: @escaping () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if sync(file: file, line: line, condition) == true { return true }
            usleep(2_000)
        }
        XCTFail("timed out after \(seconds) s waiting for \(what)", file: file, line: line)
        return false
    }

    func stop() {
        stopped = true
        loop.stop()
        _ = finished.wait(timeout: .now() + Self.waitSecondsMax)
    }
}

/// A member as the API sees it: a real `Store` that applies writes synchronously as the
/// leader (or a follower pointing at another API server), with knobs to hold reads and
/// proposals, fail them, and count subscriptions.
final class FakeClusterService: ClusterService {
    static let token = "s3cret-token"

    var apiToken = FakeClusterService.token
    var memberName = "fake-1"
    var healthy = true
    var ready = true
    var isLeader = true
    var leaderAPIEndpoint: (host: String, port: UInt16)?
    var store: Store
    var index: UInt64 = 0
    var proposals: [ObjectWrite] = []
    var proposeError: ServiceError?
    /// Proposals wait here instead of applying (for timeouts).
    var holdProposals = false
    var heldProposals: [(Result<StoreResult, ServiceError>) -> Void] = []
    var linearizableReadCount = 0
    var holdLinearizableReads = false
    var heldReads: [(Result<Void, ServiceError>) -> Void] = []
    var readError: ServiceError?
    /// Delivered to each new subscriber right after it subscribes (a live stream that
    /// overlaps the backlog: the API must not send these twice).
    var replayOnSubscribe: [WatchEvent] = []
    var replaysDelivered = 0
    private var subscribers: [Int: ([WatchEvent]) -> Bool] = [:]
    private var nextSubscriber = 0
    var subscriberCount: Int { subscribers.count }
    var token: String? = "join-token-123"
    var clusterCalls: [String] = []
    let loop: EventLoop

    init(loop: EventLoop, watchHistoryEventsMax: Int = Store.watchHistoryEventsMax) {
        self.loop = loop
        store = Store(watchHistoryEventsMax: watchHistoryEventsMax)
    }

    func health() -> (ok: Bool, detail: [String]) { (healthy, healthy ? [] : ["storage: the WAL is stopped"]) }
    func readiness() -> (ok: Bool, detail: [String]) { (ready, ready ? [] : ["raft: no leader known", "applied 3 < commit 9"]) }
    func metricsText() -> String { "# HELP fake_up Fake.\n# TYPE fake_up gauge\nfake_up 1\n" }

    func propose(_ write: ObjectWrite, completion: @escaping (Result<StoreResult, ServiceError>) -> Void) {
        proposals.append(write)
        if let proposeError { return completion(.failure(proposeError)) }
        if holdProposals { return heldProposals.append(completion) }
        let command: StoreCommand
        switch write {
        case .create(let object): command = .create(object: object, uid: "uid-\(index + 1)", creationTimestamp: "2024-05-01T12:00:00Z")
        case .update(let object, let version): command = .update(object: object, expectedResourceVersion: version)
        case .delete(let key, let version, let uid): command = .delete(key: key, expectedResourceVersion: version, expectedUID: uid)
        case .typed(let write): command = .typed(stamped(write))
        }
        completion(.success(apply(command)))
    }

    func dryRun(_ write: TypedWrite) -> StoreResult {
        var scratch = store
        return scratch.apply(index: scratch.revision + 1, .typed(stamped(write))).result
    }

    /// The fake's uids count entries; its clock is fixed.
    func stamped(_ write: TypedWrite) -> TypedWrite {
        var write = write
        if write.verb == .create && write.uid.isEmpty { write.uid = "uid-\(index + 1)" }
        write.now = "2024-05-01T12:00:00Z"
        return write
    }

    /// Applies a command at the next index and delivers its events to the subscribers.
    @discardableResult
    func apply(_ command: StoreCommand) -> StoreResult {
        index += 1
        let applied = store.apply(index: index, command)
        deliver(applied.events)
        return applied.result
    }

    /// Applies without telling subscribers: what a snapshot install looks like to a watch.
    func applySilently(_ command: StoreCommand) {
        index += 1
        _ = store.apply(index: index, command)
    }

    func deliver(_ events: [WatchEvent]) {
        for (id, callback) in subscribers.sorted(by: { $0.key < $1.key }) where !callback(events) {
            subscribers[id] = nil
        }
    }

    func awaitLinearizableRead(completion: @escaping (Result<Void, ServiceError>) -> Void) {
        linearizableReadCount += 1
        if let readError { return completion(.failure(readError)) }
        if holdLinearizableReads { return heldReads.append(completion) }
        completion(.success(()))
    }

    func releaseReads() {
        let held = heldReads
        heldReads = []
        for completion in held { completion(.success(())) }
    }

    func subscribe(_ deliver: @escaping ([WatchEvent]) -> Bool) -> WatchSubscription {
        nextSubscriber += 1
        let id = nextSubscriber
        subscribers[id] = deliver
        if !replayOnSubscribe.isEmpty {
            let replay = replayOnSubscribe
            let timer = LoopTimer(loop: loop)
            timer.start(afterMilliseconds: 1) { [weak self] in
                timer.close()
                guard let self, let callback = self.subscribers[id] else { return }
                if !callback(replay) { self.subscribers[id] = nil }
                self.replaysDelivered += 1
            }
        }
        return WatchSubscription { [weak self] in self?.subscribers[id] = nil }
    }

    func status() -> JSONValue { ["member": .string(memberName), "leader": .bool(isLeader)] }
    func members() -> JSONValue { [["name": .string(memberName), "role": "voter"]] }
    func initializeCluster(completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        clusterCalls.append("init")
        completion(.success(["token": "join-token-123"]))
    }
    func joinCluster(endpoint: String, token: String, completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        clusterCalls.append("join \(endpoint) \(token)")
        completion(.failure(ServiceError(status: 409, reason: "AlreadyClustered", message: "this agent already belongs to a cluster")))
    }
    func admitMember(_ request: JSONValue, completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        clusterCalls.append("admit \(request["name"]?.stringValue ?? "?") on \(memberName)")
        completion(.success(members()))
    }
    func leaveCluster(completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        clusterCalls.append("leave")
        completion(.success(["left": .string(memberName)]))
    }
    func removeMember(named name: String, completion: @escaping (Result<JSONValue, ServiceError>) -> Void) {
        clusterCalls.append("remove \(name) on \(memberName)")
        completion(.success(["removed": .string(name)]))
    }
    func joinToken() -> String? { token }

    // Pods: the node this fake member is, other members' API addresses by node, and what its
    // runtime answers for a streaming session.
    var nodeName: String?
    var localNodeName: String? { nodeName }
    var memberEndpoints: [String: (host: String, port: UInt16)] = [:]
    func memberAPIEndpoint(node: String) -> (host: String, port: UInt16)? { memberEndpoints[node] }
    var streamingURLAnswer: Result<String, ServiceError> = .failure(.unavailable("this member runs no pods"))
    var streamRequests: [PodStreamRequest] = []
    func podStreamingURL(_ request: PodStreamRequest, completion: @escaping (Result<String, ServiceError>) -> Void) {
        streamRequests.append(request)
        completion(streamingURLAnswer)
    }
    /// What `credentials` answers (nil: the protocol's default, 404).
    var credentialsAnswer: JSONValue?
    func credentials(clientCertificate: Bool) -> Result<JSONValue, ServiceError> {
        clusterCalls.append("credentials \(clientCertificate)")
        guard let credentialsAnswer else {
            return .failure(ServiceError(status: 404, reason: "NotFound", message: "this member serves no TLS credentials"))
        }
        return .success(credentialsAnswer)
    }
}

/// One CA for every TLS fixture of a test run, with a certificate for the fake members
/// (127.0.0.1 and localhost, server and client use, as a member's serving certificate is)
/// and one for a client (`admin` in `system:masters`), and a CA nobody trusts.
struct APITestPKI: @unchecked Sendable {
    static let shared = try! APITestPKI()

    let ca: CertificateAuthority
    let member: IssuedCertificate
    let admin: IssuedCertificate
    let stranger: IssuedCertificate

    init() throws {
        ca = try CertificateAuthority.random(commonName: "api-test-ca")
        member = try ca.issue(CertificateRequest(commonName: "fake-member", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"],
                                                 usage: [.server, .client], validitySeconds: 3600))
        admin = try ca.issue(CertificateRequest(commonName: "admin", organizations: ["system:masters"], usage: .client,
                                                validitySeconds: 3600))
        let strangerCA = try CertificateAuthority.random(commonName: "stranger-ca")
        stranger = try strangerCA.issue(CertificateRequest(commonName: "mallory", organizations: ["system:masters"],
                                                           usage: .client, validitySeconds: 3600))
    }

    /// What a member's API server is given: its certificate, client certificates verified
    /// against the CA, forwarding that trusts the CA and presents the member's certificate.
    func serverTLS() throws -> APIServer.TLS {
        let server = try TLSContext.server(certificateChainPEM: member.certificatePEM, privateKeyPEM: member.privateKeyPEM,
                                           clientCertificateRootsPEM: ca.certificatePEM)
        let forwarding = try TLSContext.client(trustedRootsPEM: ca.certificatePEM, certificateChainPEM: member.certificatePEM,
                                               privateKeyPEM: member.privateKeyPEM)
        return APIServer.TLS(server: server, forwarding: .tls(forwarding))
    }

    /// A client context trusting the CA, presenting `identity` if given.
    func client(presenting identity: IssuedCertificate? = nil) throws -> TLSContext {
        try TLSContext.client(trustedRootsPEM: ca.certificatePEM, certificateChainPEM: identity?.certificatePEM,
                              privateKeyPEM: identity?.privateKeyPEM)
    }
}

/// One API server with its fake member on a loop thread: plain HTTP by default (most tests
/// are about HTTP and routes, and several speak raw HTTP over a socket), HTTPS with `tls`
/// (the member's default), with `APITestPKI.shared`'s certificates.
final class APIFixture: @unchecked Sendable {
    let thread: LoopThread
    let service: FakeClusterService
    let server: APIServer
    /// The client context of `client()` and `send` (nil: plain HTTP).
    var clientTLS: TLSContext?
    var port: UInt16 { server.boundPort }

    init(thread: LoopThread = LoopThread(), limits: APIServer.Limits = APIServer.Limits(), watchHistoryEventsMax: Int = 1000,
         tls: Bool = false) {
        self.thread = thread
        let serverTLS = tls ? try! APITestPKI.shared.serverTLS() : nil
        let made = thread.sync { () -> (FakeClusterService, APIServer) in
            let service = FakeClusterService(loop: thread.loop, watchHistoryEventsMax: watchHistoryEventsMax)
            let server = try! APIServer(loop: thread.loop, host: "127.0.0.1", port: 0, service: service, limits: limits,
                                        tls: serverTLS)
            return (service, server)
        }!
        service = made.0
        server = made.1
        clientTLS = tls ? try! APITestPKI.shared.client() : nil
    }

    func close() {
        thread.sync { self.server.close() }
    }

    /// Runs `body` with the fake service on the loop thread.
    @discardableResult
    func onLoop<Result>(_ body: @escaping (FakeClusterService) -> Result) -> Result? {
        let service = Unchecked(service)
        return thread.sync { body(service.value) }
    }

    func client(timeoutMilliseconds: Int = 5_000) -> HTTPClient {
        HTTPClient(host: "127.0.0.1", port: port, timeoutMilliseconds: timeoutMilliseconds, tls: clientTLS)
    }

    /// Sends one request (with the bearer token unless `token` is nil).
    func send(_ method: String, _ target: String, body: String? = nil, token: String? = FakeClusterService.token,
              headers: [(String, String)] = []) throws -> HTTPParser.Message {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        if body != nil { all.append(("Content-Type", "application/json")) }
        return try client().send(method: method, target: target, headers: all, body: Array((body ?? "").utf8))
    }
}

extension HTTPParser.Message {
    var json: JSONValue? { try? JSONValue.parse(body) }
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }
}

/// A ConfigMap as a client would send it.
func configMap(_ name: String, namespace: String? = "default", labels: [String: String] = [:], data: [String: String] = ["k": "v"],
               resourceVersion: String? = nil) -> String {
    var metadata = JSONObject([("name", .string(name))])
    if let namespace { metadata["namespace"] = .string(namespace) }
    if !labels.isEmpty { metadata["labels"] = .object(JSONObject(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) }
    if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
    let object = JSONObject([
        ("apiVersion", "v1"), ("kind", "ConfigMap"), ("metadata", .object(metadata)),
        ("data", .object(JSONObject(data.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
    ])
    return JSONValue.object(object).jsonString
}

/// The store command that creates a ConfigMap directly (bypassing HTTP).
func createCommand(_ name: String, namespace: String = "default", labels: [String: String] = [:],
                   data: [String: String] = ["k": "v"], uid: String = "u") -> StoreCommand {
    .create(object: try! JSONValue.parse(configMap(name, namespace: namespace, labels: labels, data: data)),
            uid: uid + "-" + name, creationTimestamp: "2024-05-01T12:00:00Z")
}
