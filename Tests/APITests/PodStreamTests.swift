import Foundation
import XCTest

@testable import API
import JSON

#if canImport(Glibc)
import Glibc
#endif

/// `kubectl exec`, `attach`, `port-forward`: an upgrade request joined byte for byte to the
/// runtime's streaming server on the pod's member (a stand-in server here that answers 101
/// and echoes upper-cased).
final class PodStreamTests: XCTestCase {
    static let execTarget = "/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=echo%20hi&stdout=true&stderr=true"

    func testExecJoinsTheClientToTheRuntimesStream() throws {
        let runtime = try FakeStreamingServer().start()
        defer { runtime.stop() }
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.nodeName = "node-a"
            service.streamingURLAnswer = .success("http://127.0.0.1:\(runtime.port)/exec/token-1")
        }
        XCTAssertEqual(try createPod(fixture, node: "node-a").status, 201)

        let socket = try RawSocket(port: fixture.port)
        socket.send(upgradeRequest(Self.execTarget) + "early")
        let (head, rest) = try readSwitch(socket)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 101"), head)
        XCTAssertEqual(try readExactly(socket, 5, after: rest), Array("EARLY".utf8), "bytes sent before the 101 reach the runtime")
        socket.send("ping")
        XCTAssertEqual(try readExactly(socket, 4), Array("PING".utf8))

        let request = fixture.onLoop { $0.streamRequests }
        XCTAssertEqual(request, [PodStreamRequest(namespace: "default", pod: "web", podUID: "uid-2", container: "app",
                                                  kind: .exec(command: ["sh", "-c", "echo hi"]), stdout: true, stderr: true)])
        let seen = runtime.heads.first ?? ""
        XCTAssertTrue(seen.hasPrefix("POST /exec/token-1 HTTP/1.1\r\nHost: 127.0.0.1:\(runtime.port)\r\n"), seen)
        XCTAssertTrue(seen.contains("upgrade: SPDY/3.1\r\n") && seen.contains("x-stream-protocol-version: v4.channel.k8s.io\r\n"), seen)
        XCTAssertFalse(seen.lowercased().contains("authorization"), "the client's credentials stay with shoal")

        // Far more than the tunnel buffers: a slow direction holds the other back, nothing is lost.
        let bulk = (0..<(6 << 20)).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        let received = Unchecked<[UInt8]>([])
        let shared = Unchecked(socket)
        let count = bulk.count
        let reader = Thread { received.value = (try? readExactly(shared.value, count)) ?? [] }
        reader.start()
        XCTAssertTrue(socket.send(bulk))
        XCTAssertTrue(waitFor { reader.isFinished })
        XCTAssertEqual(received.value, bulk.map { $0 - 32 }, "every byte came back, in order, upper-cased")

