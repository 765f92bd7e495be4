// The benchmark clients' TCP: non-blocking IPv4 sockets with poll-bounded waits, shared by
// the plain HTTP client (failover) and the HTTPS one (api).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum BenchSocket {
    /// A connected, non-blocking socket with TCP_NODELAY, or why there is none by `deadline`
    /// (monotonic ns).
    static func connect(host: String, port: UInt16, deadline: UInt64) -> Result<Int32, BenchFailure> {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return .failure(BenchFailure("socket: \(errorText())")) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(socketFD)
            return .failure(BenchFailure("'\(host)' is not an IPv4 address"))
        }
        var one: Int32 = 1
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(socketFD, F_SETFL, fcntl(socketFD, F_GETFL) | O_NONBLOCK)
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if started != 0 && errno != EINPROGRESS {
            let problem = "connect \(host):\(port): \(errorText())"
            close(socketFD)
            return .failure(BenchFailure(problem))
        }
        if started != 0 {
            guard waitFor(socketFD, events: Int16(POLLOUT), deadline: deadline) else {
                close(socketFD)
                return .failure(BenchFailure("connect \(host):\(port): timed out"))
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(socketFD, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 {
                close(socketFD)
                return .failure(BenchFailure("connect \(host):\(port): \(String(cString: strerror(error)))"))
            }
        }
        return .success(socketFD)
    }

    /// Waits until `events` are ready on `socketFD` or the deadline passes (false). A poll
    /// error returns true: the call that follows reports it.
    static func waitFor(_ socketFD: Int32, events: Int16, deadline: UInt64) -> Bool {
        while true {
            let now = monotonicNanoseconds()
            guard now < deadline else { return false }
            let milliseconds = Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
            var poller = pollfd(fd: socketFD, events: events, revents: 0)
            let n = poll(&poller, 1, milliseconds)
            if n > 0 { return true }
            if n < 0 && errno != EINTR { return true }
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }

    /// The value of an ASCII hex digit (chunk sizes).
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 97...102: return Int(byte - 87)
        case 65...70: return Int(byte - 55)
        default: return nil
        }
    }
}
