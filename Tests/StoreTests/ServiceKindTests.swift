import JSON
import Store
import XCTest

/// Service as a typed kind: wire form, defaults, validation, and the cluster IP and node port
/// allocation that runs when a write is applied.
final class ServiceKindTests: XCTestCase {
    // MARK: Wire form

    func testRoundTripKeepsEveryFieldInKubernetesOrder() throws {
        let text = """
        {"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"default"},\
        "spec":{"ports":[{"name":"http","protocol":"TCP","appProtocol":"http","port":80,"targetPort":"web","nodePort":30080}],\
        "selector":{"app":"web"},"clusterIP":"10.96.5.5","clusterIPs":["10.96.5.5"],"type":"LoadBalancer",\
        "externalIPs":["192.0.2.7"],"sessionAffinity":"ClientIP","loadBalancerIP":"192.0.2.9",\
        "loadBalancerSourceRanges":["10.0.0.0/8"],"externalTrafficPolicy":"Local","healthCheckNodePort":30999,\
        "publishNotReadyAddresses":true,"sessionAffinityConfig":{"clientIP":{"timeoutSeconds":60}},\
        "ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","allocateLoadBalancerNodePorts":false,\
        "loadBalancerClass":"example.com/lb","internalTrafficPolicy":"Local","trafficDistribution":"PreferClose"},\
        "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1","hostname":"lb.example.com","ipMode":"VIP",\
        "ports":[{"port":80,"protocol":"TCP","error":"Pending"}]}]},\
        "conditions":[{"type":"Ready","status":"True","observedGeneration":2,"lastTransitionTime":"2026-01-01T00:00:00Z",\
        "reason":"Up","message":""}]}}
        """
        let json = try JSONValue.parse(text)
        var context = DecodeContext()
        let service = try XCTUnwrap(Service(json: json, context: &context))
        XCTAssertEqual(context.typeErrors, [])
        XCTAssertEqual(context.unknownFields, [])
        XCTAssertEqual(service.spec.ports[0].targetPort, .string("web"))
        XCTAssertEqual(service.spec.allocateLoadBalancerNodePorts, false)
        XCTAssertEqual(service.wireJSON.jsonString, json.jsonString)
    }

