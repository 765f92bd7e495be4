// `shoal-bench workload`: what users feel of a workload on three hosts — a host lost (killed
// outright, or cut off silently; with a serving pod on it, or the Raft leader), a rolling
// update, a scale-out — measured with a client at a fixed request rate through the
// NodePorts of the hosts that are left (issue 13; docs/benchmarks.md, "Workload").
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct WorkloadBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload",
        abstract: "A web Deployment on three hosts: host loss (crash or cut; pod host or leader), rolling updates and scale-out under a fixed-rate client.")

    @Option(help: "Trials per host-loss case (fault × victim × replicas).")
    var trials = 3

    @Option(help: "Client requests per second (each a new connection, 1 s deadline).")
    var rate = 100

    @Option(help: "Replica counts for the host-loss cases, comma-separated.")
    var lossReplicas = "2,3"

    @Option(help: "Replica counts for the rolling updates, comma-separated.")
    var updateReplicas = "1,2,10"

    @Option(help: "Pods the scale-out ends at (from 1).")
    var scaleTo = 30

    @Option(help: "The shoal binary (default: the `shoal` beside this shoal-bench, else .build/release/shoal).")
    var binary: String?

    @Option(help: "scripts/cluster --net K (the registry listens on 10.88.K.254:5000).")
    var net = 17

    @Option(help: "scripts/cluster --base.")
    var base = "/tmp/sc-bench-workload"

    @Option(help: "Where the JSON record goes.")
    var json = "bench/results/workload.json"

    @Option(help: "Where to write the host-loss timeline plot (PNG; empty: no plot).")
    var plot = "docs/workload-timeline.png"

    func run() throws {
        let setup = try PodBenchSetup("workload", binary: binary)
        defer { Cleanup.shared.runAll() }
        let (began, machine, repository) = (setup.began, setup.machine, setup.repository)
        let hosts = PodHosts(repository: repository, base: base, net: net, binary: setup.binary, pause: setup.pause)
        defer { hosts.shutDown() }
        say("starting 3 shoal hosts with containerd, pushing the web image")
        try hosts.start()
        try hosts.pushWebImages()
        if !plot.isEmpty { ensureMatplotlib() }
        let cluster = WorkloadCluster(hosts: hosts)
        try cluster.prepull()

        var record = WorkloadRun(timestamp: timestampNow(), machine: machine, commit: gitCommit(repository),
                                 command: CommandLine.arguments.joined(separator: " "),
                                 parameters: ["trials": String(trials), "rate": String(rate)])
        for replicas in lossReplicas.split(separator: ",").compactMap({ Int($0) }) {
            for fault in ["crash", "cut"] {
                for victim in ["pod", "leader"] {
                    var result = HostLossResult(fault: fault, victim: victim, replicas: replicas)
                    for trial in 0..<trials {
                        guard let outcome = try cluster.hostLoss(fault: fault, victim: victim, replicas: replicas, rate: rate) else {
                            say("  \(fault) \(victim) r=\(replicas) #\(trial + 1): no such victim now, skipped")
                            continue
                        }
                        say("  \(fault) \(victim) r=\(replicas) #\(trial + 1): " + outcome.summary)
                        result.trials.append(outcome)
                    }
                    record.hostLoss.append(result)
                }
            }
        }
        for replicas in updateReplicas.split(separator: ",").compactMap({ Int($0) }) {
            let outcome = try cluster.rollingUpdate(replicas: replicas, rate: rate)
            say("  rolling update r=\(replicas): " + outcome.summary)
            record.rollingUpdates.append(outcome)
        }
        let scale = try cluster.scaleOut(to: scaleTo, rate: rate)
        say("  scale-out 1 → \(scaleTo): " + scale.summary)
        record.scaleOut = scale
        record.seconds = Double(monotonicNanoseconds() - began) / 1e9
        try writeJSON(record, to: json)
        say("\nWorkload (3 hosts, \(machine.processors) processors shared by the hosts, containerd, the pods and the client):")
        say(record.table)
        say("\nresults: \(json)")
        if !plot.isEmpty { drawPlot(script: "workload-plot.py", json: json, plot: plot, repository: repository) }
    }
}

/// The three hosts as the workload benchmark drives them: kubectl through a live member,
/// the web Deployment and its NodePort Service, faults and repairs.
final class WorkloadCluster {
    let hosts: PodHosts
    private var cluster: APICluster { hosts.cluster }
    private var down: Set<Int> = []
    private var version = "1.0"

    init(hosts: PodHosts) { self.hosts = hosts }