        socket.close()
        XCTAssertTrue(fixture.thread.waitUntil("the tunnel to close") { fixture.server.connectionCount == 0 })
        XCTAssertTrue(waitFor { runtime.closedConnections == 1 }, "the runtime's side closes with the client's")
    }

    func testTheRuntimeEndingTheSessionClosesTheClient() throws {
        let runtime = try FakeStreamingServer(closeAfterAnswer: true).start()
        defer { runtime.stop() }
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.nodeName = "node-a"
            service.streamingURLAnswer = .success("http://127.0.0.1:\(runtime.port)/exec/token-2")
        }
        _ = try createPod(fixture, node: "node-a")
        let socket = try RawSocket(port: fixture.port)
        socket.send(upgradeRequest(Self.execTarget))
        let (head, _) = try readSwitch(socket)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 101"), head)
        XCTAssertTrue(socket.waitForClose())
    }

    func testAPodOnAnotherMemberIsJoinedThroughThatMember() throws {
        let runtime = try FakeStreamingServer().start()
        defer { runtime.stop() }
        let thread = LoopThread()
        let asked = APIFixture(thread: thread)
        let owner = APIFixture(thread: thread)
        defer { asked.close(); owner.close() }
        let ownerPort = owner.port
        asked.onLoop { service in
            service.nodeName = "node-a"
            service.memberEndpoints = ["node-b": ("127.0.0.1", ownerPort)]
        }
        owner.onLoop { service in
            service.nodeName = "node-b"
            service.streamingURLAnswer = .success("http://127.0.0.1:\(runtime.port)/portforward/token-3")
        }
        _ = try createPod(asked, node: "node-b")
        _ = try createPod(owner, node: "node-b")

        let socket = try RawSocket(port: asked.port)
        socket.send(upgradeRequest("/api/v1/namespaces/default/pods/web/portforward?ports=80"))
        let (head, rest) = try readSwitch(socket)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 101"), head)
        XCTAssertTrue(rest.isEmpty)
        socket.send("through two members")
        XCTAssertEqual(String(decoding: try readExactly(socket, 19), as: UTF8.self), "THROUGH TWO MEMBERS")
        XCTAssertEqual(asked.onLoop { $0.streamRequests.count }, 0, "the member the client asked does not run the pod")
        XCTAssertEqual(owner.onLoop { $0.streamRequests.map(\.kind) }, [.portForward(ports: [80])])
        XCTAssertTrue(runtime.heads.first?.hasPrefix("POST /portforward/token-3 HTTP/1.1") == true)
        XCTAssertFalse(runtime.heads.first?.lowercased().contains("x-shoal-forwarded") == true)

        // A forwarded request for a pod the receiving member does not run goes no further.
        _ = try createPod(owner, name: "elsewhere", node: "node-c")
        let forwarded = try RawSocket(port: owner.port)
        forwarded.send(upgradeRequest("/api/v1/namespaces/default/pods/elsewhere/exec?command=true&stdout=true",
                                      extra: "X-Shoal-Forwarded: 1\r\n"))
        XCTAssertEqual(forwarded.responses(1).first?.status, 503)
    }

    func testRequestsAreCheckedBeforeAnythingIsJoined() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.nodeName = "node-a"
            service.streamingURLAnswer = .failure(ServiceError(status: 400, reason: "BadRequest", message: "container app is not running in pod web"))
        }
        _ = try createPod(fixture, node: "node-a")
        _ = try createPod(fixture, name: "two", containers: ["a", "b"], node: "node-a")
        let cases: [(target: String, upgrade: Bool, status: Int, message: String)] = [
            (Self.execTarget, false, 400, "Upgrade request required"),
            ("/api/v1/namespaces/default/pods/nope/exec?command=true&stdout=true", true, 404, "pods \"nope\" not found"),
            ("/api/v1/namespaces/default/pods/web/exec?stdout=true", true, 400, "you must specify at least 1 command"),
            ("/api/v1/namespaces/default/pods/web/exec?command=true", true, 400, "you must specify at least 1 of stdin, stdout, stderr"),
            ("/api/v1/namespaces/default/pods/web/exec?command=sh&stdin=true&tty=true&stderr=true", true, 400,
             "stderr cannot be used with tty (stdout carries both)"),
            ("/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true&container=other", true, 400, "container other is not valid for pod web"),
            ("/api/v1/namespaces/default/pods/two/attach?stdout=true", true, 400,
             "a container name must be specified for pod two, choose one of: [a b]"),
            ("/api/v1/namespaces/default/pods/web/portforward?ports=99999", true, 400, "invalid port \"99999\": must be 1-65535"),
            (Self.execTarget, true, 400, "container app is not running in pod web"),
        ]
        for check in cases {
            let socket = try RawSocket(port: fixture.port)
            socket.send(check.upgrade ? upgradeRequest(check.target) : rawRequest("POST", check.target, close: true))
            let answer = socket.responses(1).first
            XCTAssertEqual(answer?.status, check.status, check.target)
            XCTAssertEqual(answer?.json?["message"]?.stringValue, check.message, check.target)
            XCTAssertEqual(answer?.keepAlive, false, check.target)
            XCTAssertTrue(socket.waitForClose(), check.target)
        }
        XCTAssertEqual(fixture.onLoop { $0.streamRequests.count }, 1, "only the valid request reached the runtime")
    }

    func testRoutesAndRuntimeURLsParse() {
        XCTAssertEqual(APIRoute(path: "/api/v1/namespaces/ns/pods/web/exec"), .podStream(namespace: "ns", name: "web", kind: .exec))
        XCTAssertEqual(APIRoute(path: "/api/v1/namespaces/ns/pods/web/attach"), .podStream(namespace: "ns", name: "web", kind: .attach))
        XCTAssertEqual(APIRoute(path: "/api/v1/namespaces/ns/pods/web/portforward"), .podStream(namespace: "ns", name: "web", kind: .portForward))
        let url = RuntimeStreamURL("http://127.0.0.1:35121/exec/AbC")
        XCTAssertEqual(url.map { [$0.host, String($0.port), $0.path, $0.authority] }, ["127.0.0.1", "35121", "/exec/AbC", "127.0.0.1:35121"])
        XCTAssertEqual(RuntimeStreamURL("http://[::1]:80/attach/x")?.host, "::1")
        for bad in ["https://127.0.0.1:1/exec/x", "http://127.0.0.1/exec/x", "http://:80/x", "http://h:0/x", "http://h:99999/x", ""] {
            XCTAssertNil(RuntimeStreamURL(bad), bad)
        }
    }

    // MARK: Helpers

    private func createPod(_ fixture: APIFixture, name: String = "web", containers: [String] = ["app"], node: String) throws -> HTTPParser.Message {
        fixture.onLoop { service in
            if service.store.clusterVersion < 2 { service.apply(.setClusterVersion(version: 2, now: "2024-05-01T12:00:00Z")) }
        }
        let list = containers.map { "{\"name\":\"\($0)\",\"image\":\"registry:5000/hello:1.0\"}" }.joined(separator: ",")
        return try fixture.send("POST", "/api/v1/namespaces/default/pods", body: """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)"},"spec":{"nodeName":"\(node)","containers":[\(list)]}}
            """)
    }

    private func upgradeRequest(_ target: String, extra: String = "") -> String {
        "POST \(target) HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(FakeClusterService.token)\r\n"
            + "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
            + extra + "Content-Length: 0\r\n\r\n"
    }

    /// The switching answer's head, and the bytes that came after it in the same reads.
    private func readSwitch(_ socket: RawSocket) throws -> (String, [UInt8]) {
        var bytes: [UInt8] = []
        let end = Array("\r\n\r\n".utf8)
        while true {
            if let range = bytes.firstRange(of: end) {
                return (String(decoding: bytes[..<range.upperBound], as: UTF8.self), Array(bytes[range.upperBound...]))
            }
            guard let more = socket.readOnce(), !more.isEmpty else { throw RawSocket.Failure(description: "no answer head") }
            bytes += more
        }
    }

    private func waitFor(seconds: Double = 15, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(5_000)
        }
        return condition()
    }
}

