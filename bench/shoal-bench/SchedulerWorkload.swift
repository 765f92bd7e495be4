// What `shoal-bench scheduler` asks of the cluster (Deployments of one namespace), and the
// watcher that times every pod of them: when it was first seen (created by the leader's
// ReplicaSet controller), bound (spec.nodeName set by the scheduler) and reported Running.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum SchedulerWorkload {
    static let namespace = "bench-scheduler"
    static let image = "registry.example.com/bench/app:1.0"

    static func deploymentName(_ d: Int) -> String {
        let digits = String(d)
        return "app-" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// An apps/v1 Deployment of `replicas` pods, each asking 100m cpu and 128Mi.
    static func deploymentBody(_ d: Int, replicas: Int) -> [UInt8] {
        let name = deploymentName(d)
        return Array((#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},"#
            + #""spec":{"replicas":\#(replicas),"selector":{"matchLabels":{"app":"\#(name)"}},"#
            + #""template":{"metadata":{"labels":{"app":"\#(name)","bench":"scheduler"}},"#
            + #""spec":{"containers":[{"name":"app","image":"\#(image)","ports":[{"containerPort":8080}],"#
            + #""resources":{"requests":{"cpu":"100m","memory":"128Mi"}}}]}}}}"#).utf8)
    }
}

/// Per pod (by name), monotonic times in ns (0: not yet) and the node it was bound to.
struct PodTimeline {
    var seenNs: UInt64 = 0
    var boundNs: UInt64 = 0
    var runningNs: UInt64 = 0
    var node = ""
}

/// Reads one watch of the namespace's pods on its own thread, times every pod, and hands
/// pods bound to hollow nodes to them.
final class SchedulerPodWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var pods: [String: PodTimeline] = [:]
    private var boundCount = 0
    /// Bound to hollow nodes: the pods that will be reported Running (no agent runs the
    /// members' pods in this benchmark).
    private var hollowBoundCount = 0
    private var runningCount = 0
    private var stopped = false
    private var failure: String?
    private let done = DispatchSemaphore(value: 0)
    private let hollow: HollowNodes
    private var decoder = ChunkedLineDecoder()

    init(hollow: HollowNodes) { self.hollow = hollow }

    /// Opens the watch (from the namespace's current resourceVersion) and starts reading it.
    func start(cluster: APICluster, timeoutNs: UInt64) throws {
        let connection = cluster.connection(to: 0)
        guard case .response(200, let list) = connection.exchange(
            head: "GET /api/v1/namespaces/\(SchedulerWorkload.namespace)/pods?limit=1 HTTP/1.1\r\n\(cluster.authorization)Accept: application/json\r\n",
            deadline: monotonicNanoseconds() + timeoutNs), let rv = JSONScan.resourceVersion(list) else {
            throw BenchFailure("cannot list \(SchedulerWorkload.namespace)/pods for a resourceVersion")
        }
        let head = "GET /api/v1/namespaces/\(SchedulerWorkload.namespace)/pods?watch=true&resourceVersion=\(rv) HTTP/1.1\r\n"
            + cluster.authorization + "Accept: application/json\r\nUser-Agent: shoal-bench-scheduler-watch\r\n"
        if let failed = connection.send(head: head, body: [], deadline: monotonicNanoseconds() + 10_000_000_000) {
            throw BenchFailure("pod watch could not be sent: \(failed)")
        }
        switch connection.readHead(deadline: monotonicNanoseconds() + 10_000_000_000) {
        case .failure(let failure): throw BenchFailure("pod watch: \(failure)")
        case .success(let response) where response.status != 200 || !response.chunked:
            throw BenchFailure("pod watch answered \(response.status)")
        case .success: break
        }
        let early = connection.takeBuffered()
        early.withUnsafeBufferPointer { consume($0, arrived: connection.lastReadNs) }
        let thread = Thread { [self] in
            read(connection)
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func read(_ connection: HTTPSConnection) {
        var poller = pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            lock.lock()
            let stop = stopped || failure != nil
            lock.unlock()
            if stop { break }
            let ready = poll(&poller, 1, 50)
            if ready < 0 && errno != EINTR { preconditionFailure("poll: \(String(cString: strerror(errno)))") }
            guard ready > 0 else { continue }
            let outcome = connection.readAvailable { bytes, arrived in consume(bytes, arrived: arrived) }
            if case .closed(let why) = outcome {
                lock.lock()
                failure = failure ?? why
                lock.unlock()
            }
        }
        connection.disconnect()
    }

    private func consume(_ bytes: UnsafeBufferPointer<UInt8>, arrived: UInt64) {
        decoder.feed(bytes) { line in record(line, arrived) }
        if let ended = decoder.ended {
            lock.lock()
            failure = failure ?? ended
            lock.unlock()
        }
    }

    /// One event: `{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":...`
    /// (the stored form puts metadata.name first, so the first "name" is the pod's).
    private func record(_ line: UnsafeBufferPointer<UInt8>, _ arrived: UInt64) {
        guard let name = JSONScan.stringValue("name", in: line)?.value else { return }
        let node = JSONScan.stringValue("nodeName", in: line)?.value
        let running = JSONScan.stringValue("phase", in: line)?.value == "Running"
        var report = false
        lock.lock()
        var pod = pods[name] ?? PodTimeline()
        if pod.seenNs == 0 { pod.seenNs = arrived }
        if let node, pod.boundNs == 0 {
            pod.boundNs = arrived
            pod.node = node
            boundCount += 1
            report = node.hasPrefix(HollowNodes.namePrefix)
            if report { hollowBoundCount += 1 }
        }
        if running && pod.runningNs == 0 {
            pod.runningNs = arrived
            runningCount += 1
        }
        pods[name] = pod
        let index = pods.count
        lock.unlock()
        if report { hollow.podBound(namespace: SchedulerWorkload.namespace, name: name, node: node!, index: index) }
    }

    /// Pods seen, bound and reported Running so far, and why the watch ended (nil: it runs).
    var progress: (seen: Int, bound: Int, hollowBound: Int, running: Int, failure: String?) {
        lock.lock(); defer { lock.unlock() }
        return (pods.count, boundCount, hollowBoundCount, runningCount, failure)
    }

    func stop() -> [String: PodTimeline] {
        lock.lock()
        stopped = true
        lock.unlock()
        done.wait()
        lock.lock(); defer { lock.unlock() }
        return pods
    }
}
