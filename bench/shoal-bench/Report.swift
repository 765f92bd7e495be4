// Shared by every benchmark: timing, best/median summaries, the text table and the JSON file.
import Foundation

/// How long a closure took.
struct Timing {
    /// Wall-clock time on the monotonic clock, in seconds.
    var seconds: Double
    /// CPU time of the calling thread, in seconds. Well below `seconds` means the thread waited
    /// for a processor (other work on the machine) and the run understates the code's speed.
    var cpuSeconds: Double
}

/// Times `body` on the monotonic clock and on the calling thread's CPU clock.
func measure(_ body: () -> Void) -> Timing {
    let cpuStart = threadCPUSeconds()
    let elapsed = ContinuousClock().measure(body)
    let cpu = threadCPUSeconds() - cpuStart
    let parts = elapsed.components
    return Timing(seconds: Double(parts.seconds) + Double(parts.attoseconds) * 1e-18, cpuSeconds: cpu)
}

private func threadCPUSeconds() -> Double {
    var now = timespec()
    precondition(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0, "clock_gettime failed")
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// The best and the median of several runs of one configuration.
struct Summary<Run> {
    /// The run with the highest `rate`.
    var best: Run
    /// The run with the median `rate` (the lower middle one for an even count).
    var median: Run

    /// Summarizes `runs` (at least one) by the throughput `rate` of each.
    init(_ runs: [Run], rate: (Run) -> Double) {
        precondition(!runs.isEmpty, "no runs to summarize")
        let sorted = runs.sorted { rate($0) > rate($1) }
        best = sorted[0]
        median = sorted[sorted.count / 2]
    }
}

/// A plain text table with right-aligned columns.
struct TextTable {
    /// Column titles.
    var header: [String]
    /// Rows of cells, each as many as `header`.
    var rows: [[String]] = []

    /// The table as lines of text.
    func render() -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { String(repeating: " ", count: widths[$0] - $1.count) + $1 }
                .joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}

/// Formats seconds with millisecond precision ("1.234").
func milliseconds(_ seconds: Double) -> String {
    let millis = Int((seconds * 1000).rounded())
    let fraction = String(millis % 1000)
    return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

/// Formats a fraction as a whole percentage ("97%").
func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }

/// Formats a count with thousands separators ("1,234,567").
func grouped(_ value: Double) -> String {
    let digits = String(Int(value.rounded()))
    var out = ""
    for (offset, character) in digits.reversed().enumerated() {
        if offset > 0 && offset % 3 == 0 && character != "-" { out.append(",") }
        out.append(character)
    }
    return String(out.reversed())
}

/// Writes `value` as pretty-printed JSON at `path`, creating missing directories.
func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try encoder.encode(value).write(to: url)
}

/// The current time as an ISO 8601 string (recorded with each result file).
func timestampNow() -> String { ISO8601DateFormatter().string(from: Date()) }
