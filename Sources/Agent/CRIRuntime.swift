import CRI

// The agent's runtime in production: containerd's CRI plugin over its unix socket. Maps the
// agent's terms (ContainerRuntime.swift) to CRI v1 messages and back. Blocking calls, made
// on the agent's worker threads.

public final class CRIRuntime: ContainerRuntime {
    public let client: CRIClient
    /// Seconds a call may take before it counts as failed (a pull may take long: its own).
    public static let callTimeoutSeconds: Int64 = 60
    public static let pullTimeoutSeconds: Int64 = 600

    public init(socketPath: String) throws {
        client = try CRIClient(socketPath: socketPath)
    }

    private func call<T: Sendable>(timeout: Int64 = callTimeoutSeconds,
                                   _ body: @escaping @Sendable (CRIClient, CRICallOptions) async throws -> T) throws -> T {
        do {
            return try client.blocking { client in try await body(client, CRIClient.options(timeoutSeconds: timeout)) }
        } catch {
            switch error.code {
            case .notFound: throw RuntimeError(.notFound, error.message)
            case .unavailable: throw RuntimeError(.unavailable, "container runtime unavailable: \(error.message)")
            case .deadlineExceeded: throw RuntimeError(.failed, "container runtime did not answer in \(timeout) s: \(error.message)")
            case .other: throw RuntimeError(.failed, error.message)
            }
        }
    }

    /// A call that stops or removes something: "not found" means it is already done (CRI asks
    /// runtimes to make these idempotent; this holds for those that answer NotFound anyway).
    private func callIgnoringMissing(timeout: Int64 = callTimeoutSeconds,
                                     _ body: @escaping @Sendable (CRIClient, CRICallOptions) async throws -> Void) throws {
        do {
            try call(timeout: timeout, body)
        } catch let error as RuntimeError where error.kind == .notFound {}
    }

    public func version() throws -> String {
        try call { client, box in
            let answer = try await client.call(CRIMethods.version, Runtime_V1_VersionRequest.with { $0.version = "v1" }, options: box)
            return "\(answer.runtimeName) \(answer.runtimeVersion)"
        }
    }

    // MARK: Sandboxes

    public func listSandboxes() throws -> [RuntimeSandbox] {
        let items = try call { client, box in
            try await client.call(CRIMethods.listPodSandbox, Runtime_V1_ListPodSandboxRequest(), options: box).items
        }
        return items.map { item in
            RuntimeSandbox(id: item.id, podUID: item.metadata.uid, podName: item.metadata.name, podNamespace: item.metadata.namespace,
                           attempt: item.metadata.attempt, state: item.state == .sandboxReady ? .ready : .notReady,
                           createdAtNanos: item.createdAt, managed: item.labels[RuntimeLabels.managedBy] == "true")
        }
    }

    public func runSandbox(_ spec: SandboxSpec) throws -> RuntimeSandbox {
        let config = Self.sandboxConfig(spec)
        let id = try call { client, box in
            try await client.call(CRIMethods.runPodSandbox, Runtime_V1_RunPodSandboxRequest.with { $0.config = config }, options: box).podSandboxID
        }
        let status = try call { client, box in
            try await client.call(CRIMethods.podSandboxStatus, Runtime_V1_PodSandboxStatusRequest.with { $0.podSandboxID = id }, options: box).status
        }
        return RuntimeSandbox(id: id, podUID: spec.podUID, podName: spec.podName, podNamespace: spec.podNamespace, attempt: spec.attempt,
                              state: status.state == .sandboxReady ? .ready : .notReady, createdAtNanos: status.createdAt,
                              ip: status.network.ip)
    }

    /// The sandbox's address (ListPodSandbox does not carry it).
    public func sandboxIP(id: String) throws -> String {
        try call { client, box in
            try await client.call(CRIMethods.podSandboxStatus, Runtime_V1_PodSandboxStatusRequest.with { $0.podSandboxID = id }, options: box)
                .status.network.ip
        }
    }

    public func stopSandbox(id: String) throws {
        try callIgnoringMissing { client, box in
            _ = try await client.call(CRIMethods.stopPodSandbox, Runtime_V1_StopPodSandboxRequest.with { $0.podSandboxID = id }, options: box)
        }
    }

    public func removeSandbox(id: String) throws {
        try callIgnoringMissing { client, box in
            _ = try await client.call(CRIMethods.removePodSandbox, Runtime_V1_RemovePodSandboxRequest.with { $0.podSandboxID = id }, options: box)
        }
    }

