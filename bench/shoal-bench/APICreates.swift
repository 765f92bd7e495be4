// Phase 1 of `shoal-bench api`: N pods created by closed-loop clients spread over every
// member, as `kubectl create` sends them (POST with fieldValidation=Strict).
import Foundation

/// What the create phase measured.
struct CreatePhaseResult: Codable {
    var namespace: String
    var objects: Int
    var clients: Int
    var seconds: Double
    var objectsPerSecond: Double
    /// Per object, from the first attempt's send to the 201 (retries included).
    var latency: LatencyStats
    /// Per member the clients talked to (h1, h2, ...).
    var latencyByMember: [LatencyStats]
    /// Final answers other than 201, by status ("lost" when no answer came).
    var failures: [String: Int]
    var failureExamples: [String: String]
    /// Attempts retried, by cause: 429, 503, "not sent" (no connection), "lost" (no answer).
    var retries: [String: Int]
    /// 409 answers to a retry after a lost attempt (the lost attempt created the pod).
    var createdByLostAttempt: Int
    var requestBodyBytesMean: Double
    var responseBodyBytesMean: Double
    var cpu: CPUShare
    /// Every object's latency in milliseconds, in completion order per client.
    var latenciesMs: [Double]
}

/// The clients of the create and watch phases: one kept-alive HTTPS connection each, client
/// `i` on member `i % members`.
final class APIClients: @unchecked Sendable {
    let connections: [HTTPSConnection]
    let memberOf: [Int]

    init(cluster: APICluster, count: Int) {
        memberOf = (0..<count).map { $0 % cluster.members.count }
        connections = memberOf.map { cluster.connection(to: $0) }
    }

    /// Connects every client (TLS handshakes happen here, not in a measured request).
    func openAll() throws {
        for connection in connections {
            if let problem = connection.open(deadline: monotonicNanoseconds() + 10_000_000_000) { throw BenchFailure(problem) }
        }
    }
}

/// Runs the create phase (also used, unmeasured, for the warm-up).
struct CreatePhase {
    let cluster: APICluster
    let clients: APIClients
    let namespace: String
    let prefix: String
    let objects: Int
    let requestTimeoutNs: UInt64
    /// Attempts per object at most (429/503/lost answers are retried).
    static let attemptsMax = 20

    func run() -> CreatePhaseResult {
        let bodies = (0..<objects).map { APIPods.body(name: APIPods.name(prefix, $0), namespace: namespace, index: $0) }
        let head = "POST /api/v1/namespaces/\(namespace)/pods?fieldManager=kubectl-create&fieldValidation=Strict HTTP/1.1\r\n"
            + cluster.authorization + "Content-Type: application/json\r\nAccept: application/json\r\nUser-Agent: shoal-bench-api\r\n"
        let next = SharedCounter()
        let failures = SharedTally()
        let retries = SharedTally()
        let lostThenExisting = SharedCollector<Int>()
        let latencies = SharedCollector<(member: Int, ns: Int64)>()
        let responseBytes = SharedCollector<Int>()
        let timeout = requestTimeoutNs
        let clients = self.clients
        var startNs: UInt64 = 0
        let meter = CPUMeter(cluster)
        runOnThreads(clients.connections.count, started: { startNs = monotonicNanoseconds() }) { c in
            let connection = clients.connections[c]
            var mine: [(member: Int, ns: Int64)] = []
            var bytes = 0
            while true {
                let i = next.next()
                guard i < bodies.count else { break }
                let began = monotonicNanoseconds()
                var lostBefore = false
                attempts: for attempt in 1...Self.attemptsMax {
                    let result = connection.exchange(head: head, body: bodies[i], deadline: monotonicNanoseconds() + timeout)
                    switch result {
                    case .response(201, let body):
                        mine.append((clients.memberOf[c], Int64(monotonicNanoseconds() - began)))
                        bytes += body.count
                        break attempts
                    case .response(409, _) where lostBefore:
                        mine.append((clients.memberOf[c], Int64(monotonicNanoseconds() - began)))
                        lostThenExisting.add(1)
                        break attempts
                    case .response(let status, let body) where (status == 429 || status == 503) && attempt < Self.attemptsMax:
                        retries.add(String(status), example: excerpt(body))
                        sleepNanoseconds(10_000_000)
                    case .response(let status, let body):
                        failures.add(String(status), example: excerpt(body))
                        break attempts
                    case .notSent(let why) where attempt < Self.attemptsMax:
                        retries.add("not sent", example: why)
                        sleepNanoseconds(10_000_000)
                    case .lost(let why) where attempt < Self.attemptsMax:
                        retries.add("lost", example: why)
                        lostBefore = true
                    case .notSent(let why), .lost(let why):
                        failures.add("no answer", example: why)
                        break attempts
                    }
                }
            }
            latencies.add(mine)
            responseBytes.add(bytes)
        }
        let seconds = Double(monotonicNanoseconds() - startNs) / 1e9
        let cpu = meter.finish()
        let all = latencies.all
        let created = all.count
        return CreatePhaseResult(
            namespace: namespace, objects: objects, clients: clients.connections.count, seconds: seconds,
            objectsPerSecond: Double(created) / seconds,
            latency: LatencyStats(nanoseconds: all.map(\.ns)),
            latencyByMember: cluster.members.indices.map { m in LatencyStats(nanoseconds: all.filter { $0.member == m }.map(\.ns)) },
            failures: failures.snapshot, failureExamples: failures.exampleSnapshot.merging(retries.exampleSnapshot) { a, _ in a },
            retries: retries.snapshot, createdByLostAttempt: lostThenExisting.all.count,
            requestBodyBytesMean: Double(bodies.reduce(0) { $0 + $1.count }) / Double(max(1, bodies.count)),
            responseBodyBytesMean: Double(responseBytes.all.reduce(0, +)) / Double(max(1, created)),
            cpu: cpu, latenciesMs: all.map { (Double($0.ns) / 1e4).rounded() / 100 })
    }
}
