// Hollow nodes for `shoal-bench scheduler`: a LOAD GENERATOR, not a node agent. Like
// Kubernetes' kubemark, it makes a cluster look as if it had many more hosts than it has:
// each hollow node is a Node object (capacity, Ready) with a Lease it renews, and the pods
// the scheduler binds to it are reported Running through the status subresource — but no
// container runs anywhere. Everything goes through the public API over HTTPS, as a kubelet's
// writes would.
//
// Hollow nodes behave like kubelets with Kubernetes' defaults (a 40 s lease renewed every
// 10 s): they are not shoal members, so the leader judges them by their lease alone and gives
// them the lease's duration as grace (NodeLifecycle.grace). Renewing 1,000 leases every second
// as members do would measure lease writes, not the scheduler.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class HollowNodes: @unchecked Sendable {
    static let namePrefix = "hollow-"
    static let leaseNamespace = "kube-node-lease"
    /// Kubernetes' kubelet defaults: the lease's duration, and how often it is renewed.
    static let leaseDurationSeconds = 40
    static let renewIntervalSeconds = 10.0
    /// What each hollow node offers pods.
    static let cpuCount = 4
    static let memoryGiB = 16
    static let podsMax = 110
    /// Attempts per write at most (429/503/lost answers are retried).
    static let attemptsMax = 10

    let cluster: APICluster
    let count: Int
    let requestTimeoutNs: UInt64
    private let stopLock = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)
    private var threads = 0
    private let statusQueue = WorkQueue<(namespace: String, name: String, node: String, index: Int)>()
    let failures = SharedTally()
    /// Lease renewals made, and pods reported Running.
    let renewals = SharedCounter()
    let reported = SharedCounter()

    init(cluster: APICluster, count: Int, requestTimeoutNs: UInt64) {
        self.cluster = cluster
        self.count = count
        self.requestTimeoutNs = requestTimeoutNs
    }

    static func name(_ i: Int) -> String {
        let digits = String(i)
        return namePrefix + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// A hollow node's address (10.200.0.0/16; nothing listens there).
    static func address(_ i: Int) -> String { "10.200.\(i / 250).\(i % 250 + 1)" }

    // MARK: Registration

    /// Creates every lease, then every Node (a node without a lease would be judged by its age
    /// against the 1 s grace of a member), with `clients` kept-alive connections.
    func register(clients: Int) throws {
        let pool = APIClients(cluster: cluster, count: clients)
        try pool.openAll()
        for (what, path, body) in [("lease", "/apis/coordination.k8s.io/v1/namespaces/\(Self.leaseNamespace)/leases", leaseBody),
                                   ("node", "/api/v1/nodes", nodeBody)] as [(String, String, (Int) -> [UInt8])] {
            let next = SharedCounter()
            let errors = SharedCollector<String>()
            let bodies = (0..<count).map(body)
            let (count, auth, timeout) = (self.count, cluster.authorization, requestTimeoutNs)
            runOnThreads(clients) { c in
                let connection = pool.connections[c]
                while true {
                    let i = next.next()
                    guard i < count else { return }
                    let head = "POST \(path) HTTP/1.1\r\n\(auth)Content-Type: application/json\r\nAccept: application/json\r\n"
                    if let problem = Self.send(connection, head: head, body: bodies[i], accept: [201, 409], timeoutNs: timeout) {
                        errors.add("\(what) \(Self.name(i)): \(problem)")
                    }
                }
            }
            if let first = errors.all.first { throw BenchFailure("registering hollow nodes: \(errors.all.count) failed, e.g. \(first)") }
        }
        for connection in pool.connections { connection.disconnect() }
    }

    private func leaseBody(_ i: Int) -> [UInt8] {
        Array((#"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"\#(Self.name(i))","namespace":"\#(Self.leaseNamespace)"},"#
            + #""spec":{"holderIdentity":"\#(Self.name(i))","leaseDurationSeconds":\#(Self.leaseDurationSeconds),"renewTime":"\#(microTimeNow())"}}"#).utf8)
    }

    private func nodeBody(_ i: Int) -> [UInt8] {
        let name = Self.name(i)
        let now = microTimeNow().prefix(19) + "Z"
        let resources = #"{"cpu":"\#(Self.cpuCount)","memory":"\#(Self.memoryGiB)Gi","pods":"\#(Self.podsMax)"}"#
        return Array((#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)","labels":{"kubernetes.io/hostname":"\#(name)","#
            + #""kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","shoal.dev/hollow":"true"}},"spec":{},"#
            + #""status":{"capacity":\#(resources),"allocatable":\#(resources),"#
            + #""addresses":[{"type":"InternalIP","address":"\#(Self.address(i))"},{"type":"Hostname","address":"\#(name)"}],"#
            + #""conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"\#(now)","lastTransitionTime":"\#(now)","#
            + #""reason":"KubeletReady","message":"hollow node (shoal-bench load generator)"}],"#
            + #""nodeInfo":{"kubeletVersion":"hollow","operatingSystem":"linux","architecture":"amd64"}}}"#).utf8)
    }

    // MARK: Running

    /// Starts renewing the leases (one thread, each lease once per renew interval, spread
    /// evenly) and `statusWriters` threads that report bound pods Running.
    func start(statusWriters: Int) throws {
        let renewer = cluster.connection(to: 0)
        if let problem = renewer.open(deadline: monotonicNanoseconds() + 10_000_000_000) { throw BenchFailure(problem) }
        spawn { [self] in renewLeases(renewer) }
        let writers = APIClients(cluster: cluster, count: statusWriters)
        try writers.openAll()
        for connection in writers.connections { spawn { [self] in reportPods(connection) } }
    }

    /// Reports `namespace/name` Running on hollow node `node` (called by the pod watcher).
    func podBound(namespace: String, name: String, node: String, index: Int) {
        statusQueue.put((namespace, name, node, index))
    }

    /// Stops every thread and waits for them.
    func stop() {
        stopLock.lock()
        stopped = true
        stopLock.unlock()
        statusQueue.close()
        for _ in 0..<threads { finished.wait() }
        threads = 0
    }

    private var isStopped: Bool {
        stopLock.lock(); defer { stopLock.unlock() }
        return stopped
    }

    private func spawn(_ body: @escaping @Sendable () -> Void) {
        threads += 1
        let thread = Thread { [finished] in
            body()
            finished.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func renewLeases(_ connection: HTTPSConnection) {
        let intervalNs = Self.renewIntervalSeconds * 1e9 / Double(count)
        let begin = monotonicNanoseconds()
        var k = 0
        while !isStopped {
            let due = begin + UInt64(Double(k) * intervalNs)
            let now = monotonicNanoseconds()
            if now < due {
                sleepNanoseconds(min(due - now, 100_000_000))
                continue
            }
            let name = Self.name(k % count)
            k += 1
            let head = "PATCH /apis/coordination.k8s.io/v1/namespaces/\(Self.leaseNamespace)/leases/\(name) HTTP/1.1\r\n"
                + "\(cluster.authorization)Content-Type: application/merge-patch+json\r\nAccept: application/json\r\n"
            let body = Array(#"{"spec":{"renewTime":"\#(microTimeNow())"}}"#.utf8)
            if let problem = Self.send(connection, head: head, body: body, accept: [200], timeoutNs: requestTimeoutNs) {
                failures.add("lease renewal", example: problem)
            } else {
                _ = renewals.next()
            }
        }
    }

    /// What a kubelet writes once a pod's containers started: phase Running, the pod's and
    /// host's addresses, Ready conditions and a running container (strategic merge, as the
    /// kubelet patches status).
    private func reportPods(_ connection: HTTPSConnection) {
        while let pod = statusQueue.take() {
            let now = microTimeNow().prefix(19) + "Z"
            let podIP = "10.201.\(pod.index / 250 % 250).\(pod.index % 250 + 1)"
            let hostIP = Self.address(Int(pod.node.dropFirst(Self.namePrefix.count)) ?? 0)
            let head = "PATCH /api/v1/namespaces/\(pod.namespace)/pods/\(pod.name)/status HTTP/1.1\r\n\(cluster.authorization)"
                + "Content-Type: application/strategic-merge-patch+json\r\nAccept: application/json\r\n"
            var conditions: [String] = []
            for type in ["Initialized", "Ready", "ContainersReady"] {
                conditions.append(#"{"type":"\#(type)","status":"True","lastTransitionTime":"\#(now)"}"#)
            }
            let body = Array((#"{"status":{"phase":"Running","hostIP":"\#(hostIP)","podIP":"\#(podIP)","podIPs":[{"ip":"\#(podIP)"}],"#
                + #""startTime":"\#(now)","conditions":[\#(conditions.joined(separator: ","))],"#
                + #""containerStatuses":[{"name":"app","ready":true,"started":true,"restartCount":0,"image":"\#(SchedulerWorkload.image)","#
                + #""imageID":"","state":{"running":{"startedAt":"\#(now)"}}}]}}"#).utf8)
            if let problem = Self.send(connection, head: head, body: body, accept: [200], timeoutNs: requestTimeoutNs) {
                failures.add("pod status", example: problem)
            } else {
                _ = reported.next()
            }
        }
    }

    /// Sends one request, retrying 429, 503 and lost answers; nil when the answer is one of
    /// `accept`, else what went wrong.
    static func send(_ connection: HTTPSConnection, head: String, body: [UInt8], accept: Set<Int>, timeoutNs: UInt64) -> String? {
        var last = ""
        for attempt in 0..<attemptsMax {
            if attempt > 0 { sleepNanoseconds(UInt64(20_000_000 * attempt)) }
            switch connection.exchange(head: head, body: body, deadline: monotonicNanoseconds() + timeoutNs) {
            case .response(let status, let answer):
                if accept.contains(status) { return nil }
                last = "\(status) \(excerpt(answer))"
                if status != 429 && status != 503 { return last }
            case .notSent(let why), .lost(let why):
                last = why
            }
        }
        return last
    }
}

/// A queue of work shared by threads; `take` waits, and returns nil once closed and empty.
final class WorkQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private var closed = false

    func put(_ item: Element) {
        condition.lock()
        items.append(item)
        condition.signal()
        condition.unlock()
    }

    func take() -> Element? {
        condition.lock(); defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head > 4096 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Now as a Kubernetes MicroTime: "2026-12-05T06:01:02.123456Z".
func microTimeNow() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                  Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1000))
}
