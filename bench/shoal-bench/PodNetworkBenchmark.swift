// `shoal-bench podnet`: the two pod network backends against each other (issue 11: "vxlan
// ... host-gw ... benchmark the two"). For each backend, three hosts of scripts/cluster with
// containerd; two pods pinned to h3 (an HTTP server, busybox httpd, and a TCP sink, busybox
// nc); then from h1's network namespace — across hosts, through the backend — and from h3's
// own — the same-host baseline, no backend involved — a bulk TCP transfer (bash /dev/tcp
// into the sink: MB/s) and wrk against the server (busybox httpd closes every connection,
// so each request is a new connection across the path: requests/s and latency).
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct PodNetworkBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podnet",
        abstract: "Pod network backends (vxlan overlay, host-gw routes): TCP throughput and HTTP requests/s to a pod on another host, beside the same-host baseline.")

    @Option(help: "Backends to measure, comma-separated.")
    var backends = "vxlan,host-gw"

    @Option(help: "Bulk transfers per path (the median is reported).")
    var transfers = 5

    @Option(help: "MiB per bulk transfer.")
    var transferMiB = 512

    @Option(help: "Seconds of wrk per path.")
    var wrkSeconds = 5

    @Option(help: "wrk connections.")
    var connections = 8

    @Option(help: "The shoal binary (default: the `shoal` beside this shoal-bench, else .build/release/shoal).")
    var binary: String?

    @Option(help: "scripts/cluster --net K (the registry listens on 10.88.K.254:5000).")
    var net = 15

    @Option(help: "scripts/cluster --base.")
    var base = "/tmp/sc-bench-podnet"

    @Option(help: "Where the JSON record goes.")
    var json = "bench/results/podnet.json"

    func run() throws {
        let setup = try PodBenchSetup("podnet", binary: binary, tools: [("/usr/bin/wrk", "wrk")])
        defer { Cleanup.shared.runAll() }
        let (began, machine, repository) = (setup.began, setup.machine, setup.repository)

        var record = PodNetworkRun(timestamp: timestampNow(), machine: machine, commit: gitCommit(repository),
                                   command: CommandLine.arguments.joined(separator: " "),
                                   parameters: ["transfers": String(transfers), "transferMiB": String(transferMiB),
                                                "wrkSeconds": String(wrkSeconds), "connections": String(connections)])
        for backend in backends.split(separator: ",").map(String.init) {
            say("backend \(backend): starting 3 hosts with containerd")
            record.results += try measure(backend: backend, repository: repository, binary: setup.binary, pause: setup.pause)
        }
        record.seconds = Double(monotonicNanoseconds() - began) / 1e9
        try writeJSON(record, to: json)
        say("\nPod network (3 hosts, \(machine.processors) processors shared by the hosts, containerd, the pods and the load):")
        say(record.table)
        say("\nresults: \(json)")
    }

    private func measure(backend: String, repository: String, binary: String, pause: String) throws -> [PodNetworkResult] {
        let hosts = PodHosts(repository: repository, base: base, net: net, binary: binary, pause: pause,
                             agentFlags: ["--pod-network-backend", backend])
        defer { hosts.shutDown() }
        try hosts.start()
        let cluster = hosts.cluster
        let registry = hosts.registry
        let target = cluster.members[2]
        let node = "shoal-" + target.address.replacingOccurrences(of: ".", with: "-")
        let image = "\(registry)/shoal/hello:1.0"
        let manifest = base + ".pods.yaml"
        try """
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          nodeName: \(node)
          containers: [{name: web, image: "\(image)"}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: sink}
        spec:
          nodeName: \(node)
          containers:
          - name: sink
            image: "\(image)"
            command: ["/bin/sh", "-c", "while true; do nc -l -p 9000 > /dev/null; done"]
        """.write(toFile: manifest, atomically: true, encoding: .utf8)
        _ = try hosts.kubectl(["apply", "-f", manifest])
        _ = try hosts.kubectl(["wait", "--for=condition=Ready", "pod/web", "pod/sink", "--timeout=120s"], timeout: 130)
        let webIP = try hosts.kubectl(["get", "pod", "web", "-o", "jsonpath={.status.podIP}"])
        let sinkIP = try hosts.kubectl(["get", "pod", "sink", "-o", "jsonpath={.status.podIP}"])
        say("  pods on \(node) (h3): web \(webIP), sink \(sinkIP)")

        var results: [PodNetworkResult] = []
        for (host, path) in [("h1", "h1 → pod on h3 (\(backend))"), ("h3", "h3 → pod on h3 (same host)")] {
            var result = PodNetworkResult(backend: backend, path: path)
            // Warm-up: the route, neighbour and conntrack entries exist before timing.
            _ = try cluster.clusterTool(["exec", host, "curl", "-s", "-m", "5", "http://\(webIP)/"], timeout: 10)
            for _ in 0..<transfers {
                result.transferMiBPerSecond.append(try transfer(cluster, from: host, to: sinkIP))
            }
            result.transferMiBPerSecond.sort()
            let wrk = try cluster.clusterTool(["exec", host, "wrk", "-t", "1", "-c", String(connections), "-d", "\(wrkSeconds)s",
                                               "--latency", "http://\(webIP)/"], timeout: Double(wrkSeconds) + 30).stdout
            result.requestsPerSecond = WrkOutput.requestsPerSecond(wrk) ?? 0
            result.latencyP50Milliseconds = WrkOutput.latencyMilliseconds(wrk, "50%") ?? 0
            result.latencyP99Milliseconds = WrkOutput.latencyMilliseconds(wrk, "99%") ?? 0
            result.errors = WrkOutput.errors(wrk)
            say("  " + result.summary)
            results.append(result)
        }
        return results
    }

    /// One bulk transfer from `host`'s namespace into the sink, in MiB/s.
    private func transfer(_ cluster: APICluster, from host: String, to ip: String) throws -> Double {
        let script = "s=$(date +%s%N); head -c \(transferMiB << 20) /dev/zero > /dev/tcp/\(ip)/9000 && e=$(date +%s%N); echo $((e - s))"
        let output = try cluster.clusterTool(["exec", host, "bash", "-c", script], timeout: 120).stdout
        guard let nanoseconds = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)), nanoseconds > 0 else {
            throw BenchFailure("the transfer from \(host) to \(ip) printed '\(output)'")
        }
        sleepNanoseconds(200_000_000)  // the sink's nc starts listening again
        return Double(transferMiB) / (nanoseconds / 1e9)
    }
}

