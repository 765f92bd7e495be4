import JSON
import Store
import Transport

// `kubectl logs`: the container's log as the runtime wrote it on the pod's node, in CRI's
// log format (`<RFC 3339 time> <stream> <F|P> <text>`, one line each; P marks a part of a
// longer line). The member a client asks serves the pod's log from its own disk when the
// pod runs there, and otherwise reads it from the pod's member in pieces (`MemberFetch`,
// authenticated by this member's certificate), so `-f` needs no streaming proxy: the
// asking member polls the owner for what was appended.

/// One piece of a container's log file.
public struct ContainerLogChunk: Sendable, Equatable {
    public var bytes: [UInt8]
    /// Where the next read starts.
    public var nextOffset: UInt64
    /// The container no longer runs: nothing more will be written.
    public var ended: Bool

    public init(bytes: [UInt8], nextOffset: UInt64, ended: Bool) {
        self.bytes = bytes
        self.nextOffset = nextOffset
        self.ended = ended
    }
}

/// Which log: a pod's container (`previous`: the one before the current one).
public struct ContainerLogRequest: Sendable, Equatable {
    public var namespace: String
    public var pod: String
    public var podUID: String
    public var container: String
    public var previous: Bool
    public var offset: UInt64
    public var bytesMax: Int

    public init(namespace: String, pod: String, podUID: String, container: String, previous: Bool, offset: UInt64, bytesMax: Int) {
        self.namespace = namespace
        self.pod = pod
        self.podUID = podUID
        self.container = container
        self.previous = previous
        self.offset = offset
        self.bytesMax = bytesMax
    }
}

/// CRI log lines to what `kubectl logs` prints.
public struct CRILogFormatter: Sendable {
    /// Bytes of a line not yet complete (the next chunk continues it).
    private var pending: [UInt8] = []
    /// Text of a line whose parts (P) are still arriving, and its first part's time.
    private var partial = ""
    private var partialTime = ""
    public var timestamps: Bool

    public init(timestamps: Bool) { self.timestamps = timestamps }

    /// The complete log lines in `bytes` (with what earlier chunks left), each ending in "\n".
    public mutating func lines(_ bytes: [UInt8]) -> [String] {
        pending += bytes
        var out: [String] = []
        var start = 0
        while let end = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if let line = format(pending[start..<end]) { out.append(line) }
            start = end + 1
        }
        pending.removeFirst(start)
        return out
    }

    /// One CRI line: "time stream tag text"; nil for a part (kept until its line is whole)
    /// or a line not in the format (skipped).
    private mutating func format(_ raw: ArraySlice<UInt8>) -> String? {
        let fields = raw.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return nil }
        let time = String(decoding: fields[0], as: UTF8.self)
        let tag = String(decoding: fields[2], as: UTF8.self)
        let text = fields.count == 4 ? String(decoding: fields[3], as: UTF8.self) : ""
        if tag.hasPrefix("P") {
            if partial.isEmpty { partialTime = time }
            partial += text
            return nil
        }
        let whole = partial + text
        let stamp = partial.isEmpty ? time : partialTime
        partial = ""
        return (timestamps ? stamp + " " : "") + whole + "\n"
    }
}

extension APIServer {
    /// Bytes read from a log file per piece.
    static let podLogChunkBytesMax = 4 << 20
    /// How often `-f` looks for appended bytes, in milliseconds.
    static let podLogFollowMilliseconds = 200
    /// A log answered without `-f` holds at most this many bytes (the newest, with `tailLines`).
    static let podLogBytesMax = 32 << 20