    static func sandboxConfig(_ spec: SandboxSpec) -> Runtime_V1_PodSandboxConfig {
        Runtime_V1_PodSandboxConfig.with { config in
            config.metadata = .with {
                $0.name = spec.podName
                $0.uid = spec.podUID
                $0.namespace = spec.podNamespace
                $0.attempt = spec.attempt
            }
            config.hostname = spec.hostname
            config.logDirectory = spec.logDirectory
            if !spec.dnsServers.isEmpty || !spec.dnsSearches.isEmpty {
                config.dnsConfig = .with {
                    $0.servers = spec.dnsServers
                    $0.searches = spec.dnsSearches
                    $0.options = spec.dnsOptions
                }
            }
            config.portMappings = spec.portMappings.map { port in
                .with {
                    $0.protocol = port.protocolName == "UDP" ? .udp : port.protocolName == "SCTP" ? .sctp : .tcp
                    $0.containerPort = port.containerPort
                    $0.hostPort = port.hostPort
                    $0.hostIp = port.hostIP
                }
            }
            config.labels = spec.labels
            config.annotations = spec.annotations
            config.linux = .with { linux in
                linux.securityContext = .with {
                    $0.privileged = spec.privileged
                    $0.namespaceOptions = .with { options in
                        options.network = spec.hostNetwork ? .node : .pod
                        options.pid = .container
                        options.ipc = .pod
                    }
                }
            }
        }
    }

    // MARK: Containers

    public func listContainers() throws -> [RuntimeContainer] {
        let items = try call { client, box in
            try await client.call(CRIMethods.listContainers, Runtime_V1_ListContainersRequest(), options: box).containers
        }
        var containers: [RuntimeContainer] = []
        for item in items {
            var container = RuntimeContainer(
                id: item.id, sandboxID: item.podSandboxID, podUID: item.labels[RuntimeLabels.podUID] ?? "",
                name: item.labels[RuntimeLabels.containerName] ?? item.metadata.name, attempt: item.metadata.attempt,
                state: Self.state(item.state), image: item.image.userSpecifiedImage.isEmpty ? item.image.image : item.image.userSpecifiedImage,
                imageRef: item.imageRef, specHash: item.annotations[RuntimeLabels.specHash] ?? "", createdAtNanos: item.createdAt)
            container.gracePeriodSeconds = item.annotations[RuntimeLabels.gracePeriod].flatMap { Int64($0) } ?? PodPlan.defaultGraceSeconds
            containers.append(container)
        }
        return containers
    }

    /// The details ListContainers leaves out (start and finish times, exit code, reason).
    public func containerDetails(_ container: RuntimeContainer) throws -> RuntimeContainer {
        let id = container.id
        let status = try call { client, box in
            try await client.call(CRIMethods.containerStatus, Runtime_V1_ContainerStatusRequest.with { $0.containerID = id }, options: box).status
        }
        var detailed = container
        detailed.state = Self.state(status.state)
        detailed.startedAtNanos = status.startedAt
        detailed.finishedAtNanos = status.finishedAt
        detailed.exitCode = status.exitCode
        detailed.reason = status.reason
        detailed.message = status.message
        if !status.imageRef.isEmpty { detailed.imageRef = status.imageRef }
        return detailed
    }

    public func createAndStartContainer(sandbox: RuntimeSandbox, sandboxSpec: SandboxSpec, spec: ContainerSpec) throws -> RuntimeContainer {
        let sandboxConfig = Self.sandboxConfig(sandboxSpec)
        let config = Runtime_V1_ContainerConfig.with { config in
            config.metadata = .with {
                $0.name = spec.name
                $0.attempt = spec.attempt
            }
            config.image = .with { $0.image = spec.image }
            config.command = spec.command
            config.args = spec.args
            config.workingDir = spec.workingDir
            config.envs = spec.env.map { entry in .with { $0.key = entry.name; $0.value = entry.value } }
            config.labels = spec.labels
            config.annotations = spec.annotations
            config.logPath = spec.logPath
            config.tty = spec.tty
            config.stdin = spec.stdin
            config.linux = .with { linux in
                linux.resources = .with {
                    $0.cpuPeriod = spec.cpuQuotaMicros > 0 ? 100_000 : 0
                    $0.cpuQuota = spec.cpuQuotaMicros
                    $0.cpuShares = spec.cpuShares
                    $0.memoryLimitInBytes = spec.memoryLimitBytes
                }
                linux.securityContext = .with {
                    $0.privileged = spec.privileged
                    $0.namespaceOptions = .with { options in
                        options.network = sandboxSpec.hostNetwork ? .node : .pod
                        options.pid = .container
                        options.ipc = .pod
                    }
                }
            }
        }
        let sandboxID = sandbox.id
        let id: String
        do {
            id = try call { client, box in
                try await client.call(CRIMethods.createContainer, Runtime_V1_CreateContainerRequest.with {
                    $0.podSandboxID = sandboxID
                    $0.config = config
                    $0.sandboxConfig = sandboxConfig
                }, options: box).containerID
            }
        } catch let error as RuntimeError where error.kind != .unavailable {
            throw ContainerStartError.create(error.message)
        }
        do {
            _ = try call { client, box in
                try await client.call(CRIMethods.startContainer, Runtime_V1_StartContainerRequest.with { $0.containerID = id }, options: box)
            }
        } catch let error as RuntimeError where error.kind != .unavailable {
            // Leave nothing half made: the next attempt creates it again.
            try? removeContainer(id: id)
            throw ContainerStartError.start(error.message)
        }
        var container = RuntimeContainer(id: id, sandboxID: sandbox.id, podUID: sandboxSpec.podUID, name: spec.name, attempt: spec.attempt,
                                         state: .running, image: spec.image, specHash: spec.annotations[RuntimeLabels.specHash] ?? "",
                                         createdAtNanos: 0)
        if let detailed = try? containerDetails(container) { container = detailed }
        return container
    }

