// Deterministic, Kubernetes-like pod objects as JSON: the state a snapshot of a busy cluster
// holds. Same seed, same bytes.
import RaftCore

/// Generates pod objects grouped the way a store keeps them (by namespace, then name, so the
/// replicas of one deployment sit next to each other), with realistic field lengths: random
/// UIDs, container IDs and IPs (which do not compress), repeated keys, images and labels
/// (which do).
struct PodGenerator {
    private var random: Raft.Random
    private var resourceVersion: UInt64 = 4_200_000
    private let namespaces: [String]

    static let words = ["web", "api", "auth", "billing", "cart", "catalog", "checkout", "search", "gateway", "worker",
                        "ingest", "metrics", "logs", "cache", "queue", "payments", "orders", "users", "email", "media",
                        "reports", "export", "frontend", "backend", "inventory", "shipping", "pricing", "reviews"]
    static let suffixes = ["", "-v2", "-internal", "-public", "-batch", "-sync", "-cron", "-proxy"]
    static let registries = ["registry.example.com", "ghcr.io/example", "docker.io/library", "quay.io/example"]
    static let envNames = ["LOG_LEVEL", "PORT", "DATABASE_URL", "REDIS_HOST", "FEATURE_FLAGS", "OTEL_EXPORTER_ENDPOINT",
                           "GOMAXPROCS", "JAVA_OPTS", "REGION", "CACHE_TTL_SECONDS"]
    static let alphanumerics = Array("bcdfghjklmnpqrstvwxz2456789".utf8)
    static let hexDigits = Array("0123456789abcdef".utf8)

    init(seed: UInt64) {
        random = Raft.Random(seed: seed)
        namespaces = (0..<40).map { "team-\($0 + 1)" } + ["default", "kube-system", "monitoring", "ingress"]
    }

