import JSON
import Store
import XCTest

/// Node as a typed kind: wire form, defaults, validation, immutable fields, the status
/// subresource, and registration as its agent does it.
final class NodeKindTests: XCTestCase {
    /// A node as an agent reports it, in Kubernetes' field order.
    static let fullNode = """
    {"kind":"Node","apiVersion":"v1","metadata":{"name":"node-1","uid":"n-1","resourceVersion":"3",\
    "creationTimestamp":"2026-01-01T00:00:00Z","labels":{"kubernetes.io/hostname":"node-1","kubernetes.io/os":"linux"}},\
    "spec":{"podCIDR":"10.244.1.0/24","podCIDRs":["10.244.1.0/24","fd00:1::/64"],"providerID":"shoal://node-1",\
    "unschedulable":true,"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule","timeAdded":"2026-01-01T00:00:09Z"},\
    {"key":"dedicated","value":"db","effect":"NoExecute"}],"configSource":{"configMap":{"name":"c","namespace":"kube-system","kubeletConfigKey":"k"}},\
    "externalID":"legacy"},\
    "status":{"capacity":{"cpu":"4","ephemeral-storage":"100Gi","memory":"16Gi","pods":"110"},\
    "allocatable":{"cpu":"3800m","ephemeral-storage":"90Gi","memory":"15Gi","pods":"110"},"phase":"Running",\
    "conditions":[{"type":"MemoryPressure","status":"False","lastHeartbeatTime":"2026-01-01T00:00:10Z",\
    "lastTransitionTime":"2026-01-01T00:00:00Z","reason":"KubeletHasSufficientMemory","message":"ok"},\
    {"type":"Ready","status":"True","lastHeartbeatTime":"2026-01-01T00:00:10Z","lastTransitionTime":"2026-01-01T00:00:05Z",\
    "reason":"KubeletReady","message":"ready"}],\
    "addresses":[{"type":"InternalIP","address":"192.168.1.10"},{"type":"Hostname","address":"node-1"}],\
    "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},\
    "nodeInfo":{"machineID":"m","systemUUID":"s","bootID":"b","kernelVersion":"6.1.0","osImage":"Debian GNU/Linux 12",\
    "containerRuntimeVersion":"containerd://1.7.24","kubeletVersion":"v1.32.0-shoal","kubeProxyVersion":"",\
    "operatingSystem":"linux","architecture":"amd64"},\
    "images":[{"names":["docker.io/library/nginx@sha256:2","docker.io/library/nginx:1.27"],"sizeBytes":72000000}],\
    "volumesInUse":["kubernetes.io/csi/x"],"volumesAttached":[{"name":"kubernetes.io/csi/x","devicePath":"/dev/sdb"}],\
    "config":{"active":{}},"runtimeHandlers":[{"name":"runc","features":{"recursiveReadOnlyMounts":true}}],\
    "features":{"supplementalGroupsPolicy":true}}}
    """

    func testRoundTripKeepsEveryFieldInKubernetesOrder() throws {
        let json = try JSONValue.parse(Self.fullNode)
        let node = try decode(Self.fullNode)
        XCTAssertEqual(node.wireJSON.jsonString, json.jsonString)
        XCTAssertEqual(node.status.daemonEndpoints.kubeletEndpoint.port, 10250)
        XCTAssertEqual(node.spec.taints[0].timeAdded, MetaTime(parsing: "2026-01-01T00:00:09Z"))
        XCTAssertEqual(Node().wireJSON.jsonString, """
        {"metadata":{},"spec":{},"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":0}},"nodeInfo":{"machineID":"",\
        "systemUUID":"","bootID":"","kernelVersion":"","osImage":"","containerRuntimeVersion":"","kubeletVersion":"",\
        "kubeProxyVersion":"","operatingSystem":"","architecture":""}}}
        """, "Go always writes the struct members of a status")
        let schema = NodeStatus.wireInfo.schema
        XCTAssertEqual(schema.field(named: "addresses")?.semantics.mergeKey, "type")
        XCTAssertEqual(schema.field(named: "conditions")?.semantics.mergeKey, "type")
        XCTAssertEqual(NodeSpec.wireInfo.schema.field(named: "podCIDRs")?.number, 7)
        XCTAssertEqual(NodeSpec.wireInfo.schema.field(named: "taints")?.semantics.listType, "atomic")
    }

