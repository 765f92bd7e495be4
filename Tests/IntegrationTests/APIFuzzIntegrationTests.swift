import API
import Foundation
import JSON
import XCTest

/// Mutated manifests thrown at three real members over HTTPS: every answer is a well-formed
/// 2xx or 4xx, no member crashes, and afterwards every member holds the same objects.
final class APIFuzzIntegrationTests: XCTestCase {
    /// Requests per run, spread over the members (the unit-level fuzz test sends many more).
    static let requests = 300

    static let manifests: [(String, String)] = [
        ("/apis/apps/v1/namespaces/default/deployments", """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,
         "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
         "spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}}}
        """),
        ("/api/v1/namespaces/default/services", """
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"type":"NodePort","selector":{"app":"web"},
         "ports":[{"port":80,"targetPort":80}]}}
        """),
        ("/api/v1/namespaces/default/pods", """
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},
         "spec":{"containers":[{"name":"c","image":"busybox"}]}}
        """),
    ]

    func testMutatedManifestsAgainstRealMembers() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        _ = try cluster.waitForLeader()
        try cluster.waitFor("cluster version 2", timeout: 15) {
            try cluster.names.allSatisfy { try cluster.status($0)["clusterVersion"]?.intValue == 2 }
        }
        var state: UInt64 = 0x5eed_2026
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let replacements: [JSONValue] = [.null, "", -1, 70_000, "25%", .bool(true), .array([]), .object(JSONObject()), "é\u{0}", 3.5]
        func mutate(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(var object) where !object.isEmpty && next() % 4 != 0:
                let key = object.keys[Int(next() % UInt64(object.count))]
                switch next() % 3 {
                case 0: object[key] = nil
                case 1: object[key] = replacements[Int(next() % UInt64(replacements.count))]
                default: object[key] = mutate(object[key]!)
                }
                return .object(object)
            case .array(var items) where !items.isEmpty:
                let i = Int(next() % UInt64(items.count))
                items[i] = mutate(items[i])
                return .array(items)
            default:
                return replacements[Int(next() % UInt64(replacements.count))]
            }
        }
        var answered: [Int: Int] = [:]
        for round in 0..<Self.requests {
            let (path, text) = Self.manifests[Int(next() % UInt64(Self.manifests.count))]
            var body = try JSONValue.parse(Array(text.utf8))
            for _ in 0..<Int(next() % 3) { body = mutate(body) }
            var bytes = body.serialized()
            if next() % 15 == 0 { bytes = Array(bytes.prefix(Int(next() % UInt64(bytes.count)))) }
            let host = cluster.names[round % cluster.names.count]
            let method = ["POST", "POST", "PUT", "DELETE"][Int(next() % 4)]
            let name = body[path: ["metadata", "name"]]?.stringValue ?? "p"
            let target = method == "POST" ? path : path + "/" + name
            let client = try cluster.httpClient(host)
            let reply = try client.send(method: method, target: target + "?fieldValidation=Strict",
                                        headers: [("Authorization", "Bearer \(cluster.apiToken(of: host))"),
                                                  ("Content-Type", "application/json")], body: bytes)
            answered[reply.status, default: 0] += 1
            let context = "round \(round) \(method) \(target) on \(host): \(String(decoding: bytes.prefix(200), as: UTF8.self))"
            XCTAssertTrue((200..<300).contains(reply.status) || (400..<500).contains(reply.status), "\(context) → \(reply.status)")
            if reply.status >= 400 {
                let status = try JSONValue.parse(reply.body)
                XCTAssertEqual(status["kind"], "Status", context)
            }
        }
        XCTAssertTrue(cluster.names.allSatisfy(cluster.isRunning), "no member may crash: \(answered)")
        // Every member converges on the same store.
        try cluster.waitFor("every member at the same revision", timeout: 10) {
            let views = try cluster.names.map { try cluster.status($0) }
            let revisions = Set(views.compactMap { $0["storeRevision"]?.intValue })
            let counts = Set(views.compactMap { $0["objects"]?.intValue })
            return revisions.count == 1 && counts.count == 1
        }
        XCTAssertGreaterThan(answered.filter { (200..<300).contains($0.key) }.values.reduce(0, +), 5, "\(answered)")
    }
}
