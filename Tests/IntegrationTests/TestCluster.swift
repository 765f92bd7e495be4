import API
import Foundation
import JSON
import XCTest

/// Real `shoal` processes as hosts on loopback addresses 127.0.N.1…, each with its own data
/// directory under a temporary base. Everything started is killed, and every file and
/// firewall rule removed, when the cluster is shut down (also from `deinit`, so a failing
/// test leaves nothing behind).
final class TestCluster {
    struct Host {
        let name: String
        let ip: String
        let dataDir: String
        var process: Process?
        var extraArguments: [String] = []
    }

    static let peerPort: UInt16 = 7400
    static let apiPort: UInt16 = 7401
    /// Each cluster gets its own 127.0.N.0/24, so tests and concurrent runs never collide.
    nonisolated(unsafe) static var nextSubnet = UInt8(100 + (getpid() % 100))

    let base: String
    let subnet: UInt8
    private(set) var hosts: [String: Host] = [:]
    private(set) var token = ""
    private var firewallRules: [[String]] = []

    /// The `shoal` binary built beside the test bundle (or `SHOAL_BINARY`).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SHOAL_BINARY"] { return path }
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidate = directory.appendingPathComponent("shoal").path
        if !FileManager.default.fileExists(atPath: candidate) {
            // The test bundle may be a directory (…/shoalPackageTests.xctest/…).
            candidate = directory.deletingLastPathComponent().appendingPathComponent("shoal").path
        }
        return candidate
    }

    init(hostCount: Int) throws {
        subnet = Self.nextSubnet
        Self.nextSubnet = Self.nextSubnet == 250 ? 100 : Self.nextSubnet + 1
        base = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-it-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw XCTSkip("the shoal binary is not built at \(Self.binary) (run `swift build` first)")
        }
        for i in 1...hostCount { addHost(i) }
        token = try run([Self.binary, "token", "--generate"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { shutDown() }

    @discardableResult
    func addHost(_ i: Int) -> String {
        let name = "h\(i)"
        hosts[name] = Host(name: name, ip: "127.0.\(subnet).\(i)", dataDir: "\(base)/\(name)")
        return name
    }

    var names: [String] { hosts.keys.sorted() }
    func ip(_ name: String) -> String { hosts[name]!.ip }
    var founders: String { names.map { ip($0) }.joined(separator: ",") }

    // MARK: Processes

    /// Starts `shoal agent` on a host (as a founder with the current `founders`, unless
    /// `founding` is false).
    func start(_ name: String, founding: Bool = true, extra: [String] = []) throws {
        var host = hosts[name]!
        precondition(host.process?.isRunning != true, "\(name) is already running")
        // Loopback hosts share the machine's network namespace: they run no pods.
        var arguments = ["agent", "--data-dir", host.dataDir, "--advertise", host.ip, "--log-level", "info", "--no-workloads"]
        if founding { arguments += ["--peers", founders, "--token", token] }
        arguments += extra
        host.extraArguments = (founding ? ["--peers", founders, "--token", token] + extra : extra) + ["--no-workloads"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        let log = FileHandle(forWritingAtPath: logPath(name)) ?? {
            FileManager.default.createFile(atPath: logPath(name), contents: nil)
            return FileHandle(forWritingAtPath: logPath(name))!
        }()
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        host.process = process
        hosts[name] = host
        try waitFor("\(name)'s API", timeout: 10) { (try? self.status(name)) != nil }
    }

    /// Starts it again with the arguments it had.
    func restart(_ name: String) throws {
        var host = hosts[name]!
        host.process = nil
        hosts[name] = host
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["agent", "--data-dir", host.dataDir, "--advertise", host.ip] + host.extraArguments
        let log = FileHandle(forWritingAtPath: logPath(name))!
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        host.process = process
        hosts[name] = host
        try waitFor("\(name)'s API", timeout: 10) { (try? self.status(name)) != nil }
    }

    /// Starts it again with its arguments changed: `remove` dropped (a flag and its value, as
    /// consecutive arguments), `add` appended.
    func restartReplacing(_ name: String, remove: [String] = [], add: [String] = [], waitForAPI: Bool = true) throws {
        var host = hosts[name]!
        var arguments = host.extraArguments
        if !remove.isEmpty, let start = (0...(max(0, arguments.count - remove.count))).first(where: {
            Array(arguments[$0..<min(arguments.count, $0 + remove.count)]) == remove
        }) {
            arguments.removeSubrange(start..<start + remove.count)
        }
        host.extraArguments = arguments + add
        hosts[name] = host
        if waitForAPI {
            try restart(name)
        } else {
            try? restart(name)
        }
    }

    func kill(_ name: String, signal: Int32 = SIGKILL) {
        guard let process = hosts[name]?.process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        if signal == SIGKILL || signal == SIGTERM { process.waitUntilExit() }
    }

    func isRunning(_ name: String) -> Bool { hosts[name]?.process?.isRunning == true }

    func logPath(_ name: String) -> String { "\(base)/\(name).log" }
    func log(_ name: String) -> String { (try? String(contentsOfFile: logPath(name), encoding: .utf8)) ?? "" }

    func shutDown() {
        for (name, host) in hosts where host.process?.isRunning == true {
            Foundation.kill(host.process!.processIdentifier, SIGKILL)
            host.process!.waitUntilExit()
            _ = name
        }
        healAll()
        if ProcessInfo.processInfo.environment["SHOAL_KEEP_TEST_DATA"] == nil {
            try? FileManager.default.removeItem(atPath: base)
        }
    }

    // MARK: Network faults (root: iptables on the loopback addresses)

    /// Drops every Raft peer packet to and from a host (no FIN, no RST), leaving its API up.
    func cut(_ name: String) throws {
        guard getuid() == 0 else { throw XCTSkip("cutting a host needs root (iptables)") }
        let address = ip(name)
        let port = String(Self.peerPort)
        for rule in [["-s", address, "--dport", port], ["-s", address, "--sport", port],
                     ["-d", address, "--dport", port], ["-d", address, "--sport", port]] {
            let full = ["INPUT", "-p", "tcp"] + rule + ["-j", "DROP"]
            let result = try run(["/usr/sbin/iptables", "-I"] + full)
            guard result.status == 0 else { throw XCTSkip("iptables is not usable here: \(result.output)") }
            firewallRules.append(full)
        }
    }

    func healAll() {
        for rule in firewallRules { _ = try? run(["/usr/sbin/iptables", "-D"] + rule) }
        firewallRules = []
    }

    // MARK: Talking to hosts

    var apiToken: String { (try? String(contentsOfFile: "\(hosts[names[0]]!.dataDir)/api-token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }

    func apiToken(of name: String) -> String {
        (try? String(contentsOfFile: "\(hosts[name]!.dataDir)/api-token", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// An HTTPS client for a host's API that verifies it against the CA in the host's data
    /// directory (`ca.crt`: the cluster's once it is a member, its own local CA before), or
    /// `trusting` another host's; plain HTTP for an agent run with `--insecure-http`.
    func httpClient(_ name: String, timeoutMilliseconds: Int = 5_000, trusting caHost: String? = nil) throws -> HTTPClient {
        var client = HTTPClient(host: ip(name), port: Self.apiPort, timeoutMilliseconds: timeoutMilliseconds)
        let endpoint = try? String(contentsOfFile: "\(hosts[name]!.dataDir)/api-endpoint", encoding: .utf8)
        if endpoint?.hasPrefix("http://") == true { return client }
        let path = "\(hosts[caHost ?? name]!.dataDir)/ca.crt"
        guard let ca = try? String(contentsOfFile: path, encoding: .utf8) else { throw TestClusterError("\(path) is missing") }
        try client.useTLS(trustedRootsPEM: ca)
        return client
    }

    /// One API call to a host: (status, parsed body).
    func api(_ name: String, _ method: String, _ target: String, body: JSONValue? = nil, token: String? = nil,
             timeoutMilliseconds: Int = 5_000) throws -> (status: Int, body: JSONValue) {
        let client = try httpClient(name, timeoutMilliseconds: timeoutMilliseconds)
        var headers = [("Authorization", "Bearer \(token ?? apiToken(of: name))")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let reply = try client.send(method: method, target: target, headers: headers, body: body?.serialized() ?? [])
        let json = reply.body.isEmpty ? JSONValue.null : ((try? JSONValue.parse(reply.body)) ?? .string(String(decoding: reply.body, as: UTF8.self)))
        return (reply.status, json)
    }

    func status(_ name: String) throws -> JSONValue {
        let (code, body) = try api(name, "GET", "/shoal/v1/status", timeoutMilliseconds: 1_000)
        guard code == 200 else { throw TestClusterError("status \(code)") }
        return body
    }

    /// Runs the CLI against a host's agent.
    func cli(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try run([Self.binary] + arguments + ["--data-dir", hosts[name]!.dataDir])
    }

    /// The host currently leading, as every running host agrees.
    func leader(among candidates: [String]? = nil) -> String? {
        var seen: Set<String> = []
        for name in candidates ?? names where isRunning(name) {
            guard let status = try? status(name), let leader = status["leader"]?.stringValue else { return nil }
            seen.insert(leader)
        }
        guard seen.count == 1, let leaderName = seen.first,
              let host = names.first(where: { memberName($0) == leaderName }) else { return nil }
        // A leader outside the candidates (say, one just cut off) does not count.
        return (candidates ?? names).contains(host) ? host : nil
    }

    func waitForLeader(among candidates: [String]? = nil, timeout: Double = 15) throws -> String {
        var found: String?
        try waitFor("a leader", timeout: timeout) {
            found = self.leader(among: candidates)
            return found != nil
        }
        return found!
    }

    /// A loop stall (`shoal_loop_stall_max_seconds`) this long means something blocked the
    /// loop (a blocking call, a wait); CPU starvation on a busy 2-core CI machine stays well
    /// under it.
    static let loopStallSecondsMax = 1.0

    /// The value of an unlabelled sample on the host's `/metrics` (nil when it is absent).
    func metric(_ name: String, _ family: String) throws -> Double? {
        let text = try api(name, "GET", "/metrics", token: "").body.stringValue ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(family + " ") }
        return line.flatMap { Double($0.split(separator: " ")[1]) }
    }

    /// The sum of a family's samples on the host's `/metrics`, whatever their labels (nil
    /// when it has none).
    func metricSum(_ name: String, _ family: String) throws -> Double? {
        let text = try api(name, "GET", "/metrics", token: "").body.stringValue ?? ""
        let values = text.split(separator: "\n").filter { $0.hasPrefix(family + " ") || $0.hasPrefix(family + "{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        return values.isEmpty ? nil : values.reduce(0, +)
    }

    func waitFor(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(50_000)
        }
        throw TestClusterError("timed out after \(timeout) s waiting for \(what)\n" + names.map { "--- \($0):\n" + log($0).suffix(2000) }.joined(separator: "\n"))
    }

    func memberName(_ name: String) -> String { "shoal-" + ip(name).replacingOccurrences(of: ".", with: "-") }

    // MARK: Helpers

    @discardableResult
    func run(_ command: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

struct TestClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func configMap(_ name: String, _ data: [String: String], namespace: String = "default") -> JSONValue {
    .object(JSONObject([
        ("apiVersion", "v1"), ("kind", "ConfigMap"),
        ("metadata", .object(JSONObject([("name", .string(name)), ("namespace", .string(namespace))]))),
        ("data", .object(JSONObject(data.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
    ]))
}
