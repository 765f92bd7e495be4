// A small blocking HTTP/1.1 client with a persistent (keep-alive) connection, for the load
// generators of `shoal-bench failover`: the same code talks to shoal and to etcd's JSON
// gateway, so the client costs both the same.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds on the monotonic clock (CLOCK_MONOTONIC): every timestamp of the failover
/// benchmark, on every thread, comes from here.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Sleeps the calling thread for `nanoseconds` (interrupted sleeps resume).
func sleepNanoseconds(_ nanoseconds: UInt64) {
    guard nanoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// How one request ended, from the client's point of view.
enum HTTPExchangeResult {
    /// A whole response arrived.
    case response(status: Int, body: [UInt8])
    /// Nothing of the request left this side (no connection, or the write failed at once):
    /// the server cannot have acted on it.
    case notSent(String)
    /// The request was (at least partly) sent, then the connection failed or the deadline
    /// passed before a whole response arrived: the server may or may not have acted on it.
    case lost(String)
}

/// One persistent connection to `host:port`, reopened as needed. Not thread-safe: one per thread.
final class KeepAliveHTTPClient {
    /// Largest response accepted, in bytes (a read-back list can be a few MB).
    static let responseBytesMax = 256 << 20
    /// Bytes read from the socket at a time.
    static let readChunkBytes = 64 << 10

    let host: String
    let port: UInt16
    private var fd: Int32 = -1
    private var inbox: [UInt8] = []
    private var chunk: [UInt8]
    /// Connections opened so far (the first one included).
    private(set) var connectsTotal = 0

    init(host: String, port: UInt16) {
        self.host = host
        self.port = port
        chunk = [UInt8](repeating: 0, count: Self.readChunkBytes)
    }

    deinit { disconnect() }

    /// Closes the connection (the next request opens a new one).
    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        inbox.removeAll(keepingCapacity: true)
    }

    /// Sends one request and waits for its response until `deadline` (monotonic ns).
    /// `head` holds the request line's method and target and any extra header lines, e.g.
    /// "POST /x HTTP/1.1\r\nAuthorization: Bearer t\r\n" (Host and Content-Length are added).
    func exchange(head: String, body: [UInt8], deadline: UInt64) -> HTTPExchangeResult {
        if fd >= 0 && !connectionIsReusable() { disconnect() }
        if fd < 0 {
            if let problem = connect(deadline: deadline) { return .notSent(problem) }
        }
        var request = Array(head.utf8)
        request += Array("Host: \(host):\(port)\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        request += body
        switch writeAll(request, deadline: deadline) {
        case .done: break
        case .failed(let problem, let sentAny):
            disconnect()
            return sentAny ? .lost(problem) : .notSent(problem)
        }
        let result = readResponse(deadline: deadline)
        if case .lost = result { disconnect() }
        return result
    }

    // MARK: Connection

    /// A kept-alive connection the server closed (or wrote to unasked) must not carry the
    /// next request: sending into it would make a refused request look indeterminate.
    private func connectionIsReusable() -> Bool {
        guard inbox.isEmpty else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) == 0
    }

    /// Opens the connection; returns a problem description on failure.
    private func connect(deadline: UInt64) -> String? {
        let socketFD: Int32
        switch BenchSocket.connect(host: host, port: port, deadline: deadline) {
        case .failure(let failure): return failure.description
        case .success(let connected): socketFD = connected
        }
        fd = socketFD
        connectsTotal += 1
        inbox.removeAll(keepingCapacity: true)
        return nil
    }

    private enum WriteResult { case done, failed(String, sentAny: Bool) }

    private func writeAll(_ bytes: [UInt8], deadline: UInt64) -> WriteResult {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                done += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if BenchSocket.waitFor(fd, events: Int16(POLLOUT), deadline: deadline) { continue }
                return .failed("sending to \(host):\(port): timed out", sentAny: done > 0)
            }
            return .failed("sending to \(host):\(port): \(errorText())", sentAny: done > 0)
        }
        return .done
    }

    // MARK: Response

    /// Reads more bytes into `inbox`; nil when they came, else why not.
    private func fill(deadline: UInt64) -> String? {
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                inbox.append(contentsOf: chunk[0..<n])
                if inbox.count > Self.responseBytesMax { return "response from \(host):\(port) too large" }
                return nil
            }
            if n == 0 { return "\(host):\(port) closed the connection" }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                if BenchSocket.waitFor(fd, events: Int16(POLLIN), deadline: deadline) { continue }
                return "no answer from \(host):\(port) in time"
            }
            return "reading from \(host):\(port): \(errorText())"
        }
    }

    private func readResponse(deadline: UInt64) -> HTTPExchangeResult {
        // Head: up to the blank line.
        var headEnd: Int?
        var searchFrom = 0
        while headEnd == nil {
            headEnd = Self.find(Self.crlfcrlf, in: inbox, from: searchFrom)
            if headEnd != nil { break }
            searchFrom = max(0, inbox.count - 3)
            if let problem = fill(deadline: deadline) { return .lost(problem) }
        }
        let head = String(decoding: inbox[0..<headEnd!], as: UTF8.self)
        var bodyStart = headEnd! + 4
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            return .lost("malformed status line from \(host):\(port): \(lines.first ?? "")")
        }
        var contentLength: Int?
        var chunked = false
        var closeAfter = statusParts[0] == "HTTP/1.0"
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t")).lowercased()
            switch name {
            case "content-length": contentLength = Int(value)
            case "transfer-encoding": chunked = value.contains("chunked")
            case "connection": if value.contains("close") { closeAfter = true } else if value.contains("keep-alive") { closeAfter = false }
            default: break
            }
        }
        var body: [UInt8] = []
        if chunked {
            while true {
                // Chunk size line.
                var lineEnd = Self.find(Self.crlf, in: inbox, from: bodyStart)
                while lineEnd == nil {
                    if let problem = fill(deadline: deadline) { return .lost(problem) }
                    lineEnd = Self.find(Self.crlf, in: inbox, from: bodyStart)
                }
                let sizeText = String(decoding: inbox[bodyStart..<lineEnd!], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";").first.map(String.init)?.trimmingCharacters(in: CharacterSet(charactersIn: " ")) ?? "", radix: 16) else {
                    return .lost("malformed chunk size from \(host):\(port)")
                }
                let dataStart = lineEnd! + 2
                if size == 0 {
                    // Trailers (none expected) end with an empty line.
                    var trailerEnd = Self.find(Self.crlf, in: inbox, from: dataStart)
                    while trailerEnd == nil {
                        if let problem = fill(deadline: deadline) { return .lost(problem) }
                        trailerEnd = Self.find(Self.crlf, in: inbox, from: dataStart)
                    }
                    bodyStart = trailerEnd! + 2
                    break
                }
                while inbox.count < dataStart + size + 2 {
                    if let problem = fill(deadline: deadline) { return .lost(problem) }
                }
                body.append(contentsOf: inbox[dataStart..<(dataStart + size)])
                bodyStart = dataStart + size + 2
            }
            inbox.removeSubrange(0..<bodyStart)
        } else if let length = contentLength {
            while inbox.count < bodyStart + length {
                if let problem = fill(deadline: deadline) { return .lost(problem) }
            }
            body = Array(inbox[bodyStart..<(bodyStart + length)])
            inbox.removeSubrange(0..<(bodyStart + length))
        } else if status == 204 || status == 304 || (100..<200).contains(status) {
            inbox.removeSubrange(0..<bodyStart)
        } else {
            // Framed by the end of the connection.
            while fill(deadline: deadline) == nil {}
            body = Array(inbox[bodyStart...])
            inbox.removeAll()
            closeAfter = true
        }
        if closeAfter { disconnect() }
        return .response(status: status, body: body)
    }

    private static let crlf: [UInt8] = [13, 10]
    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] {
                var match = true
                for j in 1..<needle.count where haystack[i + j] != needle[j] { match = false; break }
                if match { return i }
            }
            i += 1
        }
        return nil
    }

    private func errorText() -> String { BenchSocket.errorText() }
}
