import XCTest

@testable import ServiceProxy

/// Flows through ClusterIPs, on the real kernel in a scratch namespace: the UDP flows the
/// rules translated to a removed endpoint are deleted, and so are the TCP connection
/// attempts such an endpoint never answered; other flows stay.
final class ConntrackFlowsTests: XCTestCase {
    func testFlowsTranslatedToARemovedEndpointAreForgotten() throws {
        let kernel = try ScratchNamespace()
        defer { kernel.remove() }
        try kernel.exec(["/usr/sbin/ip", "link", "set", "lo", "up"])
        // Service addresses must be routable for a packet to reach the output hook's DNAT.
        try kernel.exec(["/usr/sbin/ip", "route", "add", "10.96.0.0/12", "dev", "lo"])
        let dns = ProxyPort(namespace: "kube-system", service: "dns", proto: .udp, port: 53, clusterIP: "10.96.5.5",
                            endpoints: [ProxyEndpoint(ip: "127.0.0.1", port: 5353)])
        try kernel.apply(Ruleset.full([dns.id: dns], config: RulesetTests.config))
        // One datagram through the ClusterIP (translated), one straight to the endpoint (not).
        try kernel.exec(["/bin/bash", "-c", "echo through > /dev/udp/10.96.5.5/53; echo direct > /dev/udp/127.0.0.1/5353"])
        let conntrack = try ConntrackFlows(namespace: "/run/netns/\(kernel.name)")
        let before = try conntrack.list().filter { $0.proto == 17 }
        XCTAssertEqual(before.count, 2, "two UDP flows: \(before)")
        let translated = before.first { $0.original.destination == 0x0A60_0505 }
        XCTAssertEqual(translated?.reply.source, 0x7F00_0001, "the ClusterIP flow was sent to the endpoint")
        XCTAssertEqual(translated?.reply.sourcePort, 5353)

        XCTAssertEqual(try conntrack.forget(udpTo: [ProxyEndpoint(ip: "127.0.0.2", port: 5353)], unansweredTCPTo: []), 0, "no flow went there")
        XCTAssertEqual(try conntrack.forget(udpTo: [], unansweredTCPTo: [ProxyEndpoint(ip: "127.0.0.1", port: 5353)]), 0, "not a TCP endpoint")
        XCTAssertEqual(try conntrack.forget(udpTo: [ProxyEndpoint(ip: "127.0.0.1", port: 5353)], unansweredTCPTo: []), 1)
        let after = try conntrack.list().filter { $0.proto == 17 }
        XCTAssertEqual(after.map(\.original.destination), [0x7F00_0001], "the untranslated flow stays")
    }

    func testTCPAttemptsARemovedEndpointNeverAnsweredAreForgotten() throws {
        let kernel = try ScratchNamespace()
        defer { kernel.remove() }
        try kernel.exec(["/usr/sbin/ip", "link", "set", "lo", "up"])
        try kernel.exec(["/usr/sbin/ip", "route", "add", "10.96.0.0/12", "dev", "lo"])
        // 10.250.0.9 answers nothing (routed to lo, where it is no local address): a lost host.
        try kernel.exec(["/usr/sbin/ip", "route", "add", "10.250.0.0/16", "dev", "lo"])
        let silent = ProxyPort(namespace: "default", service: "silent", proto: .tcp, port: 80, clusterIP: "10.96.5.6",
                               endpoints: [ProxyEndpoint(ip: "10.250.0.9", port: 80)])
        let live = ProxyPort(namespace: "default", service: "live", proto: .tcp, port: 80, clusterIP: "10.96.5.7",
                             endpoints: [ProxyEndpoint(ip: "127.0.0.1", port: 8080)])
        try kernel.apply(Ruleset.full([silent.id: silent, live.id: live], config: RulesetTests.config))
        // An attempt at the silent endpoint (given up after 300 ms: SYN_SENT stays), and a
        // whole connection through the live one (answered, closed).
        try kernel.exec(["/bin/bash", "-c", "timeout 0.3 bash -c 'echo > /dev/tcp/10.96.5.6/80' || true"])
        try kernel.exec(["/usr/bin/python3", "-c", """
            import socket
            server = socket.socket(); server.bind(("127.0.0.1", 8080)); server.listen(1)
            client = socket.create_connection(("10.96.5.7", 80), timeout=2)
            accepted, _ = server.accept(); client.close(); accepted.close(); server.close()
            """])
        let conntrack = try ConntrackFlows(namespace: "/run/netns/\(kernel.name)")
        let before = try conntrack.list().filter { $0.proto == 6 }
        let attempt = before.first { $0.original.destination == 0x0A60_0506 }
        XCTAssertEqual(attempt?.reply.source, 0x0AFA_0009, "the attempt was sent to the silent endpoint: \(before)")
        XCTAssertEqual(attempt?.tcpState, 1, "SYN_SENT")
        let answered = before.first { $0.original.destination == 0x0A60_0507 }
        XCTAssertNotNil(answered, "the live connection's entry: \(before)")
        XCTAssertNotEqual(answered?.tcpState, 1)

        let both: Set = [ProxyEndpoint(ip: "10.250.0.9", port: 80), ProxyEndpoint(ip: "127.0.0.1", port: 8080)]
        XCTAssertEqual(try conntrack.forget(udpTo: both, unansweredTCPTo: []), 0, "not UDP endpoints")
        XCTAssertEqual(try conntrack.forget(udpTo: [], unansweredTCPTo: both), 1, "only the unanswered attempt")
        let after = try conntrack.list().filter { $0.proto == 6 }
        XCTAssertEqual(after.map(\.original.destination), [0x0A60_0507], "the answered connection stays")
    }
}