    func servePodLog(_ exchange: APIExchange, namespace: String, name: String, _ service: ClusterService) {
        let request = exchange.request
        guard request.method == "GET" else { return exchange.respond(APIResponses.methodNotAllowed(request.method, request.path)) }
        guard let stored = service.store.get(ObjectKey(kind: .pod, namespace: namespace, name: name)), let pod = Pod(stored) else {
            return exchange.respond(APIResponses.status(404, "NotFound", "pods \"\(name)\" not found"))
        }
        let container: String
        switch podContainer(pod, asked: request.query["container"]) {
        case .success(let chosen): container = chosen
        case .failure(let error): return exchange.respond(APIResponses.status(error))
        }
        guard !pod.spec.nodeName.isEmpty else {
            return exchange.respond(APIResponses.status(400, "BadRequest", "container \"\(container)\" in pod \"\(name)\" is waiting to start: not scheduled"))
        }
        let previous = request.query["previous"] == "true"
        let logRequest = ContainerLogRequest(namespace: namespace, pod: name, podUID: pod.metadata.uid, container: container,
                                             previous: previous, offset: UInt64(request.query["shoalOffset"] ?? "0") ?? 0,
                                             bytesMax: Self.podLogChunkBytesMax)
        // Another member asks for raw bytes of a pod that runs here.
        if request.query["shoalRaw"] == "true" {
            guard pod.spec.nodeName == service.localNodeName else {
                return exchange.respond(APIResponses.status(503, "ServiceUnavailable", "pod \(name) does not run on this member"))
            }
            return service.readContainerLog(logRequest) { result in
                switch result {
                case .success(let chunk):
                    exchange.respond(HTTPResponse(status: 200, headers: [("Content-Type", "application/octet-stream"),
                                                                          ("X-Shoal-Log-Offset", String(chunk.nextOffset)),
                                                                          ("X-Shoal-Log-Ended", chunk.ended ? "true" : "false")],
                                                  body: chunk.bytes))
                case .failure(let error):
                    exchange.respond(APIResponses.status(error))
                }
            }
        }
        let reader: PodLogReader
        if pod.spec.nodeName == service.localNodeName {
            reader = .local(service)
        } else if let endpoint = service.memberAPIEndpoint(node: pod.spec.nodeName) {
            reader = .remote(self, endpoint, request)
        } else {
            return exchange.respond(APIResponses.status(503, "ServiceUnavailable", "the member of node \(pod.spec.nodeName) is not known"))
        }
        let session = PodLogSession(server: self, exchange: exchange, reader: reader, request: logRequest,
                                    follow: request.query["follow"] == "true",
                                    tailLines: request.query["tailLines"].flatMap { Int($0) },
                                    limitBytes: request.query["limitBytes"].flatMap { Int($0) },
                                    timestamps: request.query["timestamps"] == "true")
        session.start()
    }
}

/// Where a log's pieces come from.
enum PodLogReader {
    case local(ClusterService)
    case remote(APIServer, (host: String, port: UInt16), HTTPRequest)

    func read(_ request: ContainerLogRequest, completion: @escaping (Result<ContainerLogChunk, ServiceError>) -> Void) {
        switch self {
        case .local(let service):
            service.readContainerLog(request, completion: completion)
        case .remote(let server, let endpoint, let original):
            let target = "/api/v1/namespaces/\(request.namespace)/pods/\(request.pod)/log?container=\(request.container)"
                + "&previous=\(request.previous)&shoalRaw=true&shoalOffset=\(request.offset)"
            let authorization = original.header("authorization").map { [("authorization", $0)] } ?? []
            MemberFetch(server: server, host: endpoint.host, port: endpoint.port, target: target, headers: authorization) { result in
                switch result {
                case .success(let answer) where answer.status == 200:
                    let offset = answer.headers.first { $0.name == "x-shoal-log-offset" }.flatMap { UInt64($0.value) } ?? request.offset
                    let ended = answer.headers.first { $0.name == "x-shoal-log-ended" }?.value == "true"
                    completion(.success(ContainerLogChunk(bytes: answer.body, nextOffset: offset, ended: ended)))
                case .success(let answer):
                    let message = (try? JSONValue.parse(answer.body))?["message"]?.stringValue ?? "status \(answer.status)"
                    completion(.failure(ServiceError(status: answer.status, reason: "BadRequest", message: message)))
                case .failure(let error):
                    completion(.failure(.unavailable(error.description)))
                }
            }.start()
        }
    }
}

