// `shoal-bench pods`: pods that really run. Three hosts of scripts/cluster, each with its own
// containerd, a private registry on the cluster bridge with the test image, the image
// pulled on every host beforehand (a warm-up Deployment); then a Deployment of N replicas is
// created and every pod timed, by a watch, from the create request to Ready (its container
// running and its readiness probe passed), and the Deployment's delete timed to every pod
// object gone (which the node agents do only once the containers stopped) and to no
// container left in any host's runc. Kubernetes' SLO for pod startup with pre-pulled images
// is p99 <= 5 s (kubernetes/community sig-scalability slos/pod_startup_latency.md); the goal
// here is p99 <= 1 s.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct PodsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pods",
        abstract: "Pod startup (create to Ready, image pre-pulled) and teardown on three hosts with containerd, and the agents' idle cost.")

    @Option(help: "Replicas of the measured Deployment.")
    var replicas = 30

    @Option(help: "Runs of create/delete.")
    var trials = 3

    @Option(help: "The shoal binary (default: the `shoal` beside this shoal-bench, else .build/release/shoal).")
    var binary: String?

    @Option(help: "scripts/cluster --net K (the registry listens on 10.88.K.254:5000).")
    var net = 14

    @Option(help: "scripts/cluster --base.")
    var base = "/tmp/sc-bench-pods"

    @Option(help: "Seconds of idle measured with the pods running (agents' CPU).")
    var idleSeconds = 10.0

    @Option(help: "Where the JSON record goes.")
    var json = "bench/results/pods.json"

    func run() throws {
        guard getuid() == 0 else { throw BenchFailure("pods needs root: scripts/cluster's namespaces and containerd") }
        let began = monotonicNanoseconds()
        let machine = Machine.current()
        say("machine: \(machine.summary)")
        if machine.buildConfiguration == "debug" { say("warning: debug build; use `swift build -c release`") }
        let repository = FileManager.default.currentDirectoryPath
        let binaryPath = try shoalBinary(explicit: binary, repository: repository)
        Cleanup.shared.installSignalHandlers()
        defer { Cleanup.shared.runAll() }

        let registry = "10.88.\(net).254:5000"
        let pause = try runCommand(["/bin/bash", "\(repository)/scripts/images", "pause-archive"], timeout: 300).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let cluster = APICluster(repository: repository, base: base, net: net, hostCount: 3, binary: binaryPath,
                                 agentFlags: ["--insecure-registry", registry, "--sandbox-image-archive", pause], workloads: true)
        defer { cluster.shutDown() }
        say("starting 3 shoal hosts with containerd (scripts/cluster --base \(base) --net \(net), \(binaryPath))")
        try cluster.start()
        let registryProcess = try PodsRegistry.start(address: registry, directory: base + ".registry")
        defer { registryProcess.terminate() }
        _ = try runCommand(["/bin/bash", "\(repository)/scripts/images", "push", registry], timeout: 300)
        let image = "\(registry)/shoal/hello:1.0"

        // Warm-up: the image on every host (one pod per host), then gone.
        let workload = PodsWorkload(cluster: cluster, image: image)
        say("pulling \(image) on every host (warm-up)")
        _ = try workload.trial(name: "warmup", replicas: 3, timeoutSeconds: 120)

        var record = PodsRun(timestamp: timestampNow(), machine: machine, commit: gitCommit(repository),
                             command: CommandLine.arguments.joined(separator: " "),
                             parameters: ["replicas": String(replicas), "trials": String(trials), "binary": binaryPath])
        for t in 1...trials {
            say("trial \(t): a Deployment of \(replicas) replicas")
            let trial = try workload.trial(name: "bench\(t)", replicas: replicas, timeoutSeconds: 120,
                                           idle: t == trials ? idleSeconds : 0)
            say(trial.summary)
            record.trials.append(trial)
        }
        record.seconds = Double(monotonicNanoseconds() - began) / 1e9
        try writeJSON(record, to: json)
        say("\nPods (3 hosts, \(machine.processors) processors shared by the hosts, containerd and the pods):")
        say(record.table)
        say("\nresults: \(json)")
    }
}

/// A private registry (Debian's docker-registry) on the cluster bridge.
enum PodsRegistry {
    static func start(address: String, directory: String) throws -> Process {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: \(directory)/data\nhttp:\n  addr: \(address)\n"
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", directory + "/config.yml"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let giveUp = monotonicNanoseconds() + 10_000_000_000
        while monotonicNanoseconds() < giveUp {
            if (try? runCommand(["/usr/bin/curl", "-sf", "http://\(address)/v2/"], timeout: 2))?.status == 0 { return process }
            sleepNanoseconds(100_000_000)
        }
        process.terminate()
        throw BenchFailure("the registry at \(address) did not answer")
    }
}

/// Three scripts/cluster hosts with containerd, a private registry on their bridge holding
/// shoal's test images, and a kubeconfig for kubectl: what `podnet` and `proxy` stand on.
final class PodHosts {
    let cluster: APICluster
    let registry: String
    let kubeconfig: String
    private let repository: String
    private let base: String
    private var registryProcess: Process?

    init(repository: String, base: String, net: Int, binary: String, pause: String, agentFlags: [String] = []) {
        self.repository = repository
        self.base = base
        registry = "10.88.\(net).254:5000"
        kubeconfig = base + ".kubeconfig"
        cluster = APICluster(repository: repository, base: base, net: net, hostCount: 3, binary: binary,
                             agentFlags: ["--insecure-registry", registry, "--sandbox-image-archive", pause] + agentFlags, workloads: true)
    }

    func start() throws {
        try cluster.start()
        let process = try PodsRegistry.start(address: registry, directory: base + ".registry")
        registryProcess = process
        // (A signal skips the callers' `defer`s: the registry must not outlive the benchmark.)
        Cleanup.shared.add(registryCleanup) { process.terminate() }
        _ = try runCommand(["/bin/bash", "\(repository)/scripts/images", "push", registry], timeout: 300)
        try cluster.clusterTool(["exec", "h1", "shoal", "kubeconfig"]).stdout.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
    }

    /// Builds (once; the Debian rootfs is cached) and pushes the walkthrough's web images,
    /// web:1.0 and web:2.0 (Apache with mod_php, keep-alive): `scripts/web-image`.
    func pushWebImages() throws {
        _ = try runCommand(["/bin/bash", "\(repository)/scripts/web-image", "push", registry], timeout: 1200)
    }

    /// kubectl against h1; its output.
    func kubectl(_ arguments: [String], timeout: Double = 60) throws -> String {
        try runCommand(["kubectl", "--kubeconfig", kubeconfig] + arguments, timeout: timeout).stdout
    }

    private var registryCleanup: String { "registry at \(registry)" }

    func shutDown() {
        registryProcess?.terminate()
        Cleanup.shared.remove(registryCleanup)
        cluster.shutDown()
    }
}
