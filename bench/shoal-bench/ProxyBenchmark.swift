// `shoal-bench proxy`: the service proxy's data path and how fast it follows changes.
//
// Data path: three hosts of scripts/cluster with containerd, a Deployment of 3 web pods (one
// per host: the walkthrough's image, Apache with mod_php, scripts/web-image) behind a
// NodePort Service; from h1's network namespace, wrk for a small static page through the
// NodePort of h1 and of h2, straight to each pod's address (a NodePort spreads over the same
// three pods, so their mean is what it compares with), and through haproxy 2.6 (Debian; in
// h1's namespace, round-robin over the same pods): once with a new connection per request,
// once with keep-alive.
//
// Programming delay: N selector-less Services with an EndpointSlice of 10 endpoints each,
// created over the API; then single-endpoint changes (a merge patch of one slice), spaced
// apart; each member's `shoal_proxy_sync_delay_seconds` histogram (from the change applied on
// that member to its nftables transaction done) is read before and after, for N = 10, 1,000
// and 5,000.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ProxyBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Service proxy: requests/s through NodePorts beside a pod and haproxy, and the delay from an endpoint change to the kernel's rules at 10 to 5,000 services.")

    @Option(help: "Service counts for the programming delay, comma-separated.")
    var services = "10,1000,5000"

    @Option(help: "Endpoints per service.")
    var endpoints = 10

    @Option(help: "Endpoint changes measured per service count.")
    var changes = 40

    @Option(help: "Seconds of wrk per target.")
    var wrkSeconds = 5

    @Option(help: "wrk connections.")
    var connections = 16

    @Option(help: "The shoal binary (default: the `shoal` beside this shoal-bench, else .build/release/shoal).")
    var binary: String?

    @Option(help: "scripts/cluster --net K (the registry listens on 10.88.K.254:5000).")
    var net = 16

    @Option(help: "scripts/cluster --base.")
    var base = "/tmp/sc-bench-proxy"

    @Option(help: "Where the JSON record goes.")
    var json = "bench/results/proxy.json"

    func run() throws {
        let setup = try PodBenchSetup("proxy", binary: binary, tools: [("/usr/bin/wrk", "wrk"), ("/usr/sbin/haproxy", "haproxy")])
        defer { Cleanup.shared.runAll() }
        let (began, machine, repository) = (setup.began, setup.machine, setup.repository)
        let hosts = PodHosts(repository: repository, base: base, net: net, binary: setup.binary, pause: setup.pause)
        defer { hosts.shutDown() }
        say("starting 3 shoal hosts with containerd")
        try hosts.start()
        let cluster = hosts.cluster

        var record = ProxyRun(timestamp: timestampNow(), machine: machine, commit: gitCommit(repository),
                              command: CommandLine.arguments.joined(separator: " "),
                              parameters: ["endpoints": String(endpoints), "changes": String(changes),
                                           "wrkSeconds": String(wrkSeconds), "connections": String(connections)])
        say("building and pushing the web image (scripts/web-image; the Debian rootfs is cached)")
        try hosts.pushWebImages()
        record.dataPath = try ProxyDataPath(hosts: hosts, image: "\(hosts.registry)/web:1.0", base: base,
                                            seconds: wrkSeconds, connections: connections).run()
        let delays = ProxyDelays(cluster: cluster, endpointsPerService: endpoints)
        for count in services.split(separator: ",").compactMap({ Int($0) }) {
            say("programming delay with \(count) services of \(endpoints) endpoints")
            record.delays.append(try delays.measure(services: count, changes: changes))
            say("  " + record.delays.last!.summary)
        }
        record.seconds = Double(monotonicNanoseconds() - began) / 1e9
        try writeJSON(record, to: json)
        say("\nService proxy (3 hosts, \(machine.processors) processors shared by the hosts, containerd, the pods and the load):")
        say(record.table)
        say("\nresults: \(json)")
    }
}

/// wrk through the NodePorts, to a pod, and through haproxy, all from h1's namespace.
struct ProxyDataPath {
    let hosts: PodHosts
    let image: String
    let base: String
    let seconds: Int
    let connections: Int

