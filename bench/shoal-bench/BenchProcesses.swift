// Running helper programs with bounded waits, and undoing everything the failover benchmark
// started when it ends: normally, on an error, or on Ctrl-C / SIGTERM.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why the failover benchmark stopped.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What a finished command printed.
struct CommandOutput {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Seconds it ran.
    var seconds: Double
}

/// Runs `arguments` (the first is looked up on PATH) and waits at most `timeout` seconds; a
/// command that runs longer is sent SIGTERM, then SIGKILL. Output goes to temporary files
/// (no pipe to fill up and block the child).
@discardableResult
func runCommand(_ arguments: [String], timeout: Double, environment: [String: String]? = nil,
                check: Bool = true) throws -> CommandOutput {
    guard !Cleanup.shared.isAborting else { throw BenchFailure("interrupted") }
    let outPath = NSTemporaryDirectory() + "shoal-bench-\(getpid())-\(UUID().uuidString).out"
    let errPath = outPath + ".err"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle(forWritingAtPath: outPath)
    process.standardError = FileHandle(forWritingAtPath: errPath)
    let start = monotonicNanoseconds()
    try process.run()
    let pid = process.processIdentifier
    let deadline = start + UInt64(timeout * 1e9)
    var timedOut = false
    var killAt: UInt64?
    // Foundation's Process sometimes never noticed a child's exit under this benchmark's
    // hundreds of threads (a zombie, and waitUntilExit blocking for good, which hung a
    // run). A child that has been a zombie for a while is taken as finished, with the exit
    // status the kernel shows for it (reaping it here could confuse Foundation's monitor).
    var reapedStatus: Int32?
    var zombieSince: UInt64?
    while process.isRunning {
        if !processIsAlive(pid) {
            let now = monotonicNanoseconds()
            if let since = zombieSince, now - since > 200_000_000 {
                reapedStatus = zombieExitStatus(pid) ?? -1
                break
            }
            zombieSince = zombieSince ?? now
        }
        let now = monotonicNanoseconds()
        if now > deadline && killAt == nil {
            timedOut = true
            kill(pid, SIGTERM)
            killAt = now + 2_000_000_000
        } else if let at = killAt, now > at {
            kill(pid, SIGKILL)
            killAt = .max
        }
        sleepNanoseconds(1_000_000)
    }
    let status = reapedStatus ?? process.terminationStatus
    let output = CommandOutput(
        status: status,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
        seconds: Double(monotonicNanoseconds() - start) / 1e9)
    if timedOut {
        throw BenchFailure("`\(arguments.joined(separator: " "))` did not finish within \(timeout) s\n\(output.stderr)")
    }
    if check && output.status != 0 {
        throw BenchFailure("`\(arguments.joined(separator: " "))` failed (exit \(output.status)):\n\(output.stderr)\(output.stdout)")
    }
    return output
}

/// The exit status of a zombie, from the last field of /proc/PID/stat (Linux 3.5+).
func zombieExitStatus(_ pid: Int32) -> Int32? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let raw = stat.split(separator: " ").last.flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else { return nil }
    return exitStatus(raw)
}

/// `apt-get install -y` of `packages`, with an `apt-get update` first if the install fails
/// (a fresh machine's package lists may be missing or stale).
func aptInstall(_ packages: [String]) throws {
    let environment = ["DEBIAN_FRONTEND": "noninteractive"]
    let install = ["apt-get", "install", "-y", "-q"] + packages
    if try runCommand(install, timeout: 600, environment: environment, check: false).status != 0 {
        try runCommand(["apt-get", "update", "-q"], timeout: 600, environment: environment)
        try runCommand(install, timeout: 600, environment: environment)
    }
}

/// The exit code of a waitpid status, or 128 + the signal that ended the process.
func exitStatus(_ raw: Int32) -> Int32 {
    let signal = raw & 0x7f
    return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
}

/// Starts a long-running program in the background (its output appended to `logPath`) and
/// returns its pid. The caller stops it (see `stopProcess`).
func spawnBackground(_ arguments: [String], logPath: String) throws -> Process {
    guard !Cleanup.shared.isAborting else { throw BenchFailure("interrupted") }
    if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
    guard let log = FileHandle(forWritingAtPath: logPath) else { throw BenchFailure("cannot write \(logPath)") }
    log.seekToEndOfFile()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = log
    process.standardError = log
    try process.run()
    return process
}

/// Whether `pid` is a live process (not a zombie).
func processIsAlive(_ pid: Int32) -> Bool {
    guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// SIGTERM (and SIGCONT, so that a stopped process can act on it), then SIGKILL after
/// `grace` seconds; waits until the process is gone (bounded).
func stopProcess(_ process: Process, grace: Double = 3) {
    let pid = process.processIdentifier
    guard process.isRunning else { return }
    kill(pid, SIGTERM)
    kill(pid, SIGCONT)
    let killAt = monotonicNanoseconds() + UInt64(grace * 1e9)
    while process.isRunning && monotonicNanoseconds() < killAt { sleepNanoseconds(10_000_000) }
    if process.isRunning {
        kill(pid, SIGKILL)
        let giveUp = monotonicNanoseconds() + 5_000_000_000
        while process.isRunning && monotonicNanoseconds() < giveUp { sleepNanoseconds(10_000_000) }
    }
}

/// Actions that undo what the benchmark started, run once (newest first) at the end, on an
/// error, or when SIGINT/SIGTERM arrives.
final class Cleanup: @unchecked Sendable {
    static let shared = Cleanup()

    private let lock = NSLock()
    private var actions: [(name: String, run: () -> Void)] = []
    private var aborting = false
    private var ran = false

    /// True once a signal asked the benchmark to stop: no new processes are started.
    var isAborting: Bool { lock.lock(); defer { lock.unlock() }; return aborting }

    /// Registers an action; returns a token for `remove`.
    @discardableResult
    func add(_ name: String, _ run: @escaping () -> Void) -> String {
        lock.lock(); defer { lock.unlock() }
        actions.append((name, run))
        return name
    }

    /// Forgets the action registered under `name` (it was undone normally).
    func remove(_ name: String) {
        lock.lock(); defer { lock.unlock() }
        actions.removeAll { $0.name == name }
    }

    /// Runs every action, newest first; later calls do nothing.
    func runAll() {
        lock.lock()
        if ran { lock.unlock(); return }
        ran = true
        let pending = actions.reversed()
        actions = []
        lock.unlock()
        for action in pending {
            FileHandle.standardError.write(Data("cleanup: \(action.name)\n".utf8))
            action.run()
        }
    }

    /// SIGINT and SIGTERM set a flag that a watcher thread acts on: it runs the cleanup and
    /// exits with 130. (Handlers are reset in child processes on exec, so helpers and
    /// servers keep their default signal behaviour.)
    func installSignalHandlers() {
        signal(SIGINT) { _ in cleanupSignalled = 1 }
        signal(SIGTERM) { _ in cleanupSignalled = 1 }
        let thread = Thread {
            while cleanupSignalled == 0 { sleepNanoseconds(50_000_000) }
            Cleanup.shared.lock.lock()
            Cleanup.shared.aborting = true
            Cleanup.shared.lock.unlock()
            FileHandle.standardError.write(Data("\ninterrupted: stopping everything the benchmark started\n".utf8))
            Cleanup.shared.runAll()
            exit(130)
        }
        thread.start()
    }
}

nonisolated(unsafe) private var cleanupSignalled: sig_atomic_t = 0
