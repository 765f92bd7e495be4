import JSON
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A speed report, not an assertion (benchmarks never gate `swift test`). Runs only with
/// JSON_SPEED_REPORT=1, and means something only in release:
///
///     JSON_SPEED_REPORT=1 swift test -c release --scratch-path .build-json-release \
///         --filter JSONSpeedCheck
final class JSONSpeedCheck: XCTestCase {
    /// Pods in the generated List: about 10 MB of compact JSON.
    static let podCount = 6_500

    func testParseAndPrintThroughput() throws {
        guard getenv("JSON_SPEED_REPORT") != nil else { throw XCTSkip("set JSON_SPEED_REPORT=1 to run") }
        let list = Self.podList(count: Self.podCount, seed: 42)
        let bytes = list.serialized()
        let megabytes = Double(bytes.count) / 1_000_000
        let limits = JSONLimits(documentSizeMaxBytes: 64 << 20, containerMembersMax: 1 << 20)
        XCTAssertEqual(try JSONValue.parse(bytes, limits: limits), list)

        func best(_ runs: Int = 7, _ body: () throws -> Void) rethrows -> Double {
            var fastest = Double.infinity
            for _ in 0..<runs {
                let start = ContinuousClock.now
                try body()
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                fastest = min(fastest, seconds)
            }
            return fastest
        }
        var sink = 0
        let parse = try best { sink &+= try JSONValue.parse(bytes, limits: limits).objectValue!.count }
        let printCompact = best { sink &+= list.serialized().count }
        let pretty = best { sink &+= list.prettyPrinted().utf8.count }
        let prettyBytes = Double(list.prettyPrinted().utf8.count) / 1_000_000
        let roundTrip = try best { sink &+= try JSONValue.parse(bytes, limits: limits).serialized().count }
        func row(_ name: String, _ size: Double, _ seconds: Double) -> String {
            name + String(repeating: " ", count: max(0, 16 - name.count))
                + " \(format(size)) MB  \(format(seconds * 1000)) ms  \(format(size / seconds)) MB/s"
        }
        print("JSON speed (\(Self.podCount) pods, best of 7, sink \(sink % 10)):")
        print(row("parse", megabytes, parse))
        print(row("print compact", megabytes, printCompact))
        print(row("print pretty", prettyBytes, pretty))
        print(row("parse+print", megabytes, roundTrip))
    }

    private func format(_ number: Double) -> String {
        let scaled = (number * 10).rounded() / 10
        return "\(scaled)"
    }

    /// A `kubectl get pods -o json` response: metadata with labels, annotations (one
    /// holding escaped JSON, as last-applied-configuration does), specs, and statuses.
    static func podList(count: Int, seed: UInt64) -> JSONValue {
        var random = SplitMix64(seed: seed)
        var items: [JSONValue] = []
        for index in 0..<count {
            let app = ["web", "api", "worker", "cache", "db"].randomElement(using: &random)!
            let name = "\(app)-\(String(random.next() % 0xFFFFF, radix: 16))-\(index)"
            let uid = String(random.next(), radix: 16) + "-" + String(random.next(), radix: 16)
            let started = "2026-11-\(10 + index % 18)T\(10 + index % 13):\(10 + index % 49):\(10 + index % 49)Z"
            let container: JSONValue = [
                "name": JSONValue.string(app),
                "image": "registry.local:5000/\(app):1.\(index % 40).\(index % 7)",
                "args": ["--port=8080", "--log-level=info", "--cache-size=\(random.next() % 4096)"],
                "ports": [["name": "http", "containerPort": 8080, "protocol": "TCP"]],
                "env": [
                    ["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                    ["name": "GREETING", "value": "héllo, wörld — \(index) ✓"],
                    ["name": "RATIO", "value": "0.\(random.next() % 1000)"],
                ],
                "resources": ["requests": ["cpu": "250m", "memory": "256Mi"], "limits": ["cpu": "1", "memory": "512Mi"]],
                "readinessProbe": ["httpGet": ["path": "/healthz", "port": 8080], "periodSeconds": 5, "failureThreshold": 3],
            ]
            let applied: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "labels": ["app": .string(app)]]]
            let pod: JSONValue = [
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": [
                    "name": .string(name),
                    "namespace": "default",
                    "uid": .string(uid),
                    "resourceVersion": .string(String(100_000 + index)),
                    "creationTimestamp": .string(started),
                    "labels": ["app": .string(app), "pod-template-hash": .string(String(random.next() % 99_999)), "tier": "backend"],
                    "annotations": [
                        "kubectl.kubernetes.io/last-applied-configuration": .string(applied.jsonString + "\n"),
                        "prometheus.io/scrape": "true",
                    ],
                ],
                "spec": [
                    "nodeName": .string("host-\(index % 3 + 1)"),
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "containers": [container],
                ],
                "status": [
                    "phase": "Running",
                    "podIP": .string("10.244.\(index % 250).\(index % 200 + 2)"),
                    "startTime": .string(started),
                    "conditions": [
                        ["type": "Ready", "status": "True", "lastTransitionTime": .string(started)],
                        ["type": "PodScheduled", "status": "True", "lastTransitionTime": .string(started)],
                    ],
                    "containerStatuses": [[
                        "name": .string(app), "ready": true, "restartCount": .int(Int64(random.next() % 5)),
                        "cpuUtilization": .double(Double(random.next() % 10_000) / 10_000),
                        "state": ["running": ["startedAt": .string(started)]],
                    ]],
                ],
            ]
            items.append(pod)
        }
        return ["apiVersion": "v1", "kind": "List", "metadata": ["resourceVersion": "123456"], "items": .array(items)]
    }
}