/// Numbers from wrk's report (`--latency`).
enum WrkOutput {
    static func requestsPerSecond(_ text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix("Requests/sec:") }
            .flatMap { Double($0.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces)) }
    }

    /// A latency percentile line ("     99%    1.23ms") in milliseconds.
    static func latencyMilliseconds(_ text: String, _ label: String) -> Double? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0] == label else { continue }
            return duration(String(fields[1]))
        }
        return nil
    }

    /// Connect, read, write and timeout errors, and non-2xx answers.
    static func errors(_ text: String) -> Int {
        var total = 0
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("Socket errors:") {
                for part in trimmed.dropFirst("Socket errors:".count).split(separator: ",") {
                    total += Int(part.split(separator: " ").last ?? "") ?? 0
                }
            } else if trimmed.hasPrefix("Non-2xx or 3xx responses:") {
                total += Int(trimmed.split(separator: " ").last ?? "") ?? 0
            }
        }
        return total
    }

    /// wrk's "812.00us", "1.23ms", "2.00s" in milliseconds.
    static func duration(_ text: String) -> Double? {
        for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { $0 * scale }
        }
        return nil
    }
}

struct PodNetworkResult: Codable {
    var backend: String
    var path: String
    var transferMiBPerSecond: [Double] = []
    var requestsPerSecond = 0.0
    var latencyP50Milliseconds = 0.0
    var latencyP99Milliseconds = 0.0
    var errors = 0

    var medianTransfer: Double { transferMiBPerSecond.isEmpty ? 0 : transferMiBPerSecond[transferMiBPerSecond.count / 2] }

    var summary: String {
        String(format: "%@: TCP %.0f MiB/s (median of %d), HTTP %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors",
               path, medianTransfer, transferMiBPerSecond.count, requestsPerSecond, latencyP50Milliseconds, latencyP99Milliseconds, errors)
    }
}

struct PodNetworkRun: Codable {
    var timestamp: String
    var machine: Machine
    var commit: String
    var command: String
    var parameters: [String: String]
    var results: [PodNetworkResult] = []
    var seconds = 0.0

    var table: String {
        var lines = ["| path | TCP MiB/s (median) | HTTP req/s (new connection each) | p50 (ms) | p99 (ms) | errors |",
                     "| --- | --- | --- | --- | --- | --- |"]
        for result in results {
            lines.append(String(format: "| %@ | %.0f | %.0f | %.2f | %.2f | %d |", result.path, result.medianTransfer, result.requestsPerSecond,
                                result.latencyP50Milliseconds, result.latencyP99Milliseconds, result.errors))
        }
        return lines.joined(separator: "\n")
    }
}
