import Foundation
import XCTest

@testable import ClusterDNS
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// The server on real sockets (127.0.0.1): cluster names over UDP and TCP, other names
/// forwarded to an upstream and relayed, SERVFAIL when the upstream is silent, FORMERR for
/// garbage that carries an id.
final class DNSServerTests: XCTestCase {
    func testClusterNamesOverUDPAndTCPAndOthersForwarded() throws {
        let loop = EventLoop()
        let thread = Thread { loop.run() }
        thread.start()
        defer { loop.stop() }
        // The upstream: a UDP socket on the test's side that answers one name and ignores the rest.
        let upstream = try BlockingUDP()
        let upstreamThread = Thread {
            while let (bytes, from) = upstream.receive() {
                guard bytes.count > 12 else { continue }
                let query = try? DNSMessage.parseQuery(bytes)
                guard query?.name == "example.com" else { continue }  // silence: the server must give up
                upstream.send(DNSAnswer(code: .noError, authoritative: false, answers: [.a(name: "example.com", address: 0x5DB8D822, ttl: 60)])
                    .encode(for: query!, bytesMax: 512), to: from)
            }
        }
        upstreamThread.start()
        defer { upstream.close() }

        let ports = Unchecked<(UInt16, UInt16)?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let upstreamPort = upstream.port
        _ = loop.post {
            let server = try! DNSServer(loop: loop, host: "127.0.0.1", port: 0, zone: DNSZoneTests.zone(), upstreams: ["127.0.0.1:\(upstreamPort)"])
            ports.value = (server.udpPort, server.tcpPort)
            Keep.server = server
            ready.signal()
        }
        XCTAssertEqual(ready.wait(timeout: .now() + 10), .success)
        let (udpPort, tcpPort) = ports.value!

        let client = try BlockingUDP()
        defer { client.close() }
        func ask(_ name: String, _ type: UInt16, id: UInt16) throws -> [UInt8] {
            client.send(dnsQuery(id: id, name: name, type: type), to: udpPort)
            guard let (answer, _) = client.receive() else { throw CommandFailure("no answer for \(name)") }
            return answer
        }
        let web = try ask("web.default.svc.cluster.local", 1, id: 11)
        XCTAssertEqual(Array(web[0..<2]), [0, 11])
        XCTAssertEqual(web[3] & 0x0F, 0)
        XCTAssertEqual(Array(web.suffix(4)), [10, 96, 0, 20])
        XCTAssertEqual(try ask("nope.default.svc.cluster.local", 1, id: 12)[3] & 0x0F, 3, "NXDOMAIN")
        let forwarded = try ask("example.com", 1, id: 13)
        XCTAssertEqual(Array(forwarded[0..<2]), [0, 13], "the relayed answer carries the client's id")
        XCTAssertEqual(Array(forwarded.suffix(4)), [93, 184, 216, 34])
        XCTAssertEqual(try ask("silent.example.org", 1, id: 14)[3] & 0x0F, 2, "SERVFAIL once the upstream stays silent")
        client.send([0, 15, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1], to: udpPort)
        XCTAssertEqual((client.receive()?.0[3] ?? 0xFF) & 0x0F, 1, "FORMERR for a looping name")

        // TCP: two-byte lengths, two questions on one connection.
        let tcp = try BlockingTCP(port: tcpPort)
        defer { tcp.close() }
        for id in [21, 22] as [UInt16] {
            let question = dnsQuery(id: id, name: "_http._tcp.web.default.svc.cluster.local", type: 33)
            tcp.send([UInt8(question.count >> 8), UInt8(question.count & 0xFF)] + question)
            let length = tcp.read(2).map { Int($0[0]) << 8 | Int($0[1]) } ?? 0
            let answer = tcp.read(length) ?? []
            XCTAssertEqual(Array(answer.prefix(2)), [0, UInt8(id)])
            XCTAssertEqual(answer.count > 7 ? answer[7] : 0, 1, "one SRV record")
        }
    }
}

enum Keep { nonisolated(unsafe) static var server: DNSServer? }

final class Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A blocking UDP socket on 127.0.0.1 (2 s receive timeout).
final class BlockingUDP: @unchecked Sendable {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    private(set) var port: UInt16 = 0

    init() throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw CommandFailure("bind failed") }
        port = UInt16(bigEndian: address.sin_port)
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: [UInt8], to port: UInt16) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        send(bytes, to: address)
    }

    func send(_ bytes: [UInt8], to address: sockaddr_in) {
        var target = address
        _ = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// One datagram and its sender; nil on timeout or once closed.
    func receive() -> ([UInt8], sockaddr_in)? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &from) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
        }
        guard count > 0 else { return nil }
        return (Array(buffer[0..<count]), from)
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}

/// A blocking TCP client to 127.0.0.1.
final class BlockingTCP {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)

    init(port: UInt16) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let ok = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { throw CommandFailure("connect failed") }
    }

    func send(_ bytes: [UInt8]) { _ = Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) }

    func read(_ count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while out.count < count {
            let n = recv(fd, &buffer, min(buffer.count, count - out.count), 0)
            guard n > 0 else { return nil }
            out += buffer[0..<n]
        }
        return out
    }

    func close() { Glibc.close(fd) }
}