    var addresses: [String] { cluster.members.map(\.address) }
    func node(_ index: Int) -> String { "shoal-" + addresses[index].replacingOccurrences(of: ".", with: "-") }

    /// kubectl against a member that is up.
    func kubectl(_ arguments: [String], timeout: Double = 60) throws -> String {
        let live = (0..<addresses.count).first { !down.contains($0) } ?? 0
        return try runCommand(["kubectl", "--kubeconfig", hosts.kubeconfig, "--server", "https://\(addresses[live]):7401"] + arguments,
                              timeout: timeout).stdout
    }

    /// Both web images in every host's containerd, so that no measurement waits for a pull.
    func prepull() throws {
        for (index, member) in cluster.members.enumerated() {
            let dir = try cluster.clusterTool(["dir", member.name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            for tag in ["1.0", "2.0"] {
                _ = try cluster.clusterTool(["exec", member.name, "ctr", "--address", "\(dir)/containerd/containerd.sock", "-n", "k8s.io",
                                             "images", "pull", "--plain-http", "\(hosts.registry)/web:\(tag)"], timeout: 300)
            }
            say("  web:1.0 and web:2.0 pulled on h\(index + 1)")
        }
    }

    /// The Deployment at `replicas` of `version`, and the Service; waits until that many
    /// pods are ready and no other remains.
    func deploy(replicas: Int, version: String, wait: Bool = true) throws {
        self.version = version
        let manifest = hosts.cluster.base + ".workload.yaml"
        try """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: "\(hosts.registry)/web:\(version)", imagePullPolicy: IfNotPresent, ports: [{containerPort: 80}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          type: NodePort
          selector: {app: web}
          ports: [{port: 80, nodePort: 30000}]
        """.write(toFile: manifest, atomically: true, encoding: .utf8)
        _ = try kubectl(["apply", "-f", manifest])
        guard wait else { return }
        try waitUntil("\(replicas) ready pods of web:\(version)", timeout: 300) {
            let pods = try self.pods()
            return pods.filter(\.ready).count == replicas && pods.count == replicas && pods.allSatisfy { $0.image.hasSuffix(":\(version)") }
        }
    }

    struct PodView {
        var name: String
        var node: String
        var ip: String
        var ready: Bool
        var image: String
    }

    /// The web pods not being deleted.
    func pods() throws -> [PodView] {
        let text = try kubectl(["get", "pods", "-l", "app=web", "-o", "json"])
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let items = object["items"] as? [[String: Any]] else { throw BenchFailure("kubectl get pods: not a list") }
        return items.compactMap { item in
            let metadata = item["metadata"] as? [String: Any] ?? [:]
            guard metadata["deletionTimestamp"] == nil else { return nil }
            let spec = item["spec"] as? [String: Any] ?? [:]
            let status = item["status"] as? [String: Any] ?? [:]
            let conditions = status["conditions"] as? [[String: Any]] ?? []
            let ready = conditions.contains { $0["type"] as? String == "Ready" && $0["status"] as? String == "True" }
            let image = ((spec["containers"] as? [[String: Any]])?.first?["image"] as? String) ?? ""
            return PodView(name: metadata["name"] as? String ?? "", node: spec["nodeName"] as? String ?? "",
                           ip: status["podIP"] as? String ?? "", ready: ready, image: image)
        }
    }

    func nodesReady() throws -> Bool {
        let lines = try kubectl(["get", "nodes", "--no-headers"]).split(separator: "\n")
        return lines.count == addresses.count && lines.allSatisfy { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "Ready" }
    }

    func leaderIndex() throws -> Int {
        let name = try cluster.clusterTool(["leader"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let index = cluster.members.firstIndex(where: { $0.name == name }) else { throw BenchFailure("no leader (\(name))") }
        return index
    }

    // MARK: Cases

    /// One host lost with the client on the others; nil when no host fits `victim` now.
    func hostLoss(fault: String, victim: String, replicas: Int, rate: Int) throws -> HostLossTrial? {
        try deploy(replicas: replicas, version: version)
        try waitUntil("every node Ready", timeout: 120) { try self.nodesReady() }
        let leader = try leaderIndex()
        let pods = try self.pods()
        let target: Int?
        if victim == "leader" {
            target = leader
        } else {
            target = (0..<addresses.count).first { index in index != leader && pods.contains { $0.node == node(index) } }
        }
        guard let target else { return nil }
        let survivors = (0..<addresses.count).filter { $0 != target }
        let client = WorkloadClient(addresses: survivors.map { addresses[$0] }, rate: rate)
        client.start()
        sleepNanoseconds(1_000_000_000)
        let lostAt = monotonicNanoseconds()
        let podsOnVictim = pods.filter { $0.node == node(target) }.count
        _ = try cluster.clusterTool([fault, cluster.members[target].name])
        down.insert(target)
        var replacedAt: UInt64?
        try waitUntil("\(replicas) ready pods on the survivors", timeout: 120) {
            let ready = try self.pods().filter { $0.ready && $0.node != self.node(target) }.count
            if ready >= replicas { replacedAt = monotonicNanoseconds() }
            return ready >= replicas
        }
        sleepNanoseconds(2_000_000_000)
        let outcomes = client.stop()
        // Failures of requests started from a deadline before the loss on (one in flight then).
        let after = outcomes.filter { $0.atNanos + WorkloadClient.requestTimeoutMilliseconds * 1_000_000 >= lostAt }
        let failed = after.filter { !$0.ok }
        var trial = HostLossTrial(host: cluster.members[target].name, podsOnHost: podsOnVictim, requests: after.count, failed: failed.count)
        trial.reasons = WorkloadRun.reasons(after)
        trial.lastFailureSeconds = failed.last.map { max(0, (Double($0.atNanos) - Double(lostAt)) / 1e9) } ?? 0
        trial.replacementReadySeconds = replacedAt.map { Double($0 - lostAt) / 1e9 }
        trial.requestsTimeline = outcomes.map { RequestPoint($0, lostAt: lostAt) }
        // Repair: the host back, Ready, before the next case.
        _ = try cluster.clusterTool(fault == "cut" ? ["heal", cluster.members[target].name] : ["restart", cluster.members[target].name], timeout: 120)
        down.remove(target)
        try waitUntil("every node Ready after the repair", timeout: 120) { try self.nodesReady() }
        return trial
    }

    /// web:1.0 → 2.0 (or back) at `replicas` with the client on every host.
    func rollingUpdate(replicas: Int, rate: Int) throws -> RollingUpdateResult {
        try deploy(replicas: replicas, version: version)
        let next = version == "1.0" ? "2.0" : "1.0"
        let client = WorkloadClient(addresses: addresses, rate: rate)
        client.start()
        sleepNanoseconds(1_000_000_000)
        let started = monotonicNanoseconds()
        // Done: every pod of the new version Ready, none of the old one left (being deleted
        // counts as left).
        try deploy(replicas: replicas, version: next)
        let finished = monotonicNanoseconds()
        sleepNanoseconds(1_000_000_000)
        let outcomes = client.stop().filter { $0.atNanos >= started }
        return RollingUpdateResult(replicas: replicas, seconds: Double(finished - started) / 1e9, requests: outcomes.count,
                                   failed: outcomes.filter { !$0.ok }.count, reasons: WorkloadRun.reasons(outcomes))
    }

    /// 1 → `count` pods: until all are Ready, and until the client has been answered by all.
    func scaleOut(to count: Int, rate: Int) throws -> ScaleOutResult {
        try deploy(replicas: 1, version: version)
        let client = WorkloadClient(addresses: addresses, rate: rate)
        client.start()
        let started = monotonicNanoseconds()
        _ = try kubectl(["scale", "deployment/web", "--replicas=\(count)"])
        var readyAt: UInt64?
        var servingAt: UInt64?
        try waitUntil("\(count) pods ready and answering", timeout: 300) {
            if readyAt == nil, try self.pods().filter(\.ready).count >= count { readyAt = monotonicNanoseconds() }
            if servingAt == nil, Set(client.snapshot().filter { $0.ok && $0.atNanos >= started }.map(\.pod)).count >= count {
                servingAt = monotonicNanoseconds()
            }
            return readyAt != nil && servingAt != nil
        }
        let outcomes = client.stop().filter { $0.atNanos >= started }
        try deploy(replicas: 1, version: version)
        return ScaleOutResult(pods: count, readySeconds: Double(readyAt! - started) / 1e9, servingSeconds: Double(servingAt! - started) / 1e9,
                              requests: outcomes.count, failed: outcomes.filter { !$0.ok }.count, reasons: WorkloadRun.reasons(outcomes))
    }

    private func waitUntil(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
        let giveUp = monotonicNanoseconds() + UInt64(timeout * 1e9)
        while monotonicNanoseconds() < giveUp {
            if (try? condition()) == true { return }
            sleepNanoseconds(100_000_000)
        }
        throw BenchFailure("timed out after \(Int(timeout)) s waiting for \(what)")
    }
}
