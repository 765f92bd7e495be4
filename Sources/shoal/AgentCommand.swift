import ArgumentParser
import Store
import Server
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// `shoal agent`: runs a member until it is stopped (SIGTERM/SIGINT), leaves, or its storage fails.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run this host's member. The same command on every founding host forms a cluster.")

    @Option(help: "The member's data directory.")
    var dataDir: String = "/var/lib/shoal"

    @Option(help: "The IPv4 address other members and clients reach this host at.")
    var advertise: String

    @Option(help: "Founding members, comma-separated HOST or HOST:PORT (include this host). Omit to wait for `shoal init` or `shoal join`.")
    var peers: String?

    @Option(help: "The join token (required with --peers; `shoal token --generate` makes one).")
    var token: String?

    @Option(help: "Port for Raft peers.")
    var peerPort: UInt16 = 7400

    @Option(help: "Port for the HTTP API.")
    var apiPort: UInt16 = 7401

    @Option(help: "Address to bind (default: the advertised one).")
    var listen: String?

    @Option(help: "Milliseconds per Raft tick.")
    var tickMs: Int = 10

    @Option(help: "Ticks between leader heartbeats.")
    var heartbeatTicks: Int = 2

    @Option(help: "Ticks without a leader before an election (randomized up to twice as many).")
    var electionTicks: Int = 10

    @Option(help: "Take a snapshot every this many applied entries (at least; snapshots are also spaced by as many entries as the store holds objects).")
    var snapshotEntries: Int = 100_000

    @Flag(help: "Recover a lone survivor after losing quorum: become a one-member cluster with this data (see docs/operations.md).")
    var forceNewCluster = false

    @Flag(help: "Serve the API over plain HTTP, and call other members' APIs over plain HTTP (local debugging only; every member must use it alike). The default is HTTPS with the cluster CA (docs/tls.md).")
    var insecureHTTP = false

    @Option(help: "Log level: debug, info, warn, error.")
    var logLevel: String = "info"

    @Flag(help: "Run no pods here: no containerd, and this member's Node carries the control-plane NoSchedule taint (for hosts that only vote).")
    var noWorkloads = false

    @Option(help: "Use the CRI runtime (containerd) at this unix socket instead of starting one.")
    var containerdSocket: String?

    @Option(help: "A registry reached over plain HTTP (HOST:PORT); repeat for several.")
    var insecureRegistry: [String] = []

    @Option(help: "How pods reach other hosts' pods: vxlan (an overlay; hosts on any subnets) or host-gw (plain routes; hosts on one link).")
    var podNetworkBackend = "vxlan"

    @Option(help: "The cluster's pod address range (IPv4 CIDR); each node gets one range of --node-cidr-mask-size from it. Give every member the same.")
    var clusterCIDR = ServerOptions.defaultClusterCIDR

    @Option(help: "The prefix length of each node's pod range (24: 254 pods per node).")
    var nodeCIDRMaskSize = ServerOptions.defaultNodeCIDRMaskBits

    @Option(help: "The cluster DNS server's port on this member's address (0: serve no DNS). Members that run pods serve it; the kube-dns Service (10.96.0.10:53) leads to them.")
    var dnsPort: UInt16 = 53

    @Option(help: "The pod sandbox image's archive, imported into containerd when missing (scripts/images pause-archive builds it).")
    var sandboxImageArchive = "/var/lib/shoal/images/pause.tar"

    @Option(help: ArgumentHelp("Hold this member at cluster version N or older (1 = the first release's rules). The cluster moves to a newer version only when every member runs it; for staged upgrades and upgrade tests.", visibility: .hidden))
    var clusterVersionMax: Int = Store.clusterVersionSupported

    func validate() throws {
        guard isIPv4(advertise) else { throw ValidationError("--advertise must be an IPv4 address, got '\(advertise)'") }
        if let listen, !isIPv4(listen) { throw ValidationError("--listen must be an IPv4 address") }
        guard (1...1000).contains(tickMs) else { throw ValidationError("--tick-ms must be in 1...1000") }
        guard heartbeatTicks >= 1, electionTicks > heartbeatTicks else {
            throw ValidationError("--election-ticks must exceed --heartbeat-ticks (>= 1)")
        }
        guard snapshotEntries >= 100 else { throw ValidationError("--snapshot-entries must be at least 100") }
        if token != nil, ClusterToken(parsing: token!) == nil { throw ValidationError("--token is not a shoal join token") }
        if peers != nil && token == nil { throw ValidationError("--peers needs --token (all founders use the same one)") }
        guard Log.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be debug, info, warn or error") }
        for registry in insecureRegistry {
            let parts = registry.split(separator: ":")
            guard parts.count == 2, !parts[0].isEmpty, UInt16(parts[1]) != nil, !registry.contains("/") else {
                throw ValidationError("--insecure-registry must be HOST:PORT, got '\(registry)'")
            }
        }
        guard PodNetworkBackendName.valid.contains(podNetworkBackend) else {
            throw ValidationError("--pod-network-backend must be one of \(PodNetworkBackendName.valid.joined(separator: ", ")), got '\(podNetworkBackend)'")
        }
        guard let range = IPv4.parseCIDR(clusterCIDR) else {
            throw ValidationError("--cluster-cidr must be an IPv4 range such as 10.244.0.0/16 (prefix 8-30, no host bits), got '\(clusterCIDR)'")
        }
        guard (range.prefix...30).contains(nodeCIDRMaskSize) else {
            throw ValidationError("--node-cidr-mask-size must be between the cluster range's prefix (\(range.prefix)) and 30, got \(nodeCIDRMaskSize)")
        }
        if noWorkloads, containerdSocket != nil { throw ValidationError("--containerd-socket and --no-workloads exclude each other") }
        guard (1...Store.clusterVersionSupported).contains(clusterVersionMax) else {
            throw ValidationError("--cluster-version-max must be in 1...\(Store.clusterVersionSupported)")
        }
    }

    func run() throws {
        Log.minimum = Log.Level(rawValue: logLevel)!
        var options = ServerOptions(dataDirectory: dataDir, advertiseHost: advertise)
        options.peerPort = peerPort
        options.apiPort = apiPort
        options.listenHost = listen
        options.founders = peers.map { $0.split(separator: ",").map { String($0).trimmed() }.filter { !$0.isEmpty } } ?? []
        options.token = token.flatMap(ClusterToken.init(parsing:))
        options.tickMilliseconds = tickMs
        options.heartbeatTicks = heartbeatTicks
        options.electionTicks = electionTicks
        options.snapshotEveryEntries = snapshotEntries
        options.forceNewCluster = forceNewCluster
        options.insecureHTTP = insecureHTTP
        options.clusterVersionMax = clusterVersionMax
        options.clusterCIDR = clusterCIDR
        options.nodeCIDRMaskBits = nodeCIDRMaskSize
        options.dnsPort = dnsPort == 0 ? nil : dnsPort
        options.nodeFacts = NodeFacts.ofThisMachine()
        if noWorkloads {
            options.nodeFacts?.schedulable = false
        } else {
            options.workloads = WorkloadOptions(dataDirectory: dataDir, externalSocket: containerdSocket,
                                                insecureRegistries: insecureRegistry, sandboxImageArchive: sandboxImageArchive,
                                                networkBackend: podNetworkBackend)
        }

        signal(SIGPIPE, SIG_IGN)
        let loop = EventLoop()
        let member: Member
        do {
            member = try Member(options: options, loop: loop)
        } catch {
            Log.error("\(error)")
            throw ExitCode(2)
        }
        StopSignal.install(loop: loop)
        loop.run()
        member.stopWorkloads()
        let code = member.exitCode ?? 0
        if code != 0 { throw ExitCode(code) }
    }
}

/// SIGTERM/SIGINT stop the loop; everything acknowledged is already durable, so stopping
/// needs no flush.
enum StopSignal {
    nonisolated(unsafe) static var requested: Int32 = 0

    static func install(loop: EventLoop) {
        signal(SIGTERM) { _ in StopSignal.requested = 1 }
        signal(SIGINT) { _ in StopSignal.requested = 1 }
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 50, repeatMilliseconds: 50) {
            if StopSignal.requested != 0 {
                Log.info("stopping on signal")
                loop.stop()
            }
        }
        keep = timer
    }

    nonisolated(unsafe) static var keep: LoopTimer?
}

func isIPv4(_ text: String) -> Bool {
    var address = in_addr()
    return inet_pton(AF_INET, text, &address) == 1
}
