// `shoal-bench scheduler`: how fast the leader turns Deployments into bound pods. A local
// three-host cluster plus 1,000 hollow nodes (HollowNodes.swift: a kubemark-style load
// generator); 100 Deployments of 100 replicas are created at once and every pod is timed from
// its creation to its binding. Method and reading: docs/benchmarks.md, "Scheduler".
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct SchedulerBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Pods bound per second, creation-to-binding latency and the leader's CPU, for 10,000 pods of 100 Deployments on 1,000 hollow nodes.",
        discussion: "Needs root (scripts/cluster's network namespaces). The hollow nodes are a load generator: Node objects with "
            + "leases and pod status written over the API; no container runs. Method: docs/benchmarks.md, \"Scheduler\".")

    @Option(help: "Hosts (members) in the cluster.")
    var hosts = 3

    @Option(help: "Hollow nodes registered besides the members.")
    var nodes = 1_000

    @Option(help: "Deployments created at once.")
    var deployments = 100

    @Option(help: "Replicas of each Deployment.")
    var replicas = 100

    @Option(help: "Clients registering hollow nodes and creating the Deployments.")
    var clients = 8

    @Option(help: "Threads reporting bound pods Running (the hollow kubelets' status writes).")
    var statusWriters = 8

    @Option(help: "Give up when the pods are not all bound (and reported Running) within this many seconds.")
    var timeoutSeconds = 120.0

    @Option(help: "A request not answered within this many milliseconds counts as lost.")
    var requestTimeoutMs = 30_000

    @Option(help: "The shoal binary (default: the `shoal` beside this shoal-bench, else .build/release/shoal).")
    var binary: String?

    @Option(parsing: .upToNextOption, help: "Extra flags for every `shoal agent`.")
    var agentFlags: [String] = []

    @Option(help: "scripts/cluster --net K: the hosts are 10.88.K.1..N (pick one no other cluster uses).")
    var net = 12

    @Option(help: "scripts/cluster --base: the cluster's data dirs and logs (removed at the end).")
    var base = "/tmp/sc-bench-scheduler"

    @Option(help: "Before the measured phase, wait up to this many seconds for other work on the machine to use under 10% of one processor.")
    var waitQuietSeconds = 120.0

    @Option(help: "Record the measured phase with `perf record -g` into DIR/scheduler.perf.data.")
    var perfDir: String?

    @Option(help: "Copy the members' logs into this directory before the cluster is removed.")
    var keepLogs: String?

    @Flag(help: "Leave the cluster running at the end (remove it with scripts/cluster --base BASE down).")
    var keepCluster = false

    @Option(help: "Where to write the JSON results.")
    var json = "bench/results/scheduler.json"

    func validate() throws {
        guard hosts >= 1, nodes >= 1, deployments >= 1, replicas >= 1, clients >= 1, statusWriters >= 1, timeoutSeconds > 0,
              requestTimeoutMs >= 100 else {
            throw ValidationError("counts and durations must be positive")
        }
        guard (0...254).contains(net) else { throw ValidationError("--net must be in 0...254") }
        guard deployments <= 999 else { throw ValidationError("--deployments: at most 999") }
        guard nodes <= 9_999 else { throw ValidationError("--nodes: at most 9,999") }
    }

    func run() throws {
        guard getuid() == 0 else { throw BenchFailure("scheduler needs root: scripts/cluster's network namespaces") }
        let began = monotonicNanoseconds()
        let machine = Machine.current()
        say("machine: \(machine.summary)")
        if machine.buildConfiguration == "debug" { say("warning: debug build; use `swift build -c release`") }
        let repository = FileManager.default.currentDirectoryPath
        guard FileManager.default.isExecutableFile(atPath: "\(repository)/scripts/cluster") else {
            throw BenchFailure("run from the repository root (scripts/cluster not found in \(repository))")
        }
        let binaryPath = try shoalBinary(explicit: binary, repository: repository)
        let timeoutNs = UInt64(requestTimeoutMs) * 1_000_000
        Cleanup.shared.installSignalHandlers()
        defer { Cleanup.shared.runAll() }

        let cluster = APICluster(repository: repository, base: base, net: net, hostCount: hosts, binary: binaryPath, agentFlags: agentFlags)
        defer {
            if let keepLogs { cluster.copyLogs(to: keepLogs) }
            if keepCluster {
                cluster.keepRunning()
                say("the cluster still runs: scripts/cluster --base \(base) status; remove it with scripts/cluster --base \(base) down")
            } else {
                cluster.shutDown()
            }
        }
        var record = SchedulerRun(timestamp: timestampNow(), machine: machine, commit: gitCommit(repository),
                                  command: CommandLine.arguments.joined(separator: " "),
                                  parameters: ["hosts": String(hosts), "nodes": String(nodes), "deployments": String(deployments),
                                               "replicas": String(replicas), "clients": String(clients), "statusWriters": String(statusWriters),
                                               "binary": binaryPath, "agentFlags": agentFlags.joined(separator: " ")])
        do {
            say("starting \(hosts) shoal hosts (scripts/cluster --base \(base) --net \(net), \(binaryPath))")
            try cluster.start()
            try cluster.ensureNamespaces([HollowNodes.leaseNamespace, SchedulerWorkload.namespace], timeoutNs: timeoutNs)
            let hollow = HollowNodes(cluster: cluster, count: nodes, requestTimeoutNs: timeoutNs)
            let registerStart = monotonicNanoseconds()
            try hollow.register(clients: clients)
            record.registrationSeconds = Double(monotonicNanoseconds() - registerStart) / 1e9
            say(String(format: "registered %d hollow nodes with leases in %.1f s", nodes, record.registrationSeconds))
            try hollow.start(statusWriters: statusWriters)
            defer { hollow.stop() }
            try waitForReadyNodes(cluster, expected: nodes + hosts, timeoutNs: timeoutNs)
            record.otherLoadBefore = cluster.waitForQuiet(seconds: waitQuietSeconds)

            let watcher = SchedulerPodWatcher(hollow: hollow)
            try watcher.start(cluster: cluster, timeoutNs: timeoutNs)
            let before = cluster.health()
            let leader = before.firstIndex { $0?.isLeader == true }
            let perf = try perfDir.map { try PerfRecording(cluster: cluster, directory: $0, label: "scheduler") }
            let total = deployments * replicas
            say("creating \(deployments) Deployments of \(replicas) replicas (\(grouped(Double(total))) pods) on \(nodes) hollow nodes + \(hosts) members")
            let meter = CPUMeter(cluster)
            let startNs = monotonicNanoseconds()
            try createDeployments(cluster, timeoutNs: timeoutNs)
            let createdNs = monotonicNanoseconds()
            let giveUp = startNs + UInt64(timeoutSeconds * 1e9)
            var boundCPU: CPUShare?
            var lastReport = startNs
            while true {
                let progress = watcher.progress
                if let failure = progress.failure { throw BenchFailure("the pod watch ended: \(failure)") }
                if progress.bound >= total && boundCPU == nil { boundCPU = meter.finish() }
                if (progress.bound >= total && progress.running >= progress.hollowBound) || monotonicNanoseconds() > giveUp { break }
                if monotonicNanoseconds() - lastReport > 1_000_000_000 {
                    lastReport = monotonicNanoseconds()
                    say(String(format: "  %.1f s: %d created, %d bound, %d running", Double(lastReport - startNs) / 1e9,
                               progress.seen, progress.bound, progress.running))
                }
                sleepNanoseconds(5_000_000)
            }
            perf?.stop()
            let runningCPU = meter.finish()
            let after = cluster.health()
            record.metricsAfter = cluster.members.indices.map { cluster.metrics($0) ?? "" }
            let health = PhaseHealth(before: before, after: after)
            let entries = (after.compactMap { $0?.appliedIndex }.max() ?? 0) - (before.compactMap { $0?.appliedIndex }.max() ?? 0)
            let pods = watcher.stop()
            record.result = SchedulerResult(pods: pods, expected: total, startNs: startNs, deploymentsCreatedNs: createdNs,
                                            boundCPU: boundCPU ?? runningCPU, runningCPU: runningCPU, leader: leader, health: health,
                                            hollowFailures: hollow.failures.snapshot, hollowFailureExamples: hollow.failures.exampleSnapshot,
                                            leaseRenewals: hollow.renewals.next(), raftEntries: entries,
                                            writesByKind: try? objectCounts(cluster))
            if pods.values.filter({ $0.boundNs > 0 }).count < total {
                throw BenchFailure("only \(pods.values.filter { $0.boundNs > 0 }.count) of \(total) pods were bound within \(timeoutSeconds) s")
            }
        } catch {
            record.error = "\(error)"
            record.seconds = Double(monotonicNanoseconds() - began) / 1e9
            try? writeJSON(record, to: json)
            throw error
        }
        record.seconds = Double(monotonicNanoseconds() - began) / 1e9
        try writeJSON(record, to: json)
        say("\nScheduler (\(hosts) members + \(nodes) hollow nodes, \(machine.processors) processors shared by the members and the load generator):")
        say(record.result!.table(hosts: hosts))
        say("\nresults: \(json)")
        say(String(format: "total %.0f s", record.seconds))
    }

    /// The Deployments, all at once from `clients` threads.
    private func createDeployments(_ cluster: APICluster, timeoutNs: UInt64) throws {
        let pool = APIClients(cluster: cluster, count: min(clients, deployments))
        try pool.openAll()
        let next = SharedCounter()
        let errors = SharedCollector<String>()
        let (deployments, replicas, auth) = (self.deployments, self.replicas, cluster.authorization)
        runOnThreads(pool.connections.count) { c in
            while true {
                let d = next.next()
                guard d < deployments else { return }
                let head = "POST /apis/apps/v1/namespaces/\(SchedulerWorkload.namespace)/deployments HTTP/1.1\r\n\(auth)"
                    + "Content-Type: application/json\r\nAccept: application/json\r\n"
                if let problem = HollowNodes.send(pool.connections[c], head: head, body: SchedulerWorkload.deploymentBody(d, replicas: replicas),
                                                  accept: [201], timeoutNs: timeoutNs) {
                    errors.add("\(SchedulerWorkload.deploymentName(d)): \(problem)")
                }
            }
        }
        for connection in pool.connections { connection.disconnect() }
        if let first = errors.all.first { throw BenchFailure("creating Deployments: \(errors.all.count) failed, e.g. \(first)") }
    }

    /// How many objects of each kind the namespace holds at the end (events, pods, sets).
    private func objectCounts(_ cluster: APICluster) throws -> [String: Int] {
        let connection = cluster.connection(to: 0)
        var counts: [String: Int] = [:]
        for (kind, path) in [("pods", "/api/v1/namespaces/\(SchedulerWorkload.namespace)/pods"),
                             ("events", "/api/v1/namespaces/\(SchedulerWorkload.namespace)/events"),
                             ("replicasets", "/apis/apps/v1/namespaces/\(SchedulerWorkload.namespace)/replicasets")] {
            guard case .response(200, let body) = connection.exchange(head: "GET \(path) HTTP/1.1\r\n\(cluster.authorization)Accept: application/json\r\n",
                                                                      deadline: monotonicNanoseconds() + 30_000_000_000) else { continue }
            counts[kind] = JSONScan.count(#""resourceVersion":"#, in: body) - 1
        }
        return counts
    }

    /// Waits until the leader's view has every node Ready (members and hollow nodes).
    private func waitForReadyNodes(_ cluster: APICluster, expected: Int, timeoutNs: UInt64) throws {
        let connection = cluster.connection(to: 0)
        let giveUp = monotonicNanoseconds() + 60_000_000_000
        var ready = 0
        while monotonicNanoseconds() < giveUp {
            if case .response(200, let body) = connection.exchange(head: "GET /api/v1/nodes HTTP/1.1\r\n\(cluster.authorization)Accept: application/json\r\n",
                                                                   deadline: monotonicNanoseconds() + timeoutNs) {
                ready = JSONScan.count(#""type":"Ready","status":"True""#, in: body)
                if ready >= expected { return }
            }
            sleepNanoseconds(200_000_000)
        }
        throw BenchFailure("only \(ready) of \(expected) nodes are Ready after 60 s")
    }
}

/// The JSON record of one run.
struct SchedulerRun: Codable {
    var timestamp: String
    var machine: Machine
    var commit: String
    var command: String
    var parameters: [String: String]
    var registrationSeconds = 0.0
    var otherLoadBefore = 0.0
    var result: SchedulerResult?
    /// Every member's /metrics at the end of the measured phase.
    var metricsAfter: [String] = []
    var seconds = 0.0
    var error: String?
}
