// `shoal-bench snapshot`: lz4 snapshot save and decompression on a realistic state, and the
// time a member needs to come back from a data directory holding that snapshot and a long log.
import ArgumentParser
import Foundation
import RaftCore
import RaftStorage

/// Measures `SnapshotStore.save` (lz4 compression, file sync, rename, directory sync) and
/// `decompress` on pod-like JSON objects, then "time to ready": `MemberStorage.open` of a data
/// directory holding that snapshot and a WAL of many entries after it, decompressing the
/// snapshot into memory and building a `RaftNode` from the recovered state.
struct SnapshotBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "lz4 snapshot save/decompress MB/s and ratio on pod-like JSON; time to recover a data directory.")

    /// The goal for time to ready, in seconds.
    static let goalTimeToReadySeconds = 1.0
    /// The log index the snapshot covers; the WAL's entries follow it.
    static let snapshotIndex: Raft.Index = 1_000_000
    /// The term of the snapshot and of every entry after it.
    static let term: Raft.Term = 3
    /// The members named in the snapshot's membership.
    static let voters: [Raft.NodeID] = [1, 2, 3]

    @Option(help: "Directory in which a temporary data directory is made.")
    var dir = "/tmp"

    @Option(help: "Pod objects in the snapshot.")
    var pods = 100_000

    @Option(help: "Seed of the pod generator.")
    var seed: UInt64 = 1

    @Option(help: "Log entries written to the WAL after the snapshot.")
    var logEntries = 1_000_000

    @Option(help: "Command bytes of each log entry.")
    var entryBytes = 100

    @Option(help: "Entries per WAL commit while the log is written (not timed).")
    var writeBatch = 10_000

    @Option(help: "Runs of each measurement (the tables show the median).")
    var runs = 5

    @Option(help: "lz4 compression level: 0 is lz4's fast mode, 3...12 lz4hc.")
    var compressionLevel: Int32 = 0

    @Flag(help: "Skip the cold-cache runs even when the page cache can be dropped.")
    var noCold = false

    @Option(help: "Where to write the JSON results.")
    var json = "bench/results/snapshot.json"

    func validate() throws {
        guard pods >= 1, logEntries >= 0, entryBytes >= 0, writeBatch >= 1, runs >= 1 else {
            throw ValidationError("pods, write-batch and runs must be positive; log-entries and entry-bytes not negative")
        }
    }

    func run() throws {
        let machine = Machine.current()
        let fileSystem = FileSystemInfo.of(dir)
        print("machine: \(machine.summary)")
        print("file system: \(fileSystem.summary)")
        if machine.buildConfiguration == "debug" { print("warning: debug build; use `swift run -c release`") }
        let canDrop = !noCold && dropPageCache()
        if !noCold && !canDrop { print("note: cannot write /proc/sys/vm/drop_caches (not root?); warm runs only") }

        var generator = PodGenerator(seed: seed)
        let (data, generation) = timed { generator.generate(count: pods) }
        let state = StateDescription(data: data, pods: pods, seed: seed)
        print("state: \(grouped(Double(pods))) pods, \(oneDecimal(Double(data.count) / 1e6)) MB of JSON, "
              + "\(grouped(state.averagePodBytes)) bytes per pod (\(state.smallestPodBytes)–\(state.largestPodBytes)), "
              + "generated in \(milliseconds(generation)) s")

        let scratch = try ScratchDirectory(parent: dir, prefix: "shoal-bench-snapshot")
        defer { scratch.remove() }
        let meta = Raft.SnapshotMeta(index: Self.snapshotIndex, term: Self.term,
                                     membership: Raft.Membership(voters: Self.voters), sizeBytes: 0)

        // Compression: SnapshotStore.save, file sync, rename and directory sync included.
        let store = try SnapshotStore(fileSystem: PosixFileSystem(), directory: try scratch.subdirectory("store"),
                                      compressionLevel: compressionLevel)
        var saves: [Phase] = []
        var file: SnapshotFile?
        for number in 1...runs {
            var saved: SnapshotFile?
            let timing = try measureThrowing { saved = try store.save(meta: meta, data: data) }
            file = saved
            saves.append(Phase(timing, bytes: data.count))
            print("save run \(number)/\(runs): \(milliseconds(timing.seconds)) s, \(oneDecimal(saves.last!.mbPerSecond)) MB/s")
        }
        guard let file else { throw BenchError("no snapshot was saved") }
        let ratio = Double(file.metadata.dataSizeBytes) / Double(file.metadata.compressedSizeBytes)
        print("snapshot file: \(oneDecimal(Double(file.sizeBytes) / 1e6)) MB, ratio \(twoDecimals(ratio))")

        // Decompression into memory, warm and (if possible) cold.
        var decompressions: [String: [Phase]] = [:]
        for cache in canDrop ? ["warm", "cold"] : ["warm"] {
            for number in 1...runs {
                if cache == "cold" { _ = dropPageCache() }
                var restored: [UInt8] = []
                let timing = try measureThrowing {
                    restored.reserveCapacity(file.metadata.dataSizeBytes)
                    try store.decompress(file.path) { piece in restored.append(contentsOf: piece) }
                }
                guard restored == data else { throw BenchError("decompression did not give back the saved bytes") }
                decompressions[cache, default: []].append(Phase(timing, bytes: data.count))
                print("decompress (\(cache)) run \(number)/\(runs): \(milliseconds(timing.seconds)) s, "
                      + "\(oneDecimal(decompressions[cache]!.last!.mbPerSecond)) MB/s")
            }
        }

        // Recovery: one data directory with the snapshot and the log after it, reopened many times.
        let member = try scratch.subdirectory("member")
        let writing = try writeDataDirectory(member, meta: meta, data: data)
        print("data directory: snapshot at \(Self.snapshotIndex) and \(grouped(Double(logEntries))) entries of "
              + "\(entryBytes) B in the WAL (\(oneDecimal(Double(writing.walBytes) / 1e6)) MB), written in \(milliseconds(writing.seconds)) s")
        var recoveries: [String: [RecoveryRun]] = [:]
        for cache in canDrop ? ["warm", "cold"] : ["warm"] {
            for number in 1...runs {
                if cache == "cold" { _ = dropPageCache() }
                let run = try recover(member, expectedData: data.count)
                recoveries[cache, default: []].append(run)
                print("recovery (\(cache)) run \(number)/\(runs): open \(milliseconds(run.openSeconds)) s, "
                      + "decompress \(milliseconds(run.decompressSeconds)) s, RaftNode \(milliseconds(run.raftNodeSeconds)) s, "
                      + "time to ready \(milliseconds(run.totalSeconds)) s")
            }
        }

        print()
        print("Snapshot of \(grouped(Double(pods))) pods (\(oneDecimal(Double(data.count) / 1e6)) MB) → "
              + "\(oneDecimal(Double(file.sizeBytes) / 1e6)) MB, compression ratio \(twoDecimals(ratio)) (medians of \(runs) runs; MB = 10^6 bytes of uncompressed data):")
        var phaseTable = TextTable(header: ["operation", "cache", "seconds", "MB/s", "cpu/wall"])
        func addPhase(_ name: String, _ cache: String, _ phases: [Phase]) {
            let seconds = median(phases.map(\.seconds))
            phaseTable.rows.append([name, cache, milliseconds(seconds), oneDecimal(Double(data.count) / seconds / 1e6),
                                    percent(median(phases.map { $0.cpuSeconds / $0.seconds }))])
        }
        addPhase("save (compress, write, sync)", "-", saves)
        for cache in ["warm", "cold"] { if let phases = decompressions[cache] { addPhase("decompress", cache, phases) } }
        print(phaseTable.render())
        print()
        print("Time to ready: MemberStorage.open + decompress the snapshot + RaftNode(config:state:), "
              + "\(grouped(Double(logEntries))) entries after the snapshot (medians):")
        var recoveryTable = TextTable(header: ["cache", "open", "decompress", "RaftNode", "time to ready", "cpu/wall"])
        for cache in ["warm", "cold"] {
            guard let runs = recoveries[cache] else { continue }
            recoveryTable.rows.append([cache, milliseconds(median(runs.map(\.openSeconds))),
                                       milliseconds(median(runs.map(\.decompressSeconds))),
                                       milliseconds(median(runs.map(\.raftNodeSeconds))),
                                       milliseconds(median(runs.map(\.totalSeconds))),
                                       percent(median(runs.map { $0.cpuSeconds / $0.totalSeconds }))])
        }
        print(recoveryTable.render())
        let goal = recoveries.mapValues { median($0.map(\.totalSeconds)) <= Self.goalTimeToReadySeconds }
        print()
        print("goal (time to ready <= \(milliseconds(Self.goalTimeToReadySeconds)) s): "
              + ["warm", "cold"].compactMap { cache in goal[cache].map { "\(cache) " + ($0 ? "met" : "MISSED") } }
                .joined(separator: ", "))
        try writeJSON(Output(
            benchmark: "snapshot", date: timestampNow(), machine: machine, fileSystem: fileSystem,
            parameters: Parameters(pods: pods, seed: seed, logEntries: logEntries, entryBytes: entryBytes, writeBatch: writeBatch,
                                   runs: runs, compressionLevel: compressionLevel, snapshotIndex: Self.snapshotIndex,
                                   goalTimeToReadySeconds: Self.goalTimeToReadySeconds),
            state: state, snapshotFileBytes: file.sizeBytes, compressedBytes: file.metadata.compressedSizeBytes,
            compressionRatio: ratio, saves: saves, decompressions: decompressions, dataDirectory: writing,
            recoveries: recoveries, goalMet: goal), to: json)
        print("results written to \(json)")
    }

    /// Writes the data directory recovery reads: the snapshot, then `logEntries` entries after
    /// it in commits of `writeBatch`, and a hard state committing them all.
    private func writeDataDirectory(_ directory: String, meta: Raft.SnapshotMeta, data: [UInt8]) throws -> DataDirectory {
        let start = ContinuousClock.now
        let (storage, recovered) = try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem())
        guard recovered.isEmpty else { throw BenchError("\(directory) is not empty") }
        _ = try storage.saveSnapshot(meta: meta, data: data)
        var random = Raft.Random(seed: seed ^ 0x5EED)
        let commands = (0..<1024).map { _ in (0..<entryBytes).map { _ in UInt8(32 + random.below(95)) } }
        var index = Self.snapshotIndex
        let last = Self.snapshotIndex + Raft.Index(logEntries)
        while index < last {
            let count = Int(min(Raft.Index(writeBatch), last - index))
            let entries = (0..<count).map { offset in
                Raft.Entry(term: Self.term, index: index + Raft.Index(offset) + 1,
                           payload: .command(commands[(Int(index) + offset) % commands.count]))
            }
            index += Raft.Index(count)
            storage.append(entries: entries, hardState: index == last ? Raft.HardState(term: Self.term, vote: 1, commit: last) : nil)
            try storage.wal.commit()
        }
        if logEntries == 0 {
            storage.append(entries: [], hardState: Raft.HardState(term: Self.term, vote: 1, commit: last))
            try storage.wal.commit()
        }
        let walBytes = try FileManager.default.contentsOfDirectory(atPath: directory + "/wal")
            .reduce(0) { total, name in
                let size = try FileManager.default.attributesOfItem(atPath: directory + "/wal/" + name)[.size] as? Int ?? 0
                return total + size
            }
        storage.close()
        return DataDirectory(entries: logEntries, entryBytes: entryBytes, walBytes: walBytes, seconds: secondsSince(start))
    }

    /// One recovery, timed phase by phase; checks what came back (after the clock stops).
    private func recover(_ directory: String, expectedData: Int) throws -> RecoveryRun {
        var storage: MemberStorage?
        var recovered: MemberStorage.Recovered?
        var restored: [UInt8] = []
        var node: RaftNode?
        var marks: [ContinuousClock.Instant] = []
        let timing = try measureThrowing {
            marks.append(.now)
            let (opened, state) = try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem())
            storage = opened
            recovered = state
            marks.append(.now)
            guard let snapshot = state.snapshot else { throw BenchError("recovery found no snapshot") }
            restored.reserveCapacity(snapshot.metadata.dataSizeBytes)
            try opened.snapshots.decompress(snapshot.path) { piece in restored.append(contentsOf: piece) }
            marks.append(.now)
            node = try RaftNode(config: Raft.Config(id: 1, randomSeed: seed), state: state.state)
            marks.append(.now)
        }
        defer { storage?.close() }
        let last = Self.snapshotIndex + Raft.Index(logEntries)
        guard let recovered, let node, recovered.state.entries.count == logEntries, node.status.lastIndex == last,
              restored.count == expectedData else {
            throw BenchError("recovery came back with \(recovered?.state.entries.count ?? -1) entries, "
                             + "last index \(node?.status.lastIndex ?? 0), \(restored.count) snapshot bytes")
        }
        func between(_ a: Int, _ b: Int) -> Double {
            let parts = (marks[b] - marks[a]).components
            return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
        }
        return RecoveryRun(openSeconds: between(0, 1), decompressSeconds: between(1, 2), raftNodeSeconds: between(2, 3),
                           totalSeconds: timing.seconds, cpuSeconds: timing.cpuSeconds, entries: logEntries)
    }
}