    func run() throws -> [ProxyThroughput] {
        let cluster = hosts.cluster
        let manifest = base + ".web.yaml"
        try """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 3
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: "\(image)", ports: [{containerPort: 80}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          type: NodePort
          selector: {app: web}
          ports: [{port: 80, nodePort: 30000}]
        """.write(toFile: manifest, atomically: true, encoding: .utf8)
        _ = try hosts.kubectl(["apply", "-f", manifest])
        _ = try hosts.kubectl(["rollout", "status", "deployment/web", "--timeout=300s"], timeout: 310)
        let ips = try hosts.kubectl(["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}"])
            .split(separator: " ").map(String.init).sorted()
        guard ips.count == 3 else { throw BenchFailure("expected 3 pod addresses, got \(ips)") }
        let h1 = cluster.members[0].address
        let h2 = cluster.members[1].address
        // Every pod answers through the NodePort before timing (rules and neighbours in place).
        let giveUp = monotonicNanoseconds() + 30_000_000_000
        var seen: Set<String> = []
        while seen.count < 3 && monotonicNanoseconds() < giveUp {
            if let answer = try? cluster.clusterTool(["exec", "h1", "curl", "-s", "-m", "2", "http://\(h1):30000/test.php"]).stdout,
               answer.hasPrefix("Server IP address") {
                seen.insert(answer)
            }
        }
        guard seen.count == 3 else { throw BenchFailure("only \(seen.count) pods answered through the NodePort") }

        // haproxy in h1's namespace, round-robin over the three pods, new connection each.
        let config = base + ".haproxy.cfg"
        try """
        global
          maxconn 4096
        defaults
          mode http
          timeout connect 2s
          timeout client 10s
          timeout server 10s
        frontend web
          bind 127.0.0.1:8080
          default_backend pods
        backend pods
          balance roundrobin
        \(ips.enumerated().map { "  server pod\($0.offset) \($0.element):80" }.joined(separator: "\n"))

        """.write(toFile: config, atomically: true, encoding: .utf8)
        let haproxy = try spawnBackground(["\(cluster.repository)/scripts/cluster", "--base", base, "exec", "h1",
                                           "/usr/sbin/haproxy", "-db", "-f", config], logPath: base + ".haproxy.log")
        defer { stopProcess(haproxy) }
        sleepNanoseconds(1_000_000_000)

        var results: [ProxyThroughput] = []
        for keepAlive in [false, true] {
            let mode = keepAlive ? "keep-alive" : "new connection"
            var direct: [ProxyThroughput] = []
            for (name, url) in [("NodePort on h1 (its own address)", "http://\(h1):30000/"), ("NodePort on h2 (from h1)", "http://\(h2):30000/")]
                + ips.enumerated().map({ ("pod \($0.offset + 1) directly", "http://\($0.element):80/") })
                + [("haproxy 2.6 round-robin (on h1)", "http://127.0.0.1:8080/")] {
                let result = try wrk(name, mode: mode, url: url, keepAlive: keepAlive)
                say("  " + result.summary)
                if name.hasPrefix("pod ") { direct.append(result) } else { results.append(result) }
                if direct.count == ips.count {
                    // What a NodePort compares with: the same pods, each reached directly.
                    let count = Double(direct.count)
                    let mean = ProxyThroughput(target: "pods directly (mean of \(direct.count))", mode: mode,
                                               requestsPerSecond: direct.map(\.requestsPerSecond).reduce(0, +) / count,
                                               p50Milliseconds: direct.map(\.p50Milliseconds).reduce(0, +) / count,
                                               p99Milliseconds: direct.map(\.p99Milliseconds).reduce(0, +) / count,
                                               errors: direct.map(\.errors).reduce(0, +))
                    results += direct + [mean]
                    direct = []
                }
            }
        }
        _ = try? hosts.kubectl(["delete", "-f", manifest, "--wait=false"])
        return results
    }

    /// wrk from h1's namespace: 2 threads, `connections` connections, `seconds` seconds.
    private func wrk(_ name: String, mode: String, url: String, keepAlive: Bool) throws -> ProxyThroughput {
        let output = try hosts.cluster.clusterTool(["exec", "h1", "wrk", "-t", "2", "-c", String(connections), "-d", "\(seconds)s", "--latency"]
                                                    + (keepAlive ? [] : ["-H", "Connection: close"]) + [url], timeout: Double(seconds) + 30).stdout
        return ProxyThroughput(target: name, mode: mode, requestsPerSecond: WrkOutput.requestsPerSecond(output) ?? 0,
                               p50Milliseconds: WrkOutput.latencyMilliseconds(output, "50%") ?? 0,
                               p99Milliseconds: WrkOutput.latencyMilliseconds(output, "99%") ?? 0, errors: WrkOutput.errors(output))
    }
}

