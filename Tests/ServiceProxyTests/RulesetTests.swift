import Foundation
import XCTest

@testable import ServiceProxy
import Store

/// Services and endpoints → nftables rules: golden rulesets for the whole table (data-driven:
/// one case per file in testdata/, rewritten with SHOAL_REWRITE=1), and, on the real kernel
/// in a scratch network namespace, that a chain of deltas leaves exactly the rules a whole-table
/// write of the last model does.
final class RulesetTests: XCTestCase {
    static let config = ProxyConfig(podCIDR: "10.244.0.0/16")

    // MARK: Building the model

    func testTheModelTakesReadyEndpointsOfEachPortAndSkipsWhatHasNoAddress() {
        var web = service("web", ip: "10.96.0.20", type: "NodePort", ports: [("http", 80, "TCP", 30000), ("dns", 53, "UDP", 30053)])
        web.spec.sessionAffinity = "ClientIP"
        let slice = endpointSlice("web", ports: [("http", 8080, "TCP"), ("dns", 5353, "UDP")], endpoints: [
            ("10.244.2.7", nil, nil), ("10.244.1.5", true, nil), ("10.244.3.9", false, nil), ("10.244.4.2", true, true),
        ])
        let headless = service("db", ip: "None", ports: [("pg", 5432, "TCP", 0)])
        var external = service("ext", ip: "", ports: [("http", 80, "TCP", 0)])
        external.spec.type = "ExternalName"
        let model = ProxyModel.build(services: [web, headless, external], slices: [slice])
        XCTAssertEqual(model.keys.sorted(), ["default/web/tcp/80", "default/web/udp/53"], "headless and ExternalName services have nothing to program")
        let http = model["default/web/tcp/80"]
        XCTAssertEqual(http?.endpoints, [ProxyEndpoint(ip: "10.244.1.5", port: 8080), ProxyEndpoint(ip: "10.244.2.7", port: 8080)],
                       "ready (or unset) and not terminating, sorted by address")
        XCTAssertEqual(http?.nodePort, 30000)
        XCTAssertEqual(http?.affinitySeconds, ProxyModel.defaultAffinitySeconds)
        XCTAssertEqual(model["default/web/udp/53"]?.endpoints.map(\.port), [5353, 5353])
    }

    func testTerminatingEndpointsStillServingAreUsedOnlyWhenNoneIsReady() {
        let web = service("web", ip: "10.96.0.20", ports: [("http", 80, "TCP", 0)])
        var slice = endpointSlice("web", ports: [("http", 8080, "TCP")], endpoints: [("10.244.1.5", false, true), ("10.244.2.7", false, true)])
        slice.endpoints[0].conditions.serving = true
        slice.endpoints[1].conditions.serving = false
        XCTAssertEqual(ProxyModel.build(services: [web], slices: [slice])["default/web/tcp/80"]?.endpoints,
                       [ProxyEndpoint(ip: "10.244.1.5", port: 8080)], "no ready endpoint: the terminating one that still serves")
        var ready = Endpoint()
        ready.addresses = ["10.244.3.9"]
        ready.conditions = EndpointConditions(ready: true)
        slice.endpoints.append(ready)
        XCTAssertEqual(ProxyModel.build(services: [web], slices: [slice])["default/web/tcp/80"]?.endpoints,
                       [ProxyEndpoint(ip: "10.244.3.9", port: 8080)], "a ready endpoint: terminating ones get no new connections")
    }

