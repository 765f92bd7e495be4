import Controllers
import RaftCore
/// How a member runs: what `shoal agent` passes in. Timing defaults are chosen for the
/// failover goals (docs/benchmarks.md): a heartbeat every 20 ms, an election after 100–200
/// ms of silence, and an immediate pre-vote when the leader's connection closes.
import Store

public struct ServerOptions: Sendable {
    /// The member's data directory (WAL, snapshots, identity).
    public var dataDirectory: String
    /// The address other members and clients reach this member at (an IPv4 address).
    public var advertiseHost: String
    /// Port of the Raft peer transport.
    public var peerPort: UInt16 = 7400
    /// Port of the HTTP API.
    public var apiPort: UInt16 = 7401
    /// The address to bind; defaults to the advertised one.
    public var listenHost: String?
    /// Founding members' addresses ("host" or "host:peerPort"), identical on every founder;
    /// empty for an agent that waits for `shoal init` or `shoal join`.
    public var founders: [String] = []
    /// The join token (required with `founders`).
    public var token: ClusterToken?
    /// Milliseconds per Raft tick.
    public var tickMilliseconds: Int = 10
    /// Ticks between heartbeats.
    public var heartbeatTicks: Int = 2
    /// Ticks of silence before an election (randomized up to twice that).
    public var electionTicks: Int = 10
    /// Take a snapshot after this many applied entries (or after as many entries as the
    /// store holds objects, when that is more).
    public var snapshotEveryEntries: Int = 100_000
    /// The newest cluster version this member reports and runs (`Store.clusterVersionMax`):
    /// the build's, or lower to hold a cluster back (and to test upgrades with one build).
    public var clusterVersionMax = Store.clusterVersionSupported
    /// Voters the cluster grows to by promoting caught-up learners.
    public var votersMax: Int = 5
    /// Recover a lone survivor after quorum loss: become a one-member cluster with this
    /// member's data (docs/operations.md).
    public var forceNewCluster = false
    /// A proposal not applied within this many milliseconds is answered with a timeout.
    public var proposalTimeoutMilliseconds: Int = 10_000
    /// Serve the API over plain HTTP and speak plain HTTP to other members' APIs (local
    /// debugging only: every member of the cluster must use it alike). The default is HTTPS
    /// with certificates from the cluster CA (docs/tls.md).
    public var insecureHTTP = false

    /// A deliberately broken Raft rule, for the simulator's mutation runs (shoal-sim
    /// --members --mutation): its checkers must catch it. Never set by `shoal agent`.
    public var raftFaultyRule: Raft.FaultyRule?
    /// The host this member reports as its Node (nil: it registers none).
    public var nodeFacts: NodeFacts?
    /// The cluster's pod address range, cut into one range per node of `nodeCIDRMaskBits`
    /// (`--cluster-cidr`, `--node-cidr-mask-size`, as kube-controller-manager's). Every member
    /// must be given the same: whichever leads hands out the ranges, and every host treats
    /// traffic to the range as the pod network's (not masqueraded).
    public var clusterCIDR = Self.defaultClusterCIDR
    public var nodeCIDRMaskBits = Self.defaultNodeCIDRMaskBits
    public static let defaultClusterCIDR = NodeIPAM.defaultClusterCIDR
    public static let defaultNodeCIDRMaskBits = NodeIPAM.defaultNodeMaskBits
    /// The cluster DNS server's port on the member's address (`--dns-port`; nil: none). A
    /// member serves DNS only when it runs pods; the kube-dns Service names port 53.
    public var dnsPort: UInt16? = 53
    /// How this member runs pods (containerd, pod network); nil: it runs none (`--no-workloads`).
    public var workloads: WorkloadOptions?
    /// A deliberately broken controller rule, for the same mutation runs.
    public var controllerMutation: ControllerMutation?

    public init(dataDirectory: String, advertiseHost: String) {
        self.dataDirectory = dataDirectory
        self.advertiseHost = advertiseHost
    }

    /// Founders as (host, peer port), in the order given.
    public func founderAddresses() throws(ServerError) -> [(host: String, port: UInt16)] {
        try founders.map { (text: String) throws(ServerError) -> (host: String, port: UInt16) in
            let parts = text.split(separator: ":")
            guard parts.count == 1 || parts.count == 2, !parts[0].isEmpty else {
                throw .usage("bad peer address '\(text)': expected HOST or HOST:PORT")
            }
            if parts.count == 2 {
                guard let port = UInt16(parts[1]), port > 0 else { throw .usage("bad port in peer address '\(text)'") }
                return (String(parts[0]), port)
            }
            return (String(parts[0]), peerPort)
        }
    }
}

/// Why a member cannot start or do what was asked.
public enum ServerError: Error, CustomStringConvertible, Sendable {
    case usage(String)
    case storage(String)
    case cluster(String)

    public var description: String {
        switch self {
        case .usage(let m), .storage(let m), .cluster(let m): return m
        }
    }
}
