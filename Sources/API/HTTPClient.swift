import Transport

#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client over a POSIX socket: what the `shoal` CLI uses to talk
/// to an agent, and a member to another member from a background thread (one request per
/// connection; IPv4 addresses or "localhost").
///
/// With `tls` it speaks HTTPS: the server's certificate must chain to the context's trusted
/// roots (the cluster CA) and name `host` (or `serverName`). OpenSSL runs over memory BIOs
/// (`TLSSession`) and this client moves the bytes itself, with the same timeouts and
/// `MSG_NOSIGNAL` sends as plain HTTP (OpenSSL's own socket writes could raise SIGPIPE).
public struct HTTPClient: Sendable {
    public var host: String
    public var port: UInt16
    /// Connect and per-read timeout, in milliseconds.
    public var timeoutMilliseconds: Int
    /// The local address to connect from (a member speaks from the address it advertises).
    public var localHost: String?
    /// HTTPS settings; nil: plain HTTP.
    public var tls: TLSContext?
    /// The IP address or DNS name the server's certificate must carry (default: `host`).
    public var serverName: String?
    /// Upper bound on a response body held in memory, in bytes.
    public static let responseBytesMax = 64 << 20

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(host: String, port: UInt16, timeoutMilliseconds: Int = 10_000, localHost: String? = nil,
                tls: TLSContext? = nil) {
        self.host = host
        self.port = port
        self.timeoutMilliseconds = timeoutMilliseconds
        self.localHost = localHost
        self.tls = tls
    }

    /// Speaks HTTPS from now on, verifying the server against `trustedRootsPEM` (the
    /// cluster CA's certificate, e.g. a member's `ca.crt`).
    public mutating func useTLS(trustedRootsPEM: String) throws(Failure) {
        do {
            tls = try TLSContext.client(trustedRootsPEM: trustedRootsPEM)
        } catch {
            throw Failure(description: "cannot trust that CA: \(error)")
        }
    }

    /// "https://host:port" or "http://host:port".
    public var baseURL: String { "\(tls == nil ? "http" : "https")://\(host):\(port)" }

    /// Sends one request and returns the whole response.
    public func send(method: String, target: String, headers: [(String, String)] = [],
                     body: [UInt8] = []) throws(Failure) -> HTTPParser.Message {
        var limits = HTTPParser.Limits()
        limits.bodyBytesMax = Self.responseBytesMax
        let parser = HTTPParser(.response, limits: limits)
        return try exchange(method: method, target: target, headers: headers, body: body, parser: parser)
    }

    /// Sends one request and hands the response body to `onBytes` as it arrives (a watch),
    /// until the server ends it or `onBytes` returns false. Returns the response head.
    public func stream(method: String = "GET", target: String, headers: [(String, String)] = [],
                       timeoutMilliseconds readTimeout: Int? = nil,
                       onBytes: @escaping ([UInt8]) -> Bool) throws(Failure) -> HTTPParser.Message {
        let parser = HTTPParser(.response)
        var keepGoing = true
        parser.onBodyBytes = { bytes in if keepGoing { keepGoing = onBytes(bytes) } }
        return try exchange(method: method, target: target, headers: headers, body: [], parser: parser,
                            readTimeout: readTimeout, stop: { !keepGoing })
    }

    private func exchange(method: String, target: String, headers: [(String, String)], body: [UInt8],
                          parser: HTTPParser, readTimeout: Int? = nil,
                          stop: () -> Bool = { false }) throws(Failure) -> HTTPParser.Message {
        let fd = try connectSocket()
        defer { close(fd) }
        let channel = SocketChannel(fd: fd, peer: "\(host):\(port)")
        if let tls {
            do {
                channel.session = try TLSSession(context: tls, serverName: serverName ?? host)
            } catch {
                throw Failure(description: "TLS to \(host):\(port): \(error)")
            }
            try channel.handshake(timeoutMilliseconds: timeoutMilliseconds)
        }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        try channel.send(Array(head.utf8) + body)
        let timeout = readTimeout ?? timeoutMilliseconds
        setTimeout(fd, milliseconds: timeout)
        while true {
            let bytes = try channel.receive(timeoutMilliseconds: timeout)
            let messages: [HTTPParser.Message]
            do {
                messages = bytes == nil ? try parser.finish() : try parser.feed(bytes!)
            } catch {
                throw Failure(description: "malformed response from \(host):\(port): \(error.reason)")
            }
            if let message = messages.first { return message }
            if bytes == nil { throw Failure(description: "\(host):\(port) closed the connection before answering") }
            if stop() { return HTTPParser.Message(method: "", target: "", status: 200, headers: [], body: [], keepAlive: false) }
        }
    }