/// `measure` for a throwing body: the error is carried out and rethrown after the clock stops.
func measureThrowing(_ body: () throws -> Void) throws -> Timing {
    var failure: Error?
    let timing = measure {
        do { try body() } catch { failure = error }
    }
    if let failure { throw failure }
    return timing
}

/// Runs `body` and returns its result with the wall time it took, in seconds.
func timed<T>(_ body: () -> T) -> (T, Double) {
    let start = ContinuousClock.now
    let result = body()
    return (result, secondsSince(start))
}

extension SnapshotBenchmark {
    /// The generated state.
    struct StateDescription: Encodable {
        var pods: Int
        var seed: UInt64
        var bytes: Int
        var averagePodBytes: Double
        var smallestPodBytes: Int
        var largestPodBytes: Int
        /// The first pod, to show what the state looks like.
        var samplePod: String

        init(data: [UInt8], pods: Int, seed: UInt64) {
            self.pods = pods
            self.seed = seed
            bytes = data.count
            let lengths = data.split(separator: UInt8(ascii: "\n")).map(\.count)
            averagePodBytes = Double(lengths.reduce(0, +)) / Double(max(1, lengths.count))
            smallestPodBytes = lengths.min() ?? 0
            largestPodBytes = lengths.max() ?? 0
            samplePod = String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        }
    }