/// One `kubectl logs` answer: the whole log, or (`-f`) the log and then what is appended
/// until the container ends or the client goes.
final class PodLogSession {
    private weak var server: APIServer?
    private let exchange: APIExchange
    private let reader: PodLogReader
    private var request: ContainerLogRequest
    private let follow: Bool
    private let tailLines: Int?
    private let limitBytes: Int?
    private var formatter: CRILogFormatter
    private var collected: [String] = []
    private var collectedBytes = 0
    private var sentBytes = 0
    private var streaming = false
    private var ended = false
    private var timer: LoopTimer?
    /// The session keeps itself alive until it ends (nothing else holds it between polls).
    private var keepAlive: PodLogSession?

    init(server: APIServer, exchange: APIExchange, reader: PodLogReader, request: ContainerLogRequest, follow: Bool,
         tailLines: Int?, limitBytes: Int?, timestamps: Bool) {
        self.server = server
        self.exchange = exchange
        self.reader = reader
        self.request = request
        self.follow = follow
        self.tailLines = tailLines
        self.limitBytes = limitBytes
        formatter = CRILogFormatter(timestamps: timestamps)
    }

    func start() {
        keepAlive = self
        exchange.onEnd = { [weak self] in self?.finish() }
        readNext()
    }

    private func readNext() {
        guard !ended else { return }
        reader.read(request) { [self] result in
            guard !ended else { return }
            switch result {
            case .failure(let error):
                if streaming { return finish() }
                ended = true
                keepAlive = nil
                exchange.respond(APIResponses.status(error))
            case .success(let chunk):
                request.offset = chunk.nextOffset
                let lines = formatter.lines(chunk.bytes)
                if !streaming {
                    collected += lines
                    collectedBytes += lines.reduce(0) { $0 + $1.utf8.count }
                    // The newest lines are what is kept of a log too large to answer whole.
                    while collectedBytes > APIServer.podLogBytesMax, !collected.isEmpty {
                        collectedBytes -= collected.removeFirst().utf8.count
                    }
                    if !chunk.bytes.isEmpty { return readNext() }
                    // The whole file is read: answer, or start streaming it.
                    var text = collected
                    if let tailLines { text = Array(text.suffix(max(0, tailLines))) }
                    collected = []
                    if !follow || chunk.ended {
                        ended = true
                        keepAlive = nil
                        return exchange.respond(APIResponses.text(200, limited(text.joined())))
                    }
                    streaming = true
                    exchange.startStream(status: 200, headers: [("Content-Type", "text/plain")])
                    send(text.joined())
                    schedule()
                } else {
                    send(lines.joined())
                    if chunk.bytes.isEmpty && chunk.ended { return finish() }
                    if chunk.bytes.isEmpty { schedule() } else { readNext() }
                }
            }
        }
    }

    private func limited(_ text: String) -> String {
        guard let limitBytes, text.utf8.count > limitBytes else { return text }
        return String(decoding: Array(text.utf8.prefix(max(0, limitBytes))), as: UTF8.self)
    }

    private func send(_ text: String) {
        guard !text.isEmpty else { return }
        var bytes = Array(text.utf8)
        if let limitBytes {
            bytes = Array(bytes.prefix(max(0, limitBytes - sentBytes)))
            if bytes.isEmpty { return finish() }
        }
        sentBytes += bytes.count
        exchange.send(bytes)
    }

    private func schedule() {
        guard let server, !ended else { return }
        let timer = LoopTimer(loop: server.loop)
        self.timer = timer
        timer.start(afterMilliseconds: APIServer.podLogFollowMilliseconds, repeatMilliseconds: 0) { [weak self] in
            self?.timer?.close()
            self?.timer = nil
            self?.readNext()
        }
    }

    private func finish() {
        guard !ended else { return }
        ended = true
        timer?.close()
        timer = nil
        if streaming { exchange.endStream() }
        keepAlive = nil
    }
}
