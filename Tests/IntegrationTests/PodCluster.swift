import Foundation
import JSON
import XCTest

/// Three real hosts that run pods: `scripts/cluster up 3` (each host its own network
/// namespace and containerd), a private registry (Debian's docker-registry, plain HTTP on
/// the cluster bridge's address) holding the images scripts/images builds, and the real
/// kubectl. Needs root and the packages .ci/run installs; tests skip otherwise.
final class PodCluster {
    let repository: String
    let base: String
    let net: Int
    let kubectl: String
    let kubeconfig: String
    var registry: Process?
    /// The host whose API kubectl talks to (the kubeconfig names h1; a test that kills h1
    /// points kubectl elsewhere first).
    var apiHost = "h1"

    var registryAddress: String { "10.88.\(net).254:5000" }

    init(net: Int) throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (network namespaces, containerd)") }
        for binary in ["/usr/bin/containerd", "/usr/sbin/runc", "/usr/lib/cni/bridge", "/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/umoci"]
        where !FileManager.default.isExecutableFile(atPath: binary) {
            throw XCTSkip("\(binary) is missing (scripts/setup installs it)")
        }
        guard let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("kubectl is not installed")
        }
        guard FileManager.default.isExecutableFile(atPath: TestCluster.binary) else { throw XCTSkip("shoal is not built") }
        self.kubectl = kubectl
        self.net = net
        repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        base = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-pods-\(UUID().uuidString)").path
        kubeconfig = base + ".kubeconfig"
    }

    /// Up: hosts, registry, images, kubeconfig.
    func start() throws {
        let pause = try tool(["/bin/bash", repository + "/scripts/images", "pause-archive"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try cluster(["up", "3", "--net", String(net), "--mode", "netns", "--binary", TestCluster.binary, "--timeout", "60",
                         "--", "--insecure-registry", registryAddress, "--sandbox-image-archive", pause])
        try startRegistry()
        _ = try tool(["/bin/bash", repository + "/scripts/images", "push", registryAddress])
        let config = try cluster(["exec", "h1", "shoal", "kubeconfig"])
        try config.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
    }

    func stop() {
        registry?.terminate()
        registry?.waitUntilExit()
        _ = try? cluster(["down"])
        try? FileManager.default.removeItem(atPath: kubeconfig)
        try? FileManager.default.removeItem(atPath: base + ".registry")
    }

    private func startRegistry() throws {
        let directory = base + ".registry"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
        version: 0.1
        log:
          level: warn
        storage:
          filesystem:
            rootdirectory: \(directory)/data
        http:
          addr: \(registryAddress)

        """
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", directory + "/config.yml"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        registry = process
        try waitFor("the registry", timeout: 10) {
            (try? self.tool(["/usr/bin/curl", "-sf", "http://\(self.registryAddress)/v2/"])) != nil
        }
    }

    // MARK: Commands

    @discardableResult
    func cluster(_ arguments: [String]) throws -> String {
        try tool(["/bin/bash", repository + "/scripts/cluster", "--base", base] + arguments)
    }

    /// Runs a command on host `host` (its network namespace).
    func onHost(_ host: String, _ command: [String]) throws -> String {
        try cluster(["exec", host] + command)
    }

    @discardableResult
    func k(_ arguments: [String]) throws -> String {
        let address = try cluster(["addr", apiHost]).trimmingCharacters(in: .whitespacesAndNewlines)
        return try tool([kubectl, "--kubeconfig", kubeconfig, "--server", "https://\(address):7401"] + arguments)
    }

    func json(_ arguments: [String]) throws -> JSONValue {
        try JSONValue.parse(Array(k(arguments + ["-o", "json"]).utf8))
    }

    func apply(_ manifest: String) throws {
        let path = base + ".manifest.yaml"
        try manifest.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try k(["apply", "-f", path])
    }

    /// kubectl with `input` on its stdin: its exit status, stdout and stderr (a failure is
    /// not an error here: the caller checks the status).
    func kRun(_ arguments: [String], input: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let address = try cluster(["addr", apiHost]).trimmingCharacters(in: .whitespacesAndNewlines)
        return try run([kubectl, "--kubeconfig", kubeconfig, "--server", "https://\(address):7401"] + arguments, input: input)
    }

    /// Runs a command; its output, or an error with the output when it fails.
    @discardableResult
    func tool(_ command: [String]) throws -> String {
        let result = try run(command)
        guard result.status == 0 else {
            throw TestClusterError("\(command.joined(separator: " ")) failed (\(result.status)): \(result.out)\(result.err)")
        }
        return result.out
    }

    /// Runs a command to its end, with `input` on its stdin (else none).
    func run(_ command: [String], input: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        let errors = Pipe()
        process.standardError = errors
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // stderr is read on another thread so that neither pipe can fill up and stall the tool.
        let errorData = DataBox()
        let errorsRead = DispatchSemaphore(value: 0)
        Thread {
            errorData.value = errors.fileHandleForReading.readDataToEndOfFile()
            errorsRead.signal()
        }.start()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errorData.value, as: UTF8.self))
    }

    func waitFor(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if (try? condition()) == true { return }
            guard Date() < deadline else { throw TestClusterError("timed out after \(timeout) s waiting for \(what)") }
            usleep(100_000)
        }
    }

    /// The pods with this label, as (name, node, IP, ready, container id, restarts).
    func pods(_ selector: String) throws -> [(name: String, node: String, ip: String, ready: Bool, containerID: String, restarts: Int)] {
        let items = try json(["get", "pods", "-l", selector])["items"]?.arrayValue ?? []
        return items.filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }.map { pod in
            let ready = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
                $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
            }
            return (pod[path: ["metadata", "name"]]?.stringValue ?? "", pod[path: ["spec", "nodeName"]]?.stringValue ?? "",
                    pod[path: ["status", "podIP"]]?.stringValue ?? "", ready,
                    pod[path: ["status", "containerStatuses", 0, "containerID"]]?.stringValue ?? "",
                    Int(pod[path: ["status", "containerStatuses", 0, "restartCount"]]?.intValue ?? 0))
        }
    }
}

/// What one thread reads for another (handed over through a semaphore).
private final class DataBox: @unchecked Sendable {
    var value = Data()
}
