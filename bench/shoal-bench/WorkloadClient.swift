// The workload benchmark's client: GET /test.php at a fixed rate through a set of NodePorts
// (round-robin), each request a new TCP connection with a deadline, every outcome kept with
// its time, so a run can say when the last request failed and how many did.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class WorkloadClient: @unchecked Sendable {
    struct Outcome {
        var atNanos: UInt64
        /// From the start of the request to its answer or failure.
        var tookNanos: UInt64
        var ok: Bool
        /// The answering pod's address (the page's last line) when it answered, else why not.
        var pod: String
    }

    private let addresses: [String]
    private let port: UInt16
    private let intervalNanos: UInt64
    private let lock = NSLock()
    private var outcomes: [Outcome] = []
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    /// How long one request may take before it counts as failed, in milliseconds.
    static let requestTimeoutMilliseconds: UInt64 = 1_000
    /// Requests in flight at most: enough for every request of one deadline's span, so that
    /// requests waiting on a dead endpoint never hold back the ones due after them (with
    /// fewer, the client would go quiet exactly while the service is broken, and report the
    /// last failure too early).
    let threads: Int

    /// `rate`: requests per second in all.
    init(addresses: [String], port: UInt16 = 30000, rate: Int) {
        self.addresses = addresses
        self.port = port
        threads = max(8, rate * Int(Self.requestTimeoutMilliseconds) / 1_000)
        intervalNanos = 1_000_000_000 / UInt64(max(1, rate)) * UInt64(threads)
    }

    func start() {
        for thread in 0..<threads {
            Thread { [self] in
                var next = monotonicNanoseconds() + UInt64(thread) * intervalNanos / UInt64(threads)
                var index = thread
                while lock.withLock({ running }) {
                    let now = monotonicNanoseconds()
                    if now < next { sleepNanoseconds(next - now) }
                    next += intervalNanos
                    let address = addresses[index % addresses.count]
                    index += 1
                    let started = monotonicNanoseconds()
                    let answer = Self.get(address, port: port, deadline: started + Self.requestTimeoutMilliseconds * 1_000_000)
                    let took = monotonicNanoseconds() - started
                    let outcome: Outcome
                    switch answer {
                    case .success(let pod): outcome = Outcome(atNanos: started, tookNanos: took, ok: true, pod: pod)
                    case .failure(let reason): outcome = Outcome(atNanos: started, tookNanos: took, ok: false, pod: reason.description)
                    }
                    lock.withLock { outcomes.append(outcome) }
                }
                done.signal()
            }.start()
        }
    }

    /// Everything so far, by start time.
    func snapshot() -> [Outcome] { lock.withLock { outcomes }.sorted { $0.atNanos < $1.atNanos } }

    func stop() -> [Outcome] {
        lock.withLock { running = false }
        for _ in 0..<threads { done.wait() }
        return snapshot()
    }

    /// One GET over a new connection: the pod's address from the page, or why there is none
    /// ("connect refused", "connect timed out", "read timed out", "reset", "status ...").
    static func get(_ address: String, port: UInt16, deadline: UInt64) -> Result<String, BenchFailure> {
        let socketFD: Int32
        switch BenchSocket.connect(host: address, port: port, deadline: deadline) {
        case .success(let fd): socketFD = fd
        case .failure(let failure):
            return .failure(BenchFailure(failure.description.contains("timed out") ? "connect timed out"
                                         : failure.description.contains("refused") ? "connect refused" : "connect failed"))
        }
        defer { close(socketFD) }
        let request = Array("GET /test.php HTTP/1.0\r\nHost: \(address)\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(socketFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            return .failure(BenchFailure("send failed"))
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            guard BenchSocket.waitFor(socketFD, events: Int16(POLLIN), deadline: deadline) else { return .failure(BenchFailure("read timed out")) }
            let count = buffer.withUnsafeMutableBytes { recv(socketFD, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard count >= 0 else { return .failure(BenchFailure(errno == ECONNRESET ? "reset" : "read failed")) }
            if count == 0 { break }
            response += buffer[0..<count]
            guard response.count < 1 << 16 else { return .failure(BenchFailure("answer over 64 KiB")) }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200"), text.contains("Server IP address") else {
            return .failure(BenchFailure("status " + (text.split(separator: "\r\n").first.map(String.init) ?? "none")))
        }
        return .success(text.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "")
    }
}
