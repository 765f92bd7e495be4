#if canImport(Glibc)
import Glibc
#endif

/// A small blocking HTTP/1.1 client over a POSIX socket: what the `shoal` CLI uses to talk
/// to an agent (one request per connection; IPv4 addresses or "localhost").
public struct HTTPClient: Sendable {
    public var host: String
    public var port: UInt16
    /// Connect and per-read timeout, in milliseconds.
    public var timeoutMilliseconds: Int
    /// The local address to connect from (a member speaks from the address it advertises).
    public var localHost: String?
    /// Upper bound on a response body held in memory, in bytes.
    public static let responseBytesMax = 64 << 20

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(host: String, port: UInt16, timeoutMilliseconds: Int = 10_000, localHost: String? = nil) {
        self.host = host
        self.port = port
        self.timeoutMilliseconds = timeoutMilliseconds
        self.localHost = localHost
    }

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
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        try writeAll(fd, Array(head.utf8) + body)
        setTimeout(fd, milliseconds: readTimeout ?? timeoutMilliseconds)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw Failure(description: "no answer from \(host):\(port) within \(readTimeout ?? timeoutMilliseconds) ms")
                }
                throw Failure(description: "reading from \(host):\(port): \(String(cString: strerror(errno)))")
            }
            let messages: [HTTPParser.Message]
            do {
                messages = n == 0 ? try parser.finish() : try parser.feed(Array(buffer[0..<n]))
            } catch {
                throw Failure(description: "malformed response from \(host):\(port): \(error.reason)")
            }
            if let message = messages.first { return message }
            if n == 0 { throw Failure(description: "\(host):\(port) closed the connection before answering") }
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

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(Failure) {
        var done = 0
        while done < bytes.count {
            // send with MSG_NOSIGNAL: a server that closed early must not kill the CLI with SIGPIPE.
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "writing to \(host):\(port): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    private func setTimeout(_ fd: Int32, milliseconds: Int) {
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}
