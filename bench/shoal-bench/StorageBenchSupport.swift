// Shared by the storage benchmarks (`wal`, `snapshot`): scratch directories, which file system
// they are on, and dropping the page cache.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The file system a directory lives on, from /proc/mounts (the longest mount point that is
/// a prefix of the directory's real path).
struct FileSystemInfo: Codable {
    /// The directory asked about, resolved (symbolic links followed).
    var path: String
    /// The mount point holding it.
    var mountPoint: String
    /// The file system type ("ext4", "xfs", "tmpfs", ...).
    var type: String
    /// The device (or pseudo-device) mounted there.
    var device: String
    /// The mount options.
    var options: String
    /// The block device's volatile write cache setting ("write back" means fdatasync also
    /// flushes the device cache), from /sys/block/<dev>/queue/write_cache, if readable.
    var deviceWriteCache: String?

    /// One line for the top of a benchmark's output.
    var summary: String {
        "\(path) is on \(type) (\(device) mounted at \(mountPoint), \(options))"
            + (deviceWriteCache.map { ", device write cache: \($0)" } ?? "")
    }

    /// Describes the file system holding `directory`; "unknown" fields if /proc/mounts is unreadable.
    static func of(_ directory: String) -> FileSystemInfo {
        let resolved = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        var best = FileSystemInfo(path: resolved, mountPoint: "?", type: "unknown", device: "?", options: "")
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return best }
        var bestLength = -1
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 4 else { continue }
            let mountPoint = unescapeMountField(fields[1])
            let isPrefix = mountPoint == "/" || resolved == mountPoint || resolved.hasPrefix(mountPoint + "/")
            // Later lines win at equal length: a later mount hides an earlier one.
            if isPrefix && mountPoint.count >= bestLength {
                bestLength = mountPoint.count
                best = FileSystemInfo(path: resolved, mountPoint: mountPoint, type: fields[2], device: fields[0],
                                      options: fields[3])
            }
        }
        if best.device.hasPrefix("/dev/") {
            let name = String(best.device.dropFirst(5))
            for candidate in [name, name.replacingOccurrences(of: #"p?[0-9]+$"#, with: "", options: .regularExpression)] {
                let path = "/sys/block/\(candidate)/queue/write_cache"
                if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                    best.deviceWriteCache = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    break
                }
            }
        }
        return best
    }

    /// /proc/mounts escapes space, tab, newline and backslash as octal.
    private static func unescapeMountField(_ field: String) -> String {
        field.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }
}

/// A fresh directory `<parent>/<prefix>-XXXXXX` (mkdtemp), removed by `remove`.
struct ScratchDirectory {
    let path: String

    init(parent: String, prefix: String) throws {
        var template = Array(URL(fileURLWithPath: parent).appendingPathComponent("\(prefix)-XXXXXX").path.utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw BenchError("cannot create a scratch directory in \(parent): \(String(cString: strerror(errno)))")
        }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A new empty subdirectory of this one.
    func subdirectory(_ name: String) throws -> String {
        let sub = URL(fileURLWithPath: path).appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        return sub
    }

    /// Deletes the directory and everything in it.
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A benchmark's set-up failed.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes dirty pages back and drops the page cache (needs root). Returns false, having
/// changed nothing, if /proc/sys/vm/drop_caches cannot be written.
func dropPageCache() -> Bool {
    sync()
    let fd = open("/proc/sys/vm/drop_caches", O_WRONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    let command: [UInt8] = Array("3\n".utf8)
    return command.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) } == command.count
}

/// Seconds since `start` on the monotonic clock.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let parts = (ContinuousClock.now - start).components
    return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
}

/// The median of some values (the lower middle one for an even count).
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of nothing")
    return values.sorted()[(values.count - 1) / 2]
}

/// Formats a rate with one decimal ("123.4").
func oneDecimal(_ value: Double) -> String { String(format: "%.1f", value) }

/// Formats a ratio with two decimals ("0.93").
func twoDecimals(_ value: Double) -> String { String(format: "%.2f", value) }

/// Parses "1,16,256" into [1, 16, 256] (positive integers).
func parsePositiveList(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.count == parts.count, values.allSatisfy({ $0 >= 1 }) else {
        throw ValidationError("expected positive integers separated by commas, got '\(text)'")
    }
    return values
}
