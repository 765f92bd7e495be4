import XCTest

@testable import ClusterDNS
import Store

/// The cluster's names from Services and EndpointSlices, and the answers for each kind of
/// question (data-driven: one row per question).
final class DNSZoneTests: XCTestCase {
    static func zone() -> DNSZone {
        var web = Service()
        web.metadata.name = "web"
        web.metadata.namespace = "default"
        web.spec.clusterIP = "10.96.0.20"
        web.spec.ports = [ServicePort(name: "http", port: 80, protocol: "TCP")]
        var db = Service()
        db.metadata.name = "db"
        db.metadata.namespace = "data"
        db.spec.clusterIP = "None"
        var slice = EndpointSlice()
        slice.metadata.name = "db-x"
        slice.metadata.namespace = "data"
        slice.metadata.labels = [EndpointSlice.serviceNameLabel: "db"]
        slice.addressType = "IPv4"
        slice.ports = [EndpointSlicePort(name: "pg", port: 5432, protocol: "TCP")]
        func endpoint(_ ip: String, hostname: String?, ready: Bool) -> Endpoint {
            var endpoint = Endpoint()
            endpoint.addresses = [ip]
            endpoint.hostname = hostname
            endpoint.conditions = EndpointConditions(ready: ready)
            return endpoint
        }
        slice.endpoints = [endpoint("10.244.1.7", hostname: "db-0", ready: true), endpoint("10.244.2.9", hostname: nil, ready: true),
                           endpoint("10.244.3.3", hostname: nil, ready: false)]
        return DNSZone.build(services: [web, db], slices: [slice])
    }

    /// Random services and slices changing one at a time: the zone updated service by
    /// service holds exactly what a zone built whole from the same objects holds.
    func testServiceByServiceUpdatesMatchAWholeBuild() {
        var state: UInt64 = 0xD15
        func below(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var services: [String: Service] = [:]
        var slices: [String: EndpointSlice] = [:]
        var zone = DNSZone()
        for step in 0..<300 {
            let n = below(6)
            let namespace = "ns\(n % 2)"
            let key = "\(namespace)/svc\(n)"
            switch below(4) {
            case 0:
                services[key] = nil
            case 1:
                slices[key] = nil
            case 2:
                var service = Service()
                service.metadata.name = "svc\(n)"
                service.metadata.namespace = namespace
                // (A ClusterIP belongs to one service: the allocator sees to it.)
                service.spec.clusterIP = below(3) == 0 ? "None" : "10.96.\(below(2)).\(n + 1)"
                service.spec.ports = [ServicePort(name: below(2) == 0 ? "http" : "", port: Int32(80 + below(3)), protocol: "TCP")]
                services[key] = service
            default:
                var slice = EndpointSlice()
                slice.metadata.name = "svc\(n)-x"
                slice.metadata.namespace = namespace
                slice.metadata.labels = [EndpointSlice.serviceNameLabel: "svc\(n)"]
                slice.ports = [EndpointSlicePort(name: "http", port: 8080, protocol: "TCP")]
                slice.endpoints = (0..<below(4)).map { index in
                    var endpoint = Endpoint()
                    endpoint.addresses = ["10.244.\(index).\(below(3) + 1)"]
                    endpoint.hostname = below(2) == 0 ? "h\(index)" : nil
                    endpoint.conditions = EndpointConditions(ready: below(4) != 0)
                    return endpoint
                }
                slices[key] = slice
            }
            zone.update(key, service: services[key], slices: slices[key].map { [$0] } ?? [])
            let whole = DNSZone.build(services: Array(services.values), slices: Array(slices.values))
            XCTAssertEqual(zone.contents.sorted(), whole.contents.sorted(), "step \(step)")
        }
    }

    func query(_ name: String, _ type: DNSType) -> DNSQuery {
        DNSQuery(id: 7, recursionDesired: true, name: name, type: type.rawValue, questionClass: 1, questionBytes: [], udpPayloadBytesMax: 512)
    }

    func ip(_ text: String) -> UInt32 { IPv4.parse(text)! }

    func testAnswers() {
        let zone = Self.zone()
        let ttl = DNSZone.ttlSeconds
        let rows: [(String, DNSType, DNSAnswer?)] = [
            ("web.default.svc.cluster.local", .a, DNSAnswer(code: .noError, answers: [.a(name: "web.default.svc.cluster.local", address: ip("10.96.0.20"), ttl: ttl)])),
            ("web.default.svc.cluster.local", .aaaa, DNSAnswer(code: .noError)),
            ("nope.default.svc.cluster.local", .a, DNSAnswer(code: .nameError)),
            ("default.svc.cluster.local", .a, DNSAnswer(code: .noError)),
            ("db.data.svc.cluster.local", .a, DNSAnswer(code: .noError, answers: [
                .a(name: "db.data.svc.cluster.local", address: ip("10.244.1.7"), ttl: ttl),
                .a(name: "db.data.svc.cluster.local", address: ip("10.244.2.9"), ttl: ttl)])),
            ("db-0.db.data.svc.cluster.local", .a, DNSAnswer(code: .noError, answers: [.a(name: "db-0.db.data.svc.cluster.local", address: ip("10.244.1.7"), ttl: ttl)])),
            ("10-244-2-9.db.data.svc.cluster.local", .a, DNSAnswer(code: .noError, answers: [.a(name: "10-244-2-9.db.data.svc.cluster.local", address: ip("10.244.2.9"), ttl: ttl)])),
            ("10-244-3-3.db.data.svc.cluster.local", .a, DNSAnswer(code: .nameError)),
            ("_http._tcp.web.default.svc.cluster.local", .srv, DNSAnswer(code: .noError,
                answers: [.srv(name: "_http._tcp.web.default.svc.cluster.local", priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local", ttl: ttl)],
                additional: [.a(name: "web.default.svc.cluster.local", address: ip("10.96.0.20"), ttl: ttl)])),
            ("_pg._tcp.db.data.svc.cluster.local", .srv, DNSAnswer(code: .noError,
                answers: [.srv(name: "_pg._tcp.db.data.svc.cluster.local", priority: 0, weight: 50, port: 5432, target: "db-0.db.data.svc.cluster.local", ttl: ttl),
                          .srv(name: "_pg._tcp.db.data.svc.cluster.local", priority: 0, weight: 50, port: 5432, target: "10-244-2-9.db.data.svc.cluster.local", ttl: ttl)],
                additional: [.a(name: "10-244-2-9.db.data.svc.cluster.local", address: ip("10.244.2.9"), ttl: ttl),
                             .a(name: "db-0.db.data.svc.cluster.local", address: ip("10.244.1.7"), ttl: ttl)])),
            ("10-244-5-6.default.pod.cluster.local", .a, DNSAnswer(code: .noError, answers: [.a(name: "10-244-5-6.default.pod.cluster.local", address: ip("10.244.5.6"), ttl: ttl)])),
            ("20.0.96.10.in-addr.arpa", .ptr, DNSAnswer(code: .noError, answers: [.ptr(name: "20.0.96.10.in-addr.arpa", target: "web.default.svc.cluster.local", ttl: ttl)])),
            ("example.com", .a, nil),
            ("1.2.3.4.in-addr.arpa", .ptr, nil),
        ]
        for (name, type, expected) in rows {
            XCTAssertEqual(zone.answer(query(name, type)), expected, "\(name) \(type)")
        }
    }
}
