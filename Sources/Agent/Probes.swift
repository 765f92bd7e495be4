import Foundation
import Store

#if canImport(Glibc)
import Glibc
#endif

// Container probes as kubelet runs them: a startup probe first (liveness and readiness wait
// until it passes), then liveness (its failure threshold kills the container, which then
// restarts by its pod's policy) and readiness (the container's ready flag). Each probe runs
// initialDelaySeconds after the container started and then every periodSeconds, on a worker
// thread, against the pod's address: an HTTP GET (2xx and 3xx pass), a TCP connect, or a
// command run in the container (exit 0 passes).

public enum ProbeKind: String, Sendable, CaseIterable {
    case startup, liveness, readiness
}

/// What one probe of one container has seen.
struct ProbeCounters: Sendable, Equatable {
    var nextAtNanos: Int64
    var successes = 0
    var failures = 0
    var inFlight = false
}

/// Everything a probe run needs, copied off the loop.
struct ProbeJob: Sendable {
    var containerID: String
    var handler: ProbeHandler
    var podIP: String
    var ports: [ContainerPort]
    var timeoutSeconds: Int32

    /// Runs the probe: nil when it passed, else why it failed.
    func run(runtime: ContainerRuntime) -> String? {
        let timeout = max(1, Int(timeoutSeconds))
        if let exec = handler.exec {
            do {
                let result = try runtime.exec(containerID: containerID, command: exec.command, timeoutSeconds: Int64(timeout))
                if result.exitCode == 0 { return nil }
                let output = String(decoding: (result.stdout + result.stderr).prefix(256), as: UTF8.self)
                return "command \(exec.command) exited with \(result.exitCode): \(output)"
            } catch {
                return "command \(exec.command) failed: \(error)"
            }
        }
        if let http = handler.httpGet {
            guard let port = resolve(http.port) else { return "port \(http.port) is not a port of the container" }
            let host = http.host.isEmpty ? podIP : http.host
            let path = http.path.isEmpty ? "/" : http.path
            return ProbeConnection.httpGet(host: host, port: port, path: path, headers: http.httpHeaders.map { ($0.name, $0.value) },
                                           timeoutMilliseconds: timeout * 1_000)
        }
        if let tcp = handler.tcpSocket {
            guard let port = resolve(tcp.port) else { return "port \(tcp.port) is not a port of the container" }
            let host = tcp.host.isEmpty ? podIP : tcp.host
            return ProbeConnection.connect(host: host, port: port, timeoutMilliseconds: timeout * 1_000).error
        }
        return "the probe has no handler shoal runs (gRPC probes are not supported yet)"
    }

    func resolve(_ port: IntOrString) -> UInt16? {
        switch port {
        case .int(let number): return UInt16(exactly: number)
        case .string(let name): return ports.first { $0.name == name }.flatMap { UInt16(exactly: $0.containerPort) }
        }
    }
}

/// Plain sockets with deadlines, for probes (blocking: worker threads only).
enum ProbeConnection {
    /// Connects; the open socket, or why not.
    static func connect(host: String, port: UInt16, timeoutMilliseconds: Int) -> (socket: Int32, error: String?) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return (-1, "\(host) is not an IPv4 address") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (-1, "socket: \(String(cString: strerror(errno)))") }
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if started != 0 && errno != EINPROGRESS {
            let error = String(cString: strerror(errno))
            close(fd)
            return (-1, "dial tcp \(host):\(port): \(error)")
        }
        var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard Glibc.poll(&poll, 1, Int32(timeoutMilliseconds)) == 1 else {
            close(fd)
            return (-1, "dial tcp \(host):\(port): timed out after \(timeoutMilliseconds) ms")
        }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
        if code != 0 {
            close(fd)
            return (-1, "dial tcp \(host):\(port): \(String(cString: strerror(code)))")
        }
        return (fd, nil)
    }

    /// An HTTP/1.1 GET: nil for a 2xx or 3xx answer, else why it failed.
    static func httpGet(host: String, port: UInt16, path: String, headers: [(String, String)], timeoutMilliseconds: Int) -> String? {
        let (fd, error) = connect(host: host, port: port, timeoutMilliseconds: timeoutMilliseconds)
        if let error { return "Get \"http://\(host):\(port)\(path)\": \(error)" }
        defer { close(fd) }
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let deadline = monotonicMilliseconds() + timeoutMilliseconds
        var bytes = Array(request.utf8)
        while !bytes.isEmpty {
            guard wait(fd, events: POLLOUT, until: deadline) else { return "Get \"http://\(host):\(port)\(path)\": timed out" }
            let sent = send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL))
            if sent <= 0 { return "Get \"http://\(host):\(port)\(path)\": \(String(cString: strerror(errno)))" }
            bytes.removeFirst(sent)
        }
        // The status line is all a probe reads.
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while !answer.contains(UInt8(ascii: "\n")) && answer.count < 4_096 {
            guard wait(fd, events: POLLIN, until: deadline) else { return "Get \"http://\(host):\(port)\(path)\": timed out awaiting headers" }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        let line = String(decoding: answer.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return "Get \"http://\(host):\(port)\(path)\": malformed HTTP response \"\(line.prefix(64))\""
        }
        return (200..<400).contains(status) ? nil : "HTTP probe failed with statuscode: \(status)"
    }

    static func wait(_ fd: Int32, events: Int32, until deadline: Int) -> Bool {
        let remaining = deadline - monotonicMilliseconds()
        guard remaining > 0 else { return false }
        var poll = pollfd(fd: fd, events: Int16(events), revents: 0)
        return Glibc.poll(&poll, 1, Int32(remaining)) == 1
    }

    static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int(now.tv_sec) * 1_000 + Int(now.tv_nsec) / 1_000_000
    }
}
