// Phase 3 of `shoal-bench api`: watchers spread over the members, each watching every pod of
// the namespace from a list's resourceVersion, while writers create and patch pods at a
// steady rate. Every event's arrival is timed against its write on one clock (everything
// runs on this machine, CLOCK_MONOTONIC), and every watcher must see every write exactly
// once, in resourceVersion order.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One write of the watch phase, as the writer saw it.
struct WatchWrite {
    var create: Bool
    var member: Int
    var sendNs: UInt64
    var responseNs: UInt64
    /// The object's resourceVersion in the answer (0 if the write failed).
    var resourceVersion: UInt64
    var status: Int
}

/// What one watcher received: per event its resourceVersion, type and arrival time.
final class WatcherLog: @unchecked Sendable {
    var resourceVersions: [UInt64] = []
    var types: [UInt8] = []
    var arrivalNs: [UInt64] = []
    var streamStatus = 0
    var error: String?
    var errorEvents: [String] = []
    var bookmarks = 0
    var bytes = 0

    static let added: UInt8 = 1, modified: UInt8 = 2, deleted: UInt8 = 3, bookmark: UInt8 = 4, other: UInt8 = 5
}

/// Per watcher, after the checks.
struct WatcherSummary: Codable {
    var member: Int
    var events: Int
    var missing: Int
    var duplicates: Int
    var outOfOrder: Int
    var unexpected: Int
    var wrongType: Int
    var bookmarks: Int
    var errors: [String]
    var deliveryFromResponse: LatencyStats
}

struct WatchPhaseResult: Codable {
    var watchers: Int
    var readerThreads: Int
    var writers: Int
    var targetWritesPerSecond: Double
    var achievedWritesPerSecond: Double
    var writeSeconds: Double
    var writesAttempted: Int
    var writesSucceeded: Int
    var writeFailures: [String: Int]
    var writeFailureExamples: [String: String]
    /// Sends more than 10 ms behind their schedule (every writer was busy).
    var lateSends: Int
    var writeLatency: LatencyStats
    var startResourceVersion: UInt64
    /// Event deliveries expected (successful writes × watchers) and checks over all watchers.
    var deliveriesExpected: Int
    var deliveriesReceived: Int
    var missing: Int
    var duplicates: Int
    var outOfOrder: Int
    var unexpected: Int
    /// Distinct resourceVersions among the unexpected events: writes the writer did not see
    /// succeed (answered 504 "may have been applied", or lost) that were applied after all.
    var unexpectedResourceVersions: Int
    /// Writes answered 504 or not at all (their events are the unexpected ones).
    var writesIndeterminate: Int
    /// Writes answered with a resourceVersion older than the watch (they changed nothing).
    var writesUnchanged: Int
    var wrongType: Int
    var watchersWithErrors: Int
    /// Arrival minus the writer's receipt of the answer (a lower bound on delivery after commit).
    var deliveryFromResponse: LatencyStats
    /// Arrival minus the writer's send (an upper bound: includes the write's own path).
    var deliveryFromSend: LatencyStats
    /// deliveryFromResponse for watchers on the member that took the write, and on the others.
    var deliveryFromResponseSameMember: LatencyStats
    var deliveryFromResponseOtherMember: LatencyStats
    /// deliveryFromResponse over time: p99 per second of the write phase.
    var deliveryP99PerSecondMs: [Double]
    var eventBytesMean: Double
    var cpu: CPUShare
    var perWatcher: [WatcherSummary]
}

struct WatchPhase {
    let cluster: APICluster
    let namespace: String
    let watchers: Int
    let writers: Int
    let writesPerSecond: Double
    let seconds: Double
    /// Fraction of writes that patch an existing pod (MODIFIED) rather than create one (ADDED).
    let updateFraction: Double
    /// Pods that exist (phase 1) and are patched: `APIPods.name(existingPrefix, 0..<existingCount)`.
    let existingPrefix: String
    let existingCount: Int
    let createPrefix: String
    let requestTimeoutNs: UInt64
    /// Seconds watchers wait for the last events after the writes end.
    let drainSeconds: Double
    /// Threads reading the watch streams (each polls its share of them).
    let readerThreads: Int

