// A blocking HTTPS/1.1 client with a kept-alive connection, for `shoal-bench api`: one per
// thread, OpenSSL over memory BIOs (the project's `TLSSession`) on a non-blocking socket
// with poll-bounded waits. It verifies the server against the cluster CA and the address
// dialled, exactly as the CLI and kubectl do.
import Foundation
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// One persistent HTTPS connection to `host:port`, reopened as needed. Not thread-safe: one
/// thread uses it at a time (handed over with the thread that runs it, hence the Sendable).
final class HTTPSConnection: @unchecked Sendable {
    /// Largest response accepted, in bytes (a list of 10,000 pods is about 30 MB).
    static let responseBytesMax = 512 << 20
    /// Bytes read from the socket at a time.
    static let readChunkBytes = 256 << 10

    let host: String
    let port: UInt16
    let tls: TLSContext
    private var fd: Int32 = -1
    private var session: TLSSession?
    /// Plaintext received and not consumed yet; `inboxStart` is where the unconsumed part begins.
    private var inbox: [UInt8] = []
    private var inboxStart = 0
    private var cipher: [UInt8]
    private var plain: [UInt8]
    /// Connections (and so TLS handshakes) made so far.
    private(set) var connectsTotal = 0
    /// Monotonic time of the last socket read that returned bytes (see `fill`).
    private(set) var lastReadNs: UInt64 = 0
    /// Whether the last failed read failed because its deadline passed (nothing was lost:
    /// the caller may read again).
    private(set) var lastFailureWasTimeout = false

    init(host: String, port: UInt16, tls: TLSContext) {
        self.host = host
        self.port = port
        self.tls = tls
        cipher = [UInt8](repeating: 0, count: Self.readChunkBytes)
        plain = [UInt8](repeating: 0, count: 64 << 10)
    }

