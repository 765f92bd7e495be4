// What the node agent needs from a container runtime, in the agent's own terms. The product
// implements it with containerd over CRI (`CRIRuntime`); tests use an in-memory double. Calls
// block: the agent makes them on its own worker threads (`RuntimeWorkers`), never on the
// member's loop, and gets the answers back on the loop.
//
// Everything the agent knows about a pod's containers comes back from here: sandboxes and
// containers carry the pod's uid, the container's name, its restart count and the hash of
// the spec it was made from as labels and annotations, so an agent that restarts rebuilds
// its view from the runtime alone (kubelet does the same).

/// Labels and annotations the agent puts on what it creates (kubelet's names, so `crictl`
/// users see what they expect).
public enum RuntimeLabels {
    public static let podUID = "io.kubernetes.pod.uid"
    public static let podName = "io.kubernetes.pod.name"
    public static let podNamespace = "io.kubernetes.pod.namespace"
    public static let containerName = "io.kubernetes.container.name"
    /// Marks what shoal made, so orphan clean-up never touches other users' containers.
    public static let managedBy = "shoal.io/managed"
    /// Annotation: the hash of the container spec the container was made from.
    public static let specHash = "shoal.io/container-hash"
    /// Annotation: the pod's termination grace period in seconds (for orphans).
    public static let gracePeriod = "shoal.io/termination-grace-period"
}

public enum SandboxState: Sendable, Equatable { case ready, notReady }

public enum RuntimeContainerState: Sendable, Equatable { case created, running, exited, unknown }

/// A pod sandbox as the runtime reports it.
public struct RuntimeSandbox: Sendable, Equatable {
    public var id: String
    public var podUID: String
    public var podName: String
    public var podNamespace: String
    public var attempt: UInt32
    public var state: SandboxState
    /// Nanoseconds since the Unix epoch.
    public var createdAtNanos: Int64
    /// The pod's address once its network is up ("" before, and for host-network pods).
    public var ip: String
    public var managed: Bool

    public init(id: String, podUID: String, podName: String, podNamespace: String, attempt: UInt32, state: SandboxState,
                createdAtNanos: Int64, ip: String = "", managed: Bool = true) {
        self.id = id
        self.podUID = podUID
        self.podName = podName
        self.podNamespace = podNamespace
        self.attempt = attempt
        self.state = state
        self.createdAtNanos = createdAtNanos
        self.ip = ip
        self.managed = managed
    }
}

/// A container as the runtime reports it (ListContainers plus, for those that ran, the
/// details of ContainerStatus).
public struct RuntimeContainer: Sendable, Equatable {
    public var id: String
    public var sandboxID: String
    public var podUID: String
    public var name: String
    /// The restart count: 0 for the first container of this name in the pod.
    public var attempt: UInt32
    public var state: RuntimeContainerState
    public var image: String
    /// The image's id in the runtime (`sha256:...`).
    public var imageRef: String
    public var specHash: String
    /// Nanoseconds since the Unix epoch; 0 when not (yet).
    public var createdAtNanos: Int64
    public var startedAtNanos: Int64 = 0
    public var finishedAtNanos: Int64 = 0
    public var exitCode: Int32 = 0
    /// "OOMKilled", "Error", "Completed" ... as the runtime says.
    public var reason: String = ""
    public var message: String = ""
    public var gracePeriodSeconds: Int64 = 30

    public init(id: String, sandboxID: String, podUID: String, name: String, attempt: UInt32, state: RuntimeContainerState,
                image: String, imageRef: String = "", specHash: String = "", createdAtNanos: Int64) {
        self.id = id
        self.sandboxID = sandboxID
        self.podUID = podUID
        self.name = name
        self.attempt = attempt
        self.state = state
        self.image = image
        self.imageRef = imageRef
        self.specHash = specHash
        self.createdAtNanos = createdAtNanos
    }
}

/// What a sandbox is made from.
public struct SandboxSpec: Sendable, Equatable {
    public var podUID: String
    public var podName: String
    public var podNamespace: String
    public var attempt: UInt32
    public var hostname: String
    public var hostNetwork: Bool
    public var logDirectory: String
    public var dnsServers: [String] = []
    public var dnsSearches: [String] = []
    public var dnsOptions: [String] = []
    public var portMappings: [PortMapping] = []
    public var labels: [String: String] = [:]
    public var annotations: [String: String] = [:]
    public var privileged = false

    public struct PortMapping: Sendable, Equatable {
        public var protocolName: String
        public var containerPort: Int32
        public var hostPort: Int32
        public var hostIP: String
    }