    /// `count` pods as newline-separated JSON objects.
    mutating func generate(count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * 1200)
        var made = 0
        while made < count {
            // One deployment: 1 to 12 replicas in one namespace, sharing spec, labels and image.
            let namespace = namespaces[pick(namespaces.count)]
            let app = Self.words[pick(Self.words.count)] + "-" + Self.words[pick(Self.words.count)]
                + Self.suffixes[pick(Self.suffixes.count)]
            let deployment = Deployment(
                namespace: namespace, app: app, templateHash: token(10, from: Self.alphanumerics),
                image: "\(Self.registries[pick(Self.registries.count)])/\(app):v\(pick(4)).\(pick(30)).\(pick(10))",
                replicaSetUID: uuid(), port: [80, 8080, 8443, 9000, 3000][pick(5)],
                cpuMillis: [100, 250, 500, 1000][pick(4)], memoryMiB: [128, 256, 512, 1024, 2048][pick(5)],
                env: environment(),
                sidecar: pick(4) == 0, owned: pick(10) != 0, resources: pick(4), annotated: pick(2) == 0)
            for _ in 0..<min(1 + pick(12), count - made) {
                out.append(contentsOf: pod(of: deployment).utf8)
                out.append(UInt8(ascii: "\n"))
                made += 1
            }
        }
        return out
    }

    private struct Deployment {
        var namespace, app, templateHash, image, replicaSetUID: String
        var port, cpuMillis, memoryMiB: Int
        var env: [(String, String)]
        var sidecar: Bool
        /// Made by a ReplicaSet (an owner reference and a template hash), or a bare pod.
        var owned: Bool
        /// 0: no resources; 1: requests only; 2, 3: requests and limits.
        var resources: Int
        var annotated: Bool
    }

    private mutating func pod(of d: Deployment) -> String {
        resourceVersion += 1 + UInt64(pick(50))
        let name = d.owned ? "\(d.app)-\(d.templateHash)-\(token(5, from: Self.alphanumerics))" : "\(d.app)-\(token(5, from: Self.alphanumerics))"
        let requests = #""requests":{"cpu":"\#(d.cpuMillis)m","memory":"\#(d.memoryMiB)Mi"}"#
        let limits = #""limits":{"cpu":"\#(d.cpuMillis * 2)m","memory":"\#(d.memoryMiB * 2)Mi"}"#
        let resources = [#""#, #","resources":{\#(requests)}"#, #","resources":{\#(requests),\#(limits)}"#][min(d.resources, 2)]
        let templateHash = d.owned ? #","pod-template-hash":"\#(d.templateHash)""# : ""
        let annotations = d.annotated ? #","annotations":{"shoal.io/config-hash":"\#(token(16, from: Self.hexDigits))"}"# : ""
        let owners = d.owned ? #","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"\#(d.app)-\#(d.templateHash)","uid":"\#(d.replicaSetUID)","controller":true}]"# : ""
        let created = timestamp()
        let node = "host-\(1 + pick(64))"
        let env = d.env.map { #"{"name":"\#($0.0)","value":"\#($0.1)"}"# }.joined(separator: ",")
        var containers = [#"{"name":"\#(d.app)","image":"\#(d.image)","ports":[{"name":"http","containerPort":\#(d.port),"protocol":"TCP"}]\#(resources)\#(env.isEmpty ? "" : #","env":[\#(env)]"#)}"#]
        var statuses = [containerStatus(d.app)]
        if d.sidecar {
            containers.append(#"{"name":"log-shipper","image":"docker.io/library/fluent-bit:2.2.0","resources":{"requests":{"cpu":"50m","memory":"64Mi"}}}"#)
            statuses.append(containerStatus("log-shipper"))
        }
        let conditions = ["Ready", "PodScheduled"]
            .map { #"{"type":"\#($0)","status":"True","lastTransitionTime":"\#(created)"}"# }
            .joined(separator: ",")
        return #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"\#(d.namespace)","uid":"\#(uuid())","resourceVersion":"\#(resourceVersion)","creationTimestamp":"\#(created)","labels":{"app":"\#(d.app)"\#(templateHash),"tier":"\#(["frontend", "backend", "data"][pick(3)])"}\#(annotations)\#(owners)},"spec":{"nodeName":"\#(node)","restartPolicy":"Always","containers":[\#(containers.joined(separator: ","))]},"status":{"phase":"Running","hostIP":"192.168.\#(pick(4)).\#(1 + pick(250))","podIP":"10.\#(pick(256)).\#(pick(256)).\#(1 + pick(254))","startTime":"\#(created)","conditions":[\#(conditions)],"containerStatuses":[\#(statuses.joined(separator: ","))]}}"#
    }

    private mutating func containerStatus(_ name: String) -> String {
        #"{"name":"\#(name)","ready":true,"restartCount":\#(pick(8) == 0 ? pick(5) : 0),"containerID":"shoal://\#(token(64, from: Self.hexDigits))"}"#
    }

    /// Zero to three distinct environment variables with short values.
    private mutating func environment() -> [(String, String)] {
        var names = Self.envNames
        return (0..<pick(4)).map { _ in
            (names.remove(at: pick(names.count)), token(4 + pick(12), from: Self.alphanumerics))
        }
    }

    private mutating func pick(_ bound: Int) -> Int { Int(random.below(UInt64(bound))) }

    private mutating func token(_ length: Int, from alphabet: [UInt8]) -> String {
        String(decoding: (0..<length).map { _ in alphabet[pick(alphabet.count)] }, as: UTF8.self)
    }

    private mutating func uuid() -> String {
        [8, 4, 4, 4, 12].map { token($0, from: Self.hexDigits) }.joined(separator: "-")
    }

    /// A time in November 2026, "2026-11-DDTHH:MM:SSZ".
    private mutating func timestamp() -> String {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "2026-11-\(two(1 + pick(27)))T\(two(pick(24))):\(two(pick(60))):\(two(pick(60)))Z"
    }
}