/// Services with endpoints made over the API, then endpoint changes timed by the members.
final class ProxyDelays: @unchecked Sendable {
    let cluster: APICluster
    let endpointsPerService: Int
    static let namespace = "proxybench"
    private var created = 0

    init(cluster: APICluster, endpointsPerService: Int) {
        self.cluster = cluster
        self.endpointsPerService = endpointsPerService
    }

    func measure(services: Int, changes: Int) throws -> ProxyDelay {
        try cluster.ensureNamespaces([Self.namespace], timeoutNs: 10_000_000_000)
        if services > created {
            let started = monotonicNanoseconds()
            try create(from: created, to: services)
            say(String(format: "  created services %d..%d (%.1f s)", created, services - 1, Double(monotonicNanoseconds() - started) / 1e9))
            created = services
        }
        try waitForQuiet()
        let before = delayHistograms()
        let connection = cluster.connection(to: 0)
        defer { connection.disconnect() }
        var random = SystemRandomNumberGenerator()
        for change in 0..<changes {
            let index = Int.random(in: 0..<services, using: &random)
            let body = Array("{\"endpoints\":\(endpointsJSON(index, variant: change + 1))}".utf8)
            let head = "PATCH /apis/discovery.k8s.io/v1/namespaces/\(Self.namespace)/endpointslices/svc-\(index) HTTP/1.1\r\n"
                + "\(cluster.authorization)Content-Type: application/merge-patch+json\r\n"
            var attempts = 0
            while true {
                let result = connection.exchange(head: head, body: body, deadline: monotonicNanoseconds() + 10_000_000_000)
                if case .response(200, _) = result { break }
                attempts += 1
                guard attempts < 10 else { throw BenchFailure("patching slice svc-\(index) failed: \(result)") }
                sleepNanoseconds(200_000_000)
            }
            sleepNanoseconds(150_000_000)  // each change its own sync
        }
        try waitForQuiet()
        let after = delayHistograms()
        var result = ProxyDelay(services: services, endpointsPerService: endpointsPerService, changes: changes)
        result.buckets = zip(after, before).reduce(into: [String: Double]()) { total, pair in
            for (bound, count) in pair.0 { total[bound, default: 0] += count - (pair.1[bound] ?? 0) }
        }
        return result
    }

    private func endpointsJSON(_ service: Int, variant: Int) -> String {
        let third = service / 250
        let fourth = service % 250 + 1
        let list = (0..<endpointsPerService).map { e -> String in
            let octet = e == endpointsPerService - 1 ? 100 + variant % 100 : e + 1
            return "{\"addresses\":[\"10.\(200 + octet % 50).\(third).\(fourth)\"],\"conditions\":{\"ready\":true}}"
        }
        return "[" + list.joined(separator: ",") + "]"
    }

    private func create(from first: Int, to end: Int) throws {
        let workers = 8
        let failure = LockedBox<String?>(nil)
        let group = DispatchGroup()
        for worker in 0..<workers {
            group.enter()
            Thread { [self] in
                defer { group.leave() }
                let connection = cluster.connection(to: worker % cluster.members.count)
                defer { connection.disconnect() }
                var index = first + worker
                while index < end {
                    let service = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc-\(index)\"},\"spec\":{\"ports\":[{\"name\":\"http\",\"port\":80}]}}"
                    let slice = "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"svc-\(index)\","
                        + "\"labels\":{\"kubernetes.io/service-name\":\"svc-\(index)\"}},\"addressType\":\"IPv4\","
                        + "\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}],\"endpoints\":\(endpointsJSON(index, variant: 0))}"
                    for (path, body) in [("/api/v1/namespaces/\(ProxyDelays.namespace)/services", service),
                                         ("/apis/discovery.k8s.io/v1/namespaces/\(ProxyDelays.namespace)/endpointslices", slice)] {
                        var attempts = 0
                        while true {
                            let result = connection.exchange(head: "POST \(path) HTTP/1.1\r\n\(cluster.authorization)Content-Type: application/json\r\n",
                                                             body: Array(body.utf8), deadline: monotonicNanoseconds() + 30_000_000_000)
                            if case .response(let status, _) = result, status == 201 || status == 409 { break }
                            attempts += 1
                            if attempts > 20 {
                                failure.set("creating \(path) #\(index): \(result)")
                                return
                            }
                            sleepNanoseconds(100_000_000)
                        }
                    }
                    index += workers
                }
            }.start()
        }
        group.wait()
        if let problem = failure.get() { throw BenchFailure(problem) }
    }

