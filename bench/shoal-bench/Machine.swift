// A description of the machine a benchmark ran on, recorded in every JSON result.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The host a benchmark ran on, as far as it can be learned cheaply.
struct Machine: Codable {
    /// Processors online (what `nproc` prints).
    var processors: Int
    /// `uname -srvm`: kernel name, release, version and hardware.
    var uname: String
    /// The CPU model from /proc/cpuinfo, if readable.
    var cpuModel: String?
    /// The distribution from /etc/os-release, if readable.
    var operatingSystem: String?
    /// The first line of `swift --version` for the toolchain on PATH, if it runs.
    var swiftVersion: String?
    /// "release" or "debug": how this benchmark binary was compiled.
    var buildConfiguration: String
    /// /proc/loadavg when the benchmark started: the 1, 5 and 15 minute averages and the
    /// runnable/total scheduling entities. Other work on the machine makes the numbers noisy.
    var loadAverage: String?

    /// One line for the top of a benchmark's output.
    var summary: String {
        [cpuModel.map { "\(processors) × \($0)" } ?? "\(processors) processors", operatingSystem, swiftVersion,
         buildConfiguration + " build", loadAverage.map { "load \($0)" }]
            .compactMap { $0 }.joined(separator: ", ")
    }

    /// Describes the current machine.
    static func current() -> Machine {
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        return Machine(
            processors: ProcessInfo.processInfo.activeProcessorCount,
            uname: unameDescription(),
            cpuModel: firstValue(in: "/proc/cpuinfo", key: "model name", separator: ":"),
            operatingSystem: firstValue(in: "/etc/os-release", key: "PRETTY_NAME", separator: "=")
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) },
            swiftVersion: firstLine(ofCommand: ["swift", "--version"]),
            buildConfiguration: configuration,
            loadAverage: (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))
                .map { $0.split(separator: " ").prefix(4).joined(separator: " ") })
    }

    private static func unameDescription() -> String {
        var names = utsname()
        guard callUname(&names) == 0 else { return "unknown" }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return [field(names.sysname), field(names.release), field(names.version), field(names.machine)]
            .joined(separator: " ")
    }

    /// The value of the first `key<separator>value` line of a text file.
    private static func firstValue(in path: String, key: String, separator: Character) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: separator, maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Runs a program found on PATH and returns the first line it prints, or nil.
    private static func firstLine(ofCommand arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }
}

/// The C `uname`, reachable here without the clash with `Machine.uname`.
private func callUname(_ names: UnsafeMutablePointer<utsname>) -> Int32 { uname(names) }
