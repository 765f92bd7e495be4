import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// containerd as a dependency shoal manages: the config written by shoal (everything under
// the member's data directory, cgroupfs, the CRI plugin with the settings this kind of host
// needs, the sandbox image, registries, CNI directories), the daemon started and restarted
// when it exits, and stopped with the member. It is started with a parent-death signal, so
// a member killed outright takes its containerd with it — the containers keep running
// (their shims are separate processes) and the next containerd and agent adopt them.

public struct ContainerdSettings: Sendable, Equatable {
    /// Everything containerd keeps: root, state, socket, config, log, registry hosts.
    public var directory: String
    /// Where the CNI config lives (written by the agent) and where the plugins are.
    public var cniConfigDirectory: String
    public var cniBinDirectory = "/usr/lib/cni"
    /// The pod sandbox's image, and an archive to import it from when missing (no registry
    /// on the internet is needed: scripts/images builds it from busybox).
    public var sandboxImage = "shoal.local/pause:1"
    public var sandboxImageArchive = "/var/lib/shoal/images/pause.tar"
    /// Registries reached over plain HTTP ("host:port").
    public var insecureRegistries: [String] = []
    public var containerdBinary = "/usr/bin/containerd"
    /// A command containerd is started through (tests: `nsenter --net=/run/netns/NS --`, so its pods'
    /// network lives in a namespace of their own); empty in production, where the member
    /// already runs in the host's namespaces.
    public var launcher: [String] = []
    public var runcBinary = "/usr/sbin/runc"

    public init(directory: String, cniConfigDirectory: String) {
        self.directory = directory
        self.cniConfigDirectory = cniConfigDirectory
    }

    public var socketPath: String { "\(directory)/containerd.sock" }
    public var configPath: String { "\(directory)/config.toml" }
    public var logPath: String { "\(directory)/containerd.log" }
    public var registryHostsDirectory: String { "\(directory)/certs.d" }

    /// containerd 1.6's config (version 2).
    public var configText: String {
        """
        # Written by shoal at every start; edits are lost (shoal agent's flags set it).
        version = 2
        root = "\(directory)/root"
        state = "\(directory)/state"
        oom_score = 0

        [grpc]
          address = "\(socketPath)"

        [ttrpc]
          address = "\(socketPath).ttrpc"

        [debug]
          level = "warn"

        [plugins]
          [plugins."io.containerd.grpc.v1.cri"]
            sandbox_image = "\(sandboxImage)"
            systemd_cgroup = false
            disable_tcp_service = true
            stream_server_address = "127.0.0.1"
            stream_server_port = "0"
            enable_selinux = false
            disable_apparmor = true
            # Hosts without CAP_SYS_RESOURCE (containers, some VMs) cannot lower oom_score_adj:
            # never ask for less than containerd's own.
            restrict_oom_score_adj = true
            max_concurrent_downloads = 3
            [plugins."io.containerd.grpc.v1.cri".containerd]
              snapshotter = "overlayfs"
              default_runtime_name = "runc"
              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                runtime_type = "io.containerd.runc.v2"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                  SystemdCgroup = false
                  BinaryName = "\(runcBinary)"
                  Root = "\(directory)/runc"
            [plugins."io.containerd.grpc.v1.cri".cni]
              bin_dir = "\(cniBinDirectory)"
              conf_dir = "\(cniConfigDirectory)"
              max_conf_num = 1
            [plugins."io.containerd.grpc.v1.cri".registry]
              config_path = "\(registryHostsDirectory)"
          [plugins."io.containerd.internal.v1.opt"]
            path = "\(directory)/opt"

        """
    }

    /// certs.d/HOST:PORT/hosts.toml for a plain-HTTP registry.
    public static func registryHostsText(_ registry: String) -> String {
        """
        # Written by shoal: \(registry) is reached over plain HTTP.
        server = "http://\(registry)"

        [host."http://\(registry)"]
          capabilities = ["pull", "resolve", "push"]
          skip_verify = true

        """
    }
}

/// A supervised containerd process.
public final class ManagedContainerd: Sendable {
    public let settings: ContainerdSettings
    /// Restart delays: 1 s, doubling, at most 30 s.
    static let restartDelayInitialSeconds = 1.0
    static let restartDelayMaxSeconds = 30.0

    private struct State {
        var pid: pid_t = 0
        var started = false
        var stopped = false
        var starts = 0
        var lastExit = ""
    }

    private let state = Mutex(State())
    private let supervisorDone = DispatchSemaphore(value: 0)
    /// Seconds containerd gets to stop after SIGTERM before SIGKILL.
    static let stopGraceSeconds = 10

