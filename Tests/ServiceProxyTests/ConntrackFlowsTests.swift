import XCTest

@testable import ServiceProxy

/// UDP flows through a ClusterIP, on the real kernel in a scratch namespace: the flows the
/// rules translated to a removed endpoint are deleted; other flows stay.
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

        XCTAssertEqual(try conntrack.forgetUDPFlows(to: [ProxyEndpoint(ip: "127.0.0.2", port: 5353)]), 0, "no flow went there")
        XCTAssertEqual(try conntrack.forgetUDPFlows(to: [ProxyEndpoint(ip: "127.0.0.1", port: 5353)]), 1)
        let after = try conntrack.list().filter { $0.proto == 17 }
        XCTAssertEqual(after.map(\.original.destination), [0x7F00_0001], "the untranslated flow stays")
    }
}
