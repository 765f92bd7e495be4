import Store
import Transport

// `kubectl exec`, `attach` and `port-forward`: the client asks to switch protocols (a
// WebSocket or SPDY/3.1 upgrade) and then speaks Kubernetes' streaming protocols over the
// connection. shoal does not interpret them: the member where the pod runs asks its
// container runtime (CRI Exec, Attach, PortForward) for a one-time URL on the runtime's
// streaming server, sends it the client's request, and from then on joins the two
// connections byte for byte (`StreamTunnel`), so the runtime's answer to the upgrade, and
// every frame after it, reach the client unchanged. A member the pod does not run on sends
// the request on to the pod's member over its certificate-authenticated connection and joins
// the client to that. Whatever protocol the client and the runtime agree on works: kubectl
// 1.32 first offers a WebSocket (v5.channel.k8s.io), which containerd 1.6 refuses, and then
// falls back to SPDY, which it speaks.

/// Which streaming session a request asks for (the last segment of its path).
enum PodStreamKind: String, Equatable {
    case exec
    case attach
    case portForward = "portforward"
}

/// A streaming session with one of this member's pods, as the runtime needs it described.
public struct PodStreamRequest: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Run `command` in the container.
        case exec(command: [String])
        /// Join the container's main process's streams.
        case attach
        /// Connect to the pod's ports (the client names each port per stream).
        case portForward(ports: [Int32])
    }

    public var namespace: String
    public var pod: String
    public var podUID: String
    /// The container (empty for a port-forward, which enters the pod's sandbox).
    public var container: String
    public var kind: Kind
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    public var tty: Bool

    public init(namespace: String, pod: String, podUID: String, container: String, kind: Kind,
                stdin: Bool = false, stdout: Bool = false, stderr: Bool = false, tty: Bool = false) {
        self.namespace = namespace
        self.pod = pod
        self.podUID = podUID
        self.container = container
        self.kind = kind
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.tty = tty
    }
}

extension APIServer {
    /// How long joining a session may take to connect to the runtime or the pod's member, in milliseconds.
    static let podStreamConnectMilliseconds = 5_000

    func servePodStream(_ exchange: APIExchange, namespace: String, name: String, kind: PodStreamKind, _ service: ClusterService) {
        let request = exchange.request
        guard request.method == "GET" || request.method == "POST" else {
            return exchange.respond(APIResponses.methodNotAllowed(request.method, request.path))
        }
        guard request.upgrade else {
            return exchange.respond(APIResponses.status(400, "BadRequest", "Upgrade request required"))
        }
        guard let stored = service.store.get(ObjectKey(kind: .pod, namespace: namespace, name: name)), let pod = Pod(stored) else {
            return exchange.respond(APIResponses.status(404, "NotFound", "pods \"\(name)\" not found"))
        }
        let streamRequest: PodStreamRequest
        switch Self.podStreamRequest(pod, kind: kind, request) {
        case .success(let described): streamRequest = described
        case .failure(let error): return exchange.respond(APIResponses.status(error))
        }
        if pod.spec.nodeName == service.localNodeName {
            service.podStreamingURL(streamRequest) { [weak self] result in
                switch result {
                case .failure(let error): exchange.respond(APIResponses.status(error))
                case .success(let url): self?.joinRuntimeStream(exchange, url: url)
                }
            }
        } else if request.header(forwardedHeader) != nil {
            // Sent on by another member that thought the pod runs here: no second hop.
            exchange.respond(APIResponses.status(503, "ServiceUnavailable", "pod \(name) does not run on member \(service.memberName)"))
        } else if let endpoint = service.memberAPIEndpoint(node: pod.spec.nodeName) {
            joinMemberStream(exchange, endpoint: endpoint)
        } else {
            exchange.respond(APIResponses.status(503, "ServiceUnavailable", "the member of node \(pod.spec.nodeName) is not known"))
        }
    }

    /// What the request asks of the pod, checked as kubelet and kube-apiserver check it.
    static func podStreamRequest(_ pod: Pod, kind: PodStreamKind, _ request: HTTPRequest) -> Result<PodStreamRequest, ServiceError> {
        let name = pod.metadata.name
        guard !pod.spec.nodeName.isEmpty else {
            return .failure(ServiceError(status: 400, reason: "BadRequest", message: "pod \(name) does not have a host assigned"))
        }
        if pod.status.phase == "Succeeded" || pod.status.phase == "Failed" {
            return .failure(ServiceError(status: 400, reason: "BadRequest",
                                         message: "cannot \(kind == .attach ? "attach to" : "exec into") a container in a completed pod; current phase is \(pod.status.phase)"))
        }
        func flag(_ key: String) -> Bool { ["true", "1"].contains(request.query[key] ?? "") }
        if kind == .portForward {
            var ports: [Int32] = []
            for text in queryValues(request.target, "ports").flatMap({ $0.split(separator: ",") }) {
                guard let port = Int32(text.filter { $0 != " " }), (1...65535).contains(port) else {
                    return .failure(ServiceError(status: 400, reason: "BadRequest", message: "invalid port \"\(text)\": must be 1-65535"))
                }
                ports.append(port)
            }
            return .success(PodStreamRequest(namespace: pod.metadata.namespace, pod: name, podUID: pod.metadata.uid, container: "",
                                             kind: .portForward(ports: ports)))
        }
        let container: String
        switch podContainer(pod, asked: request.query["container"]) {
        case .success(let chosen): container = chosen
        case .failure(let error): return .failure(error)
        }
        var described = PodStreamRequest(namespace: pod.metadata.namespace, pod: name, podUID: pod.metadata.uid, container: container,
                                         kind: .attach, stdin: flag("stdin"), stdout: flag("stdout"), stderr: flag("stderr"), tty: flag("tty"))
        if kind == .exec {
            let command = queryValues(request.target, "command")
            guard !command.isEmpty else {
                return .failure(ServiceError(status: 400, reason: "BadRequest", message: "you must specify at least 1 command"))
            }
            described.kind = .exec(command: command)
        }
        guard described.stdin || described.stdout || described.stderr else {
            return .failure(ServiceError(status: 400, reason: "BadRequest", message: "you must specify at least 1 of stdin, stdout, stderr"))
        }
        if described.tty && described.stderr {
            return .failure(ServiceError(status: 400, reason: "BadRequest", message: "stderr cannot be used with tty (stdout carries both)"))
        }
        return .success(described)
    }