    /// One timed save or decompression of the whole state.
    struct Phase: Encodable {
        var seconds: Double
        var cpuSeconds: Double
        /// Uncompressed megabytes (10^6 bytes) per second.
        var mbPerSecond: Double

        init(_ timing: Timing, bytes: Int) {
            seconds = timing.seconds
            cpuSeconds = timing.cpuSeconds
            mbPerSecond = Double(bytes) / timing.seconds / 1e6
        }
    }

    /// How the recovered data directory was written (not timed as part of recovery).
    struct DataDirectory: Encodable {
        var entries: Int
        var entryBytes: Int
        var walBytes: Int
        var seconds: Double
    }

    /// One recovery, phase by phase.
    struct RecoveryRun: Encodable {
        var openSeconds: Double
        var decompressSeconds: Double
        var raftNodeSeconds: Double
        /// Time to ready: the three phases together.
        var totalSeconds: Double
        var cpuSeconds: Double
        var entries: Int
    }

    /// The parameters recorded with the results.
    struct Parameters: Encodable {
        var pods: Int
        var seed: UInt64
        var logEntries: Int
        var entryBytes: Int
        var writeBatch: Int
        var runs: Int
        var compressionLevel: Int32
        var snapshotIndex: Raft.Index
        var goalTimeToReadySeconds: Double
    }

    /// The whole JSON file.
    struct Output: Encodable {
        var benchmark: String
        var date: String
        var machine: Machine
        var fileSystem: FileSystemInfo
        var parameters: Parameters
        var state: StateDescription
        var snapshotFileBytes: Int
        var compressedBytes: Int
        var compressionRatio: Double
        var saves: [Phase]
        var decompressions: [String: [Phase]]
        var dataDirectory: DataDirectory
        var recoveries: [String: [RecoveryRun]]
        var goalMet: [String: Bool]
    }
}