    func testEndpointsOnUnreachableHostsAreUsedOnlyWhenNoOtherCanServe() {
        let web = service("web", ip: "10.96.0.20", type: "NodePort", ports: [("http", 80, "TCP", 30000)])
        var slice = endpointSlice("web", ports: [("http", 8080, "TCP")],
                                  endpoints: [("10.244.1.5", true, nil), ("10.244.2.7", true, nil), ("10.244.3.9", false, true)])
        slice.endpoints[0].nodeName = "node-a"
        slice.endpoints[1].nodeName = "node-b"
        slice.endpoints[2].nodeName = "node-c"
        slice.endpoints[2].conditions.serving = true
        func endpoints(unreachable: Set<String>) -> [String] {
            ProxyModel.build(services: [web], slices: [slice], localNode: "node-a", unreachableNodes: unreachable)["default/web/tcp/80"]!
                .endpoints.map(\.ip)
        }
        XCTAssertEqual(endpoints(unreachable: []), ["10.244.1.5", "10.244.2.7"])
        XCTAssertEqual(endpoints(unreachable: ["node-b"]), ["10.244.1.5"], "a silent host's endpoint is set aside")
        XCTAssertEqual(endpoints(unreachable: ["node-a", "node-b"]), ["10.244.1.5", "10.244.2.7"],
                       "no ready endpoint on a reachable host: the ready ones all the same, before a terminating one "
                       + "(the silence may be a false alarm, and a terminating pod stops once another is ready)")
        slice.endpoints.removeFirst(2)
        XCTAssertEqual(endpoints(unreachable: []), ["10.244.3.9"], "no ready endpoint at all: the terminating one that serves")
        XCTAssertEqual(endpoints(unreachable: ["node-c"]), ["10.244.3.9"], "even on a silent host, when there is no other")
    }

    func testExternalTrafficPolicyLocalKeepsTheEndpointsOfThisHost() {
        var web = service("web", ip: "10.96.0.20", type: "NodePort", ports: [("http", 80, "TCP", 30000)])
        web.spec.externalTrafficPolicy = "Local"
        var slice = endpointSlice("web", ports: [("http", 8080, "TCP")], endpoints: [("10.244.1.5", true, nil), ("10.244.2.7", true, nil)])
        slice.endpoints[0].nodeName = "node-a"
        slice.endpoints[1].nodeName = "node-b"
        let port = ProxyModel.build(services: [web], slices: [slice], localNode: "node-b")["default/web/tcp/80"]
        XCTAssertEqual(port?.externalLocal, true)
        XCTAssertEqual(port?.localEndpoints, [ProxyEndpoint(ip: "10.244.2.7", port: 8080)])
        XCTAssertEqual(port?.endpoints.count, 2, "the ClusterIP still reaches every endpoint")
    }

    // MARK: Golden rulesets

    func testWholeTablesMatchTheirGoldenFiles() throws {
        for (name, ports) in Self.cases() {
            let text = Ruleset.full(ports, config: Self.config)
            let path = Self.testdata + "/\(name).nft"
            if ProcessInfo.processInfo.environment["SHOAL_REWRITE"] == "1" {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                continue
            }
            let golden = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertEqual(text, golden, "\(name): the rules differ from testdata/\(name).nft (SHOAL_REWRITE=1 rewrites it after a deliberate change)")
        }
    }

    func testAnEndpointChangeIsElementsAlone() {
        let before = Self.cases()["nodeport-two-endpoints"]!
        var after = before
        after["default/web/tcp/80"]!.endpoints.removeLast()
        let delta = Ruleset.delta(from: before, to: after, config: Self.config)
        XCTAssertEqual(delta.before, [], "no rule changes: the endpoints are the map's elements")
        XCTAssertEqual(delta.after, [])
        XCTAssertEqual(delta.elements.flushed, ["eps-default/web/tcp/80"])
        XCTAssertEqual(delta.elements.removed, [])
        XCTAssertEqual(delta.elements.added.map(\.text), ["0-1048575 : 10.244.1.5 . 8080"], "the one endpoint left takes every value")
        XCTAssertEqual(Ruleset.delta(from: before, to: before, config: Self.config), RulesetDelta(), "no change, no commands")
        var none = after
        none["default/web/tcp/80"]!.endpoints = []
        let emptied = Ruleset.delta(from: after, to: none, config: Self.config)
        XCTAssertEqual(emptied.before, [])
        XCTAssertEqual(Set(emptied.elements.removed.map(\.set)), ["cluster-ips", "node-port-keys", "node-ports"])
        XCTAssertEqual(Set(emptied.elements.added.map(\.set)), ["no-endpoint-ips", "no-endpoint-node-ports"], "rejected from now on")
        XCTAssertFalse(emptied.text.contains("kube-dns"), "other services are not touched")
    }