    public func stopContainer(id: String, timeoutSeconds: Int64) throws {
        try callIgnoringMissing(timeout: timeoutSeconds + Self.callTimeoutSeconds) { client, box in
            _ = try await client.call(CRIMethods.stopContainer, Runtime_V1_StopContainerRequest.with {
                $0.containerID = id
                $0.timeout = timeoutSeconds
            }, options: box)
        }
    }

    public func removeContainer(id: String) throws {
        try callIgnoringMissing { client, box in
            _ = try await client.call(CRIMethods.removeContainer, Runtime_V1_RemoveContainerRequest.with { $0.containerID = id }, options: box)
        }
    }

    public func exec(containerID: String, command: [String], timeoutSeconds: Int64) throws -> ExecResult {
        let answer = try call(timeout: timeoutSeconds + 5) { client, box in
            try await client.call(CRIMethods.execSync, Runtime_V1_ExecSyncRequest.with {
                $0.containerID = containerID
                $0.cmd = command
                $0.timeout = timeoutSeconds
            }, options: box)
        }
        return ExecResult(exitCode: answer.exitCode, stdout: Array(answer.stdout), stderr: Array(answer.stderr))
    }

    public func streamingURL(_ request: StreamingRequest) throws -> String {
        try call { client, box in
            switch request {
            case let .exec(containerID, command, io):
                return try await client.call(CRIMethods.exec, Runtime_V1_ExecRequest.with {
                    $0.containerID = containerID
                    $0.cmd = command
                    $0.stdin = io.stdin
                    $0.stdout = io.stdout
                    $0.stderr = io.stderr
                    $0.tty = io.tty
                }, options: box).url
            case let .attach(containerID, io):
                return try await client.call(CRIMethods.attach, Runtime_V1_AttachRequest.with {
                    $0.containerID = containerID
                    $0.stdin = io.stdin
                    $0.stdout = io.stdout
                    $0.stderr = io.stderr
                    $0.tty = io.tty
                }, options: box).url
            case let .portForward(sandboxID, ports):
                return try await client.call(CRIMethods.portForward, Runtime_V1_PortForwardRequest.with {
                    $0.podSandboxID = sandboxID
                    $0.port = ports
                }, options: box).url
            }
        }
    }

    // MARK: Images

    public func imagePresent(_ image: String) throws -> Bool {
        try call { client, box in
            try await client.call(CRIMethods.imageStatus, Runtime_V1_ImageStatusRequest.with { $0.image = .with { $0.image = image } }, options: box)
                .hasImage
        }
    }

    public func pullImage(_ image: String) throws -> String {
        try call(timeout: Self.pullTimeoutSeconds) { client, box in
            try await client.call(CRIMethods.pullImage, Runtime_V1_PullImageRequest.with { $0.image = .with { $0.image = image } }, options: box)
                .imageRef
        }
    }

    static func state(_ state: Runtime_V1_ContainerState) -> RuntimeContainerState {
        switch state {
        case .containerCreated: return .created
        case .containerRunning: return .running
        case .containerExited: return .exited
        default: return .unknown
        }
    }
}

/// Which part of a start failed: kubelet's waiting reasons tell them apart.
public enum ContainerStartError: Error, Sendable {
    case create(String)
    case start(String)
}
