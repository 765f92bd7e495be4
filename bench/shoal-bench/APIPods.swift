// The pods `shoal-bench api` creates: what a Deployment's pod template typically holds
// (labels, one container with an image, a port, resource requests and limits, a readiness
// probe, a few environment variables), about 1 KiB of JSON as kubectl sends it. Objects only:
// no shoal host runs them (see `nodeName`).
#if canImport(Glibc)
import Glibc
#endif

/// Request bodies for the API benchmark, deterministic from the index.
enum APIPods {
    /// The node the pods are bound to: no host has this name, so no agent starts them and the
    /// scheduler leaves them alone (they are already bound).
    static let nodeName = "bench-no-such-node"

    static let apps = ["web", "api", "checkout", "search", "cart", "auth", "billing", "catalog"]

    /// The pod's name for index `i` with a prefix ("bench-000042").
    static func name(_ prefix: String, _ i: Int) -> String {
        let digits = String(i)
        return prefix + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The JSON body of `POST .../pods` for pod `name` in `namespace`.
    static func body(name: String, namespace: String, index i: Int) -> [UInt8] {
        let app = apps[i % apps.count]
        let hash = "7c9f8d6b" + String(i % 10)
        let json = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"\#(namespace)","#
            + #""labels":{"app":"\#(app)","tier":"\#(i % 3 == 0 ? "frontend" : "backend")","pod-template-hash":"\#(hash)","#
            + #""app.kubernetes.io/part-of":"shop","bench":"api"},"#
            + #""annotations":{"kubectl.kubernetes.io/default-container":"\#(app)"}},"#
            + #""spec":{"nodeName":"\#(nodeName)","restartPolicy":"Always","terminationGracePeriodSeconds":30,"#
            + #""containers":[{"name":"\#(app)","image":"registry.example.com/shop/\#(app):1.\#(i % 7).\#(i % 13)","#
            + #""imagePullPolicy":"IfNotPresent","#
            + #""ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}],"#
            + #""env":[{"name":"LOG_LEVEL","value":"info"},{"name":"PORT","value":"8080"},"#
            + #"{"name":"OTEL_EXPORTER_OTLP_ENDPOINT","value":"http://otel-collector.monitoring:4317"}],"#
            + #""resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"500m","memory":"256Mi"}},"#
            + #""readinessProbe":{"httpGet":{"path":"/healthz","port":8080,"scheme":"HTTP"},"#
            + #""initialDelaySeconds":5,"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3}}]}}"#
        return Array(json.utf8)
    }

    /// A JSON merge patch that sets one label to `value` (a MODIFIED event for watchers, as
    /// long as the value is new: a patch that changes nothing makes no event).
    static func labelPatch(value: String) -> [UInt8] {
        Array(#"{"metadata":{"labels":{"bench-seq":"\#(value)"}}}"#.utf8)
    }

    /// `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":...}}`.
    static func namespaceBody(_ name: String) -> [UInt8] {
        Array(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(name)"}}"#.utf8)
    }
}

/// Byte scanning of JSON answers for the few values the benchmark needs, without parsing
/// them (a watcher reads about 100 MB/s of events; the clock runs while it scans).
enum JSONScan {
    /// The string value of the first `"key":"value"` at or after `from` (no escapes expected).
    static func stringValue(_ key: String, in bytes: UnsafeBufferPointer<UInt8>, from: Int = 0) -> (value: String, end: Int)? {
        let needle = Array("\"\(key)\":\"".utf8)
        guard let at = find(needle, in: bytes, from: from) else { return nil }
        let start = at + needle.count
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\"") { end += 1 }
        guard end < bytes.count else { return nil }
        return (String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self), end)
    }

    static func stringValue(_ key: String, in bytes: [UInt8], from: Int = 0) -> String? {
        bytes.withUnsafeBufferPointer { stringValue(key, in: $0, from: from)?.value }
    }

    /// `metadata.resourceVersion` of an object (or of a list: its own metadata comes first).
    static func resourceVersion(_ bytes: UnsafeBufferPointer<UInt8>, from: Int = 0) -> UInt64? {
        guard let metadata = find(metadataKey, in: bytes, from: from),
              let found = stringValue("resourceVersion", in: bytes, from: metadata) else { return nil }
        return UInt64(found.value)
    }

    static func resourceVersion(_ bytes: [UInt8]) -> UInt64? {
        bytes.withUnsafeBufferPointer { resourceVersion($0) }
    }

    private static let metadataKey = Array("\"metadata\":{".utf8)

    /// The first occurrence of `needle` in `bytes` at or after `from`.
    static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        guard let base = bytes.baseAddress, needle.count > 0 else { return nil }
        var i = from
        let last = bytes.count - needle.count
        while i <= last {
            guard let p = memchr(base + i, Int32(needle[0]), last - i + 1) else { return nil }
            let at = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, needle, needle.count) == 0 { return at }
            i = at + 1
        }
        return nil
    }

    /// How many times `needle` occurs in `bytes`.
    static func count(_ needle: String, in bytes: [UInt8]) -> Int {
        let n = Array(needle.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            var total = 0
            var i = 0
            while let at = find(n, in: buffer, from: i) {
                total += 1
                i = at + n.count
            }
            return total
        }
    }
}