    deinit { disconnect() }

    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        session = nil
        inbox.removeAll(keepingCapacity: false)
        inboxStart = 0
    }

    /// Connects and completes the TLS handshake now (so that a measured request never pays it).
    func open(deadline: UInt64) -> String? {
        if fd >= 0 { return nil }
        return connect(deadline: deadline)
    }

    /// Sends one request and waits for the whole response until `deadline` (monotonic ns).
    /// `head`: the request line and extra header lines ("GET /x HTTP/1.1\r\nAccept: ...\r\n");
    /// Host and Content-Length are added.
    func exchange(head: String, body: [UInt8] = [], deadline: UInt64) -> HTTPExchangeResult {
        switch send(head: head, body: body, deadline: deadline) {
        case .some(.notSent(let why)): return .notSent(why)
        case .some(.lost(let why)): return .lost(why)
        default: break
        }
        let result = readResponse(deadline: deadline)
        if case .lost = result { disconnect() }
        return result
    }

    /// Sends a request; nil when it went out whole.
    func send(head: String, body: [UInt8], deadline: UInt64) -> HTTPExchangeResult? {
        if fd >= 0 && !connectionIsReusable() { disconnect() }
        if fd < 0, let problem = connect(deadline: deadline) { return .notSent(problem) }
        var request = Array(head.utf8)
        request += Array("Host: \(host):\(port)\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        request += body
        do {
            try session!.write(request)
        } catch {
            disconnect()
            return .notSent("TLS with \(host):\(port): \(error)")
        }
        if let problem = writeAll(session!.takeOutput(), deadline: deadline) {
            disconnect()
            return .lost(problem)
        }
        return nil
    }

    // MARK: Connection

    /// A kept-alive connection the server closed (or wrote to unasked) must not carry the next request.
    private func connectionIsReusable() -> Bool {
        guard inboxStart == inbox.count else { return false }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) == 0
    }

    private func connect(deadline: UInt64) -> String? {
        let socketFD: Int32
        switch BenchSocket.connect(host: host, port: port, deadline: deadline) {
        case .failure(let failure): return failure.description
        case .success(let connected): socketFD = connected
        }
        fd = socketFD
        inbox.removeAll(keepingCapacity: true)
        inboxStart = 0
        do {
            session = try TLSSession(context: tls, serverName: host)
        } catch {
            disconnect()
            return "TLS to \(host):\(port): \(error)"
        }
        // The handshake: run it to completion (the server's certificate is verified here).
        while true {
            let done: Bool
            do {
                done = try session!.handshake()
            } catch {
                _ = writeAll(session!.takeOutput(), deadline: deadline)
                disconnect()
                return "TLS handshake with \(host):\(port): \(error)"
            }
            if let problem = writeAll(session!.takeOutput(), deadline: deadline) {
                disconnect()
                return problem
            }
            if done { break }
            if let problem = readCiphertext(deadline: deadline) {
                disconnect()
                return "TLS handshake with \(host):\(port): \(problem)"
            }
        }
        connectsTotal += 1
        return nil
    }

    private func writeAll(_ bytes: [UInt8], deadline: UInt64) -> String? {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                done += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if BenchSocket.waitFor(fd, events: Int16(POLLOUT), deadline: deadline) { continue }
                return "sending to \(host):\(port): timed out"
            }
            return "sending to \(host):\(port): \(errorText())"
        }
        return nil
    }

    /// Reads ciphertext from the socket into the TLS session (waiting until the deadline).
    /// Records the time the bytes arrived in `lastReadNs`.
    private func readCiphertext(deadline: UInt64) -> String? {
        lastFailureWasTimeout = false
        while true {
            let n = cipher.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                lastReadNs = monotonicNanoseconds()
                do {
                    try cipher.withUnsafeBufferPointer { raw throws(TLSError) in
                        try session!.receive(UnsafeBufferPointer(rebasing: raw[0..<n]))
                    }
                } catch {
                    return "TLS with \(host):\(port): \(error)"
                }
                return nil
            }
            if n == 0 { return "\(host):\(port) closed the connection" }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                if BenchSocket.waitFor(fd, events: Int16(POLLIN), deadline: deadline) { continue }
                lastFailureWasTimeout = true
                return "no answer from \(host):\(port) in time"
            }
            return "reading from \(host):\(port): \(errorText())"
        }
    }

    /// Appends more plaintext to the inbox: decrypts what is buffered, reading the socket
    /// when OpenSSL needs more. Nil when bytes came, else why not.
    func fill(deadline: UInt64) -> String? {
        guard let session else { return "not connected" }
        compactInbox()
        var got = false
        while true {
            let result: TLSSession.ReadResult
            do {
                result = try plain.withUnsafeMutableBytes { raw throws(TLSError) in try session.read(into: raw) }
            } catch {
                return "TLS with \(host):\(port): \(error)"
            }
            switch result {
            case .bytes(let count):
                inbox.append(contentsOf: plain[0..<count])
                got = true
                if inbox.count - inboxStart > Self.responseBytesMax { return "response from \(host):\(port) too large" }
                continue  // drain every whole record already received
            case .closed:
                return got ? nil : "\(host):\(port) ended the TLS session"
            case .needsInput:
                if got { return nil }
                if let problem = readCiphertext(deadline: deadline) { return problem }
            }
        }
    }

    // MARK: Non-blocking reads (for many streams on one epoll thread)

    /// The socket (for epoll), -1 when not connected.
    var fileDescriptor: Int32 { fd }

    /// Plaintext already received and not consumed (e.g. the first events that arrived with
    /// a watch's response head); the inbox is emptied.
    func takeBuffered() -> [UInt8] {
        let rest = Array(inbox[inboxStart...])
        inbox.removeAll(keepingCapacity: true)
        inboxStart = 0
        return rest
    }

    enum ReadAvailable { case wouldBlock, closed(String) }

    /// Reads whatever the socket holds without waiting (the socket is non-blocking), hands
    /// each decrypted piece to `body` with the time its ciphertext was read, until the
    /// socket would block (or the connection ended).
    func readAvailable(_ body: (UnsafeBufferPointer<UInt8>, UInt64) -> Void) -> ReadAvailable {
        guard let session else { return .closed("not connected") }
        while true {
            let n = cipher.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
                return .closed("reading from \(host):\(port): \(errorText())")
            }
            if n == 0 { return .closed("\(host):\(port) closed the connection") }
            let arrived = monotonicNanoseconds()
            do {
                try cipher.withUnsafeBufferPointer { raw throws(TLSError) in
                    try session.receive(UnsafeBufferPointer(rebasing: raw[0..<n]))
                }
                while true {
                    var count = 0
                    let result = try plain.withUnsafeMutableBytes { raw throws(TLSError) in try session.read(into: raw) }
                    switch result {
                    case .bytes(let got): count = got
                    case .needsInput: break
                    case .closed: return .closed("\(host):\(port) ended the TLS session")
                    }
                    if count == 0 { break }
                    plain.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[0..<count]), arrived) }
                }
            } catch {
                return .closed("TLS with \(host):\(port): \(error)")
            }
            // A short read drained the socket: poll (level-triggered) reports it again when
            // more arrives, so another recv now would only return EAGAIN (half the calls).
            if n < cipher.count { return .wouldBlock }
        }
    }

    /// Drops consumed bytes once they are the larger part of the inbox (amortized O(1)).
    private func compactInbox() {
        if inboxStart > 0 && inboxStart * 2 >= inbox.count {
            inbox.removeSubrange(0..<inboxStart)
            inboxStart = 0
        }
    }

    // MARK: Response

    /// The head of a response: status and the headers that frame it.
    struct ResponseHead {
        var status: Int
        var contentLength: Int?
        var chunked: Bool
        var close: Bool
    }

    func readHead(deadline: UInt64) -> Result<ResponseHead, BenchFailure> {
        var headEnd: Int?
        var searchFrom = inboxStart
        while true {
            headEnd = Self.find(Self.crlfcrlf, in: inbox, from: searchFrom)
            if headEnd != nil { break }
            searchFrom = max(inboxStart, inbox.count - 3)
            let offset = searchFrom - inboxStart
            if let problem = fill(deadline: deadline) { return .failure(BenchFailure(problem)) }
            searchFrom = inboxStart + offset
        }
        let head = String(decoding: inbox[inboxStart..<headEnd!], as: UTF8.self)
        inboxStart = headEnd! + 4
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.first?.split(separator: " ", maxSplits: 2) ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            return .failure(BenchFailure("malformed status line from \(host):\(port): \(lines.first ?? "")"))
        }
        var parsed = ResponseHead(status: status, contentLength: nil, chunked: false, close: statusParts[0] == "HTTP/1.0")
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            switch name {
            case "content-length": parsed.contentLength = Int(value)
            case "transfer-encoding": parsed.chunked = value.contains("chunked")
            case "connection": parsed.close = value.contains("close")
            default: break
            }
        }
        return .success(parsed)
    }

    private func readResponse(deadline: UInt64) -> HTTPExchangeResult {
        let head: ResponseHead
        switch readHead(deadline: deadline) {
        case .failure(let failure): return .lost(failure.description)
        case .success(let parsed): head = parsed
        }
        var body: [UInt8] = []
        if head.chunked {
            while true {
                switch nextChunk(deadline: deadline) {
                case .failure(let failure): return .lost(failure.description)
                case .success(nil): break
                case .success(let range?):
                    body.append(contentsOf: inbox[range])
                    continue
                }
                break
            }
        } else if let length = head.contentLength {
            while inbox.count - inboxStart < length {
                if let problem = fill(deadline: deadline) { return .lost(problem) }
            }
            body = Array(inbox[inboxStart..<(inboxStart + length)])
            inboxStart += length
        } else if head.status == 204 || head.status == 304 || (100..<200).contains(head.status) {
            // no body
        } else {
            return .lost("response from \(host):\(port) framed by the connection's end (not expected)")
        }
        if head.close { disconnect() }
        return .response(status: head.status, body: body)
    }

    /// The next chunk's data (a range of the inbox, consumed by the call), or nil after the
    /// last chunk (and its trailer) was read.
    func nextChunk(deadline: UInt64) -> Result<Range<Int>?, BenchFailure> {
        var lineEnd = Self.find(Self.crlf, in: inbox, from: inboxStart)
        while lineEnd == nil {
            let offset = inbox.count - inboxStart
            if let problem = fill(deadline: deadline) { return .failure(BenchFailure(problem)) }
            lineEnd = Self.find(Self.crlf, in: inbox, from: inboxStart + max(0, offset - 1))
        }
        var size = 0
        for byte in inbox[inboxStart..<lineEnd!] {
            guard let digit = BenchSocket.hexValue(byte) else { break }
            size = size * 16 + digit
            guard size <= Self.responseBytesMax else { return .failure(BenchFailure("chunk too large")) }
        }
        let dataStart = lineEnd! + 2
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            while inbox.count < dataStart + 2 {
                if let problem = fill(deadline: deadline) { return .failure(BenchFailure(problem)) }
            }
            inboxStart = dataStart + 2
            return .success(nil)
        }
        while inbox.count < dataStart + size + 2 {
            let before = inboxStart
            if let problem = fill(deadline: deadline) { return .failure(BenchFailure(problem)) }
            precondition(before == inboxStart || inboxStart == 0, "inbox compacted unexpectedly")
            if inboxStart != before {
                return nextChunk(deadline: deadline)  // positions moved: parse again
            }
        }
        inboxStart = dataStart + size + 2
        return .success(dataStart..<(dataStart + size))
    }

    /// Calls `body` with the bytes of a range returned by `nextChunk` (valid until the next read).
    func withInbox<T>(_ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        inbox.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    private static let crlf: [UInt8] = [13, 10]
    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { hay -> Int? in
            var i = start
            let last = hay.count - needle.count
            while i <= last {
                guard let p = memchr(hay.baseAddress! + i, Int32(needle[0]), last - i + 1) else { return nil }
                let at = hay.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
                var match = true
                for j in 1..<needle.count where hay[at + j] != needle[j] { match = false; break }
                if match { return at }
                i = at + 1
            }
            return nil
        }
    }

    private func errorText() -> String { BenchSocket.errorText() }
}