    public init(podUID: String, podName: String, podNamespace: String, attempt: UInt32, hostname: String,
                hostNetwork: Bool, logDirectory: String) {
        self.podUID = podUID
        self.podName = podName
        self.podNamespace = podNamespace
        self.attempt = attempt
        self.hostname = hostname
        self.hostNetwork = hostNetwork
        self.logDirectory = logDirectory
    }
}

/// What a container is made from.
public struct ContainerSpec: Sendable, Equatable {
    public var name: String
    public var attempt: UInt32
    public var image: String
    public var command: [String]
    public var args: [String]
    public var workingDir: String
    public var env: [EnvEntry]
    /// Relative to the sandbox's log directory.
    public var logPath: String
    public var labels: [String: String]
    public var annotations: [String: String]
    /// CFS quota over a 100 ms period (0: none), shares, and the memory limit in bytes (0: none).
    public var cpuQuotaMicros: Int64 = 0
    public var cpuShares: Int64 = 0
    public var memoryLimitBytes: Int64 = 0
    public var privileged = false
    public var tty = false
    public var stdin = false

    public init(name: String, attempt: UInt32, image: String, command: [String], args: [String], workingDir: String,
                env: [EnvEntry], logPath: String, labels: [String: String], annotations: [String: String]) {
        self.name = name
        self.attempt = attempt
        self.image = image
        self.command = command
        self.args = args
        self.workingDir = workingDir
        self.env = env
        self.logPath = logPath
        self.labels = labels
        self.annotations = annotations
    }
}

/// One environment variable of a container.
public struct EnvEntry: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A failed runtime call, with the runtime's words.
public struct RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The object does not exist (any more).
        case notFound
        /// The runtime could not be reached.
        case unavailable
        /// Anything else the runtime refused.
        case failed
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// A session on the runtime's streaming server: `kubectl exec`, `attach`, `port-forward`.
public enum StreamingRequest: Sendable, Equatable {
    case exec(containerID: String, command: [String], streams: StreamingIO)
    case attach(containerID: String, streams: StreamingIO)
    case portForward(sandboxID: String, ports: [Int32])
}

/// Which of a process's streams a session carries (with `tty`, stderr is merged into stdout).
public struct StreamingIO: Sendable, Equatable {
    public var stdin: Bool
    public var stdout: Bool
    public var stderr: Bool
    public var tty: Bool

    public init(stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool) {
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.tty = tty
    }
}

/// The result of running a command in a container.
public struct ExecResult: Sendable, Equatable {
    public var exitCode: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public init(exitCode: Int32, stdout: [UInt8], stderr: [UInt8]) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// The runtime, as the agent calls it: blocking calls, made on worker threads.
public protocol ContainerRuntime: AnyObject, Sendable {
    /// The runtime's name and version ("containerd 1.6.20"); throws while it is not up.
    func version() throws -> String

    func listSandboxes() throws -> [RuntimeSandbox]
    /// The sandbox's pod address ("" for host-network pods).
    func sandboxIP(id: String) throws -> String
    /// Creates and starts the sandbox (its network included); answers it as now.
    func runSandbox(_ spec: SandboxSpec) throws -> RuntimeSandbox
    /// Stops what runs in it and frees its network; no error if it is gone.
    func stopSandbox(id: String) throws
    /// Removes it and its containers; no error if it is gone.
    func removeSandbox(id: String) throws

    /// Every container, with exit details for those that ran.
    func listContainers() throws -> [RuntimeContainer]
    /// The container with the details a listing leaves out (times, exit code, reason).
    func containerDetails(_ container: RuntimeContainer) throws -> RuntimeContainer
    /// Creates and starts a container in the sandbox.
    func createAndStartContainer(sandbox: RuntimeSandbox, sandboxSpec: SandboxSpec, spec: ContainerSpec) throws -> RuntimeContainer
    /// SIGTERM, then SIGKILL after the timeout; no error if it is not running.
    func stopContainer(id: String, timeoutSeconds: Int64) throws
    func removeContainer(id: String) throws
    func exec(containerID: String, command: [String], timeoutSeconds: Int64) throws -> ExecResult
    /// A one-time URL on the runtime's streaming server for an exec, attach or port-forward
    /// session (whoever connects to it speaks Kubernetes' streaming protocols with it).
    func streamingURL(_ request: StreamingRequest) throws -> String

    /// Whether the image is present, by the reference the pod names.
    func imagePresent(_ image: String) throws -> Bool
    /// Pulls it; answers the image's id.
    func pullImage(_ image: String) throws -> String
}