    /// Joins the client to the runtime's streaming server at `url` (http://HOST:PORT/PATH, on
    /// this host), sending it the client's request for that path.
    private func joinRuntimeStream(_ exchange: APIExchange, url: String) {
        guard let target = RuntimeStreamURL(url) else {
            return exchange.respond(APIResponses.status(500, "InternalError", "the container runtime answered an unusable streaming URL \"\(url)\""))
        }
        StreamConnector.plain.connect(loop: loop, host: target.host, port: target.port,
                                      timeoutMilliseconds: Self.podStreamConnectMilliseconds) { result in
            switch result {
            case .failure(let error):
                exchange.respond(APIResponses.status(503, "ServiceUnavailable", "cannot reach the container runtime's streaming server: \(error)"))
            case .success(let runtime):
                let dropped: Set<String> = ["host", "authorization", forwardedHeader.lowercased()]
                runtime.write(Self.requestHead(exchange.request, target: target.path, host: target.authority, dropping: dropped))
                exchange.upgrade(to: runtime)
            }
        }
    }

    /// Joins the client to the same request sent to the member where the pod runs.
    private func joinMemberStream(_ exchange: APIExchange, endpoint: (host: String, port: UInt16)) {
        let local = host == "0.0.0.0" || host == "::" ? nil : host
        forwardingConnector.connect(loop: loop, host: endpoint.host, port: endpoint.port, localHost: local,
                                    timeoutMilliseconds: Self.podStreamConnectMilliseconds) { result in
            switch result {
            case .failure(let error):
                exchange.respond(APIResponses.status(503, "ServiceUnavailable",
                                                     "cannot reach the pod's member at \(endpoint.host):\(endpoint.port): \(error)"))
            case .success(let member):
                var head = Self.requestHead(exchange.request, target: exchange.request.target, host: "\(endpoint.host):\(endpoint.port)",
                                            dropping: ["host", forwardedHeader.lowercased()], ending: false)
                head += Array("\(forwardedHeader): 1\r\n\r\n".utf8)
                member.write(head)
                if !exchange.request.body.isEmpty { member.write(exchange.request.body) }
                exchange.upgrade(to: member)
            }
        }
    }

    /// The client's request again, for `target` at `host`, without the `dropping` headers
    /// (names lower-cased); the body follows unless `ending` is false (more headers to add).
    static func requestHead(_ request: HTTPRequest, target: String, host: String, dropping: Set<String>, ending: Bool = true) -> [UInt8] {
        var head = "\(request.method) \(target) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in request.headers where !dropping.contains(name) {
            head += "\(name): \(value)\r\n"
        }
        guard ending else { return Array(head.utf8) }
        return Array((head + "\r\n").utf8) + request.body
    }
}

/// The container named by `asked`, or the pod's only container; the error kubectl prints otherwise.
func podContainer(_ pod: Pod, asked: String?) -> Result<String, ServiceError> {
    let names = pod.spec.containers.map(\.name)
    if let asked, !asked.isEmpty {
        guard names.contains(asked) else {
            return .failure(ServiceError(status: 400, reason: "BadRequest", message: "container \(asked) is not valid for pod \(pod.metadata.name)"))
        }
        return .success(asked)
    }
    if names.count == 1 { return .success(names[0]) }
    return .failure(ServiceError(status: 400, reason: "BadRequest",
                                 message: "a container name must be specified for pod \(pod.metadata.name), choose one of: [\(names.joined(separator: " "))]"))
}

/// A runtime streaming server's URL: `http://HOST:PORT/PATH` (HOST may be `[IPv6]`).
struct RuntimeStreamURL: Equatable {
    var host: String
    var port: UInt16
    var path: String
    /// HOST:PORT as the URL wrote it (the Host header).
    var authority: String

    init?(_ url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        authority = String(rest[..<slash])
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard let colon = authority.lastIndex(of: ":"), let port = UInt16(authority[authority.index(after: colon)...]), port > 0 else { return nil }
        var host = String(authority[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}