    func testAStructuralChangeMakesObjectsBeforeAndRemovesThemAfter() {
        let before = Self.cases()["nodeport-two-endpoints"]!
        var after = before
        after["default/web/tcp/80"]!.affinitySeconds = 60
        let delta = Ruleset.delta(from: before, to: after, config: Self.config)
        XCTAssertTrue(delta.before.contains("flush chain ip shoal-services svc-default/web/tcp/80"), "the service chain is rewritten in one transaction")
        XCTAssertTrue(delta.before.contains { $0.hasPrefix("add chain ip shoal-services ep-default/web/tcp/80/") })
        XCTAssertEqual(delta.after, ["delete map ip shoal-services eps-default/web/tcp/80"], "the endpoint map goes once no rule uses it")
        XCTAssertTrue(delta.elements.isEmpty, "ClusterIP and NodePort still lead to the same chain")
        let removed = Ruleset.delta(from: after, to: [:], among: ["default/web/tcp/80"], config: Self.config)
        XCTAssertEqual(removed.before, [])
        XCTAssertEqual(Set(removed.elements.removed.map(\.set)), ["cluster-ips", "node-port-keys", "node-ports"], "nothing leads to the chains any more")
        XCTAssertEqual(removed.after.first, "flush chain ip shoal-services svc-default/web/tcp/80")
        XCTAssertTrue(removed.after.contains("delete chain ip shoal-services svc-default/web/tcp/80"))
    }

