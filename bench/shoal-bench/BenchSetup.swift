// What every cluster benchmark needs before it starts: the shoal binary to run, the commit
// it was built from, and progress lines that show up at once.
import Foundation

/// The shoal binary a benchmark runs: `explicit` (--binary), else the `shoal` built beside
/// this shoal-bench, else `<repository>/.build/release/shoal` (built if missing).
func shoalBinary(explicit: String?, repository: String) throws -> String {
    if let explicit {
        guard FileManager.default.isExecutableFile(atPath: explicit) else { throw BenchFailure("--binary \(explicit) is not an executable file") }
        return URL(fileURLWithPath: explicit).standardizedFileURL.resolvingSymlinksInPath().path
    }
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("shoal").path
    if FileManager.default.isExecutableFile(atPath: beside) { return URL(fileURLWithPath: beside).resolvingSymlinksInPath().path }
    let path = "\(repository)/.build/release/shoal"
    if !FileManager.default.isExecutableFile(atPath: path) {
        say("building shoal (swift build -c release --product shoal)")
        try runCommand(["swift", "build", "-c", "release", "--product", "shoal"], timeout: 1800)
    }
    return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
}

/// `git describe --always --dirty` of the repository ("unknown" outside a checkout).
func gitCommit(_ repository: String) -> String {
    (try? runCommand(["git", "-C", repository, "describe", "--always", "--dirty"], timeout: 10, check: false).stdout
        .trimmingCharacters(in: .whitespacesAndNewlines)) ?? "unknown"
}

/// Prints a line of progress at once (stdout is block-buffered when it is a file or a pipe).
func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// What a benchmark on hosts with containerd (podnet, proxy, workload) has before it starts
/// them: root and its tools checked, the machine, the repository, the shoal binary, the pod
/// sandbox's image archive, and signal handlers that tear down what it starts (the caller
/// runs `Cleanup.shared.runAll()` at its end).
struct PodBenchSetup {
    let began: UInt64
    let machine: Machine
    let repository: String
    let binary: String
    let pause: String

    /// `tools`: executables the benchmark runs, with the Debian package that has each.
    init(_ name: String, binary explicit: String?, tools: [(path: String, package: String)] = []) throws {
        guard getuid() == 0 else { throw BenchFailure("\(name) needs root: scripts/cluster's namespaces and containerd") }
        for tool in tools where !FileManager.default.isExecutableFile(atPath: tool.path) {
            throw BenchFailure("\(tool.path) is missing (apt-get install \(tool.package))")
        }
        began = monotonicNanoseconds()
        machine = Machine.current()
        say("machine: \(machine.summary)")
        repository = FileManager.default.currentDirectoryPath
        binary = try shoalBinary(explicit: explicit, repository: repository)
        Cleanup.shared.installSignalHandlers()
        pause = try runCommand(["/bin/bash", "\(repository)/scripts/images", "pause-archive"], timeout: 300).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