    func run() throws -> WatchPhaseResult {
        // The resourceVersion to watch from: a list's (as an informer does).
        let lister = cluster.connection(to: 0)
        guard case .response(200, let listBody) = lister.exchange(
            head: "GET /api/v1/namespaces/\(namespace)/pods?limit=1 HTTP/1.1\r\n\(cluster.authorization)Accept: application/json\r\n",
            deadline: monotonicNanoseconds() + requestTimeoutNs),
            let startRV = JSONScan.resourceVersion(listBody) else {
            throw BenchFailure("watch phase: cannot list \(namespace)/pods for a resourceVersion")
        }

        // Watchers: connected and streaming (200 head read) before any write, then read by a
        // few poll threads (APIWatchReaders.swift).
        let logs = (0..<watchers).map { _ in WatcherLog() }
        let watcherMember = (0..<watchers).map { $0 % cluster.members.count }
        let connections = watcherMember.map { cluster.connection(to: $0) }
        let stop = StopSignal()
        let head = "GET /api/v1/namespaces/\(namespace)/pods?watch=true&resourceVersion=\(startRV)&allowWatchBookmarks=true HTTP/1.1\r\n"
            + cluster.authorization + "Accept: application/json\r\nUser-Agent: shoal-bench-api-watch\r\n"
        var streams: [WatchStreamState] = []
        for w in 0..<watchers {
            let connection = connections[w]
            if let failed = connection.send(head: head, body: [], deadline: monotonicNanoseconds() + 10_000_000_000) {
                throw BenchFailure("watch phase: watch \(w) on h\(watcherMember[w] + 1) could not be sent: \(failed)")
            }
            switch connection.readHead(deadline: monotonicNanoseconds() + 10_000_000_000) {
            case .failure(let failure):
                throw BenchFailure("watch phase: watch \(w) on h\(watcherMember[w] + 1): \(failure)")
            case .success(let response):
                logs[w].streamStatus = response.status
                guard response.status == 200, response.chunked else {
                    throw BenchFailure("watch phase: watch \(w) on h\(watcherMember[w] + 1) answered \(response.status)")
                }
            }
            let stream = WatchStreamState(connection: connection, log: logs[w])
            let early = connection.takeBuffered()
            early.withUnsafeBufferPointer { stream.consume($0, arrived: connection.lastReadNs) }
            streams.append(stream)
        }
        let finished = DispatchSemaphore(value: 0)
        let threads = min(readerThreads, watchers)
        for t in 0..<threads {
            let mine = streams.enumerated().filter { $0.offset % threads == t }.map(\.element)
            let thread = Thread {
                WatchReaderThread.run(mine, stop: stop)
                finished.signal()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }

        // Writers: one shared schedule, write j due at start + j / rate.
        let total = Int(writesPerSecond * seconds)
        let intervalNs = 1e9 / writesPerSecond
        let updateEvery = updateFraction > 0 ? max(1, Int((1 / updateFraction).rounded())) : Int.max
        let writerClients = APIClients(cluster: cluster, count: writers)
        try writerClients.openAll()
        let next = SharedCounter()
        let records = SharedCollector<(Int, WatchWrite)>()
        let failures = SharedTally()
        let late = SharedCollector<Int>()
        var startNs: UInt64 = 0
        let meter = CPUMeter(cluster)
        let (namespace, existingPrefix, existingCount, createPrefix, timeout) = (self.namespace, self.existingPrefix, self.existingCount, self.createPrefix, requestTimeoutNs)
        let auth = cluster.authorization
        let startBox = StartBox()
        runOnThreads(writers, started: { startNs = monotonicNanoseconds() + 20_000_000; startBox.set(startNs) }) { c in
            let connection = writerClients.connections[c]
            let begin = startBox.value
            var mine: [(Int, WatchWrite)] = []
            var lateCount = 0
            while true {
                let j = next.next()
                guard j < total else { break }
                let due = begin + UInt64(Double(j) * intervalNs)
                let now = monotonicNanoseconds()
                if now < due { sleepNanoseconds(due - now) } else if now - due > 10_000_000 { lateCount += 1 }
                let isUpdate = j % updateEvery == updateEvery - 1
                let head: String, body: [UInt8]
                if isUpdate {
                    let target = APIPods.name(existingPrefix, (j / updateEvery) % max(1, existingCount))
                    head = "PATCH /api/v1/namespaces/\(namespace)/pods/\(target)?fieldManager=kubectl-label HTTP/1.1\r\n\(auth)"
                        + "Content-Type: application/merge-patch+json\r\nAccept: application/json\r\n"
                    body = APIPods.labelPatch(value: "\(createPrefix)-\(j)")
                } else {
                    head = "POST /api/v1/namespaces/\(namespace)/pods?fieldManager=kubectl-create&fieldValidation=Strict HTTP/1.1\r\n\(auth)"
                        + "Content-Type: application/json\r\nAccept: application/json\r\n"
                    body = APIPods.body(name: APIPods.name(createPrefix, j), namespace: namespace, index: j)
                }
                let sent = monotonicNanoseconds()
                let result = connection.exchange(head: head, body: body, deadline: sent + timeout)
                let answered = monotonicNanoseconds()
                var write = WatchWrite(create: !isUpdate, member: writerClients.memberOf[c], sendNs: sent, responseNs: answered,
                                       resourceVersion: 0, status: 0)
                switch result {
                case .response(let status, let answer):
                    write.status = status
                    if status == 200 || status == 201 {
                        write.resourceVersion = JSONScan.resourceVersion(answer) ?? 0
                        if write.resourceVersion == 0 { failures.add("no resourceVersion", example: excerpt(answer)) }
                    } else {
                        failures.add(String(status), example: excerpt(answer))
                    }
                case .notSent(let why), .lost(let why):
                    failures.add("no answer", example: why)
                }
                mine.append((j, write))
            }
            records.add(mine)
            late.add(lateCount)
        }
        let writeEnd = monotonicNanoseconds()
        let writes = records.all.sorted { $0.0 < $1.0 }.map(\.1)
        let succeeded = writes.filter { $0.resourceVersion > 0 }
        let lastRV = succeeded.map(\.resourceVersion).max() ?? startRV
        // Let the watchers catch up to the last write, then stop them.
        stop.stop(afterResourceVersion: lastRV, deadline: monotonicNanoseconds() + UInt64(drainSeconds * 1e9))
        for _ in 0..<threads { finished.wait() }
        let cpu = meter.finish()
        for connection in connections { connection.disconnect() }

        return analyze(writes: writes, logs: logs, watcherMember: watcherMember, startRV: startRV, startNs: startNs,
                       writeEnd: writeEnd, failures: failures, lateSends: late.all.reduce(0, +), cpu: cpu)
    }

    // MARK: One event

    private static let typePrefix = Array(#"{"type":""#.utf8)

    /// One event line: `{"type":"ADDED","object":{...}}`.
    static func record(_ line: UnsafeBufferPointer<UInt8>, _ arrived: UInt64, _ log: WatcherLog, _ newest: inout UInt64) {
        guard line.count > typePrefix.count else { return }
        let typeStart = typePrefix.count
        let type: UInt8
        switch line[typeStart] {
        case UInt8(ascii: "A"): type = WatcherLog.added
        case UInt8(ascii: "M"): type = WatcherLog.modified
        case UInt8(ascii: "D"): type = WatcherLog.deleted
        case UInt8(ascii: "B"): type = WatcherLog.bookmark
        default: type = WatcherLog.other
        }
        if type == WatcherLog.bookmark {
            log.bookmarks += 1
            return
        }
        if type == WatcherLog.other {
            log.errorEvents.append(String(decoding: UnsafeBufferPointer(rebasing: line.prefix(400)), as: UTF8.self))
            return
        }
        let rv = JSONScan.resourceVersion(line) ?? 0
        newest = max(newest, rv)
        log.resourceVersions.append(rv)
        log.types.append(type)
        log.arrivalNs.append(arrived)
    }

    // MARK: Checks and numbers

    private func analyze(writes: [WatchWrite], logs: [WatcherLog], watcherMember: [Int], startRV: UInt64, startNs: UInt64,
                         writeEnd: UInt64, failures: SharedTally, lateSends: Int, cpu: CPUShare) -> WatchPhaseResult {
        // A write answered with a resourceVersion from before the watch changed nothing (a
        // patch setting a label to its value): it makes no event. Counted, not expected.
        var writeIndex: [UInt64: Int] = [:]
        for (i, write) in writes.enumerated() where write.resourceVersion > startRV { writeIndex[write.resourceVersion] = i }
        let unchanged = writes.filter { $0.resourceVersion > 0 && $0.resourceVersion <= startRV }.count
        let expected = writeIndex.count
        var fromResponse: [Int64] = []
        var fromSend: [Int64] = []
        var sameMember: [Int64] = []
        var otherMember: [Int64] = []
        fromResponse.reserveCapacity(expected * logs.count)
        fromSend.reserveCapacity(expected * logs.count)
        let secondsCovered = Int((Double(writeEnd - startNs) / 1e9).rounded(.up)) + 1
        var perSecond = Array(repeating: [Int64](), count: max(1, secondsCovered))
        var summaries: [WatcherSummary] = []
        var unexpectedVersions = Set<UInt64>()
        var totals = (received: 0, missing: 0, duplicates: 0, outOfOrder: 0, unexpected: 0, wrongType: 0, errors: 0, bytes: 0)
        for (w, log) in logs.enumerated() {
            var seen = [Bool](repeating: false, count: writes.count)
            var previous: UInt64 = startRV
            var mine: [Int64] = []
            var summary = WatcherSummary(member: watcherMember[w], events: log.resourceVersions.count, missing: 0, duplicates: 0,
                                         outOfOrder: 0, unexpected: 0, wrongType: 0, bookmarks: log.bookmarks,
                                         errors: (log.error.map { [$0] } ?? []) + log.errorEvents,
                                         deliveryFromResponse: LatencyStats(milliseconds: []))
            for k in log.resourceVersions.indices {
                let rv = log.resourceVersions[k]
                guard let i = writeIndex[rv] else {
                    summary.unexpected += 1
                    unexpectedVersions.insert(rv)
                    continue
                }
                if seen[i] {
                    summary.duplicates += 1
                    continue
                }
                seen[i] = true
                if rv <= previous { summary.outOfOrder += 1 }
                previous = max(previous, rv)
                let write = writes[i]
                if (write.create ? WatcherLog.added : WatcherLog.modified) != log.types[k] { summary.wrongType += 1 }
                let arrived = Int64(bitPattern: log.arrivalNs[k])
                let afterResponse = arrived - Int64(bitPattern: write.responseNs)
                fromResponse.append(afterResponse)
                fromSend.append(arrived - Int64(bitPattern: write.sendNs))
                mine.append(afterResponse)
                if write.member == watcherMember[w] { sameMember.append(afterResponse) } else { otherMember.append(afterResponse) }
                let second = Int(Double(write.sendNs &- startNs) / 1e9)
                if second >= 0 && second < perSecond.count { perSecond[second].append(afterResponse) }
            }
            summary.missing = expected - seen.lazy.filter { $0 }.count
            summary.deliveryFromResponse = LatencyStats(nanoseconds: mine)
            totals.received += log.resourceVersions.count
            totals.missing += summary.missing
            totals.duplicates += summary.duplicates
            totals.outOfOrder += summary.outOfOrder
            totals.unexpected += summary.unexpected
            totals.wrongType += summary.wrongType
            totals.bytes += log.bytes
            if !summary.errors.isEmpty { totals.errors += 1 }
            summaries.append(summary)
        }
        let writeSeconds = Double(writeEnd - startNs) / 1e9
        var writeFailures = failures.snapshot
        let unanswered = writes.filter { $0.status == 0 }.count
        if unanswered > 0 && writeFailures["no answer"] == nil { writeFailures["no answer"] = unanswered }
        return WatchPhaseResult(
            watchers: logs.count, readerThreads: readerThreads, writers: writers, targetWritesPerSecond: writesPerSecond,
            achievedWritesPerSecond: Double(writes.filter { $0.resourceVersion > 0 }.count) / writeSeconds,
            writeSeconds: writeSeconds, writesAttempted: writes.count, writesSucceeded: expected,
            writeFailures: writeFailures, writeFailureExamples: failures.exampleSnapshot, lateSends: lateSends,
            writeLatency: LatencyStats(nanoseconds: writes.filter { $0.status > 0 }.map { Int64($0.responseNs - $0.sendNs) }),
            startResourceVersion: startRV,
            deliveriesExpected: expected * logs.count, deliveriesReceived: totals.received,
            missing: totals.missing, duplicates: totals.duplicates, outOfOrder: totals.outOfOrder,
            unexpected: totals.unexpected, unexpectedResourceVersions: unexpectedVersions.count,
            writesIndeterminate: writes.filter { $0.status == 504 || $0.status == 0 }.count, writesUnchanged: unchanged, wrongType: totals.wrongType, watchersWithErrors: totals.errors,
            deliveryFromResponse: LatencyStats(nanoseconds: fromResponse),
            deliveryFromSend: LatencyStats(nanoseconds: fromSend),
            deliveryFromResponseSameMember: LatencyStats(nanoseconds: sameMember),
            deliveryFromResponseOtherMember: LatencyStats(nanoseconds: otherMember),
            deliveryP99PerSecondMs: perSecond.map { LatencyStats(nanoseconds: $0).p99Ms },
            eventBytesMean: Double(totals.bytes) / Double(max(1, totals.received)),
            cpu: cpu, perWatcher: summaries)
    }
}

/// Tells watchers when to stop: once they saw `resourceVersion` (or when the deadline passed).
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var target: UInt64?
    private var deadline: UInt64 = .max

    func stop(afterResourceVersion rv: UInt64, deadline: UInt64 = 0) {
        lock.lock(); defer { lock.unlock() }
        target = rv
        self.deadline = deadline
    }

    func shouldStop(seen newest: UInt64) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard let target else { return false }
        return newest >= target || monotonicNanoseconds() >= deadline
    }
}

/// The writers' common start time, set once before they are released.
final class StartBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: UInt64 = 0
    func set(_ value: UInt64) { lock.lock(); stored = value; lock.unlock() }
    var value: UInt64 { lock.lock(); defer { lock.unlock() }; return stored }
}