    func testEmptyServiceWritesItsStatusStruct() {
        XCTAssertEqual(Service().wireJSON.jsonString, #"{"metadata":{},"spec":{},"status":{"loadBalancer":{}}}"#)
    }

    // MARK: Defaults

    func testDefaultsOfAClusterIPService() throws {
        var service = try decode(#"{"metadata":{"name":"web"},"spec":{"ports":[{"port":80}],"sessionAffinityConfig":{"clientIP":{}}}}"#)
        service.applyDefaults()
        XCTAssertEqual(service.spec.type, "ClusterIP")
        XCTAssertEqual(service.spec.sessionAffinity, "None")
        XCTAssertNil(service.spec.sessionAffinityConfig, "None affinity drops the config")
        XCTAssertEqual(service.spec.ports[0].protocol, "TCP")
        XCTAssertEqual(service.spec.ports[0].targetPort, .int(80))
        XCTAssertEqual(service.spec.internalTrafficPolicy, "Cluster")
        XCTAssertEqual(service.spec.externalTrafficPolicy, "", "not externally accessible")
        XCTAssertNil(service.spec.allocateLoadBalancerNodePorts)
        service.prepareForCreate()
        XCTAssertEqual(service.spec.ipFamilies, ["IPv4"])
        XCTAssertEqual(service.spec.ipFamilyPolicy, "SingleStack")
    }

    func testDefaultsOfNodePortLoadBalancerAndClientIPAffinity() throws {
        var service = try decode(#"{"spec":{"type":"LoadBalancer","sessionAffinity":"ClientIP","ports":[{"port":443,"targetPort":0}]}}"#)
        service.applyDefaults()
        XCTAssertEqual(service.spec.externalTrafficPolicy, "Cluster")
        XCTAssertEqual(service.spec.allocateLoadBalancerNodePorts, true)
        XCTAssertEqual(service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds, 10_800)
        XCTAssertEqual(service.spec.ports[0].targetPort, .int(443))

        var external = try decode(#"{"spec":{"type":"ExternalName","externalName":"db.example.com"}}"#)
        external.applyDefaults()
        external.prepareForCreate()
        XCTAssertNil(external.spec.internalTrafficPolicy)
        XCTAssertEqual(external.spec.ipFamilies, [])
        XCTAssertNil(external.spec.ipFamilyPolicy)
    }

    func testHeadlessWithoutSelectorIsMarkedDualStack() throws {
        var service = try decode(#"{"spec":{"clusterIP":"None"}}"#)
        service.applyDefaults()
        service.prepareForCreate()
        XCTAssertEqual(service.spec.clusterIPs, ["None"])
        XCTAssertEqual(service.spec.ipFamilyPolicy, "RequireDualStack")
        XCTAssertEqual(service.spec.ipFamilies, ["IPv4", "IPv6"])
        XCTAssertEqual(service.validate(), [])
    }

    // MARK: Validation

    func testValidationMessages() throws {
        var service = try decode("""
            {"metadata":{"name":"1web"},"spec":{"type":"Foo","sessionAffinity":"Sticky","ports":[
              {"port":0,"protocol":"ICMP","targetPort":"HTTP_PORT"},
              {"name":"http","port":80,"targetPort":70000},
              {"name":"http","port":80}],
              "selector":{"app":"bad value!"}}}
            """)
        service.applyDefaults()
        let messages = service.validate().map(\.description)
        let expected = [
            "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            "spec.type: Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
            "spec.ports[0].name: Required value",
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "spec.ports[0].targetPort: Invalid value: \"HTTP_PORT\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
            "spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.ports[2].name: Duplicate value: \"http\"",
            "spec.ports[2]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
        ]
        for line in expected { XCTAssertTrue(messages.contains(line), "missing \(line) in \(messages)") }
        XCTAssertTrue(messages.contains { $0.hasPrefix("spec.sessionAffinity: Unsupported value: \"Sticky\"") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.hasPrefix("spec.selector: Invalid value: \"bad value!\"") }, "\(messages)")
    }

    func testPortsAndTypeSpecificRules() throws {
        XCTAssertEqual(try errors(#"{"spec":{"selector":{"app":"x"}}}"#), ["spec.ports: Required value"])
        XCTAssertEqual(try errors(#"{"spec":{"clusterIP":"None","selector":{"app":"x"}}}"#), [], "headless needs no ports")
        XCTAssertEqual(try errors(#"{"spec":{"type":"ExternalName"}}"#), ["spec.externalName: Required value"])
        XCTAssertEqual(try errors(#"{"spec":{"type":"ExternalName","externalName":"db.example.com."}}"#), [])
        XCTAssertEqual(try errors(#"{"spec":{"type":"ExternalName","externalName":"db","clusterIP":"10.96.0.5"}}"#),
                       ["spec.clusterIP: Forbidden: may not be set for ExternalName services"])
        XCTAssertEqual(try errors(#"{"spec":{"ports":[{"port":80,"nodePort":30001}]}}"#),
                       ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"])
        XCTAssertEqual(try errors(#"{"spec":{"type":"NodePort","clusterIP":"None","ports":[{"port":80}]}}"#),
                       ["spec.clusterIP: Invalid value: \"None\": may not be set to 'None' for NodePort services"])
        XCTAssertEqual(try errors(#"{"spec":{"clusterIP":"10.96.0.x","ports":[{"port":80}]}}"#),
                       ["spec.clusterIPs[0]: Invalid value: \"10.96.0.x\": must be empty, 'None', or a valid IP address"])
        XCTAssertEqual(try errors(#"{"spec":{"ipFamilies":["IPv6"],"ports":[{"port":80}]}}"#),
                       ["spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster"])
        XCTAssertEqual(try errors(#"{"spec":{"ipFamilyPolicy":"RequireDualStack","ports":[{"port":80}]}}"#),
                       ["spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services"])
        XCTAssertEqual(try errors(#"{"spec":{"type":"NodePort","ports":[{"name":"a","port":80,"nodePort":30001},{"name":"b","port":81,"nodePort":30001}]}}"#),
                       ["spec.ports[1].nodePort: Duplicate value: 30001"])
        XCTAssertEqual(try errors(#"{"spec":{"type":"NodePort","ports":[{"name":"a","port":53,"nodePort":30053},{"name":"b","port":53,"protocol":"UDP","nodePort":30053}]}}"#),
                       [], "one node port may serve two protocols")
        XCTAssertEqual(try errors(#"{"spec":{"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":0}},"ports":[{"port":80}]}}"#),
                       ["spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400"])
        XCTAssertEqual(try errors(#"{"spec":{"externalTrafficPolicy":"Local","ports":[{"port":80}]}}"#),
                       ["spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services"])
        XCTAssertEqual(try errors(#"{"spec":{"externalIPs":["127.0.0.1"],"ports":[{"port":80}]}}"#),
                       ["spec.externalIPs[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)"])
    }

    func testClusterIPsMayNotChangeOnceSet() throws {
        var old = try decode(#"{"spec":{"clusterIP":"10.96.3.3","clusterIPs":["10.96.3.3"],"ports":[{"port":80}]}}"#)
        old.applyDefaults()
        var new = try decode(#"{"spec":{"clusterIP":"10.96.4.4","ports":[{"port":80}]}}"#)
        new.applyDefaults()
        new.prepareForUpdate(from: old)
        XCTAssertEqual(new.validateUpdate(from: old).map(\.description),
                       ["spec.clusterIPs[0]: Invalid value: []string{\"10.96.4.4\"}: may not change once set"])
    }

    // MARK: Allocation in the store

    func testClusterIPAllocationIsDeterministicAndInTheServiceNetwork() throws {
        var first = ServiceStore()
        var second = ServiceStore()
        for name in ["web", "api", "db", "cache"] {
            let a = first.create(service(name, ports: #"[{"port":80}]"#, type: "NodePort"))
            let b = second.create(service(name, ports: #"[{"port":80}]"#, type: "NodePort"))
            XCTAssertEqual(a.httpStatus, 201, "\(a)")
            XCTAssertEqual(a.object?.json, b.object?.json)
            let spec = try XCTUnwrap(a.object?.json["spec"])
            let ip = try XCTUnwrap(spec["clusterIP"]?.stringValue)
            XCTAssertEqual(spec["clusterIPs"], [.string(ip)])
            let address = try XCTUnwrap(IPv4.parse(ip))
            XCTAssertTrue(ServiceAllocation.inNetwork(address))
            XCTAssertGreaterThan(address, IPv4.parse("10.96.1.0")!, "dynamic choices start above the low band")
            let nodePort = try XCTUnwrap(spec["ports"]?[0]?["nodePort"]?.intValue)
            XCTAssertTrue((30_086...32_767).contains(nodePort), "\(nodePort)")
            XCTAssertEqual(spec["ipFamilies"], ["IPv4"])
            XCTAssertEqual(spec["ipFamilyPolicy"], "SingleStack")
            XCTAssertEqual(spec["externalTrafficPolicy"], "Cluster")
            XCTAssertEqual(a.object?.json["status"], ["loadBalancer": [:]])
        }
        // Another entry index picks another address for the same name.
        var third = ServiceStore()
        third.harness.base.store.advance(to: 40)
        third.harness.base.index = 40
        let other = third.create(service("web", ports: #"[{"port":80}]"#))
        XCTAssertNotEqual(other.object?.json["spec"]?["clusterIP"], first.get("web")?["spec"]?["clusterIP"])
    }

    func testExplicitClusterIPsMustBeInRangeAndFree() throws {
        var store = ServiceStore()
        XCTAssertEqual(store.create(service("kubernetes", ports: #"[{"name":"https","port":443}]"#, clusterIP: "10.96.0.1")).httpStatus, 201)
        XCTAssertEqual(store.create(service("dns", ports: #"[{"port":53,"protocol":"UDP"}]"#, clusterIP: "10.96.0.10")).httpStatus, 201)
        let taken = store.create(service("copy", ports: #"[{"port":80}]"#, clusterIP: "10.96.0.10"))
        XCTAssertEqual(taken.httpStatus, 422)
        XCTAssertEqual(taken.typedRefusal?.causes.map(\.description),
                       ["spec.clusterIPs[0]: Invalid value: \"10.96.0.10\": provided IP is already allocated"])
        XCTAssertEqual(taken.typedRefusal?.message,
                       "Service \"copy\" is invalid: spec.clusterIPs[0]: Invalid value: \"10.96.0.10\": provided IP is already allocated")
        let outside = store.create(service("far", ports: #"[{"port":80}]"#, clusterIP: "10.0.0.1"))
        XCTAssertEqual(outside.typedRefusal?.causes.map(\.description),
                       ["spec.clusterIPs[0]: Invalid value: \"10.0.0.1\": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12"])
        let broadcast = store.create(service("edge", ports: #"[{"port":80}]"#, clusterIP: "10.111.255.255"))
        XCTAssertEqual(broadcast.httpStatus, 422, "the broadcast address is not a cluster IP")
        // Deleting frees the address.
        XCTAssertEqual(store.delete("dns").httpStatus, 200)
        XCTAssertEqual(store.create(service("copy", ports: #"[{"port":80}]"#, clusterIP: "10.96.0.10")).httpStatus, 201)
    }

    func testANodePortTakenTwiceIsRefusedAndFreedByDeletion() throws {
        var store = ServiceStore()
        XCTAssertEqual(store.create(service("a", ports: #"[{"port":80,"nodePort":30000}]"#, type: "NodePort")).httpStatus, 201)
        let second = store.create(service("b", ports: #"[{"port":80,"nodePort":30000}]"#, type: "NodePort"))
        XCTAssertEqual(second.httpStatus, 422)
        XCTAssertEqual(second.typedRefusal?.causes.map(\.description),
                       ["spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated"])
        let outside = store.create(service("c", ports: #"[{"port":80,"nodePort":80}]"#, type: "NodePort"))
        XCTAssertEqual(outside.typedRefusal?.causes.map(\.description),
                       ["spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"])
        XCTAssertEqual(store.delete("a").httpStatus, 200)
        XCTAssertEqual(store.create(service("b", ports: #"[{"port":80,"nodePort":30000}]"#, type: "NodePort")).httpStatus, 201)
    }

    func testAnUpdateThatLeavesAllocatedValuesOutKeepsThem() throws {
        var store = ServiceStore()
        let body = service("web", ports: #"[{"name":"http","port":80},{"name":"https","port":443}]"#, type: "NodePort")
        let created = try XCTUnwrap(store.create(body).object?.json)
        // Resubmitting the original manifest (no clusterIP, no node ports) changes nothing.
        let resubmitted = store.update("web", body)
        XCTAssertEqual(resubmitted.httpStatus, 200, "\(resubmitted)")
        XCTAssertEqual(resubmitted.object?.json, created)
        // Reordered ports keep their node ports by name.
        let reordered = store.update("web", service("web", ports: #"[{"name":"https","port":443},{"name":"http","port":80}]"#, type: "NodePort"))
        let spec = try XCTUnwrap(reordered.object?.json["spec"])
        XCTAssertEqual(spec["ports"]?[0]?["nodePort"], created["spec"]?["ports"]?[1]?["nodePort"])
        XCTAssertEqual(spec["ports"]?[1]?["nodePort"], created["spec"]?["ports"]?[0]?["nodePort"])
        XCTAssertEqual(spec["clusterIP"], created["spec"]?["clusterIP"])
        // Its own values may be asked for again explicitly.
        var explicit = created
        explicit["metadata"] = ["name": "web"]
        XCTAssertEqual(store.update("web", explicit).httpStatus, 200)
        // A new address is refused.
        let moved = store.update("web", service("web", ports: #"[{"name":"http","port":80}]"#, type: "NodePort", clusterIP: "10.96.77.77"))
        XCTAssertEqual(moved.httpStatus, 422)
        XCTAssertEqual(moved.typedRefusal?.causes.map(\.description),
                       ["spec.clusterIPs[0]: Invalid value: []string{\"10.96.77.77\"}: may not change once set"])
    }

    func testChangingTypeToClusterIPReleasesNodePorts() throws {
        var store = ServiceStore()
        let created = store.create(service("web", ports: #"[{"port":80,"nodePort":30500}]"#, type: "NodePort"))
        XCTAssertEqual(created.httpStatus, 201)
        // A merge patch that only changes the type: the stored node port is dropped with it.
        let patched = store.patch("web", #"{"spec":{"type":"ClusterIP"}}"#)
        XCTAssertEqual(patched.httpStatus, 200, "\(patched)")
        XCTAssertNil(patched.object?.json["spec"]?["ports"]?[0]?["nodePort"])
        XCTAssertNil(patched.object?.json["spec"]?["externalTrafficPolicy"])
        XCTAssertEqual(patched.object?.json["spec"]?["clusterIP"], created.object?.json["spec"]?["clusterIP"])
        XCTAssertEqual(store.create(service("other", ports: #"[{"port":80,"nodePort":30500}]"#, type: "NodePort")).httpStatus, 201)
        // A node port the client sets with type ClusterIP is an error, not dropped.
        let explicit = store.update("web", service("web", ports: #"[{"port":80,"nodePort":30600}]"#))
        XCTAssertEqual(explicit.typedRefusal?.causes.map(\.description),
                       ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"])
    }

    func testHeadlessServicesAllocateNothing() throws {
        var store = ServiceStore()
        let headless = store.create(service("db", ports: #"[{"port":5432}]"#, clusterIP: "None", selector: true))
        XCTAssertEqual(headless.httpStatus, 201, "\(headless)")
        let spec = try XCTUnwrap(headless.object?.json["spec"])
        XCTAssertEqual(spec["clusterIP"], "None")
        XCTAssertEqual(spec["clusterIPs"], ["None"])
        XCTAssertEqual(spec["ipFamilyPolicy"], "SingleStack")
        XCTAssertNil(spec["ports"]?[0]?["nodePort"])
        // Resubmitting without clusterIP keeps it headless.
        let again = store.update("db", service("db", ports: #"[{"port":5432}]"#, selector: true))
        XCTAssertEqual(again.object?.json["spec"]?["clusterIP"], "None")
        let noPorts = store.create(service("peers", ports: nil, clusterIP: "None"))
        XCTAssertEqual(noPorts.httpStatus, 201, "\(noPorts)")
    }

    func testAFullNodePortRangeIsRefused() throws {
        var store = ServiceStore()
        let count = Int(ServiceAllocation.nodePortLast - ServiceAllocation.nodePortFirst) + 1
        let ports = "[" + (0..<count).map { #"{"name":"p\#($0)","port":\#($0 + 1)}"# }.joined(separator: ",") + "]"
        let all = store.create(service("all", ports: ports, type: "NodePort"))
        XCTAssertEqual(all.httpStatus, 201)
        let used = Set(all.object?.json["spec"]?["ports"]?.arrayValue?.compactMap { $0["nodePort"]?.intValue } ?? [])
        XCTAssertEqual(used.count, count, "every port of the range, once")
        let full = store.create(service("more", ports: #"[{"port":80}]"#, type: "NodePort"))
        XCTAssertEqual(full.httpStatus, 422)
        XCTAssertEqual(full.typedRefusal?.causes.map(\.description),
                       ["spec.ports[0].nodePort: Invalid value: 0: failed to allocate a node port: range is full"])
        XCTAssertEqual(store.create(service("plain", ports: #"[{"port":80}]"#)).httpStatus, 201, "ClusterIP services need no node port")
    }

    func testHealthCheckNodePortForLocalLoadBalancers() throws {
        var store = ServiceStore()
        let body = try JSONValue.parse("""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"lb"},
             "spec":{"type":"LoadBalancer","externalTrafficPolicy":"Local","selector":{"app":"x"},"ports":[{"port":80}]}}
            """)
        let created = store.create(body)
        XCTAssertEqual(created.httpStatus, 201, "\(created)")
        let spec = try XCTUnwrap(created.object?.json["spec"])
        let health = try XCTUnwrap(spec["healthCheckNodePort"]?.intValue)
        XCTAssertNotEqual(spec["ports"]?[0]?["nodePort"]?.intValue, health)
        let clash = store.create(service("other", ports: "[{\"port\":80,\"nodePort\":\(health)}]", type: "NodePort"))
        XCTAssertEqual(clash.typedRefusal?.causes.first?.detail, "provided port is already allocated")
    }

    func testStatusSubresource() throws {
        var store = ServiceStore()
        let body = service("lb", ports: #"[{"port":80}]"#, type: "LoadBalancer")
        XCTAssertEqual(store.create(body).httpStatus, 201)
        var withStatus = try XCTUnwrap(store.get("lb"))
        withStatus["status"] = ["loadBalancer": ["ingress": [["ip": "192.0.2.10"]]]]
        let written = store.write(TypedWrite(verb: .update, kind: "Service", apiVersion: "v1", namespace: "default", name: "lb",
                                             subresource: .status, body: withStatus, now: ServiceStore.now))
        XCTAssertEqual(written.httpStatus, 200, "\(written)")
        XCTAssertEqual(written.object?.json["status"], ["loadBalancer": ["ingress": [["ip": "192.0.2.10", "ipMode": "VIP"]]]])
        // A main-resource write keeps the status.
        let updated = store.update("lb", body)
        XCTAssertEqual(updated.object?.json["status"]?["loadBalancer"]?["ingress"]?[0]?["ip"], "192.0.2.10")
    }

    func testProbeWrapsThroughBandsInOrder() {
        let bands: [(first: UInt64, count: UInt64)] = [(100, 3), (10, 2)]
        XCTAssertEqual(ServiceAllocation.probe(seed: 4, bands: bands) { _ in true }, 101)
        XCTAssertEqual(ServiceAllocation.probe(seed: 4, bands: bands) { $0 != 101 }, 102)
        XCTAssertEqual(ServiceAllocation.probe(seed: 5, bands: bands) { $0 == 100 }, 100, "wraps within the band")
        XCTAssertEqual(ServiceAllocation.probe(seed: 5, bands: bands) { $0 < 100 }, 11, "then the low band")
        XCTAssertNil(ServiceAllocation.probe(seed: 5, bands: bands) { _ in false })
        XCTAssertEqual(ServiceAllocation.seed(index: 7, namespace: "a", name: "b"), ServiceAllocation.seed(index: 7, namespace: "a", name: "b"))
        XCTAssertNotEqual(ServiceAllocation.seed(index: 7, namespace: "a", name: "b"), ServiceAllocation.seed(index: 7, namespace: "a/b", name: ""))
    }

    // MARK: Helpers

    private func decode(_ text: String) throws -> Service {
        var context = DecodeContext()
        let service = try XCTUnwrap(Service(json: try JSONValue.parse(text), context: &context))
        XCTAssertEqual(context.typeErrors, [])
        return service
    }

    /// The validation errors of a service after defaults and create preparation.
    private func errors(_ text: String) throws -> [String] {
        var service = try decode(text)
        if service.metadata.name.isEmpty { service.metadata.name = "svc" }
        service.applyDefaults()
        service.prepareForCreate()
        return service.validate().map(\.description)
    }
}

/// A Service as a client sends it.
private func service(_ name: String, ports: String?, type: String? = nil, clusterIP: String? = nil,
                     selector: Bool = false) -> JSONValue {
    var spec = JSONObject()
    if let ports { spec["ports"] = try! JSONValue.parse(ports) }
    if selector { spec["selector"] = ["app": .string(name)] }
    if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
    if let type { spec["type"] = .string(type) }
    return ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)], "spec": .object(spec)]
}

/// The typed writes these tests make (in namespace default, Service unless told), on a
/// `V2Harness`.
struct ServiceStore {
    static let now = "2026-01-01T00:00:00Z"
    var harness = V2Harness()

    mutating func write(_ write: TypedWrite) -> StoreResult { harness.base.apply(.typed(write)) }

    mutating func create(_ body: JSONValue, kind: String = "Service", apiVersion: String = "v1") -> StoreResult {
        harness.create(body, kind: kind, apiVersion: apiVersion)
    }

    mutating func update(_ name: String, _ body: JSONValue, kind: String = "Service", apiVersion: String = "v1") -> StoreResult {
        harness.update(body, kind: kind, apiVersion: apiVersion, name: name)
    }

    mutating func patch(_ name: String, _ patch: String, kind: String = "Service", apiVersion: String = "v1",
                        type: TypedWrite.PatchType = .merge) -> StoreResult {
        harness.patch(try! JSONValue.parse(patch), type: type, kind: kind, apiVersion: apiVersion, name: name)
    }

    mutating func delete(_ name: String, kind: String = "Service", apiVersion: String = "v1") -> StoreResult {
        harness.delete(kind: kind, apiVersion: apiVersion, name: name)
    }

    func get(_ name: String, kind: Kind = .service) -> JSONValue? { harness.get(kind, name)?.json }
}

extension StoreResult {
    /// The refusal of a typed write (nil otherwise).
    var typedRefusal: Rejection? { if case .rejected(let rejection) = self { return rejection } else { return nil } }
}