/// Reads until `count` bytes (with those already read, `after`) arrived.
private func readExactly(_ socket: RawSocket, _ count: Int, after: [UInt8] = []) throws -> [UInt8] {
    var bytes = after
    while bytes.count < count {
        guard let more = socket.readOnce(), !more.isEmpty else { throw RawSocket.Failure(description: "EOF after \(bytes.count) bytes") }
        bytes += more
    }
    return bytes
}

/// A container runtime's streaming server as the tunnel meets it: reads one request head,
/// answers 101, then echoes every byte upper-cased until the other side closes (or, with
/// `closeAfterAnswer`, closes at once). Blocking sockets on threads of its own.
final class FakeStreamingServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let closeAfterAnswer: Bool
    private let lock = NSLock()
    private var seenHeads: [String] = []
    private var closed = 0

    var heads: [String] { lock.withLock { seenHeads } }
    var closedConnections: Int { lock.withLock { closed } }

    init(closeAfterAnswer: Bool = false) throws {
        self.closeAfterAnswer = closeAfterAnswer
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 8) == 0
                && getsockname(listener, $0, &length) == 0 }
        }
        guard bound else { throw RawSocket.Failure(description: "the fake streaming server cannot listen") }
        port = UInt16(bigEndian: address.sin_port)
    }

    /// Starts accepting connections.
    func start() -> Self {
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
        return self
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            close(fd)
            lock.withLock { closed += 1 }
        }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var pending: [UInt8] = []
        let end = Array("\r\n\r\n".utf8)
        while pending.firstRange(of: end) == nil {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return }
            pending += buffer[0..<n]
        }
        let split = pending.firstRange(of: end)!.upperBound
        lock.withLock { seenHeads.append(String(decoding: pending[..<split], as: UTF8.self)) }
        guard write(fd, Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n".utf8)),
              !closeAfterAnswer else { return }
        var echo = Array(pending[split...])
        while true {
            guard write(fd, echo.map { (97...122).contains($0) ? $0 - 32 : $0 }) else { return }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return }
            echo = Array(buffer[0..<n])
        }
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}
