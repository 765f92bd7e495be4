import Foundation
import XCTest

@testable import API
import JSON
import Store

/// Random mutations of valid manifests thrown at the typed routes: every answer must be a
/// well-formed 2xx or 4xx (a `Status` for failures), and the member must keep serving. The
/// mutations are seeded: a failure prints the seed and the request that caused it.
final class APIFuzzTests: XCTestCase {
    /// Requests per run (the whole run takes a few seconds).
    static let requests = 1_500

    static let manifests: [(path: String, body: JSONValue)] = [
        ("/apis/apps/v1/namespaces/default/deployments", try! JSONValue.parse(Array("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},
         "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27",
           "ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"A","value":"b"}],
           "resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"1"}},
           "readinessProbe":{"httpGet":{"path":"/","port":80},"periodSeconds":5}}]}}}}
        """.utf8))),
        ("/apis/extensions/v1beta1/namespaces/default/deployments", try! JSONValue.parse(Array("""
        {"apiVersion":"extensions/v1beta1","kind":"Deployment","metadata":{"name":"old"},
         "spec":{"replicas":1,"template":{"metadata":{"labels":{"app":"old"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}
        """.utf8))),
        ("/api/v1/namespaces/default/services", try! JSONValue.parse(Array("""
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"web-np"},
         "spec":{"type":"NodePort","selector":{"app":"web"},"ports":[{"port":80,"targetPort":80,"nodePort":30000,"protocol":"TCP"}]}}
        """.utf8))),
        ("/api/v1/namespaces/default/pods", try! JSONValue.parse(Array("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},
         "spec":{"restartPolicy":"Always","containers":[{"name":"c","image":"busybox","command":["sleep","3600"]}],
         "tolerations":[{"key":"k","operator":"Exists","effect":"NoSchedule"}]}}
        """.utf8))),
        ("/api/v1/namespaces/default/configmaps", try! JSONValue.parse(Array("""
        {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","annotations":{"a":"b"}},"data":{"k":"v"}}
        """.utf8))),
        ("/api/v1/namespaces", try! JSONValue.parse(Array("""
        {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}
        """.utf8))),
    ]

    func testRandomMutationsGetWellFormedAnswers() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["SHOAL_FUZZ_SEED"].flatMap(UInt64.init) ?? 20261204)
        var rng = FuzzRandom(seed: seed)
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { $0.apply(.setClusterVersion(version: 2, now: "2024-05-01T12:00:00Z")) }
        var statuses: [Int: Int] = [:]
        for round in 0..<Self.requests {
            let (path, valid) = Self.manifests[Int(rng.next() % UInt64(Self.manifests.count))]
            var body = valid
            let mutations = Int(rng.next() % 4)
            for _ in 0..<mutations { body = mutate(body, &rng, depth: 0) }
            var bytes = body.serialized()
            if rng.next() % 20 == 0 { bytes = corrupt(bytes, &rng) }
            let name = body[path: ["metadata", "name"]]?.stringValue ?? "x"
            let (method, target, contentType): (String, String, String)
            switch rng.next() % 5 {
            case 0, 1: (method, target, contentType) = ("POST", path, "application/json")
            case 2: (method, target, contentType) = ("PUT", path + "/" + name, "application/json")
            case 3: (method, target, contentType) = ("PATCH", path + "/" + name, ["application/merge-patch+json",
                                                                               "application/strategic-merge-patch+json",
                                                                               "application/json-patch+json"][Int(rng.next() % 3)])
            default: (method, target, contentType) = ("DELETE", path + "/" + name, "application/json")
            }
            let query = ["", "?fieldValidation=Strict", "?fieldValidation=Ignore", "?dryRun=All"][Int(rng.next() % 4)]
            let answer = try fixture.client().send(
                method: method, target: target + query,
                headers: [("Authorization", "Bearer \(FakeClusterService.token)"), ("Content-Type", contentType)], body: bytes)
            let context = "seed \(seed) round \(round): \(method) \(target + query) \(String(decoding: bytes.prefix(300), as: UTF8.self))"
            statuses[answer.status, default: 0] += 1
            XCTAssertTrue((200..<300).contains(answer.status) || (400..<500).contains(answer.status),
                          "\(context) → \(answer.status) \(answer.text)")
            if answer.status >= 400 {
                let status = try XCTUnwrap(answer.json, context)
                XCTAssertEqual(status["kind"], "Status", context)
                XCTAssertEqual(status["code"]?.intValue.map(Int.init), answer.status, context)
                XCTAssertNotNil(status["message"]?.stringValue, context)
            } else if method != "DELETE" {
                XCTAssertNotNil(answer.json?["metadata"], context)
            }
        }
        // Still serving, and the store still snapshots and restores.
        XCTAssertEqual(try fixture.send("GET", "/healthz", token: nil).status, 200)
        let snapshot = try XCTUnwrap(fixture.onLoop { $0.store.snapshot() })
        XCTAssertEqual(try Store(restoring: snapshot).snapshot(), snapshot)
        XCTAssertGreaterThan(statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +), 10, "some writes must succeed: \(statuses)")
        XCTAssertGreaterThan(statuses.filter { (400..<500).contains($0.key) }.values.reduce(0, +), 10, "\(statuses)")
    }

    /// One random change somewhere in `value`.
    func mutate(_ value: JSONValue, _ rng: inout FuzzRandom, depth: Int) -> JSONValue {
        switch value {
        case .object(var object) where !object.isEmpty && rng.next() % 3 != 0:
            let key = object.keys[Int(rng.next() % UInt64(object.count))]
            switch rng.next() % 4 {
            case 0: object[key] = nil
            case 1: object[key] = randomValue(&rng, depth: depth)
            case 2: object[key + (rng.next() % 2 == 0 ? "x" : "")] = randomValue(&rng, depth: depth)
            default: object[key] = mutate(object[key]!, &rng, depth: depth + 1)
            }
            return .object(object)
        case .array(var items) where !items.isEmpty && rng.next() % 3 != 0:
            let i = Int(rng.next() % UInt64(items.count))
            switch rng.next() % 3 {
            case 0: items.remove(at: i)
            case 1: items.append(items[i])
            default: items[i] = mutate(items[i], &rng, depth: depth + 1)
            }
            return .array(items)
        default:
            return randomValue(&rng, depth: depth)
        }
    }

    func randomValue(_ rng: inout FuzzRandom, depth: Int) -> JSONValue {
        switch rng.next() % 12 {
        case 0: return .null
        case 1: return .bool(rng.next() % 2 == 0)
        case 2: return .int(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64))
        case 3: return .double(Double(Int64(bitPattern: rng.next() % 1000)) / 7)
        case 4: return .string("")
        case 5: return .string(String(repeating: "a", count: Int(rng.next() % 400)))
        case 6: return .string(["-1", "0", "80", "25%", "Always", "None", "\u{0}", "é", "a/b", "UPPER", "1Gi", "x:1"][Int(rng.next() % 12)])
        case 7: return .array(depth > 4 ? [] : (0..<Int(rng.next() % 3)).map { _ in randomValue(&rng, depth: depth + 1) })
        case 8: return .object(depth > 4 ? JSONObject() : JSONObject((0..<Int(rng.next() % 3)).map { i in
            ("k\(i)", randomValue(&rng, depth: depth + 1)) }))
        case 9: return .int(Int64(rng.next() % 70_000))
        case 10:
            var deep: JSONValue = .int(1)
            for _ in 0..<Int(rng.next() % 120) { deep = .array([deep]) }
            return deep
        default: return .string(String(rng.next(), radix: 36))
        }
    }

    /// Raw damage: truncation, a flipped byte or invalid UTF-8.
    func corrupt(_ bytes: [UInt8], _ rng: inout FuzzRandom) -> [UInt8] {
        guard !bytes.isEmpty else { return [0xFF] }
        var out = bytes
        switch rng.next() % 3 {
        case 0: out = Array(out.prefix(Int(rng.next() % UInt64(out.count))))
        case 1: out[Int(rng.next() % UInt64(out.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
        default: out.insert(contentsOf: [0xC3, 0x28], at: Int(rng.next() % UInt64(out.count)))
        }
        return out
    }
}

/// SplitMix64: seeded, reproducible.
struct FuzzRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