    /// Every member's proxy has applied what the store holds: no sync for a second.
    private func waitForQuiet() throws {
        let giveUp = monotonicNanoseconds() + 300_000_000_000
        var last: [Double] = []
        var stableSince = monotonicNanoseconds()
        while monotonicNanoseconds() < giveUp {
            let counts = (0..<cluster.members.count).map { syncCount($0) }
            if counts != last {
                last = counts
                stableSince = monotonicNanoseconds()
            } else if monotonicNanoseconds() - stableSince > 1_500_000_000 {
                return
            }
            sleepNanoseconds(250_000_000)
        }
        throw BenchFailure("the proxies kept syncing for 300 s")
    }

    private func syncCount(_ member: Int) -> Double {
        guard let text = cluster.metrics(member) else { return -1 }
        return text.split(separator: "\n").first { $0.hasPrefix("shoal_proxy_syncs_total ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
    }

    /// Per member: the delay histogram's cumulative counts by upper bound ("0.005", "+Inf").
    private func delayHistograms() -> [[String: Double]] {
        (0..<cluster.members.count).map { member in
            var buckets: [String: Double] = [:]
            for line in (cluster.metrics(member) ?? "").split(separator: "\n") where line.hasPrefix("shoal_proxy_sync_delay_seconds_bucket{le=\"") {
                let rest = line.dropFirst("shoal_proxy_sync_delay_seconds_bucket{le=\"".count)
                guard let quote = rest.firstIndex(of: "\"") else { continue }
                buckets[String(rest[..<quote])] = Double(line.split(separator: " ").last ?? "") ?? 0
            }
            return buckets
        }
    }
}

final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ new: Value) { lock.withLock { value = new } }
}

struct ProxyThroughput: Codable {
    var target: String
    /// "new connection" (per request) or "keep-alive".
    var mode: String
    var requestsPerSecond: Double
    var p50Milliseconds: Double
    var p99Milliseconds: Double
    var errors: Int

    var summary: String {
        String(format: "%@, %@: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors", target, mode, requestsPerSecond, p50Milliseconds, p99Milliseconds, errors)
    }
}

struct ProxyDelay: Codable {
    var services: Int
    var endpointsPerService: Int
    var changes: Int
    /// Cumulative observations (over all members) by upper bound in seconds ("+Inf" last).
    var buckets: [String: Double] = [:]

    var observations: Double { buckets["+Inf"] ?? 0 }

    /// The smallest bucket bound holding at least `p`% of the observations, in milliseconds
    /// (infinite when only the +Inf bucket does).
    func percentile(_ p: Double) -> Double? {
        let total = observations
        guard total > 0 else { return nil }
        let bounds = buckets.keys.map { (key: $0, seconds: Double($0) ?? .infinity) }.sorted { $0.seconds < $1.seconds }
        return bounds.first { (buckets[$0.key] ?? 0) >= total * p / 100 }.map { $0.seconds * 1000 }
    }

    var summary: String {
        "\(Int(observations)) syncs on 3 members: p50 ≤ \(percentile(50).map { String(format: "%.0f", $0) } ?? "?") ms, "
            + "p99 ≤ \(percentile(99).map { String(format: "%.0f", $0) } ?? "?") ms"
    }
}

struct ProxyRun: Codable {
    var timestamp: String
    var machine: Machine
    var commit: String
    var command: String
    var parameters: [String: String]
    var dataPath: [ProxyThroughput] = []
    var delays: [ProxyDelay] = []
    var seconds = 0.0

    var table: String {
        var lines = ["| target (wrk from h1) | connections | req/s | p50 (ms) | p99 (ms) | errors |", "| --- | --- | --- | --- | --- | --- |"]
        for row in dataPath {
            lines.append(String(format: "| %@ | %@ | %.0f | %.2f | %.2f | %d |", row.target, row.mode, row.requestsPerSecond, row.p50Milliseconds,
                                row.p99Milliseconds, row.errors))
        }
        lines += ["", "| services × endpoints | syncs measured | delay p50 (≤ ms) | p99 (≤ ms) |", "| --- | --- | --- | --- |"]
        for row in delays {
            lines.append("| \(row.services) × \(row.endpointsPerService) | \(Int(row.observations)) | "
                         + "\(row.percentile(50).map { String(format: "%.0f", $0) } ?? "?") | \(row.percentile(99).map { String(format: "%.0f", $0) } ?? "?") |")
        }
        return lines.joined(separator: "\n")
    }
}