    public init(settings: ContainerdSettings) {
        self.settings = settings
    }

    /// How often it was started, and how it last ended.
    public var starts: Int { state.withLock { $0.starts } }
    public var lastExit: String { state.withLock { $0.lastExit } }

    /// Writes the config and starts the daemon on a supervising thread of its own.
    public func start() throws {
        let files = FileManager.default
        for directory in [settings.directory, settings.cniConfigDirectory, settings.registryHostsDirectory] {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try settings.configText.write(toFile: settings.configPath, atomically: true, encoding: .utf8)
        for registry in settings.insecureRegistries {
            let directory = "\(settings.registryHostsDirectory)/\(registry)"
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try ContainerdSettings.registryHostsText(registry).write(toFile: "\(directory)/hosts.toml", atomically: true, encoding: .utf8)
        }
        guard files.isExecutableFile(atPath: settings.containerdBinary) else {
            throw RuntimeError(.unavailable, "\(settings.containerdBinary) not found (apt-get install containerd runc containernetworking-plugins)")
        }
        state.withLock { $0.started = true }
        let thread = Foundation.Thread { [self] in
            supervise()
            supervisorDone.signal()
        }
        thread.name = "shoal-containerd"
        thread.start()
    }

    /// Stops the daemon (SIGTERM, SIGKILL after `stopGraceSeconds`) and its supervision;
    /// the containers keep running.
    public func stop() {
        let (started, pid) = state.withLock { state -> (Bool, pid_t) in
            state.stopped = true
            return (state.started, state.pid)
        }
        guard started else { return }
        if pid > 0 { kill(pid, SIGTERM) }
        if supervisorDone.wait(timeout: .now() + .seconds(Self.stopGraceSeconds)) == .timedOut {
            let pid = state.withLock { $0.pid }
            if pid > 0 { kill(pid, SIGKILL) }
            supervisorDone.wait()
        }
        supervisorDone.signal()
    }

    private func supervise() {
        var delay = Self.restartDelayInitialSeconds
        while true {
            let setpriv = "/usr/bin/setpriv"
            var command = settings.launcher + [settings.containerdBinary, "--config", settings.configPath]
            if FileManager.default.isExecutableFile(atPath: setpriv) {
                // Dies with the member (the containers do not: their shims are separate).
                command = [setpriv, "--pdeathsig", "KILL", "--"] + command
            }
            let began = Date()
            let spawned = state.withLock { state -> Result<pid_t, RuntimeError>? in
                guard !state.stopped else { return nil }
                state.starts += 1
                let result = ChildProcess.spawn(command, outputPath: settings.logPath)
                if case .success(let pid) = result { state.pid = pid }
                return result
            }
            guard let spawned else { return }
            switch spawned {
            case .success(let pid):
                let status = ChildProcess.wait(pid)
                state.withLock { state in
                    state.pid = 0
                    state.lastExit = "\(status) after \(Int(Date().timeIntervalSince(began))) s"
                }
            case .failure(let error):
                state.withLock { $0.lastExit = "could not start: \(error)" }
            }
            if state.withLock({ $0.stopped }) { return }
            // A daemon that ran a while starts again at once; one that keeps failing waits longer.
            delay = Date().timeIntervalSince(began) > 60 ? Self.restartDelayInitialSeconds : min(delay * 2, Self.restartDelayMaxSeconds)
            Foundation.Thread.sleep(forTimeInterval: delay)
        }
    }

    /// Imports the sandbox image from its archive when the runtime lacks it (`ctr`, which
    /// containerd ships; CRI has no import).
    public static func importSandboxImage(settings: ContainerdSettings, runtime: ContainerRuntime) throws {
        if try runtime.imagePresent(settings.sandboxImage) { return }
        guard FileManager.default.fileExists(atPath: settings.sandboxImageArchive) else {
            throw RuntimeError(.failed, "the sandbox image \(settings.sandboxImage) is missing and \(settings.sandboxImageArchive) does not exist (scripts/images pause-archive builds it)")
        }
        let ctr = Process()
        ctr.executableURL = URL(fileURLWithPath: "/usr/bin/ctr")
        ctr.arguments = ["--address", settings.socketPath, "--namespace", "k8s.io", "images", "import", settings.sandboxImageArchive]
        let output = Pipe()
        ctr.standardOutput = output
        ctr.standardError = output
        try ctr.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ctr.waitUntilExit()
        guard ctr.terminationStatus == 0, try runtime.imagePresent(settings.sandboxImage) else {
            throw RuntimeError(.failed, "importing \(settings.sandboxImageArchive) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}
