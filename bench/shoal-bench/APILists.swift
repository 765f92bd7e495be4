// Phase 2 of `shoal-bench api`: listing the N pods, one request at a time, from every member
// in turn: the whole list (no limit), pages of 500 (what kubectl and client-go informers
// do), and the Table form `kubectl get` asks for (whole and paged).
import Foundation

/// One way of listing.
enum ListForm: String, Codable, CaseIterable {
    /// `GET .../pods`: every pod in one JSON answer.
    case full
    /// `GET .../pods?limit=500`, then `&continue=...` until the last page.
    case paged
    /// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, no limit.
    case table
    /// The Table, in pages of 500 (exactly what `kubectl get pods` sends).
    case tablePaged

    var label: String {
        switch self {
        case .full: return "list (JSON, no limit)"
        case .paged: return "list (JSON, limit=500 paged)"
        case .table: return "list (Table, no limit)"
        case .tablePaged: return "list (Table, limit=500 paged)"
        }
    }

    var pageSize: Int? { self == .paged || self == .tablePaged ? 500 : nil }
    var isTable: Bool { self == .table || self == .tablePaged }
}

/// One timed list: from the first request's send to the last page's last byte.
struct ListRun: Codable {
    var member: Int
    var milliseconds: Double
    var bytes: Int
    var pages: Int
}

struct ListFormResult: Codable {
    var form: ListForm
    var runs: [ListRun]
    var latency: LatencyStats
    var latencyByMember: [LatencyStats]
    var bytesMean: Double
    /// Items (or Table rows) the first list from each member held; must be N.
    var itemsChecked: [Int]
    var failures: [String]
    var cpu: CPUShare
}

struct ListPhase {
    let cluster: APICluster
    let namespace: String
    let expectedItems: Int
    let repeatsPerMember: Int
    let requestTimeoutNs: UInt64

    static let tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io"
    /// What kubectl get sends: Table v1, then v1beta1, then plain JSON.
    static let kubectlAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

    func run(_ form: ListForm) -> ListFormResult {
        let connections = cluster.members.indices.map { cluster.connection(to: $0) }
        var failures: [String] = []
        var itemsChecked: [Int] = []
        // One untimed list per member: opens the connection (handshake) and checks the answer.
        for (m, connection) in connections.enumerated() {
            switch list(form, connection) {
            case .success(let pages):
                itemsChecked.append(Self.countItems(pages, table: form.isTable))
            case .failure(let failure):
                failures.append("h\(m + 1): \(failure.description)")
                itemsChecked.append(-1)
            }
        }
        var runs: [ListRun] = []
        let meter = CPUMeter(cluster)
        for round in 0..<repeatsPerMember {
            for (m, connection) in connections.enumerated() {
                _ = round
                let began = monotonicNanoseconds()
                switch list(form, connection) {
                case .success(let pages):
                    let elapsed = Double(monotonicNanoseconds() - began) / 1e6
                    runs.append(ListRun(member: m, milliseconds: elapsed, bytes: pages.reduce(0) { $0 + $1.count }, pages: pages.count))
                case .failure(let failure):
                    failures.append("h\(m + 1): \(failure.description)")
                }
            }
        }
        let cpu = meter.finish()
        return ListFormResult(
            form: form, runs: runs, latency: LatencyStats(milliseconds: runs.map(\.milliseconds)),
            latencyByMember: cluster.members.indices.map { m in LatencyStats(milliseconds: runs.filter { $0.member == m }.map(\.milliseconds)) },
            bytesMean: Double(runs.reduce(0) { $0 + $1.bytes }) / Double(max(1, runs.count)),
            itemsChecked: itemsChecked, failures: failures, cpu: cpu)
    }

    /// Lists once (every page); returns each page's body.
    private func list(_ form: ListForm, _ connection: HTTPSConnection) -> Result<[[UInt8]], BenchFailure> {
        var pages: [[UInt8]] = []
        var token: String?
        repeat {
            var target = "/api/v1/namespaces/\(namespace)/pods"
            var query: [String] = []
            if let size = form.pageSize { query.append("limit=\(size)") }
            if let token { query.append("continue=\(token)") }
            if !query.isEmpty { target += "?" + query.joined(separator: "&") }
            let accept = form == .tablePaged ? Self.kubectlAccept : form == .table ? Self.tableAccept : "application/json"
            let head = "GET \(target) HTTP/1.1\r\n\(cluster.authorization)Accept: \(accept)\r\nUser-Agent: shoal-bench-api\r\n"
            switch connection.exchange(head: head, deadline: monotonicNanoseconds() + requestTimeoutNs) {
            case .response(200, let body):
                pages.append(body)
                // The list's own metadata comes first; its continue token, if any, is in it.
                token = body.withUnsafeBufferPointer { buffer -> String? in
                    guard let found = JSONScan.stringValue("continue", in: UnsafeBufferPointer(rebasing: buffer[0..<min(buffer.count, 4096)])),
                          !found.value.isEmpty else { return nil }
                    return found.value
                }
                if form.pageSize == nil { token = nil }
            case .response(let status, let body):
                return .failure(BenchFailure("\(status) \(excerpt(body))"))
            case .notSent(let why), .lost(let why):
                return .failure(BenchFailure(why))
            }
            if pages.count > 10_000 { return .failure(BenchFailure("more than 10,000 pages")) }
        } while token != nil
        return .success(pages)
    }

    /// Items (or rows) in the pages, parsed as JSON (off the clock), with duplicate names
    /// counted once: a paged list must not repeat or skip.
    static func countItems(_ pages: [[UInt8]], table: Bool) -> Int {
        var names = Set<String>()
        for page in pages {
            guard let object = try? JSONSerialization.jsonObject(with: Data(page)) as? [String: Any] else { return -1 }
            let entries = (object[table ? "rows" : "items"] as? [[String: Any]]) ?? []
            for entry in entries {
                let metadata = table ? (entry["object"] as? [String: Any])?["metadata"] : entry["metadata"]
                names.insert(((metadata as? [String: Any])?["name"] as? String) ?? "?\(names.count)")
            }
        }
        return names.count
    }
}
