// `shoal-bench raft-core`: proposals committed per second by the pure core alone.
import ArgumentParser

/// Measures `RaftNode` throughput in a 3-node in-memory cluster: instant delivery, no disk,
/// nothing applied. The leader proposes, every member's `Ready` is carried out at once, and
/// the clock stops when the leader has been handed the wanted number of committed entries.
struct RaftCoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft-core",
        abstract: "Entries committed per second by RaftCore in a 3-node in-memory cluster.")

    /// The goal: batched proposals committed at this rate or more on one core.
    static let goalEntriesPerSecond = 1_000_000.0
    /// The batch size the goal is stated for.
    static let goalBatchSize = 64
    /// Members in the measured cluster.
    static let clusterSize = 3

    @Option(name: .customLong("batch-sizes"), help: "Comma-separated commands per proposal (default: 1,64).",
            transform: RaftCoreBenchmark.parseList)
    var batchSizes: [Int] = [1, 64]

    @Option(help: "Entries to commit per run when the batch size is 1.")
    var entriesUnbatched = 500_000

    @Option(help: "Entries to commit per run when the batch size is above 1.")
    var entriesBatched = 2_000_000

    @Option(help: "Bytes of each command.")
    var payloadBytes = 128

    @Option(help: "Runs of each configuration (the table shows the best and the median).")
    var runs = 3

    @Option(help: "Compact each member's log every this many applied entries (0: never).")
    var compactEvery = 0

    @Option(help: "Where to write the JSON results.")
    var json = "bench/results/raft-core.json"

    /// Parses "1,64" into [1, 64].
    static func parseList(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count == text.split(separator: ",").count, values.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("expected positive integers separated by commas, got '\(text)'")
        }
        return values
    }

    func validate() throws {
        guard runs >= 1, entriesUnbatched >= 1, entriesBatched >= 1, payloadBytes >= 0, compactEvery >= 0 else {
            throw ValidationError("runs and entry counts must be positive; payload and compaction not negative")
        }
    }

    func run() throws {
        let machine = Machine.current()
        print("machine: \(machine.summary)")
        if machine.buildConfiguration == "debug" { print("warning: debug build; use `swift run -c release`") }
        var results: [Result] = []
        for batchSize in batchSizes {
            let workload = RaftCoreWorkload(
                clusterSize: Self.clusterSize, batchSize: batchSize, entries: batchSize == 1 ? entriesUnbatched : entriesBatched,
                payloadBytes: payloadBytes, compactEveryEntries: compactEvery)
            var measured: [RaftCoreWorkload.Run] = []
            for number in 1...runs {
                let run = workload.run()
                print("batch \(batchSize) run \(number)/\(runs): \(milliseconds(run.seconds)) s, "
                      + "\(grouped(run.entriesPerSecond)) entries/s")
                measured.append(run)
            }
            results.append(Result(batchSize: batchSize, runs: measured))
        }
        print()
        print(table(results).render())
        let goal = goalVerdict(results)
        if let goal { print("\ngoal (batch \(Self.goalBatchSize), >= \(grouped(Self.goalEntriesPerSecond)) entries/s): "
                            + (goal ? "met" : "MISSED")) }
        try writeJSON(Output(benchmark: "raft-core", date: timestampNow(), machine: machine,
                             parameters: parameters, results: results, goalMet: goal), to: json)
        print("results written to \(json)")
    }

    private var parameters: Parameters {
        Parameters(nodes: Self.clusterSize, batchSizes: batchSizes, entriesUnbatched: entriesUnbatched,
                   entriesBatched: entriesBatched, payloadBytes: payloadBytes, runs: runs,
                   compactEveryEntries: compactEvery, goalEntriesPerSecond: Self.goalEntriesPerSecond,
                   goalBatchSize: Self.goalBatchSize)
    }

    private func table(_ results: [Result]) -> TextTable {
        var table = TextTable(header: ["batch", "entries", "run", "seconds", "entries/s", "messages/s", "cpu/wall"])
        for result in results {
            let summary = result.summary
            for (label, run) in [("best", summary.best), ("median", summary.median)] {
                table.rows.append([String(result.batchSize), grouped(Double(run.entriesCommitted)), label,
                                   milliseconds(run.seconds), grouped(run.entriesPerSecond), grouped(run.messagesPerSecond),
                                   percent(run.cpuSeconds / run.seconds)])
            }
        }
        return table
    }

    /// Whether the median run at the goal's batch size meets the goal; nil if it was not measured.
    private func goalVerdict(_ results: [Result]) -> Bool? {
        guard let result = results.first(where: { $0.batchSize == Self.goalBatchSize }) else { return nil }
        return result.summary.median.entriesPerSecond >= Self.goalEntriesPerSecond
    }
}

extension RaftCoreBenchmark {
    /// The runs of one batch size, with their best and median.
    struct Result: Encodable {
        var batchSize: Int
        var runs: [RaftCoreWorkload.Run]
        var summary: Summary<RaftCoreWorkload.Run> { Summary(runs) { $0.entriesPerSecond } }

        enum CodingKeys: String, CodingKey { case batchSize, runs, best, median }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(batchSize, forKey: .batchSize)
            try container.encode(runs.map(RunRecord.init), forKey: .runs)
            try container.encode(RunRecord(summary.best), forKey: .best)
            try container.encode(RunRecord(summary.median), forKey: .median)
        }
    }

    /// A run as written to JSON, with its rates.
    struct RunRecord: Encodable {
        var run: RaftCoreWorkload.Run
        init(_ run: RaftCoreWorkload.Run) { self.run = run }

        enum CodingKeys: String, CodingKey { case entriesPerSecond, messagesPerSecond }

        func encode(to encoder: Encoder) throws {
            try run.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(run.entriesPerSecond, forKey: .entriesPerSecond)
            try container.encode(run.messagesPerSecond, forKey: .messagesPerSecond)
        }
    }

    /// The parameters recorded with the results.
    struct Parameters: Encodable {
        var nodes: Int
        var batchSizes: [Int]
        var entriesUnbatched: Int
        var entriesBatched: Int
        var payloadBytes: Int
        var runs: Int
        var compactEveryEntries: Int
        var goalEntriesPerSecond: Double
        var goalBatchSize: Int
    }

    /// The whole JSON file.
    struct Output: Encodable {
        var benchmark: String
        var date: String
        var machine: Machine
        var parameters: Parameters
        var results: [Result]
        var goalMet: Bool?
    }
}
