// The measured part of `shoal-bench pods`: a Deployment created and deleted over the API,
// every pod timed by one watch (create request -> ADDED, bound, Ready; delete request ->
// DELETED), the hosts' runc asked until no container is left, and the agents' idle cost
// with the pods running.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class PodsWorkload {
    let cluster: APICluster
    let image: String
    static let namespace = "default"

    init(cluster: APICluster, image: String) {
        self.cluster = cluster
        self.image = image
    }

    func deploymentBody(_ name: String, replicas: Int) -> [UInt8] {
        // No readiness probe: Ready is "every container started", what the pod startup SLO measures.
        Array("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"\(name)"},"spec":{"replicas":\(replicas),
         "selector":{"matchLabels":{"app":"\(name)"}},"template":{"metadata":{"labels":{"app":"\(name)"}},
         "spec":{"containers":[{"name":"hello","image":"\(image)","imagePullPolicy":"IfNotPresent","ports":[{"containerPort":80}]}]}}}}
        """.utf8)
    }

    func trial(name: String, replicas: Int, timeoutSeconds: Double, idle: Double = 0) throws -> PodsTrial {
        let watch = try PodsWatch.open(cluster: cluster, selector: "app=\(name)")
        defer { watch.close() }
        let connection = cluster.connection(to: 0)
        defer { connection.disconnect() }
        let createNs = monotonicNanoseconds()
        let head = "POST /apis/apps/v1/namespaces/\(Self.namespace)/deployments HTTP/1.1\r\n\(cluster.authorization)Content-Type: application/json\r\nAccept: application/json\r\n"
        guard case .response(201, _) = connection.exchange(head: head, body: deploymentBody(name, replicas: replicas),
                                                          deadline: createNs + 30_000_000_000) else {
            throw BenchFailure("creating Deployment \(name) failed")
        }
        let giveUp = createNs + UInt64(timeoutSeconds * 1e9)
        while watch.readyCount() < replicas {
            guard monotonicNanoseconds() < giveUp else { throw BenchFailure("only \(watch.readyCount()) of \(replicas) pods Ready after \(timeoutSeconds) s") }
            if let failure = watch.failure { throw BenchFailure("pod watch: \(failure)") }
            sleepNanoseconds(2_000_000)
        }
        let allReadyNs = monotonicNanoseconds()
        var trial = PodsTrial(replicas: replicas)
        let timelines = watch.snapshot()
        trial.readySeconds = timelines.values.map { Double($0.readyNs - createNs) / 1e9 }.sorted()
        trial.podStartSeconds = timelines.values.map { Double($0.readyNs - $0.addedNs) / 1e9 }.sorted()
        trial.allReadySeconds = Double(allReadyNs - createNs) / 1e9
        trial.nodes = Dictionary(grouping: timelines.values, by: \.node).mapValues(\.count)

        if idle > 0 {
            let members = cluster.memberCPUSeconds()
            let runtimes = containerdPIDs().map(processCPUSeconds)
            sleepNanoseconds(UInt64(idle * 1e9))
            trial.idleMemberCPUPercent = zip(cluster.memberCPUSeconds(), members).map { ($0 - $1) / idle * 100 }
            trial.idleContainerdCPUPercent = zip(containerdPIDs().map(processCPUSeconds), runtimes).map { ($0 - $1) / idle * 100 }
            trial.memberRSSMiB = cluster.memberResidentMiB()
            trial.containerdRSSMiB = containerdPIDs().map(residentMiB)
        }

        let deleteNs = monotonicNanoseconds()
        let delete = "DELETE /apis/apps/v1/namespaces/\(Self.namespace)/deployments/\(name) HTTP/1.1\r\n\(cluster.authorization)Accept: application/json\r\n"
        guard case .response(200, _) = connection.exchange(head: delete, deadline: deleteNs + 30_000_000_000) else {
            throw BenchFailure("deleting Deployment \(name) failed")
        }
        while watch.deletedCount() < replicas {
            guard monotonicNanoseconds() < deleteNs + UInt64(timeoutSeconds * 1e9) else {
                throw BenchFailure("only \(watch.deletedCount()) of \(replicas) pods gone \(timeoutSeconds) s after the delete")
            }
            sleepNanoseconds(2_000_000)
        }
        trial.podsGoneSeconds = Double(monotonicNanoseconds() - deleteNs) / 1e9
        while try runningContainers() > 0 {
            guard monotonicNanoseconds() < deleteNs + UInt64(timeoutSeconds * 1e9) else { throw BenchFailure("containers left after the delete") }
            sleepNanoseconds(20_000_000)
        }
        trial.containersGoneSeconds = Double(monotonicNanoseconds() - deleteNs) / 1e9
        return trial
    }

    /// Containers (pods' and sandboxes') still known to the hosts' runc.
    func runningContainers() throws -> Int {
        var count = 0
        for member in cluster.members {
            let root = "\(cluster.base)/\(member.name)/containerd/runc/k8s.io"
            guard FileManager.default.fileExists(atPath: root) else { continue }
            let listing = try runCommand(["/usr/sbin/runc", "--root", root, "list", "-q"], timeout: 10).stdout
            count += listing.split(whereSeparator: \.isNewline).count
        }
        return count
    }

    func containerdPIDs() -> [Int32] {
        cluster.members.compactMap { member in
            let config = "\(cluster.base)/\(member.name)/containerd/config.toml"
            let found = try? runCommand(["/usr/bin/pgrep", "-f", "containerd --config \(config)"], timeout: 5, check: false)
            return found?.stdout.split(whereSeparator: \.isNewline).compactMap { Int32($0) }.first
        }
    }

    func residentMiB(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
        }
        return 0
    }
}

/// One watch of the namespace's pods with a label, read on its own thread.
final class PodsWatch: @unchecked Sendable {
    struct Timeline {
        var addedNs: UInt64 = 0
        var readyNs: UInt64 = 0
        var deletedNs: UInt64 = 0
        var node = ""
    }

    private let lock = NSLock()
    private var pods: [String: Timeline] = [:]
    private(set) var failure: String?
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)
    private var decoder = ChunkedLineDecoder()
    private let connection: HTTPSConnection

    private init(connection: HTTPSConnection) { self.connection = connection }

    static func open(cluster: APICluster, selector: String) throws -> PodsWatch {
        let connection = cluster.connection(to: 0)
        let path = "/api/v1/namespaces/\(PodsWorkload.namespace)/pods"
        // Right after the cluster formed, the API may still answer 503 (cluster version moving).
        var resourceVersion: UInt64?
        let giveUp = monotonicNanoseconds() + 30_000_000_000
        while resourceVersion == nil && monotonicNanoseconds() < giveUp {
            if case .response(200, let list) = connection.exchange(head: "GET \(path)?limit=1 HTTP/1.1\r\n\(cluster.authorization)Accept: application/json\r\n",
                                                                   deadline: monotonicNanoseconds() + 10_000_000_000) {
                resourceVersion = JSONScan.resourceVersion(list)
            } else {
                sleepNanoseconds(200_000_000)
            }
        }
        guard let rv = resourceVersion else { throw BenchFailure("cannot list pods for a resourceVersion") }
        let head = "GET \(path)?watch=true&labelSelector=\(selector)&resourceVersion=\(rv) HTTP/1.1\r\n\(cluster.authorization)Accept: application/json\r\n"
        if let failed = connection.send(head: head, body: [], deadline: monotonicNanoseconds() + 10_000_000_000) {
            throw BenchFailure("pod watch: \(failed)")
        }
        switch connection.readHead(deadline: monotonicNanoseconds() + 10_000_000_000) {
        case .failure(let failure): throw BenchFailure("pod watch: \(failure)")
        case .success(let response) where response.status != 200: throw BenchFailure("pod watch answered \(response.status)")
        case .success: break
        }
        let watch = PodsWatch(connection: connection)
        let early = connection.takeBuffered()
        early.withUnsafeBufferPointer { watch.consume($0, arrived: connection.lastReadNs) }
        let thread = Thread { watch.read() }
        thread.start()
        return watch
    }

    private func read() {
        var poller = pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            lock.lock()
            let stop = stopped || failure != nil
            lock.unlock()
            if stop { break }
            guard poll(&poller, 1, 50) > 0 else { continue }
            if case .closed(let why) = connection.readAvailable({ bytes, arrived in consume(bytes, arrived: arrived) }) {
                lock.lock()
                failure = failure ?? why
                lock.unlock()
            }
        }
        connection.disconnect()
        done.signal()
    }

    private func consume(_ bytes: UnsafeBufferPointer<UInt8>, arrived: UInt64) {
        decoder.feed(bytes) { line in record(String(decoding: line, as: UTF8.self), arrived) }
    }

    private func record(_ line: String, _ arrived: UInt64) {
        guard let name = Self.value(after: #""metadata":{"name":""#, in: line) else { return }
        lock.lock()
        defer { lock.unlock() }
        var pod = pods[name] ?? Timeline()
        if pod.addedNs == 0 { pod.addedNs = arrived }
        if let node = Self.value(after: #""nodeName":""#, in: line) { pod.node = node }
        if pod.readyNs == 0, line.contains(#""type":"Ready","status":"True""#) { pod.readyNs = arrived }
        if pod.deletedNs == 0, line.hasPrefix(#"{"type":"DELETED""#) { pod.deletedNs = arrived }
        pods[name] = pod
    }

    static func value(after marker: String, in line: String) -> String? {
        guard let start = line.range(of: marker)?.upperBound, let end = line[start...].firstIndex(of: "\"") else { return nil }
        return String(line[start..<end])
    }

    func readyCount() -> Int { lock.lock(); defer { lock.unlock() }; return pods.values.filter { $0.readyNs > 0 }.count }
    func deletedCount() -> Int { lock.lock(); defer { lock.unlock() }; return pods.values.filter { $0.deletedNs > 0 }.count }
    func snapshot() -> [String: Timeline] { lock.lock(); defer { lock.unlock() }; return pods }

    func close() {
        lock.lock()
        stopped = true
        lock.unlock()
        done.wait()
    }
}

struct PodsTrial: Codable {
    var replicas: Int
    /// Create request -> each pod Ready (seconds, sorted).
    var readySeconds: [Double] = []
    /// Each pod's creation (ADDED) -> Ready.
    var podStartSeconds: [Double] = []
    var allReadySeconds = 0.0
    var nodes: [String: Int] = [:]
    var podsGoneSeconds = 0.0
    var containersGoneSeconds = 0.0
    var idleMemberCPUPercent: [Double] = []
    var idleContainerdCPUPercent: [Double] = []
    var memberRSSMiB: [Double] = []
    var containerdRSSMiB: [Double] = []

    var summary: String {
        String(format: "  all %d Ready %.2f s after the create (%.1f pods/s); pod start p50 %.0f ms, p99 %.0f ms; pods gone %.2f s, containers gone %.2f s after the delete; per host %@",
               replicas, allReadySeconds, Double(replicas) / allReadySeconds, (percentile(podStartSeconds, 50) ?? 0) * 1000,
               (percentile(podStartSeconds, 99) ?? 0) * 1000, podsGoneSeconds, containersGoneSeconds,
               nodes.sorted { $0.key < $1.key }.map { "\($0.value)" }.joined(separator: "/"))
    }
}

struct PodsRun: Codable {
    var timestamp: String
    var machine: Machine
    var commit: String
    var command: String
    var parameters: [String: String]
    var trials: [PodsTrial] = []
    var seconds = 0.0

    var table: String {
        var lines = ["| trial | pods | all Ready (s) | pods/s | pod start p50 (ms) | p99 (ms) | max (ms) | pods gone (s) | containers gone (s) |",
                     "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for (index, trial) in trials.enumerated() {
            lines.append(String(format: "| %d | %d | %.2f | %.1f | %.0f | %.0f | %.0f | %.2f | %.2f |", index + 1, trial.replicas, trial.allReadySeconds,
                                Double(trial.replicas) / trial.allReadySeconds, (percentile(trial.podStartSeconds, 50) ?? 0) * 1000,
                                (percentile(trial.podStartSeconds, 99) ?? 0) * 1000, (trial.podStartSeconds.last ?? 0) * 1000,
                                trial.podsGoneSeconds, trial.containersGoneSeconds))
        }
        if let last = trials.last, !last.memberRSSMiB.isEmpty {
            lines.append("")
            lines.append("Idle with \(last.replicas) pods running: shoal members "
                         + last.idleMemberCPUPercent.map { String(format: "%.1f%%", $0) }.joined(separator: "/") + " CPU, "
                         + last.memberRSSMiB.map { String(format: "%.0f", $0) }.joined(separator: "/") + " MiB RSS; containerd "
                         + last.idleContainerdCPUPercent.map { String(format: "%.1f%%", $0) }.joined(separator: "/") + " CPU, "
                         + last.containerdRSSMiB.map { String(format: "%.0f", $0) }.joined(separator: "/") + " MiB RSS")
        }
        return lines.joined(separator: "\n")
    }
}
