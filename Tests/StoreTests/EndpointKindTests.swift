import JSON
import Store
import XCTest

/// core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlice as typed kinds.
final class EndpointKindTests: XCTestCase {
    // MARK: Endpoints

    func testEndpointsRoundTripAndDefaults() throws {
        let text = """
        {"kind":"Endpoints","apiVersion":"v1","metadata":{"name":"web","namespace":"default"},\
        "subsets":[{"addresses":[{"ip":"10.244.1.5","hostname":"web-0","nodeName":"node-1",\
        "targetRef":{"kind":"Pod","namespace":"default","name":"web-0","uid":"u1"}}],\
        "notReadyAddresses":[{"ip":"10.244.2.7"}],\
        "ports":[{"name":"http","port":8080,"protocol":"TCP","appProtocol":"http"}]}]}
        """
        let json = try JSONValue.parse(text)
        var context = DecodeContext()
        let endpoints = try XCTUnwrap(Endpoints(json: json, context: &context))
        XCTAssertEqual(context.unknownFields, [])
        XCTAssertEqual(endpoints.wireJSON.jsonString, json.jsonString)
        XCTAssertEqual(endpoints.subsets[0].addresses[0].targetRef?.name, "web-0")

        var bare = try decode(Endpoints.self, #"{"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80}]}]}"#)
        bare.applyDefaults()
        XCTAssertEqual(bare.subsets[0].ports[0].protocol, "TCP")
        XCTAssertEqual(bare.wireJSON.jsonString,
                       #"{"metadata":{},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80,"protocol":"TCP"}]}]}"#)
        XCTAssertEqual(Kind.endpoints.shortNames, ["ep"])
        XCTAssertEqual(Kind.endpoints.singular, "endpoints")
    }

    func testEndpointsValidation() throws {
        var endpoints = try decode(Endpoints.self, """
            {"subsets":[
              {"addresses":[{"ip":"10.0.0.300"},{"ip":"127.0.0.1","hostname":"Bad_Host"}],
               "ports":[{"port":80},{"name":"b","port":0,"protocol":"ICMP"}]},
              {"ports":[{"port":81}]}]}
            """)
        endpoints.applyDefaults()
        let messages = endpoints.validate().map(\.description)
        XCTAssertEqual(messages, [
            "subsets[0].addresses[0].ip: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            "subsets[0].addresses[0].ip: Invalid value: \"10.0.0.300\": must be a valid IP address",
            "subsets[0].addresses[1].hostname: Invalid value: \"Bad_Host\": " + Names.dnsLabelError("Bad_Host")!,
            "subsets[0].addresses[1].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
            "subsets[0].ports[0].name: Required value",
            "subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "subsets[0].ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`",
        ])
    }

    func testEndpointsInTheStore() throws {
        var store = ServiceStore()
        let body: JSONValue = ["apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "web"],
                               "subsets": [["addresses": [["ip": "10.244.0.9"]], "ports": [["port": 8080]]]]]
        let created = store.create(body, kind: "Endpoints")
        XCTAssertEqual(created.httpStatus, 201, "\(created)")
        XCTAssertEqual(created.object?.json["subsets"]?.arrayValue?.first?["ports"]?.arrayValue?.first?["protocol"], "TCP")
        var changed = body
        changed["subsets"] = [["addresses": [["ip": "10.244.0.10"]], "ports": [["port": 8080]]]]
        let updated = store.update("web", changed, kind: "Endpoints")
        XCTAssertEqual(updated.httpStatus, 200, "\(updated)")
        XCTAssertEqual(updated.object?.generation, 1, "endpoints carry no generation changes")
        let bad = store.create(["apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "bad"],
                                "subsets": [["addresses": [["ip": "0.0.0.0"]], "ports": [["port": 1]]]]], kind: "Endpoints")
        XCTAssertEqual(bad.httpStatus, 422)
        XCTAssertEqual(bad.typedRefusal?.causes.map(\.description),
                       ["subsets[0].addresses[0].ip: Invalid value: \"0.0.0.0\": may not be unspecified (0.0.0.0)"])
    }

    // MARK: EndpointSlice

    func testEndpointSliceRoundTripKeepsPointerFields() throws {
        let text = """
        {"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1",\
        "metadata":{"name":"web-abc12","namespace":"default","labels":{"kubernetes.io/service-name":"web"}},\
        "addressType":"IPv4","endpoints":[{"addresses":["10.244.1.5"],\
        "conditions":{"ready":false,"serving":true,"terminating":false},"hostname":"web-0",\
        "targetRef":{"kind":"Pod","namespace":"default","name":"web-0"},"nodeName":"node-1","zone":"z1",\
        "hints":{"forZones":[{"name":"z1"}]}}],\
        "ports":[{"name":"","protocol":"TCP","port":8080,"appProtocol":"http"}]}
        """
        let json = try JSONValue.parse(text)
        var context = DecodeContext()
        let slice = try XCTUnwrap(EndpointSlice(json: json, context: &context))
        XCTAssertEqual(context.unknownFields, [])
        XCTAssertEqual(slice.endpoints[0].conditions.ready, false, "a false pointer is kept")
        XCTAssertEqual(slice.ports[0].name, "", "an empty pointer name is kept")
        XCTAssertEqual(slice.wireJSON.jsonString, json.jsonString)
        XCTAssertEqual(slice.metadata.labels[EndpointSlice.serviceNameLabel], "web")
        XCTAssertEqual(EndpointSlice().wireJSON.jsonString, #"{"metadata":{},"addressType":"","endpoints":[],"ports":[]}"#)
    }

    func testEndpointSliceDefaults() throws {
        var slice = try decode(EndpointSlice.self, #"{"addressType":"IPv4","endpoints":[],"ports":[{"port":80},{"name":"dns","protocol":"UDP","port":53}]}"#)
        slice.applyDefaults()
        XCTAssertEqual(slice.ports[0].name, "")
        XCTAssertEqual(slice.ports[0].protocol, "TCP")
        XCTAssertEqual(slice.ports[1].protocol, "UDP")
        XCTAssertEqual(slice.wireJSON["ports"]?.jsonString,
                       #"[{"name":"","protocol":"TCP","port":80},{"name":"dns","protocol":"UDP","port":53}]"#)
    }

    func testEndpointSliceValidation() throws {
        var slice = try decode(EndpointSlice.self, """
            {"addressType":"IPv4","endpoints":[
              {"addresses":[]},
              {"addresses":["10.0.0.1","fd00::1","169.254.1.1"],"hostname":"A","nodeName":"node_1"}],
             "ports":[{"name":"http","port":80},{"name":"http","port":0,"protocol":"ICMP"}]}
            """)
        slice.applyDefaults()
        XCTAssertEqual(slice.validate().map(\.description), [
            "endpoints[0].addresses: Required value: must contain at least 1 address",
            "endpoints[1].addresses[1]: Invalid value: \"fd00::1\": must be a valid IPv4 address",
            "endpoints[1].addresses[2]: Invalid value: \"169.254.1.1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)",
            "endpoints[1].hostname: Invalid value: \"A\": " + Names.dnsLabelError("A")!,
            "endpoints[1].nodeName: Invalid value: \"node_1\": " + Names.dnsSubdomainError("node_1")!,
            "ports[1].name: Duplicate value: \"http\"",
            "ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
            "ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        ])

        var typeless = EndpointSlice()
        XCTAssertEqual(typeless.validate().map(\.description), ["addressType: Required value"])
        typeless.addressType = "IP"
        XCTAssertEqual(typeless.validate().map(\.description),
                       ["addressType: Unsupported value: \"IP\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""])

        var fqdn = EndpointSlice()
        fqdn.addressType = "FQDN"
        var endpoint = Endpoint()
        endpoint.addresses = ["db.example.com.", "localhost", "Bad.example.com"]
        fqdn.endpoints = [endpoint]
        let fqdnMessages = fqdn.validate().map(\.description)
        XCTAssertEqual(fqdnMessages.count, 2, "\(fqdnMessages)")
        XCTAssertEqual(fqdnMessages.first, "endpoints[0].addresses[1]: Invalid value: \"localhost\": should be a domain with at least two segments separated by dots")

        var six = EndpointSlice()
        six.addressType = "IPv6"
        var v6 = Endpoint()
        v6.addresses = ["2001:db8::1", "::ffff:10.0.0.1", "fe80::1", "::1", "1::2::3", "10.0.0.1"]
        six.endpoints = [v6]
        XCTAssertEqual(six.validate().map(\.description), [
            "endpoints[0].addresses[2]: Invalid value: \"fe80::1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)",
            "endpoints[0].addresses[3]: Invalid value: \"::1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
            "endpoints[0].addresses[4]: Invalid value: \"1::2::3\": must be a valid IPv6 address",
            "endpoints[0].addresses[4]: Invalid value: \"1::2::3\": must be a valid IP address",
            "endpoints[0].addresses[5]: Invalid value: \"10.0.0.1\": must be a valid IPv6 address",
        ])
    }

    func testEndpointSliceBounds() {
        var slice = EndpointSlice()
        slice.addressType = "IPv4"
        var endpoint = Endpoint()
        endpoint.addresses = ["10.0.0.1"]
        slice.endpoints = Array(repeating: endpoint, count: EndpointSlice.endpointsMax + 1)
        slice.ports = (0...EndpointSlice.portsMax).map { EndpointSlicePort(name: "p\($0)", port: 80, protocol: "TCP") }
        XCTAssertEqual(slice.validate().map(\.description), [
            "endpoints: Too many: 1001: must have at most 1000 items",
            "ports: Too many: 101: must have at most 100 items",
        ])
        slice.endpoints.removeLast()
        slice.ports.removeLast()
        XCTAssertEqual(slice.validate(), [])
    }

    func testEndpointSliceInTheStore() throws {
        var store = ServiceStore()
        var body = try JSONValue.parse("""
            {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
             "metadata":{"name":"web-1","labels":{"kubernetes.io/service-name":"web"}},
             "addressType":"IPv4","endpoints":[{"addresses":["10.244.0.9"],"conditions":{"ready":true},
               "deprecatedTopology":{"zone":"a"}}],
             "ports":[{"port":8080}]}
            """)
        let created = store.create(body, kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1")
        XCTAssertEqual(created.httpStatus, 201, "\(created)")
        let stored = try XCTUnwrap(created.object)
        XCTAssertEqual(stored.json["apiVersion"], "discovery.k8s.io/v1")
        XCTAssertEqual(stored.json["ports"]?.jsonString, #"[{"name":"","protocol":"TCP","port":8080}]"#)
        XCTAssertNil(stored.json["endpoints"]?.arrayValue?.first?["deprecatedTopology"], "not writable through v1")
        XCTAssertEqual(stored.generation, 1)

        // A label change leaves the generation; an endpoint change moves it.
        body["metadata"]?["labels"] = ["kubernetes.io/service-name": "web", "extra": "1"]
        let relabelled = store.update("web-1", body, kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1")
        XCTAssertEqual(relabelled.object?.generation, 1, "\(relabelled)")
        body["endpoints"] = [["addresses": ["10.244.0.10"]]]
        let moved = store.update("web-1", body, kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1")
        XCTAssertEqual(moved.object?.generation, 2, "\(moved)")

        body["addressType"] = "IPv6"
        body["endpoints"] = [["addresses": ["fd00::9"]]]
        let retyped = store.update("web-1", body, kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1")
        XCTAssertEqual(retyped.httpStatus, 422)
        XCTAssertEqual(retyped.typedRefusal?.causes.map(\.description), ["addressType: Invalid value: \"IPv6\": field is immutable"])
        XCTAssertEqual(retyped.typedRefusal?.message.hasPrefix("EndpointSlice.discovery.k8s.io \"web-1\" is invalid: "), true)
    }

    // MARK: Helpers

    private func decode<T: WireStruct>(_ type: T.Type, _ text: String) throws -> T {
        var context = DecodeContext()
        let value = try XCTUnwrap(T(json: try JSONValue.parse(text), context: &context))
        XCTAssertEqual(context.typeErrors, [])
        XCTAssertEqual(context.unknownFields, [])
        return value
    }
}
