// `shoal-bench wal`: durable appends per second through the WAL, against the machine's own
// pwrite + fdatasync limit measured in the same run, and group commit under concurrency.
import ArgumentParser
import Foundation
import RaftStorage

/// Measures `WriteAheadLog` with sync: entries made durable per second and payload MB/s for
/// each entry size and batch size (a batch is one group commit: one frame, one fdatasync),
/// beside a plain pwrite + fdatasync loop writing the same bytes per sync on the same file
/// system; then `GroupCommitWorker` with many concurrent submitters of one entry each.
struct WALBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "WAL appends/s and MB/s with sync against raw pwrite+fdatasync; group commit under concurrency.")

    /// The goal at batch 1: this fraction of the raw loop's sync rate or more.
    static let goalBatchOneRatio = 0.9
    /// The goal at large batches, in payload MB/s (or the disk's own limit if lower).
    static let goalLargeBatchMBPerSecond = 200.0
    /// Where the raw loop itself stays below that, the WAL must reach this fraction of it.
    static let goalLargeBatchRawFraction = 0.9

    @Option(help: "Directory in which a temporary data directory is made (its file system is what is measured).")
    var dir = "/tmp"

    @Option(name: .customLong("entry-sizes"), help: "Comma-separated command bytes per entry (default: 256,4096).",
            transform: parsePositiveList)
    var entrySizes: [Int] = [256, 4096]

    @Option(name: .customLong("batch-sizes"), help: "Comma-separated entries per group commit (default: 1,16,256).",
            transform: parsePositiveList)
    var batchSizes: [Int] = [1, 16, 256]

    @Option(help: "Seconds each run of a loop lasts at most.")
    var seconds = 2.0

    @Option(name: .customLong("bytes-max-mib"), help: "MiB of frames each run writes at most (bounds disk use).")
    var bytesMaxMiB = 1024

    @Option(help: "Runs of each configuration (the table shows the median).")
    var runs = 5

    @Option(name: .customLong("submitters"), help: "Comma-separated concurrent submitters for the group-commit worker (default: 1,8,64).",
            transform: parsePositiveList)
    var submitterCounts: [Int] = [1, 8, 64]

    @Option(name: .customLong("group-entry-bytes"), help: "Command bytes of each entry a submitter submits.")
    var groupEntryBytes = 256

    @Option(name: .customLong("segment-mib"), help: "WAL segment size in MiB (the WAL's default: 64).")
    var segmentMiB = WriteAheadLog.segmentBytesDefault >> 20

    @Flag(help: "Replay the WAL after every run and check it (default: after the first run of each configuration).")
    var verifyAll = false

    @Option(help: "Where to write the JSON results.")
    var json = "bench/results/wal.json"

    func validate() throws {
        guard seconds > 0, bytesMaxMiB >= 1, runs >= 1, groupEntryBytes >= 0, segmentMiB >= 1 else {
            throw ValidationError("seconds, bytes-max-mib, runs and segment-mib must be positive")
        }
    }

    func run() throws {
        let machine = Machine.current()
        let fileSystem = FileSystemInfo.of(dir)
        print("machine: \(machine.summary)")
        print("file system: \(fileSystem.summary)")
        if machine.buildConfiguration == "debug" { print("warning: debug build; use `swift run -c release`") }
        let scratch = try ScratchDirectory(parent: dir, prefix: "shoal-bench-wal")
        defer { scratch.remove() }
        let bytesMax = bytesMaxMiB << 20
        let segmentBytes = segmentMiB << 20
        var shapes: [SyncLoopShape] = []
        for entryBytes in entrySizes {
            for batch in batchSizes {
                var shape = SyncLoopShape(entryBytes: entryBytes, batch: batch, seconds: seconds, syncsMax: 1)
                shape.syncsMax = max(1, bytesMax / shape.frameBytes)
                guard shape.frameBytes + 64 <= segmentBytes else {
                    throw ValidationError("a frame of \(batch) × \(entryBytes) B does not fit a \(segmentMiB) MiB segment")
                }
                shapes.append(shape)
            }
        }
        // Enough segment-sized files for the longest run; pre-written: one file, overwritten in a loop.
        let filesNeeded = shapes.map { shape in
            let framesPerFile = segmentBytes / shape.frameBytes
            return (shape.syncsMax + framesPerFile - 1) / framesPerFile
        }.max()!
        let preallocated = try RawSyncFiles(directory: scratch.path, mode: .preallocated, fileBytes: segmentBytes,
                                            count: filesNeeded)
        let prewritten = try RawSyncFiles(directory: scratch.path, mode: .prewritten,
                                          fileBytes: max(256 << 20, segmentBytes), count: 1)
        var results: [Result] = []
        var runNumber = 0
        for shape in shapes {
            var result = Result(entryBytes: shape.entryBytes, batch: shape.batch, frameBytes: shape.frameBytes)
            for number in 1...runs {
                // Interleaved, so that drift in the machine affects all three alike.
                runNumber += 1
                let walDirectory = try scratch.subdirectory("wal-\(runNumber)")
                let wal = try runWAL(shape, directory: walDirectory, segmentBytes: segmentBytes,
                                     verify: verifyAll || number == 1)
                try FileManager.default.removeItem(atPath: walDirectory)
                let raw = try preallocated.run(shape)
                let ceiling = try prewritten.run(shape)
                print("\(shape.entryBytes) B × \(shape.batch) run \(number)/\(runs): WAL \(grouped(wal.entriesPerSecond)) entries/s, "
                      + "raw \(grouped(raw.entriesPerSecond)), pre-written \(grouped(ceiling.entriesPerSecond))")
                result.wal.append(wal)
                result.raw.append(raw)
                result.prewritten.append(ceiling)
            }
            results.append(result)
        }
        var groupResults: [GroupResult] = []
        for submitters in submitterCounts {
            var result = GroupResult(submitters: submitters, entryBytes: groupEntryBytes)
            for number in 1...runs {
                runNumber += 1
                let walDirectory = try scratch.subdirectory("group-\(runNumber)")
                let run = try runGroupCommit(submitters: submitters, entryBytes: groupEntryBytes, seconds: seconds,
                                             directory: walDirectory, segmentBytes: segmentBytes,
                                             verify: verifyAll || number == 1)
                try FileManager.default.removeItem(atPath: walDirectory)
                print("group commit, \(submitters) submitters, run \(number)/\(runs): \(grouped(run.entriesPerSecond)) entries/s, "
                      + "\(grouped(run.syncsPerSecond)) syncs/s")
                result.runs.append(run)
            }
            groupResults.append(result)
        }
        print()
        print("WAL with sync against raw pwrite + fdatasync of the same bytes per sync (medians of \(runs) runs; MB = 10^6 bytes of payload):")
        print(walTable(results).render())
        print()
        let rawBatchOne = results.first { $0.entryBytes == groupEntryBytes && $0.batch == 1 }
        print("GroupCommitWorker: each submitter submits one \(groupEntryBytes) B entry and waits for it to be durable (medians):")
        print(groupTable(groupResults, rawSyncsPerSecond: rawBatchOne.map { median($0.raw.map(\.syncsPerSecond)) }).render())
        let goals = Goals(results)
        print()
        print(goals.lines.joined(separator: "\n"))
        try writeJSON(Output(benchmark: "wal", date: timestampNow(), machine: machine, fileSystem: fileSystem,
                             parameters: parameters, results: results, groupCommit: groupResults,
                             goals: goals), to: json)
        print("results written to \(json)")
    }

    private var parameters: Parameters {
        Parameters(entrySizes: entrySizes, batchSizes: batchSizes, secondsMax: seconds, bytesMaxMiB: bytesMaxMiB,
                   runs: runs, submitters: submitterCounts, groupEntryBytes: groupEntryBytes, segmentMiB: segmentMiB,
                   goalBatchOneRatio: Self.goalBatchOneRatio, goalLargeBatchMBPerSecond: Self.goalLargeBatchMBPerSecond)
    }

    private func walTable(_ results: [Result]) -> TextTable {
        var table = TextTable(header: ["entry B", "batch", "WAL entries/s", "WAL MB/s", "raw entries/s", "raw MB/s",
                                       "WAL/raw", "pre-written entries/s", "WAL/pre-written", "WAL cpu/wall", "segments"])
        for result in results {
            let wal = median(result.wal.map(\.entriesPerSecond))
            let raw = median(result.raw.map(\.entriesPerSecond))
            let ceiling = median(result.prewritten.map(\.entriesPerSecond))
            let cpu = median(result.wal.map { $0.cpuSeconds / $0.seconds })
            table.rows.append([String(result.entryBytes), String(result.batch), grouped(wal),
                               oneDecimal(median(result.wal.map(\.payloadMBPerSecond))), grouped(raw),
                               oneDecimal(median(result.raw.map(\.payloadMBPerSecond))), twoDecimals(wal / raw),
                               grouped(ceiling), twoDecimals(wal / ceiling), percent(cpu),
                               String(Int(median(result.wal.map { Double($0.segmentsCreated ?? 0) })))])
        }
        return table
    }

    private func groupTable(_ results: [GroupResult], rawSyncsPerSecond: Double?) -> TextTable {
        var table = TextTable(header: ["submitters", "entries/s", "syncs/s", "entries/sync", "entries/s ÷ raw syncs/s"])
        for result in results {
            let entries = median(result.runs.map(\.entriesPerSecond))
            table.rows.append([String(result.submitters), grouped(entries), grouped(median(result.runs.map(\.syncsPerSecond))),
                               oneDecimal(median(result.runs.map(\.entriesPerSync))),
                               rawSyncsPerSecond.map { twoDecimals(entries / $0) } ?? "-"])
        }
        return table
    }
}

