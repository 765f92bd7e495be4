// The write load of `shoal-bench failover`: writer threads, each with its own keep-alive
// connection to one of the target members, every request timestamped on the monotonic clock.
import Foundation

/// One request as the client saw it (40 bytes; hundreds of thousands are kept).
struct RequestRecord {
    var startNs: UInt64
    var endNs: UInt64
    var sequence: UInt32
    var writer: UInt16
    /// Index into the pool's groups.
    var group: UInt16
    var outcome: WriteOutcome
    /// The member it was sent to.
    var target: UInt8
}

/// How writers pick the moment of their next request.
enum LoadShape {
    /// Open loop: one request every `intervalNs` across the whole pool, taken by whichever
    /// writer is free, so that requests keep being sent while others hang (a writer stuck
    /// in a request that will time out does not stop the clock). Slots that find every
    /// writer busy are skipped and counted.
    case paced(intervalNs: UInt64)
    /// Closed loop: each writer sends its next request as soon as the previous one ends.
    case closedLoop
}

/// A pool of writer threads. Targets and the current write group can change while it runs.
final class WriterPool: @unchecked Sendable {
    let system: FailoverSystem
    let writers: Int
    let shape: LoadShape
    let timeoutNs: UInt64
    private let value: String

    private let lock = NSLock()
    private var targets: [Int] = []
    private var targetsGeneration = 0
    private var groups: [WriteGroup] = []
    private var currentGroup = 0
    private var running = true
    private var nextSlotNs: UInt64 = 0
    private(set) var skippedSlots = 0
    /// The earliest acknowledged request that started after `watchFromNs` (0: none yet).
    private var watchFromNs: UInt64 = .max
    private var firstAckStartNs: UInt64 = 0
    private var firstAckEndNs: UInt64 = 0

    /// Start of each writer's request in flight (0: none).
    private var inFlightStartNs: [UInt64]
    private var records: [[RequestRecord]]
    private let recordLocks: [NSLock]
    private var threads: [Thread] = []
    private var finished = 0

    init(system: FailoverSystem, writers: Int, shape: LoadShape, timeoutNs: UInt64, payloadBytes: Int,
         targets: [Int], group: WriteGroup) {
        self.system = system
        self.writers = writers
        self.shape = shape
        self.timeoutNs = timeoutNs
        // A value of the requested size from the characters JSON and base64 leave alone.
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        value = String((0..<payloadBytes).map { alphabet[$0 % alphabet.count] })
        self.targets = targets
        groups = [group]
        records = Array(repeating: [], count: writers)
        inFlightStartNs = Array(repeating: 0, count: writers)
        recordLocks = (0..<writers).map { _ in NSLock() }
    }

    func start() {
        nextSlotNs = monotonicNanoseconds()
        for index in 0..<writers {
            let thread = Thread { [self] in run(writer: index) }
            thread.stackSize = 256 << 10
            threads.append(thread)
            thread.start()
        }
    }

    /// Stops every writer and waits until each has finished its request in flight (at most
    /// the request timeout plus a margin).
    func stop() {
        lock.lock()
        running = false
        lock.unlock()
        let deadline = monotonicNanoseconds() + timeoutNs + 2_000_000_000
        while monotonicNanoseconds() < deadline {
            lock.lock()
            let done = finished == writers
            lock.unlock()
            if done { return }
            sleepNanoseconds(2_000_000)
        }
    }

    /// Members the writers send to; writer i uses `targets[i % count]`.
    func setTargets(_ members: [Int]) {
        lock.lock(); defer { lock.unlock() }
        targets = members
        targetsGeneration += 1
    }

    /// Requests from now on belong to `group`.
    func setGroup(_ group: WriteGroup) {
        lock.lock(); defer { lock.unlock() }
        if let index = groups.firstIndex(of: group) { currentGroup = index } else {
            groups.append(group)
            currentGroup = groups.count - 1
        }
    }

    func group(at index: UInt16) -> WriteGroup {
        lock.lock(); defer { lock.unlock() }
        return groups[Int(index)]
    }

    /// From now on, remember the first acknowledged request that started after `ns`.
    func watchForFirstAck(startedAfter ns: UInt64) {
        lock.lock(); defer { lock.unlock() }
        watchFromNs = ns
        firstAckStartNs = 0
        firstAckEndNs = 0
    }

    /// The first acknowledged request since `watchForFirstAck`: (start, end), or nil.
    func firstAck() -> (startNs: UInt64, endNs: UInt64)? {
        lock.lock(); defer { lock.unlock() }
        return firstAckEndNs == 0 ? nil : (firstAckStartNs, firstAckEndNs)
    }

