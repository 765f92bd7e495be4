// `shoal-bench api`: the Kubernetes API of a local three-host cluster under load, over
// verified HTTPS: creating 10,000 pods through every member, listing them, and 100
// watchers receiving every event. Method and reading: docs/benchmarks.md, "API".
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct APIBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Pod creates/s, list latency and watch delivery latency of a 3-host cluster's Kubernetes API (HTTPS).",
        discussion: "Needs root (scripts/cluster's network namespaces). The cluster is removed at the end, also on failure "
            + "or Ctrl-C. Method and how to read the results: docs/benchmarks.md, \"API\".")

    @Option(help: "Hosts (members) in the cluster.")
    var hosts = 3

    @Option(help: "Phases to run, comma-separated: creates, lists, watches (lists and watches need the pods of creates).")
    var phases = "creates,lists,watches"

    @Option(help: "Pods created in phase 1 (namespace default).")
    var objects = 10_000

    @Option(help: "Concurrent clients of phase 1 (closed loop, one kept-alive connection each, spread over the members).")
    var clients = 64

    @Option(help: "Pods created before phase 1 in namespace bench-warmup (not measured).")
    var warmup = 500

    @Option(help: "Timed lists per member and form.")
    var listRepeats = 50

    @Option(help: "List forms, comma-separated: full, paged, table, tablePaged.")
    var listForms = "full,paged,table,tablePaged"

    @Option(help: "Watchers of phase 3 (spread over the members).")
    var watchers = 100

    @Option(help: "Threads reading the watch streams (one poll(2) each over its share of the watchers).")
    var watchThreads = 2

    @Option(help: "Writers of phase 3 (they share one send schedule).")
    var watchWriters = 32

    @Option(help: "Writes per second during phase 3; several, comma-separated, run phase 3 once per rate (e.g. 250,500,1000).")
    var watchRate = "1000"

    @Option(help: "Seconds of writes during phase 3.")
    var watchSeconds = 20.0

    @Option(help: "Fraction of phase-3 writes that patch an existing pod (the rest create pods).")
    var watchUpdateFraction = 0.5

    @Option(help: "Seconds the watchers may take to receive the last events after the writes end.")
    var watchDrainSeconds = 30.0

    @Option(help: "A request not answered within this many milliseconds counts as lost.")
    var requestTimeoutMs = 30_000

    @Option(help: "The shoal binary (default: the `shoal` beside this shoal-bench, else .build/release/shoal).")
    var binary: String?

    @Option(parsing: .upToNextOption, help: "Extra flags for every `shoal agent`.")
    var agentFlags: [String] = []

    @Option(help: "scripts/cluster --net K: the hosts are 10.88.K.1..N (pick one no other cluster uses).")
    var net = 11

    @Option(help: "scripts/cluster --base: the cluster's data dirs and logs (removed at the end).")
    var base = "/tmp/sc-bench"

    @Option(help: "Before each phase, wait up to this many seconds for other work on the machine to use under 10% of one processor (0: do not wait).")
    var waitQuietSeconds = 120.0

    @Option(help: "Record each phase with `perf record -g` (members and this process) into DIR/<phase>.perf.data.")
    var perfDir: String?

    @Option(help: "Copy the members' logs into this directory before the cluster is removed.")
    var keepLogs: String?

    @Option(help: "Where to write the JSON results.")
    var json = "bench/results/api.json"

    func validate() throws {
        guard hosts >= 1, objects >= 1, clients >= 1, warmup >= 0, listRepeats >= 1, watchers >= 1, watchWriters >= 1,
              watchThreads >= 1, (try? rateList()) != nil, watchSeconds > 0, requestTimeoutMs >= 100 else {
            throw ValidationError("counts, rates and durations must be positive")
        }
        guard (0...1).contains(watchUpdateFraction) else { throw ValidationError("--watch-update-fraction must be in 0...1") }
        guard (0...254).contains(net) else { throw ValidationError("--net must be in 0...254") }
        _ = try phaseList()
        _ = try formList()
    }

    private func phaseList() throws -> Set<String> {
        let list = Set(phases.split(separator: ",").map(String.init))
        for p in list where !["creates", "lists", "watches"].contains(p) { throw ValidationError("unknown phase '\(p)'") }
        return list
    }

    private func rateList() throws -> [Double] {
        let rates = watchRate.split(separator: ",").compactMap { Double($0) }
        guard !rates.isEmpty, rates.count == watchRate.split(separator: ",").count, rates.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--watch-rate: positive numbers, comma-separated")
        }
        return rates
    }

    private func formList() throws -> [ListForm] {
        try listForms.split(separator: ",").map {
            guard let form = ListForm(rawValue: String($0)) else { throw ValidationError("unknown list form '\($0)'") }
            return form
        }
    }

    func run() throws {
        guard getuid() == 0 else { throw BenchFailure("api needs root: scripts/cluster's network namespaces") }
        let began = monotonicNanoseconds()
        let machine = Machine.current()
        say("machine: \(machine.summary)")
        if machine.buildConfiguration == "debug" { say("warning: debug build; use `swift build -c release`") }
        let repository = FileManager.default.currentDirectoryPath
        guard FileManager.default.isExecutableFile(atPath: "\(repository)/scripts/cluster") else {
            throw BenchFailure("run from the repository root (scripts/cluster not found in \(repository))")
        }
        let shoalBinary = try shoal_bench.shoalBinary(explicit: binary, repository: repository)
        let selected = try phaseList()
        let timeoutNs = UInt64(requestTimeoutMs) * 1_000_000

        Cleanup.shared.installSignalHandlers()
        defer { Cleanup.shared.runAll() }
        var record = APIRun(timestamp: timestampNow(), machine: machine, commit: gitCommit(repository),
                            command: CommandLine.arguments.joined(separator: " "), parameters: parameters(binary: shoalBinary),
                            warmup: nil, creates: nil, lists: [], watches: [], health: [:], otherLoadBefore: [:], rows: [], memberMetrics: [:],
                            memberResidentMiB: [:], seconds: 0, error: nil)
        let cluster = APICluster(repository: repository, base: base, net: net, hostCount: hosts, binary: shoalBinary,
                                 agentFlags: agentFlags)
        defer {
            if let keepLogs { cluster.copyLogs(to: keepLogs) }
            cluster.shutDown()
        }
        func snapshot(_ label: String) {
            record.memberMetrics[label] = cluster.members.indices.map { cluster.metrics($0) ?? "" }
            record.memberResidentMiB[label] = cluster.memberResidentMiB()
        }
        /// Runs one phase between two looks at the members' health (and under perf if asked).
        func phase<T>(_ label: String, _ body: () throws -> T) throws -> T {
            record.otherLoadBefore[label] = cluster.waitForQuiet(seconds: waitQuietSeconds)
            let before = cluster.health()
            let perf = try perfDir.map { try PerfRecording(cluster: cluster, directory: $0, label: label) }
            defer { perf?.stop() }
            let result = try body()
            let health = PhaseHealth(before: before, after: cluster.health())
            record.health[label] = health
            say("  \(label): \(health.summary)")
            return result
        }
        func save() {
            record.rows = APIReport.rows(creates: record.creates, lists: record.lists, watches: record.watches, health: record.health)
            record.seconds = Double(monotonicNanoseconds() - began) / 1e9
            try? writeJSON(record, to: json)
        }
        do {
            say("starting \(hosts) shoal hosts (scripts/cluster --base \(base) --net \(net), \(shoalBinary))")
            try cluster.start()
            say("members: " + cluster.members.map { "\($0.name) \($0.address):\(cluster.apiPort)" }.joined(separator: ", ")
                  + "; HTTPS verified against the cluster CA")
            try cluster.ensureNamespaces(["default", "bench-warmup"], timeoutNs: timeoutNs)
            snapshot("start")

            if selected.contains("creates") {
                let pool = APIClients(cluster: cluster, count: clients)
                try pool.openAll()
                if warmup > 0 {
                    say("warm-up: \(warmup) pods in bench-warmup")
                    let result = CreatePhase(cluster: cluster, clients: pool, namespace: "bench-warmup", prefix: "warm",
                                             objects: warmup, requestTimeoutNs: timeoutNs).run()
                    record.warmup = result
                    say("  \(grouped(result.objectsPerSecond))/s, p99 \(ms(result.latency.p99Ms)) ms, failures \(result.failures)")
                }
                say("phase 1: creating \(grouped(Double(objects))) pods in default with \(clients) clients")
                let result = try phase("creates") {
                    CreatePhase(cluster: cluster, clients: pool, namespace: "default", prefix: "bench", objects: objects,
                                requestTimeoutNs: timeoutNs).run()
                }
                record.creates = result
                say("  \(grouped(result.objectsPerSecond)) pods/s over \(String(format: "%.2f", result.seconds)) s, "
                      + "p50 \(ms(result.latency.p50Ms)) ms, p99 \(ms(result.latency.p99Ms)) ms, max \(ms(result.latency.maxMs)) ms; "
                      + "failures \(result.failures), retries \(result.retries); cpu \(result.cpu.summary)")
                for connection in pool.connections { connection.disconnect() }
                snapshot("after creates")
                save()
            }
            if selected.contains("lists") {
                for form in try formList() {
                    say("phase 2: \(form.label), \(listRepeats) times from each member")
                    let result = try phase("list-\(form.rawValue)") {
                        ListPhase(cluster: cluster, namespace: "default", expectedItems: objects,
                                  repeatsPerMember: listRepeats, requestTimeoutNs: timeoutNs).run(form)
                    }
                    record.lists.append(result)
                    say("  p50 \(ms(result.latency.p50Ms)) ms, p99 \(ms(result.latency.p99Ms)) ms, \(byteText(result.bytesMean)); "
                          + "items \(result.itemsChecked); failures \(result.failures.count)\(result.failures.first.map { ": " + $0 } ?? ""); "
                          + "cpu \(result.cpu.summary)")
                    save()
                }
                snapshot("after lists")
            }
            if selected.contains("watches") {
                let rates = try rateList()
                for rate in rates {
                    let label = rates.count == 1 ? "watches" : "watches-\(Int(rate))"
                    say("phase 3: \(watchers) watchers, \(grouped(rate)) writes/s for \(watchSeconds) s "
                          + "(\(Int(watchUpdateFraction * 100))% patches) by \(watchWriters) writers")
                    let result = try phase(label) {
                        try WatchPhase(
                            cluster: cluster, namespace: "default", watchers: watchers, writers: watchWriters, writesPerSecond: rate,
                            seconds: watchSeconds, updateFraction: watchUpdateFraction, existingPrefix: "bench",
                            existingCount: selected.contains("creates") ? objects : 0, createPrefix: "watch\(Int(rate))",
                            requestTimeoutNs: timeoutNs, drainSeconds: watchDrainSeconds, readerThreads: watchThreads).run()
                    }
                    record.watches.append(result)
                    say("  \(grouped(result.achievedWritesPerSecond)) writes/s; delivery after the 201: p50 \(ms(result.deliveryFromResponse.p50Ms)) ms, "
                          + "p99 \(ms(result.deliveryFromResponse.p99Ms)) ms; after the send: p99 \(ms(result.deliveryFromSend.p99Ms)) ms; "
                          + "received \(result.deliveriesReceived)/\(result.deliveriesExpected); cpu \(result.cpu.summary)")
                    snapshot("after \(label)")
                    save()
                }
            }
        } catch {
            record.error = "\(error)"
            save()
            throw error
        }
        save()
        say("\nAPI (\(hosts) members, HTTPS, \(machine.processors) processors shared by the members and the load generator):")
        say(APIReport.table(record.rows))
        say("\nresults: \(json)")
        say(String(format: "total %.0f s", Double(monotonicNanoseconds() - began) / 1e9))
    }

    private func parameters(binary: String) -> [String: String] {
        ["hosts": String(hosts), "phases": phases, "objects": String(objects), "clients": String(clients), "warmup": String(warmup),
         "listRepeats": String(listRepeats), "listForms": listForms, "watchers": String(watchers), "watchThreads": String(watchThreads),
         "watchWriters": String(watchWriters), "watchRate": watchRate, "watchSeconds": String(watchSeconds),
         "watchUpdateFraction": String(watchUpdateFraction), "requestTimeoutMs": String(requestTimeoutMs),
         "binary": binary, "perfDir": perfDir ?? "", "waitQuietSeconds": String(waitQuietSeconds), "agentFlags": agentFlags.joined(separator: " "), "net": String(net), "base": base]
    }
}
