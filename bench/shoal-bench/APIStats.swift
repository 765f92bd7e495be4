// Latency summaries, thread fan-out and small shared pieces of `shoal-bench api`.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Percentiles of a set of durations, in milliseconds (nearest-rank percentiles).
struct LatencyStats: Codable {
    var count: Int
    var p50Ms: Double
    var p90Ms: Double
    var p99Ms: Double
    var p999Ms: Double
    var maxMs: Double
    var minMs: Double
    var meanMs: Double

    /// Summarizes durations given in nanoseconds (signed: a bound may come out negative).
    init(nanoseconds samples: [Int64]) {
        self.init(milliseconds: samples.map { Double($0) / 1e6 })
    }

    init(milliseconds samples: [Double]) {
        count = samples.count
        guard !samples.isEmpty else {
            p50Ms = 0; p90Ms = 0; p99Ms = 0; p999Ms = 0; maxMs = 0; minMs = 0; meanMs = 0
            return
        }
        let sorted = samples.sorted()
        func rank(_ q: Double) -> Double {
            let index = Int((q * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(sorted.count - 1, max(0, index))]
        }
        p50Ms = rank(0.50)
        p90Ms = rank(0.90)
        p99Ms = rank(0.99)
        p999Ms = rank(0.999)
        maxMs = sorted[sorted.count - 1]
        minMs = sorted[0]
        meanMs = sorted.reduce(0, +) / Double(sorted.count)
    }
}

/// Formats milliseconds for the table: "0.84", "12.3", "1,234".
func ms(_ value: Double) -> String {
    if abs(value) >= 1000 { return grouped(value) }
    if abs(value) >= 100 { return String(Int(value.rounded())) }
    if abs(value) >= 10 { return String(format: "%.1f", value) }
    return String(format: "%.2f", value)
}

/// Formats a byte count as "31.2 MB" (10^6) or "812 B".
func byteText(_ bytes: Double) -> String {
    if bytes >= 1e6 { return String(format: "%.1f MB", bytes / 1e6) }
    if bytes >= 1e3 { return String(format: "%.1f kB", bytes / 1e3) }
    return "\(Int(bytes)) B"
}

/// Runs `body(i)` for i in 0..<count, each on its own thread, and waits for all of them.
/// The threads start together: each waits at a gate that opens when all exist, and
/// `started` is called (on the calling thread) right before it opens.
func runOnThreads(_ count: Int, started: () -> Void = {}, _ body: @escaping @Sendable (Int) -> Void) {
    let gate = DispatchSemaphore(value: 0)
    let ready = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    for i in 0..<count {
        let thread = Thread {
            ready.signal()
            gate.wait()
            body(i)
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    for _ in 0..<count { ready.wait() }
    started()
    for _ in 0..<count { gate.signal() }
    for _ in 0..<count { done.wait() }
}

/// A counter shared by threads (the next index of work to take).
final class SharedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value - 1
    }
}

/// Counts by key, shared by threads (failures by status, retries by cause).
final class SharedTally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var examples: [String: String] = [:]

    func add(_ key: String, example: String? = nil) {
        lock.lock(); defer { lock.unlock() }
        counts[key, default: 0] += 1
        if let example, examples[key] == nil { examples[key] = example }
    }

    var snapshot: [String: Int] { lock.lock(); defer { lock.unlock() }; return counts }
    var exampleSnapshot: [String: String] { lock.lock(); defer { lock.unlock() }; return examples }
    var total: Int { snapshot.values.reduce(0, +) }
}

/// Per-thread results gathered under a lock.
final class SharedCollector<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Element] = []

    func add(_ more: [Element]) {
        lock.lock(); defer { lock.unlock() }
        items += more
    }

    func add(_ one: Element) {
        lock.lock(); defer { lock.unlock() }
        items.append(one)
    }

    var all: [Element] { lock.lock(); defer { lock.unlock() }; return items }
}

/// A short printable excerpt of a response body.
func excerpt(_ body: [UInt8], _ limit: Int = 300) -> String {
    String(decoding: body.prefix(limit), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
}