    func testEndpointsShareTheNumgenValuesWithoutGapsOrOverlaps() {
        for count in [1, 2, 3, 7, 10, 1000] {
            let endpoints = (0..<count).map { ProxyEndpoint(ip: "10.244.\($0 / 250).\($0 % 250 + 1)", port: 80) }
            let elements = Ruleset.slotElements("eps-x", endpoints)
            XCTAssertEqual(elements.count, count)
            var next: UInt32 = 0
            var sizes: [UInt32] = []
            for element in elements {
                guard case .slots(let first, let last) = element.key else { return XCTFail("\(element)") }
                XCTAssertEqual(first, next, "\(count) endpoints: no gap, no overlap")
                sizes.append(last - first + 1)
                next = last + 1
            }
            XCTAssertEqual(next, Ruleset.endpointSlots, "\(count) endpoints: every value leads somewhere")
            XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "\(count) endpoints: equal shares")
        }
    }

    // MARK: On the kernel

    /// Random changes to a model of a few services, each applied as a delta; after every step
    /// the kernel's table must list exactly what a whole-table write of the same model lists.
    func testDeltasLeaveTheRulesAWholeTableWriteWould() throws {
        let kernel = try ScratchNamespace()
        defer { kernel.remove() }
        var random = SeededRandom(seed: 0x5E4F1CE)
        var model: [String: ProxyPort] = [:]
        try kernel.apply(Ruleset.full(model, config: Self.config))
        for step in 0..<60 {
            let next = Self.mutate(model, &random)
            try kernel.apply(Ruleset.delta(from: model, to: next, config: Self.config))
            let viaDeltas = Self.normalized(try kernel.listing())
            try kernel.apply(Ruleset.full(next, config: Self.config))
            XCTAssertEqual(viaDeltas, Self.normalized(try kernel.listing()), "step \(step): deltas and the whole table disagree")
            model = next
        }
    }

    /// The kernel refuses a batch that deletes an element the set does not hold: nothing of
    /// the batch applies, and the error says why.
    func testARefusedElementBatchChangesNothing() throws {
        let kernel = try ScratchNamespace()
        defer { kernel.remove() }
        let model = Self.cases()["nodeport-two-endpoints"]!
        try kernel.apply(Ruleset.full(model, config: Self.config))
        let listing = try kernel.listing()
        var changes = ElementChanges()
        changes.flushed = ["eps-default/web/tcp/80"]
        changes.added = Ruleset.slotElements("eps-default/web/tcp/80", [ProxyEndpoint(ip: "10.244.7.7", port: 80)])
        changes.removed = [SetElement(set: "node-port-keys", key: .port(proto: .udp, port: 31999))]
        XCTAssertThrowsError(try kernel.netlink.apply(changes, table: Ruleset.tableName)) { error in
            XCTAssertTrue("\(error)".contains("No such file or directory"), "\(error)")
        }
        XCTAssertEqual(try kernel.listing(), listing, "the flush and the additions did not apply either")
    }

    /// A table listing with what order does not mean left out: the kernel lists chains and
    /// sets in the order they were made, and a set's elements in its own order; a chain's
    /// rules keep theirs.
    static func normalized(_ listing: String) -> [String] {
        var blocks: [String] = []
        var current: [String] = []
        for line in listing.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("\t") && !line.hasPrefix("\t\t") && line.hasSuffix("{") {
                current = [line]
            } else if line == "\t}" {
                if let start = current.firstIndex(where: { $0.contains("elements = {") }) {
                    let text = current[start...].joined(separator: " ").replacingOccurrences(of: "elements = {", with: "")
                        .replacingOccurrences(of: "}", with: "")
                    current = Array(current[..<start]) + text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
                }
                blocks.append(current.joined(separator: "\n"))
                current = []
            } else if !current.isEmpty {
                current.append(line)
            }
        }
        return blocks.sorted()
    }

    // MARK: Cases

    static var testdata: String { URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/testdata" }

    static func cases() -> [String: [String: ProxyPort]] {
        let web = ProxyPort(namespace: "default", service: "web", proto: .tcp, port: 80, clusterIP: "10.96.0.20", nodePort: 30000,
                            endpoints: [ProxyEndpoint(ip: "10.244.1.5", port: 8080), ProxyEndpoint(ip: "10.244.2.7", port: 8080)])
        let dns = ProxyPort(namespace: "kube-system", service: "kube-dns", proto: .udp, port: 53, clusterIP: "10.96.0.10",
                            endpoints: [ProxyEndpoint(ip: "10.88.0.1", port: 53)])
        var sticky = web
        sticky.affinitySeconds = 600
        var empty = web
        empty.endpoints = []
        var local = web
        local.externalLocal = true
        local.localEndpoints = [web.endpoints[0]]
        var noneHere = web
        noneHere.externalLocal = true
        return [
            "external-traffic-local": [local.id: local],
            "external-traffic-local-none-here": [noneHere.id: noneHere],
            "empty": [:],
            "nodeport-two-endpoints": [web.id: web, dns.id: dns],
            "client-ip-affinity": [sticky.id: sticky],
            "no-endpoints": [empty.id: empty],
        ]
    }

    /// One random change: a service added or removed, endpoints added or removed, a node
    /// port or affinity switched.
    static func mutate(_ model: [String: ProxyPort], _ random: inout SeededRandom) -> [String: ProxyPort] {
        var next = model
        let ids = model.keys.sorted()
        switch random.below(6) {
        case 0, 1:
            let n = random.below(8)
            let port = ProxyPort(namespace: "ns\(n % 2)", service: "svc\(n)", proto: n % 3 == 0 ? .udp : .tcp, port: Int32(80 + n),
                                 clusterIP: "10.96.1.\(n + 1)", nodePort: n % 2 == 0 ? Int32(30000 + n) : 0,
                                 endpoints: (0..<random.below(4)).map { ProxyEndpoint(ip: "10.244.\($0).\(n + 10)", port: 8080) })
            next[port.id] = port
        case 2:
            if let id = ids.randomElement(&random) { next[id] = nil }
        case 3:
            if let id = ids.randomElement(&random) {
                let extra = ProxyEndpoint(ip: "10.244.9.\(random.below(200) + 1)", port: 8080)
                if !next[id]!.endpoints.contains(extra) { next[id]!.endpoints = (next[id]!.endpoints + [extra]).sorted() }
            }
        case 4:
            if let id = ids.randomElement(&random), !next[id]!.endpoints.isEmpty { next[id]!.endpoints.remove(at: random.below(next[id]!.endpoints.count)) }
        default:
            if let id = ids.randomElement(&random) {
                if random.below(5) == 0, next[id]!.nodePort != 0 {
                    next[id]!.externalLocal.toggle()
                    next[id]!.localEndpoints = next[id]!.externalLocal ? Array(next[id]!.endpoints.prefix(1)) : []
                } else if random.below(2) == 0 {
                    next[id]!.affinitySeconds = next[id]!.affinitySeconds == nil ? Int32(60 * (1 + random.below(3))) : nil
                } else {
                    next[id]!.nodePort = next[id]!.nodePort == 0 ? Int32(31000 + random.below(100)) : 0
                }
            }
        }
        return next
    }

    // MARK: Objects

    func service(_ name: String, ip: String, type: String = "ClusterIP", ports: [(String, Int32, String, Int32)]) -> Service {
        var service = Service()
        service.metadata.name = name
        service.metadata.namespace = "default"
        service.spec.clusterIP = ip
        service.spec.clusterIPs = ip.isEmpty ? [] : [ip]
        service.spec.type = type
        service.spec.ports = ports.map { ServicePort(name: $0.0, port: $0.1, protocol: $0.2, nodePort: $0.3) }
        return service
    }

    func endpointSlice(_ service: String, ports: [(String, Int32, String)], endpoints: [(String, Bool?, Bool?)]) -> EndpointSlice {
        var slice = EndpointSlice()
        slice.metadata.name = service + "-abc"
        slice.metadata.namespace = "default"
        slice.metadata.labels = [EndpointSlice.serviceNameLabel: service]
        slice.addressType = "IPv4"
        slice.ports = ports.map { EndpointSlicePort(name: $0.0, port: $0.1, protocol: $0.2) }
        slice.endpoints = endpoints.map { address, ready, terminating in
            var endpoint = Endpoint()
            endpoint.addresses = [address]
            endpoint.conditions = EndpointConditions(ready: ready, terminating: terminating)
            return endpoint
        }
        return slice
    }
}