    private func connectSocket() throws(Failure) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        let numeric = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, numeric, &address.sin_addr) == 1 else {
            close(fd)
            throw Failure(description: "'\(host)' is not an IPv4 address")
        }
        setTimeout(fd, milliseconds: timeoutMilliseconds)
        if let localHost {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            guard inet_pton(AF_INET, localHost, &local.sin_addr) == 1, withUnsafePointer(to: &local, {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }) == 0 else {
                let message = String(cString: strerror(errno))
                close(fd)
                throw Failure(description: "cannot connect from \(localHost): \(message)")
            }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot connect to \(host):\(port): \(message) (is the shoal agent running?)")
        }
        return fd
    }

    private func setTimeout(_ fd: Int32, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// The bytes of one blocking exchange: the socket itself, or TLS over it (`session`).
private final class SocketChannel {
    let fd: Int32
    let peer: String
    var session: TLSSession?
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)

    init(fd: Int32, peer: String) {
        self.fd = fd
        self.peer = peer
    }

    typealias Failure = HTTPClient.Failure

    /// Runs the TLS handshake to completion (each read bounded by the socket's timeout).
    func handshake(timeoutMilliseconds: Int) throws(Failure) {
        guard let session else { return }
        while true {
            let done: Bool
            do {
                done = try session.handshake()
            } catch {
                try? sendRaw(session.takeOutput())  // OpenSSL's alert, if any
                throw Failure(description: "TLS handshake with \(peer) failed: \(error.reason)\(Self.hint(error))")
            }
            try sendRaw(session.takeOutput())
            if done { return }
            guard let bytes = try receiveRaw(timeoutMilliseconds: timeoutMilliseconds) else {
                throw Failure(description: "\(peer) closed the connection during the TLS handshake (does it speak HTTPS?)")
            }
            do { try session.receive(bytes) } catch { throw Failure(description: "TLS with \(peer): \(error)") }
        }
    }

    func send(_ bytes: [UInt8]) throws(Failure) {
        guard let session else { return try sendRaw(bytes) }
        do { try session.write(bytes) } catch { throw Failure(description: "TLS with \(peer): \(error)") }
        try sendRaw(session.takeOutput())
    }

    /// The next bytes of the answer (plaintext), or nil at its end.
    func receive(timeoutMilliseconds: Int) throws(Failure) -> [UInt8]? {
        guard let session else { return try receiveRaw(timeoutMilliseconds: timeoutMilliseconds) }
        while true {
            let result: TLSSession.ReadResult
            do {
                result = try buffer.withUnsafeMutableBytes { raw throws(TLSError) in try session.read(into: raw) }
            } catch {
                throw Failure(description: "TLS with \(peer): \(error)")
            }
            try sendRaw(session.takeOutput())  // e.g. a key update's answer
            switch result {
            case .bytes(let count): return Array(buffer[0..<count])
            case .closed: return nil
            case .needsInput:
                // A connection that ends without close_notify ends the answer too: HTTP framing
                // (Content-Length, chunked) tells whether it was whole.
                guard let bytes = try receiveRaw(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
                do { try session.receive(bytes) } catch { throw Failure(description: "TLS with \(peer): \(error)") }
            }
        }
    }

    private func sendRaw(_ bytes: [UInt8]) throws(Failure) {
        var done = 0
        while done < bytes.count {
            // send with MSG_NOSIGNAL: a server that closed early must not kill the CLI with SIGPIPE.
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "writing to \(peer): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    private func receiveRaw(timeoutMilliseconds: Int) throws(Failure) -> [UInt8]? {
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { return Array(buffer[0..<n]) }
            if n == 0 { return nil }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                throw Failure(description: "no answer from \(peer) within \(timeoutMilliseconds) ms")
            }
            throw Failure(description: "reading from \(peer): \(String(cString: strerror(errno)))")
        }
    }

    /// What a failed verification usually means.
    static func hint(_ error: TLSError) -> String {
        guard error.kind == .verification else { return "" }
        return " (its certificate is not from the cluster CA trusted here, or does not name the address dialled)"
    }
}
