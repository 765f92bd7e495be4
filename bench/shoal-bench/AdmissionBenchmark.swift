// `shoal-bench admission`: what typed admission costs per write inside `Store.apply`, step by step.
import ArgumentParser
import Foundation
import JSON
import Store

/// Times the steps every member runs for each typed write it applies (the API benchmark showed
/// them to be most of a member's CPU under creates): decoding the entry, decoding the body into
/// its typed form, defaults and validation, encoding the stored form, and the whole apply.
/// Single-threaded, in process, no I/O: a ceiling for one core.
struct AdmissionBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admission",
        abstract: "Microseconds per typed pod create: the full apply, its steps, and the admitted path (admit once, apply everywhere).")

    @Option(help: "Pods created per run.")
    var pods = 20_000

    @Option(help: "Runs (the table shows the best and the median).")
    var runs = 3

    @Option(help: "Where to write the JSON results.")
    var json = "bench/results/admission.json"

    /// A pod as the API benchmark sends it (about 1 KiB).
    static func podBody(_ i: Int) -> JSONValue {
        try! JSONValue.parse(Array("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-\(i)","namespace":"default","labels":{"app":"web","tier":"frontend","shard":"s\(i % 16)"}},
         "spec":{"containers":[{"name":"web","image":"registry.local:5000/web:1.0","ports":[{"containerPort":80,"protocol":"TCP"}],
           "resources":{"requests":{"cpu":"100m","memory":"64Mi"}},
           "readinessProbe":{"httpGet":{"path":"/healthz","port":80},"periodSeconds":5}}]}}
        """.utf8))
    }

    func run() throws {
        #if DEBUG
        print("warning: a debug build; the numbers mean nothing (use -c release)")
        #endif
        var rows: [(step: String, best: Double, median: Double)] = []
        func measure(_ step: String, _ body: () -> Void) {
            var samples: [Double] = []
            for _ in 0..<runs {
                let start = Self.nowNanoseconds()
                body()
                samples.append(Double(Self.nowNanoseconds() - start) / 1000 / Double(pods))
            }
            samples.sort()
            rows.append((step, samples[0], samples[samples.count / 2]))
        }
        let bodies = (0..<pods).map(Self.podBody)
        let commands = bodies.enumerated().map { i, body in
            StoreCommand.typed(TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default",
                                          name: "pod-\(i)", body: body, fieldValidation: .strict,
                                          uid: "uid-\(i)", now: "2026-12-05T00:00:00Z")).encoded()
        }
        measure("decode the entry (bytes → command)") {
            for bytes in commands { _ = try? StoreCommand.decode(bytes) }
        }
        var typed: [Pod] = []
        measure("decode the body (JSON → Pod)") {
            typed = bodies.map { body in
                var context = DecodeContext()
                return Pod.decode(body, &context)!
            }
        }
        measure("defaults (applyDefaults + prepareForCreate)") {
            for var pod in typed {
                pod.applyDefaults()
                pod.prepareForCreate()
            }
        }
        let defaulted = typed.map { pod -> Pod in
            var copy = pod
            copy.applyDefaults()
            copy.prepareForCreate()
            return copy
        }
        measure("validate (kind rules)") {
            for pod in defaulted { _ = pod.validate() }
        }
        measure("encode (Pod → JSON)") {
            for pod in defaulted { _ = pod.wireJSON }
        }
        measure("whole apply of a create") {
            var store = Store()
            _ = store.apply(index: 1, .setClusterVersion(version: 2, now: "2026-12-05T00:00:00Z"))
            for (i, bytes) in commands.enumerated() { _ = store.apply(index: UInt64(i + 2), bytes) }
        }
        // The path the members take since writes are admitted once: the proposer admits the
        // write against its store (`Store.admit`), every member applies the admitted object.
        var base = Store()
        _ = base.apply(index: 1, .setClusterVersion(version: 2, now: "2026-12-05T00:00:00Z"))
        let writes = bodies.enumerated().map { i, body in
            TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default", name: "pod-\(i)", body: body,
                       fieldValidation: .strict, uid: "uid-\(i)", now: "2026-12-05T00:00:00Z")
        }
        var admitted: [[UInt8]] = []
        measure("admit once on the proposer (admit + encode)") {
            admitted = writes.map { write in
                guard let write = base.admit(write) else { fatalError("a benchmark pod was not admitted") }
                return StoreCommand.admitted(write).encoded()
            }
        }
        var applied = base
        measure("apply an admitted create (every member)") {
            var store = base
            for (i, bytes) in admitted.enumerated() { _ = store.apply(index: UInt64(i + 2), bytes) }
            applied = store
        }
        // Timing a refusal would be meaningless: every admitted pod must have been stored.
        guard applied.listView.count(.pod) == pods else { fatalError("\(applied.listView.count(.pod)) of \(pods) admitted pods were stored") }
        print("\nTyped admission of \(pods) pod creates (µs per pod, single thread)\n")
        print("step".padding(toLength: 48, withPad: " ", startingAt: 0) + "     best   median")
        for row in rows {
            print(row.step.padding(toLength: 48, withPad: " ", startingAt: 0)
                  + String(format: "%9.2f%9.2f", row.best, row.median))
        }
        try writeJSON(Output(benchmark: "admission", date: timestampNow(), machine: Machine.current(), pods: pods, runs: runs,
                             steps: rows.map { Output.Step(step: $0.step, bestMicroseconds: $0.best, medianMicroseconds: $0.median) }),
                      to: json)
    }

    struct Output: Encodable {
        struct Step: Encodable {
            var step: String
            var bestMicroseconds: Double
            var medianMicroseconds: Double
        }
        var benchmark: String
        var date: String
        var machine: Machine
        var pods: Int
        var runs: Int
        var steps: [Step]
    }

    static func nowNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