extension WALBenchmark {
    /// The runs of one entry size and batch size: the WAL and both raw references.
    struct Result: Encodable {
        var entryBytes: Int
        var batch: Int
        /// Bytes written per sync by every loop of this configuration.
        var frameBytes: Int
        var wal: [SyncRun] = []
        var raw: [SyncRun] = []
        var prewritten: [SyncRun] = []

        enum CodingKeys: String, CodingKey {
            case entryBytes, batch, frameBytes, wal, raw, prewritten
            case medianWALEntriesPerSecond, medianWALMBPerSecond, medianRawEntriesPerSecond, medianRawMBPerSecond
            case medianPrewrittenEntriesPerSecond, walToRaw, walToPrewritten
        }

        var walToRaw: Double { median(wal.map(\.entriesPerSecond)) / median(raw.map(\.entriesPerSecond)) }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entryBytes, forKey: .entryBytes)
            try container.encode(batch, forKey: .batch)
            try container.encode(frameBytes, forKey: .frameBytes)
            try container.encode(wal, forKey: .wal)
            try container.encode(raw, forKey: .raw)
            try container.encode(prewritten, forKey: .prewritten)
            try container.encode(median(wal.map(\.entriesPerSecond)), forKey: .medianWALEntriesPerSecond)
            try container.encode(median(wal.map(\.payloadMBPerSecond)), forKey: .medianWALMBPerSecond)
            try container.encode(median(raw.map(\.entriesPerSecond)), forKey: .medianRawEntriesPerSecond)
            try container.encode(median(raw.map(\.payloadMBPerSecond)), forKey: .medianRawMBPerSecond)
            try container.encode(median(prewritten.map(\.entriesPerSecond)), forKey: .medianPrewrittenEntriesPerSecond)
            try container.encode(walToRaw, forKey: .walToRaw)
            try container.encode(median(wal.map(\.entriesPerSecond)) / median(prewritten.map(\.entriesPerSecond)),
                                 forKey: .walToPrewritten)
        }
    }

    /// The runs of the group-commit worker with one number of submitters.
    struct GroupResult: Encodable {
        var submitters: Int
        var entryBytes: Int
        var runs: [GroupCommitRun] = []
    }

    /// The goals, judged on the medians.
    struct Goals: Encodable {
        /// WAL/raw at batch 1 for each entry size.
        var batchOneRatios: [String: Double] = [:]
        var batchOneMet: Bool?
        /// The configuration with the most bytes per sync: its WAL and raw payload MB/s.
        var largeBatch: String?
        var largeBatchWALMBPerSecond: Double?
        var largeBatchRawMBPerSecond: Double?
        var largeBatchMet: Bool?

        init(_ results: [Result]) {
            let batchOne = results.filter { $0.batch == 1 }
            for result in batchOne { batchOneRatios["\(result.entryBytes)"] = result.walToRaw }
            if !batchOne.isEmpty { batchOneMet = batchOne.allSatisfy { $0.walToRaw >= WALBenchmark.goalBatchOneRatio } }
            if let large = results.max(by: { $0.frameBytes < $1.frameBytes }), large.batch > 1 {
                let wal = median(large.wal.map(\.payloadMBPerSecond))
                let raw = median(large.raw.map(\.payloadMBPerSecond))
                largeBatch = "\(large.entryBytes) B × \(large.batch)"
                largeBatchWALMBPerSecond = wal
                largeBatchRawMBPerSecond = raw
                // 200 MB/s, or nearly the raw loop's own rate where the disk cannot do 200.
                largeBatchMet = wal >= min(WALBenchmark.goalLargeBatchMBPerSecond, WALBenchmark.goalLargeBatchRawFraction * raw)
            }
        }

        var lines: [String] {
            var lines: [String] = []
            if let batchOneMet {
                let ratios = batchOneRatios.sorted { Int($0.key)! < Int($1.key)! }
                    .map { "\($0.key) B: \(twoDecimals($0.value))" }.joined(separator: ", ")
                lines.append("goal (batch 1, WAL >= \(twoDecimals(WALBenchmark.goalBatchOneRatio)) × raw sync rate): "
                             + (batchOneMet ? "met" : "MISSED") + " (\(ratios))")
            }
            if let largeBatch, let wal = largeBatchWALMBPerSecond, let raw = largeBatchRawMBPerSecond, let met = largeBatchMet {
                lines.append("goal (\(largeBatch), >= \(Int(WALBenchmark.goalLargeBatchMBPerSecond)) MB/s or the raw limit): "
                             + (met ? "met" : "MISSED") + " (WAL \(oneDecimal(wal)) MB/s, raw \(oneDecimal(raw)) MB/s)")
            }
            return lines
        }
    }

    /// The parameters recorded with the results.
    struct Parameters: Encodable {
        var entrySizes: [Int]
        var batchSizes: [Int]
        var secondsMax: Double
        var bytesMaxMiB: Int
        var runs: Int
        var submitters: [Int]
        var groupEntryBytes: Int
        var segmentMiB: Int
        var goalBatchOneRatio: Double
        var goalLargeBatchMBPerSecond: Double
    }

    /// The whole JSON file.
    struct Output: Encodable {
        var benchmark: String
        var date: String
        var machine: Machine
        var fileSystem: FileSystemInfo
        var parameters: Parameters
        var results: [Result]
        var groupCommit: [GroupResult]
        var goals: Goals
    }
}