/// A small deterministic generator (tests must be repeatable).
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func below(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(bound))
    }
}

extension Array {
    func randomElement(_ random: inout SeededRandom) -> Element? { isEmpty ? nil : self[random.below(count)] }
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

/// A network namespace of the test's own, where `nft` applies rulesets to a real kernel.
struct ScratchNamespace {
    let name = "shoal-proxy-test-\(getpid())"
    /// The proxy's own element path, into this namespace.
    let netlink: NetlinkElements

    init() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root for a network namespace") }
        try Self.run(["/usr/sbin/ip", "netns", "add", name])
        netlink = try NetlinkElements(namespace: "/run/netns/\(name)")
    }

    /// A delta in the proxy's three steps: nft text, a netlink element batch, nft text.
    func apply(_ delta: RulesetDelta) throws {
        if !delta.before.isEmpty { try apply(delta.before.joined(separator: "\n") + "\n") }
        try netlink.apply(delta.elements, table: Ruleset.tableName)
        if !delta.after.isEmpty { try apply(delta.after.joined(separator: "\n") + "\n") }
    }

    func apply(_ commands: String) throws {
        let file = NSTemporaryDirectory() + "\(name).nft"
        try commands.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            try run(["/usr/sbin/ip", "netns", "exec", name, "/usr/sbin/nft", "-f", file])
        } catch {
            throw CommandFailure(description: "\(error)\ncommands:\n\(commands)\ntable before them:\n\((try? listing()) ?? "?")")
        }
    }

    func listing() throws -> String {
        try run(["/usr/sbin/ip", "netns", "exec", name, "/usr/sbin/nft", "list", "table", "ip", "shoal-services"])
    }

    /// Runs a command inside the namespace.
    @discardableResult
    func exec(_ command: [String]) throws -> String {
        try run(["/usr/sbin/ip", "netns", "exec", name] + command)
    }

    func remove() { _ = try? run(["/usr/sbin/ip", "netns", "delete", name]) }

    @discardableResult
    private func run(_ command: [String]) throws -> String { try Self.run(command) }

    @discardableResult
    private static func run(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailure(description: "\(command.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
