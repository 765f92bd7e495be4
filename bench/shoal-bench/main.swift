// shoal-bench: benchmark harnesses for shoal. Each subcommand prints a table and writes JSON
// (docs/benchmarks.md describes what each one measures and how to read it).
import ArgumentParser

/// The root command; every benchmark is a subcommand in its own file.
struct ShoalBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal-bench",
        abstract: "Benchmarks for shoal (results: a table on stdout and a JSON file).",
        subcommands: [RaftCoreBenchmark.self, WALBenchmark.self, SnapshotBenchmark.self, FailoverBenchmark.self, APIBenchmark.self, AdmissionBenchmark.self, PodsBenchmark.self, PodNetworkBenchmark.self, ProxyBenchmark.self, WorkloadBenchmark.self,
                      SchedulerBenchmark.self])
}

ShoalBench.main()