    func testAllocatableDefaultsToCapacity() throws {
        var node = try decode(#"{"metadata":{"name":"n"},"status":{"capacity":{"cpu":"2","memory":"0.0001"}}}"#)
        node.applyDefaults()
        XCTAssertEqual(node.status.allocatable, node.status.capacity)
        XCTAssertEqual(node.status.capacity["memory"]?.description, "1m", "amounts round up to thousandths")
        XCTAssertEqual(node.allocatableCPUMilli, 2000)
    }

    func testValidation() throws {
        var node = try decode("""
        {"metadata":{"name":"n"},"spec":{"podCIDR":"10.244.0.0/33","podCIDRs":["10.244.1.0/24","10.244.2.0/24"],\
        "taints":[{"key":"a","effect":"NoSchedule"},{"key":"a","effect":"NoSchedule"},{"key":"b","effect":"Sometimes"},{"key":"","effect":"NoExecute"}]},\
        "status":{"capacity":{"cpu":"-1"}}}
        """)
        node.applyDefaults()
        XCTAssertEqual(node.validate().map(\.description), [
            #"spec.podCIDR: Invalid value: "10.244.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"#,
            #"spec.podCIDRs: Invalid value: "10.244.1.0/24,10.244.2.0/24": may specify no more than one CIDR for each IP family"#,
            #"spec.podCIDRs: Invalid value: "10.244.1.0/24": first CIDR must match podCIDR"#,
            #"spec.taints[1]: Duplicate value: "a:NoSchedule": taints must be unique by key and effect pair"#,
            #"spec.taints[2].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute""#,
            "spec.taints[3].key: Required value",
            #"status.capacity[cpu]: Invalid value: "-1": must be greater than or equal to 0"#,
            #"status.allocatable[cpu]: Invalid value: "-1": must be greater than or equal to 0"#,
        ])
        XCTAssertEqual(try decode(Self.fullNode).validate(), [])
    }

    func testPodCIDRsAndProviderIDAreSetOnce() throws {
        var old = Node(name: "n")
        var new = old
        new.spec.podCIDR = "10.244.1.0/24"
        new.spec.podCIDRs = ["10.244.1.0/24"]
        new.spec.providerID = "shoal://n"
        XCTAssertEqual(new.validateUpdate(from: old), [], "from empty to set is allowed")
        old = new
        new.spec.podCIDR = "10.244.2.0/24"
        new.spec.podCIDRs = ["10.244.2.0/24"]
        new.spec.providerID = "shoal://m"
        XCTAssertEqual(new.validateUpdate(from: old).map(\.description), [
            #"spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid"#,
            #"spec.providerID: Forbidden: node updates may not change providerID except from "" to valid"#,
        ])
        new = old
        new.spec.unschedulable = true
        new.spec.taints = [Taint(key: Taint.unschedulableKey, effect: Taint.noSchedule)]
        XCTAssertEqual(new.validateUpdate(from: old), [])
        XCTAssertFalse(new.changesGeneration(from: old))
    }

    func testTwoNodesNeverHoldOverlappingPodRanges() throws {
        var store = PodStore()
        func create(_ name: String, _ range: String?) -> Int {
            let spec = range.map { #","spec":{"podCIDR":"\#($0)","podCIDRs":["\#($0)"]}"# } ?? ""
            let body = try! JSONValue.parse(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)"}\#(spec)}"#)
            return store.write(TypedWrite(verb: .create, kind: "Node", apiVersion: "v1", body: body, uid: name, now: PodStore.now)).httpStatus
        }
        func give(_ name: String, _ range: String) -> StoreResult {
            var json = store.get(name, kind: .node)!
            json[path: ["spec", "podCIDR"]] = .string(range)
            json[path: ["spec", "podCIDRs"]] = [.string(range)]
            return store.write(TypedWrite(verb: .update, kind: "Node", apiVersion: "v1", name: name, body: json, now: PodStore.now))
        }
        XCTAssertEqual(create("a", "10.244.0.0/24"), 201)
        XCTAssertEqual(create("b", nil), 201)
        // The allocator's view lagged its own write: the second grant of a range is refused.
        let refused = give("b", "10.244.0.0/24")
        XCTAssertEqual(refused.httpStatus, 422)
        XCTAssertTrue("\(refused)".contains("overlaps node a's pod range 10.244.0.0/24"), "\(refused)")
        XCTAssertEqual(give("b", "10.244.0.128/25").httpStatus, 422, "a range inside another overlaps it")
        XCTAssertEqual(create("c", "10.244.0.0/16"), 422, "so does one around it, at creation too")
        XCTAssertEqual(give("b", "10.244.1.0/24").httpStatus, 200)
        XCTAssertEqual(give("b", "10.244.1.0/24").httpStatus, 200, "writing the range a node holds again is no overlap with itself")
    }

    func testAccessors() throws {
        let node = try decode(Self.fullNode)
        XCTAssertTrue(node.isReady)
        XCTAssertEqual(node.condition(NodeCondition.memoryPressure)?.status, "False")
        XCTAssertEqual(node.allocatableCPUMilli, 3800)
        XCTAssertEqual(node.allocatableMemoryBytes, 15 << 30)
        XCTAssertEqual(node.allocatablePods, 110)
        XCTAssertEqual(node.taints.map(\.key), [Taint.unschedulableKey, "dedicated"])
        XCTAssertEqual(node.address(NodeAddress.internalIP), "192.168.1.10")
        XCTAssertNil(node.address(NodeAddress.externalIP))
        XCTAssertFalse(Node(name: "x").isReady)
    }

    func testRegistrationStatusUpdatesAndFieldLabels() throws {
        var store = PodStore()
        let body = try JSONValue.parse("""
        {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1","labels":{"kubernetes.io/hostname":"node-1"}},\
        "status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],\
        "conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-01-01T00:00:00Z"}]}}
        """)
        let created = store.write(TypedWrite(verb: .create, kind: "Node", apiVersion: "v1", body: body, uid: "n1", now: PodStore.now))
        guard case .created(let object) = created else { return XCTFail("\(created)") }
        XCTAssertEqual(object.key.namespace, "", "cluster-scoped")
        XCTAssertEqual(object.json["status"]?["allocatable"]?.jsonString, #"{"cpu":"4","memory":"8Gi","pods":"110"}"#,
                       "the agent's status is kept, allocatable defaulted")
        XCTAssertEqual(Kind.node.fieldLabels["spec.unschedulable"]?(object.json), "false")

        // Cordon: a spec update keeps the status.
        var cordon = object.json
        cordon[path: ["spec", "unschedulable"]] = true
        cordon[path: ["status"]] = nil
        XCTAssertEqual(store.write(TypedWrite(verb: .update, kind: "Node", apiVersion: "v1", name: "node-1", body: cordon,
                                              now: PodStore.now)).httpStatus, 200)
        var current = try XCTUnwrap(store.get("node-1", kind: .node))
        XCTAssertEqual(Kind.node.fieldLabels["spec.unschedulable"]?(current), "true")
        XCTAssertEqual(current["status"]?["capacity"]?["cpu"], "4")
        XCTAssertEqual(current["metadata"]?["generation"], 1)

        // Heartbeat: a status write changes only the status.
        current[path: ["status", "conditions"]] = try JSONValue.parse(#"[{"type":"Ready","status":"False","reason":"KubeletNotReady"}]"#)
        current[path: ["status", "allocatable"]] = nil
        current[path: ["spec", "unschedulable"]] = false
        XCTAssertEqual(store.write(TypedWrite(verb: .update, kind: "Node", apiVersion: "v1", name: "node-1", subresource: .status,
                                              body: current, now: PodStore.now)).httpStatus, 200)
        let reported = try XCTUnwrap(store.get("node-1", kind: .node))
        let node = try XCTUnwrap(Node(stored: reported))
        XCTAssertFalse(node.isReady)
        XCTAssertTrue(node.spec.unschedulable, "a status write leaves the spec")
        XCTAssertEqual(node.allocatableMemoryBytes, 8 << 30, "defaults apply to status writes")

        // Node names are DNS subdomains.
        var bad = body
        bad[path: ["metadata", "name"]] = "Node_1"
        XCTAssertEqual(store.write(TypedWrite(verb: .create, kind: "Node", apiVersion: "v1", body: bad, uid: "n2",
                                              now: PodStore.now)).httpStatus, 422)
        XCTAssertEqual(Kind.node.shortNames, ["no"])
        XCTAssertEqual(Kind.named("Node")?.namespaced, false)
    }

    private func decode(_ text: String) throws -> Node {
        var context = DecodeContext()
        let node = try XCTUnwrap(Node(json: try JSONValue.parse(text), context: &context))
        XCTAssertEqual(context.typeErrors, [])
        XCTAssertEqual(context.unknownFields, [])
        return node
    }
}
