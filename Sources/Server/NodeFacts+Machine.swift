import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension NodeFacts {
    /// This machine as `shoal agent` reports it: online processors, MemTotal from
    /// /proc/meminfo, the kernel release and /etc/os-release's PRETTY_NAME.
    public static func ofThisMachine() -> NodeFacts {
        let processors = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        var facts = NodeFacts(cpuCount: processors, memoryBytes: memoryTotalBytes() ?? 0)
        var names = utsname()
        if uname(&names) == 0 {
            facts.kernelVersion = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        if let release = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
           let line = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") }) {
            facts.osImage = line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return facts
    }

    /// `MemTotal:  24600000 kB` → bytes.
    static func memoryTotalBytes() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }) else { return nil }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 2, let kilobytes = Int64(fields[1]) else { return nil }
        return kilobytes * 1024
    }
}