    /// Waits until no request that started before `ns` is still in flight (each ends within
    /// the request timeout), so that records up to `ns` are complete.
    func waitForRequests(startedBefore ns: UInt64) {
        let deadline = monotonicNanoseconds() + timeoutNs + 100_000_000
        while monotonicNanoseconds() < deadline {
            lock.lock()
            let pending = inFlightStartNs.contains { $0 != 0 && $0 < ns }
            lock.unlock()
            if !pending { return }
            sleepNanoseconds(2_000_000)
        }
    }

    /// Answers other than success, by status and the start of the message, with counts
    /// (why writes failed; the trial report prints them).
    private var failureAnswers: [String: Int] = [:]

    private func noteFailure(status: Int, body: [UInt8]) {
        var text = String(decoding: body.prefix(400), as: UTF8.self)
        if let range = text.range(of: "\"message\":\"") {
            text = String(text[range.upperBound...].prefix { $0 != "\"" })
        }
        let key = "\(status) \(text.prefix(90))"
        lock.lock()
        failureAnswers[key, default: 0] += 1
        lock.unlock()
    }

    /// The failure answers since the last call, most frequent first.
    func takeFailureAnswers() -> [(answer: String, count: Int)] {
        lock.lock()
        defer { failureAnswers = [:]; lock.unlock() }
        return failureAnswers.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }

    /// Every record whose request overlaps [fromNs, toNs].
    func records(overlapping fromNs: UInt64, _ toNs: UInt64) -> [RequestRecord] {
        var out: [RequestRecord] = []
        for writer in 0..<writers {
            recordLocks[writer].lock()
            for record in records[writer] where record.startNs <= toNs && record.endNs >= fromNs { out.append(record) }
            recordLocks[writer].unlock()
        }
        return out.sorted { $0.startNs < $1.startNs }
    }

    /// Forgets every record that ended before `ns` (bounded memory over a long run).
    func dropRecords(endedBefore ns: UInt64) {
        for writer in 0..<writers {
            recordLocks[writer].lock()
            records[writer].removeAll { $0.endNs < ns }
            recordLocks[writer].unlock()
        }
    }

    // MARK: Writer thread

    private func run(writer: Int) {
        var client: KeepAliveHTTPClient?
        var generation = -1
        var target = 0
        var sequence = 0
        defer {
            lock.lock()
            finished += 1
            lock.unlock()
        }
        while true {
            // Wait for this writer's slot (paced) or go at once (closed loop).
            lock.lock()
            guard running else { lock.unlock(); return }
            var slot: UInt64 = 0
            if case .paced(let interval) = shape {
                let now = monotonicNanoseconds()
                if nextSlotNs + interval < now {
                    skippedSlots += Int((now - nextSlotNs) / interval)
                    nextSlotNs = now
                }
                slot = nextSlotNs
                nextSlotNs += interval
            }
            lock.unlock()
            let now = monotonicNanoseconds()
            if slot > now { sleepNanoseconds(slot - now) }
            // Targets and group as they are when the request leaves (not when the slot was taken).
            lock.lock()
            guard running else { lock.unlock(); return }
            if generation != targetsGeneration {
                generation = targetsGeneration
                let member = targets.isEmpty ? 0 : targets[writer % targets.count]
                if member != target || client == nil {
                    target = member
                    client = KeepAliveHTTPClient(host: system.hosts[member].address, port: system.apiPort)
                }
            }
            let groupIndex = currentGroup
            let group = groups[groupIndex]
            lock.unlock()

            sequence += 1
            let request = system.writeRequest(group: group, writer: writer, sequence: sequence, value: value)
            lock.lock()
            let start = monotonicNanoseconds()
            inFlightStartNs[writer] = start
            lock.unlock()
            let result = client!.exchange(head: request.head, body: request.body, deadline: start + timeoutNs)
            let end = monotonicNanoseconds()
            let outcome: WriteOutcome
            switch result {
            case .response(let status, let body):
                outcome = system.classifyWrite(status: status, body: body)
                if outcome != .success { noteFailure(status: status, body: body) }
            case .notSent: outcome = .failed
            case .lost: outcome = .indeterminate
            }
            if outcome != .success, case .notSent = result {
                // Nothing listens there (killed member, no route): do not spin.
                sleepNanoseconds(1_000_000)
            }
            let record = RequestRecord(startNs: start, endNs: end, sequence: UInt32(truncatingIfNeeded: sequence),
                                       writer: UInt16(writer), group: UInt16(groupIndex), outcome: outcome, target: UInt8(target))
            recordLocks[writer].lock()
            records[writer].append(record)
            recordLocks[writer].unlock()
            lock.lock()
            inFlightStartNs[writer] = 0
            lock.unlock()
            if outcome == .success {
                lock.lock()
                if start > watchFromNs && (firstAckEndNs == 0 || end < firstAckEndNs) {
                    firstAckStartNs = start
                    firstAckEndNs = end
                }
                lock.unlock()
            }
        }
    }
}

/// Sorted-sample percentiles (nearest rank).
func percentile(_ sorted: [Double], _ p: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}
