import Foundation
import XCTest

@testable import API

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client for what `HTTPClient` cannot do: pipelining, garbage, hanging up
/// mid-stream, never reading. Every read has a timeout.
final class RawSocket {
    let fd: Int32
    private let parser = HTTPParser(.response)
    private var closed = false

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Connects to 127.0.0.1:`port`; `receiveBufferBytes` shrinks the kernel's buffer
    /// (a slow reader fills up sooner).
    init(port: UInt16, receiveBufferBytes: Int? = nil, timeoutMilliseconds: Int = 5_000) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        if var size = receiveBufferBytes.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw Failure(description: "connect failed: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close() }

    func close() {
        if !closed { Glibc.close(fd) }
        closed = true
    }

    /// Writes everything (false if the server closed on us).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// One read: the bytes, [] at EOF, nil on timeout or error.
    func readOnce() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { return nil }
        return Array(buffer[0..<n])
    }

    /// Reads until `count` responses have been parsed (or EOF/timeout: fewer).
    func responses(_ count: Int) -> [HTTPParser.Message] {
        var messages: [HTTPParser.Message] = []
        while messages.count < count {
            guard let bytes = readOnce(), !bytes.isEmpty else { break }
            guard let parsed = try? parser.feed(bytes) else { break }
            messages += parsed
        }
        return messages
    }

    /// True when the server closes the connection (EOF or reset) within the read timeout,
    /// reading and dropping whatever arrives before.
    func waitForClose() -> Bool {
        while true {
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

/// A request as raw bytes (HTTP/1.1, keep-alive unless `close`).
func rawRequest(_ method: String, _ target: String, body: String = "", token: String? = FakeClusterService.token,
                close: Bool = false) -> String {
    var text = "\(method) \(target) HTTP/1.1\r\nHost: test\r\n"
    if let token { text += "Authorization: Bearer \(token)\r\n" }
    if close { text += "Connection: close\r\n" }
    text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    return text
}

/// A watch over a raw socket: the stream's JSON lines as they arrive, without the client
/// having to see one first (`HTTPClient.stream` blocks the test until bytes come).
final class WatchReader {
    let socket: RawSocket
    private let parser = HTTPParser(.response)
    private var pending: [UInt8] = []
    private(set) var lines: [JSONValue] = []
    /// The stream's head and end, once the server ended it.
    private(set) var ended: HTTPParser.Message?
    private(set) var closed = false

    init(port: UInt16, target: String, receiveBufferBytes: Int? = nil, readTimeoutMilliseconds: Int = 5_000) throws {
        socket = try RawSocket(port: port, receiveBufferBytes: receiveBufferBytes, timeoutMilliseconds: readTimeoutMilliseconds)
        parser.onBodyBytes = { [unowned self] bytes in
            pending += bytes
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                lines.append((try? JSONValue.parse(line)) ?? .string("unparsable: " + String(decoding: line, as: UTF8.self)))
            }
        }
        socket.send(rawRequest("GET", target))
    }

    /// Reads until `count` lines arrived, the stream ended, or a read timed out.
    @discardableResult
    func read(untilLines count: Int) -> [JSONValue] {
        while lines.count < count && ended == nil && !closed {
            guard let bytes = socket.readOnce(), !bytes.isEmpty else {
                closed = true
                break
            }
            if let message = try? parser.feed(bytes).first { ended = message }
        }
        return lines
    }

    /// Reads until the server ends the stream or closes (bounded by the read timeout).
    func readToEnd() -> [JSONValue] { read(untilLines: Int.max) }
}

import JSON
