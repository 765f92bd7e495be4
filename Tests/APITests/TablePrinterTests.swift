import XCTest

@testable import API
import JSON
import Store

/// A store at cluster version 2 for building objects as the API would store them (the
/// StoreTests harness is not importable from here).
private struct TableStore {
    static let created = "2026-01-01T00:00:00Z"
    static let createdSeconds = MetaTime(parsing: created)!.unixSeconds

    var store = Store()
    var index: UInt64 = 0
    var nextUID = 1

    init() {
        let moved = apply(.setClusterVersion(version: 2, now: Self.created))
        XCTAssertTrue(moved.succeeded, "\(moved)")
    }

    mutating func apply(_ command: StoreCommand) -> StoreResult {
        index += 1
        return store.apply(index: index, command).result
    }

    /// Creates a typed object (at `created`) and returns it as stored.
    mutating func create(_ body: JSONValue, kind: String, apiVersion: String = "v1", namespace: String = "default",
                         file: StaticString = #filePath, line: UInt = #line) -> StoredObject {
        defer { nextUID += 1 }
        let result = apply(.typed(TypedWrite(verb: .create, kind: kind, apiVersion: apiVersion, namespace: namespace,
                                             body: body, uid: "uid-\(nextUID)", now: Self.created)))
        guard case .created(let object) = result else {
            XCTFail("create \(kind): \(result)", file: file, line: line)
            return store.get(ObjectKey(kind: .namespace, name: "default"))!  // keeps the test going
        }
        return object
    }

    /// Writes `status` through the status subresource and returns the object as stored.
    mutating func setStatus(_ object: StoredObject, _ status: JSONValue, apiVersion: String = "v1",
                            file: StaticString = #filePath, line: UInt = #line) -> StoredObject {
        var body = object.json
        body["status"] = status
        let result = apply(.typed(TypedWrite(verb: .update, kind: object.key.kind.name, apiVersion: apiVersion,
                                             namespace: object.key.namespace, name: object.key.name,
                                             subresource: .status, body: body, now: Self.created)))
        guard case .updated(let updated) = result else {
            XCTFail("status of \(object.key.name): \(result)", file: file, line: line)
            return object
        }
        return updated
    }

    /// Deletes a pod gracefully at `created` and returns it as it stays, with its deletionTimestamp.
    mutating func deleteGracefully(_ object: StoredObject, file: StaticString = #filePath, line: UInt = #line) -> StoredObject {
        let result = apply(.typed(TypedWrite(verb: .delete, kind: object.key.kind.name, apiVersion: "v1",
                                             namespace: object.key.namespace, name: object.key.name, now: Self.created)))
        guard let kept = store.get(object.key), kept.json["metadata"]?["deletionTimestamp"] != nil else {
            XCTFail("not deleted gracefully: \(result)", file: file, line: line)
            return object
        }
        return kept
    }
}

final class TablePrinterTests: XCTestCase {
    private var cluster = TableStore()
    /// Ten minutes after every object was created.
    private let now = TableStore.createdSeconds + 600

    /// RFC 3339 text of `seconds` after the objects' creation.
    private func time(_ seconds: Int64) -> JSONValue { .string(MetaTime(unixSeconds: TableStore.createdSeconds + seconds).description) }

    private func cells(_ object: StoredObject) -> [JSONValue] {
        TablePrinters.printer(for: object.key.kind).cells(object, now)
    }

    private func columnNames(_ kind: Kind) -> [String] { TablePrinters.printer(for: kind).columns.map(\.name) }

    // MARK: Pods

    private func podBody(_ name: String, containers: [String] = ["app"], initContainers: [JSONValue] = [],
                         nodeName: String? = nil, extraSpec: JSONObject = [:]) -> JSONValue {
        var spec = extraSpec
        spec["containers"] = .array(containers.map { ["name": .string($0), "image": "registry:5000/\($0):1"] })
        if !initContainers.isEmpty { spec["initContainers"] = .array(initContainers) }
        if let nodeName { spec["nodeName"] = .string(nodeName) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    private func pod(_ name: String, containers: [String] = ["app"], initContainers: [JSONValue] = [],
                     nodeName: String? = "node-1", extraSpec: JSONObject = [:], status: JSONValue? = nil) -> StoredObject {
        let object = cluster.create(podBody(name, containers: containers, initContainers: initContainers,
                                            nodeName: nodeName, extraSpec: extraSpec), kind: "Pod")
        guard let status else { return object }
        return cluster.setStatus(object, status)
    }

    private func running(_ name: String, ready: Bool = true, restarts: Int64 = 0, lastFinished: JSONValue? = nil) -> JSONValue {
        var status: JSONObject = ["name": .string(name), "ready": .bool(ready), "restartCount": .int(restarts),
                                  "image": "registry:5000/app:1", "imageID": "", "state": ["running": ["startedAt": time(10)]]]
        if let lastFinished {
            status["lastState"] = ["terminated": ["exitCode": 1, "reason": "Error", "finishedAt": lastFinished]]
        }
        return .object(status)
    }

    private func waiting(_ name: String, _ reason: String, restarts: Int64 = 0, lastFinished: JSONValue? = nil) -> JSONValue {
        var status: JSONObject = ["name": .string(name), "ready": false, "restartCount": .int(restarts),
                                  "image": "registry:5000/app:1", "imageID": "", "state": ["waiting": ["reason": .string(reason)]]]
        if let lastFinished {
            status["lastState"] = ["terminated": ["exitCode": 1, "reason": "Error", "finishedAt": lastFinished]]
        }
        return .object(status)
    }

    private func terminated(_ name: String, exitCode: Int64, reason: String = "", signal: Int64 = 0) -> JSONValue {
        var state: JSONObject = ["exitCode": .int(exitCode), "finishedAt": time(60)]
        if !reason.isEmpty { state["reason"] = .string(reason) }
        if signal != 0 { state["signal"] = .int(signal) }
        return ["name": .string(name), "ready": false, "restartCount": 0, "image": "registry:5000/app:1", "imageID": "",
                "state": ["terminated": .object(state)]]
    }

    private func readyCondition(_ status: String = "True") -> JSONValue { ["type": "Ready", "status": .string(status)] }

    func testPodColumnsAreKubernetesOnesWithWideOnesLast() {
        XCTAssertEqual(columnNames(.pod), ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"])
        let columns = TablePrinters.printer(for: .pod).columns
        XCTAssertEqual(columns.map(\.priority), [0, 0, 0, 0, 0, 1, 1, 1, 1])
        XCTAssertEqual(columns.first?.format, "name")
        XCTAssertEqual(columns.map(\.type), Array(repeating: "string", count: 9), "Restarts is a string since 1.32")
    }

    func testPendingUnscheduledPod() {
        let object = pod("web", nodeName: nil)
        XCTAssertEqual(cells(object), ["web", "0/1", "Pending", "0", "10m", "<none>", "<none>", "<none>", "<none>"])
    }

    func testRunningReadyPod() {
        let object = pod("web", containers: ["app", "log"], extraSpec: ["readinessGates": [["conditionType": "example.com/ok"]]], status: [
            "phase": "Running", "podIP": "10.244.1.7", "podIPs": [["ip": "10.244.1.7"]],
            "conditions": [readyCondition(), ["type": "example.com/ok", "status": "True"]],
            "containerStatuses": [running("app"), running("log")],
        ])
        XCTAssertEqual(cells(object), ["web", "2/2", "Running", "0", "10m", "10.244.1.7", "node-1", "<none>", "1/1"])
    }

    func testRunningPodWithAnUnreadyContainerAndGateNotPassed() {
        let object = pod("web", containers: ["app", "log"], extraSpec: ["readinessGates": [["conditionType": "example.com/ok"]]], status: [
            "phase": "Running", "nominatedNodeName": "node-2",
            "conditions": [readyCondition("False")],
            "containerStatuses": [running("app"), running("log", ready: false)],
        ])
        XCTAssertEqual(cells(object), ["web", "1/2", "Running", "0", "10m", "<none>", "node-1", "node-2", "0/1"])
    }

    func testWaitingContainersGiveTheirReason() {
        let creating = pod("creating", status: ["phase": "Pending", "containerStatuses": [waiting("app", "ContainerCreating")]])
        XCTAssertEqual(cells(creating)[2], "ContainerCreating")
        let pull = pod("pull", status: ["phase": "Pending", "containerStatuses": [waiting("app", "ErrImagePull")]])
        XCTAssertEqual(Array(cells(pull)[1...3]), ["0/1", "ErrImagePull", "0"])
        let backOff = pod("backoff", status: ["phase": "Pending", "containerStatuses": [waiting("app", "ImagePullBackOff")]])
        XCTAssertEqual(cells(backOff)[2], "ImagePullBackOff")
    }

    func testCrashLoopBackOffWithRestartsAndTheirAge() {
        // The last run ended 303 seconds before now: "5m3s ago".
        let object = pod("crash", status: [
            "phase": "Running",
            "containerStatuses": [waiting("app", "CrashLoopBackOff", restarts: 2, lastFinished: time(600 - 303))],
        ])
        XCTAssertEqual(Array(cells(object)[1...3]), ["0/1", "CrashLoopBackOff", "2 (5m3s ago)"])
    }

    func testRestartsSumContainersAndTakeTheLatestExit() {
        let object = pod("web", containers: ["app", "log"], status: [
            "phase": "Running", "conditions": [readyCondition()],
            "containerStatuses": [running("app", restarts: 1, lastFinished: time(100)),
                                  running("log", restarts: 3, lastFinished: time(600 - 45))],
        ])
        XCTAssertEqual(Array(cells(object)[1...3]), ["2/2", "Running", "4 (45s ago)"])
        // Restarts without a recorded exit time are a bare count.
        let bare = pod("bare", status: ["phase": "Running", "containerStatuses": [running("app", restarts: 5)]])
        XCTAssertEqual(cells(bare)[3], "5")
    }

    func testTerminatedCompletedPod() {
        let object = pod("job", status: ["phase": "Succeeded", "containerStatuses": [terminated("app", exitCode: 0, reason: "Completed")]])
        XCTAssertEqual(Array(cells(object)[1...3]), ["0/1", "Completed", "0"])
        let failed = pod("failed", status: ["phase": "Failed", "containerStatuses": [terminated("app", exitCode: 2, reason: "Error")]])
        XCTAssertEqual(cells(failed)[2], "Error")
        let evicted = pod("evicted", status: ["phase": "Failed", "reason": "Evicted"])
        XCTAssertEqual(cells(evicted)[2], "Evicted")
    }

    func testExitWithoutReasonShowsCodeOrSignal() {
        let code = pod("code", status: ["phase": "Failed", "containerStatuses": [terminated("app", exitCode: 137)]])
        XCTAssertEqual(cells(code)[2], "ExitCode:137")
        let signal = pod("signal", status: ["phase": "Failed", "containerStatuses": [terminated("app", exitCode: 137, signal: 9)]])
        XCTAssertEqual(cells(signal)[2], "Signal:9")
    }

    func testCompletedBesideARunningContainerIsRunningOrNotReady() {
        let ready = pod("ready", containers: ["app", "once"], status: [
            "phase": "Running", "conditions": [readyCondition()],
            "containerStatuses": [running("app"), terminated("once", exitCode: 0, reason: "Completed")],
        ])
        XCTAssertEqual(Array(cells(ready)[1...2]), ["1/2", "Running"])
        let notReady = pod("notready", containers: ["app", "once"], status: [
            "phase": "Running", "conditions": [readyCondition("False")],
            "containerStatuses": [running("app"), terminated("once", exitCode: 0, reason: "Completed")],
        ])
        XCTAssertEqual(cells(notReady)[2], "NotReady")
    }

    func testPodWithDeletionTimestampIsTerminating() {
        let object = pod("web", status: ["phase": "Running", "conditions": [readyCondition()], "containerStatuses": [running("app")]])
        let deleting = cluster.deleteGracefully(object)
        XCTAssertEqual(Array(cells(deleting)[1...2]), ["1/1", "Terminating"])
    }

    func testFinishedPodBeingDeletedKeepsItsStatusAndLostNodeIsUnknown() {
        // A finished pod is deleted at once by the store; its row is built from the object as it was.
        var json = pod("done", status: ["phase": "Succeeded", "containerStatuses": [terminated("app", exitCode: 0, reason: "Completed")]]).json
        json["metadata"]?["deletionTimestamp"] = time(500)
        XCTAssertEqual(PodSummary(Pod(stored: json)!).status, "Completed")
        var lost = pod("lost", status: ["phase": "Running", "reason": "NodeLost", "containerStatuses": [running("app")]]).json
        XCTAssertEqual(PodSummary(Pod(stored: lost)!).status, "NodeLost", "status.reason until the pod is deleted")
        lost["metadata"]?["deletionTimestamp"] = time(500)
        XCTAssertEqual(PodSummary(Pod(stored: lost)!).status, "Unknown")
    }

    func testSchedulingGatedPod() {
        let object = pod("gated", nodeName: nil, extraSpec: ["schedulingGates": [["name": "example.com/wait"]]])
        XCTAssertEqual(cells(object)[2], "SchedulingGated")
    }

    func testInitContainers() {
        let inits: [JSONValue] = [["name": "setup", "image": "registry:5000/setup:1"], ["name": "migrate", "image": "registry:5000/m:1"]]
        let starting = pod("starting", initContainers: inits, status: [
            "phase": "Pending",
            "initContainerStatuses": [waiting("setup", "PodInitializing"), waiting("migrate", "PodInitializing")],
            "containerStatuses": [waiting("app", "PodInitializing")],
        ])
        XCTAssertEqual(Array(cells(starting)[1...2]), ["0/1", "Init:0/2"])
        let second = pod("second", initContainers: inits, status: [
            "phase": "Pending",
            "initContainerStatuses": [terminated("setup", exitCode: 0, reason: "Completed"), ["name": "migrate", "ready": false, "restartCount": 0, "image": "", "imageID": "", "state": ["running": ["startedAt": time(10)]]]],
            "containerStatuses": [waiting("app", "PodInitializing")],
        ])
        XCTAssertEqual(cells(second)[2], "Init:1/2")
        let pull = pod("pull", initContainers: inits, status: [
            "phase": "Pending", "initContainerStatuses": [waiting("setup", "ErrImagePull")],
        ])
        XCTAssertEqual(cells(pull)[2], "Init:ErrImagePull")
        let crash = pod("crash", initContainers: inits, status: [
            "phase": "Pending",
            "initContainerStatuses": [waiting("setup", "CrashLoopBackOff", restarts: 3, lastFinished: time(590))],
            "containerStatuses": [waiting("app", "PodInitializing", restarts: 0)],
        ])
        XCTAssertEqual(Array(cells(crash)[2...3]), ["Init:CrashLoopBackOff", "3 (10s ago)"])
        let failed = pod("failed", initContainers: inits, status: [
            "phase": "Failed", "initContainerStatuses": [terminated("setup", exitCode: 3)],
        ])
        XCTAssertEqual(cells(failed)[2], "Init:ExitCode:3")
        let killed = pod("killed", initContainers: inits, status: [
            "phase": "Failed", "initContainerStatuses": [terminated("setup", exitCode: 143, signal: 15)],
        ])
        XCTAssertEqual(cells(killed)[2], "Init:Signal:15")
        let reason = pod("reason", initContainers: inits, status: [
            "phase": "Failed", "initContainerStatuses": [terminated("setup", exitCode: 1, reason: "OOMKilled")],
        ])
        XCTAssertEqual(cells(reason)[2], "Init:OOMKilled")
    }

    func testSidecarsCountAsContainersAndTheirRestartsStay() {
        let inits: [JSONValue] = [
            ["name": "proxy", "image": "registry:5000/proxy:1", "restartPolicy": "Always"],
            ["name": "setup", "image": "registry:5000/setup:1"],
        ]
        var proxy = running("proxy", restarts: 1, lastFinished: time(300)).objectValue!
        proxy["started"] = true
        let object = pod("web", initContainers: inits, status: [
            "phase": "Running", "conditions": [readyCondition(), ["type": "Initialized", "status": "True"]],
            "initContainerStatuses": [.object(proxy), terminated("setup", exitCode: 0, reason: "Completed")],
            "containerStatuses": [running("app", restarts: 2, lastFinished: time(500))],
        ])
        // proxy and app are ready of the two that keep running; setup's history is done with.
        XCTAssertEqual(Array(cells(object)[1...3]), ["2/2", "Running", "3 (100s ago)"])
    }

    // MARK: Workloads

    func testDeployment() {
        let object = cluster.create(deploymentBody(), kind: "Deployment", apiVersion: "apps/v1")
        let fresh = cells(object)
        XCTAssertEqual(columnNames(.deployment), ["Name", "Ready", "Up-to-date", "Available", "Age", "Containers", "Images", "Selector"])
        XCTAssertEqual(fresh, ["web", "0/3", 0, 0, "10m", "web,sidecar", "registry:5000/web:1.0,registry:5000/sidecar:2", "app=web,tier in (a,b)"])
        let rolled = cluster.setStatus(object, ["replicas": 3, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 1],
                                       apiVersion: "apps/v1")
        XCTAssertEqual(Array(cells(rolled)[1...3]), ["3/3", 2, 1])
        XCTAssertEqual(TablePrinters.printer(for: .deployment).columns.map(\.priority), [0, 0, 0, 0, 0, 1, 1, 1])
    }

    private func deploymentBody(kind: String = "Deployment") -> JSONValue {
        [
            "apiVersion": "apps/v1", "kind": .string(kind), "metadata": ["name": "web"],
            "spec": [
                "replicas": 3,
                "selector": ["matchLabels": ["app": "web"], "matchExpressions": [["key": "tier", "operator": "In", "values": ["b", "a"]]]],
                "template": [
                    "metadata": ["labels": ["app": "web", "tier": "a"]],
                    "spec": ["containers": [["name": "web", "image": "registry:5000/web:1.0"],
                                            ["name": "sidecar", "image": "registry:5000/sidecar:2"]]],
                ],
            ],
        ]
    }

    func testReplicaSet() {
        let object = cluster.create(deploymentBody(kind: "ReplicaSet"), kind: "ReplicaSet", apiVersion: "apps/v1")
        XCTAssertEqual(columnNames(.replicaSet), ["Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"])
        XCTAssertEqual(cells(object), ["web", 3, 0, 0, "10m", "web,sidecar", "registry:5000/web:1.0,registry:5000/sidecar:2", "app=web,tier in (a,b)"])
        let scaled = cluster.setStatus(object, ["replicas": 3, "readyReplicas": 2], apiVersion: "apps/v1")
        XCTAssertEqual(Array(cells(scaled)[1...3]), [3, 3, 2])
    }

    // MARK: Networking

    private func serviceBody(_ name: String, _ spec: JSONObject) -> JSONValue {
        ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)], "spec": .object(spec)]
    }

    func testServices() {
        XCTAssertEqual(columnNames(.service), ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"])
        let plain = cluster.create(serviceBody("web", ["selector": ["tier": "front", "app": "web"],
                                                       "ports": [["port": 80, "targetPort": 8080, "name": "http"], ["port": 53, "protocol": "UDP", "name": "dns"]]]),
                                   kind: "Service")
        let clusterIP = plain.json["spec"]?["clusterIP"]?.stringValue ?? "?"
        XCTAssertNotEqual(clusterIP, "")
        XCTAssertEqual(cells(plain), ["web", "ClusterIP", .string(clusterIP), "<none>", "80/TCP,53/UDP", "10m", "app=web,tier=front"])

        let nodePort = cluster.create(serviceBody("np", ["type": "NodePort", "externalIPs": ["192.0.2.1", "192.0.2.2"],
                                                         "ports": [["port": 80, "nodePort": 30080]]]), kind: "Service")
        XCTAssertEqual(Array(cells(nodePort)[1...4]) + [cells(nodePort)[6]],
                       ["NodePort", nodePort.json["spec"]?["clusterIP"] ?? "?", "192.0.2.1,192.0.2.2", "80:30080/TCP", "<none>"])

        let headless = cluster.create(serviceBody("db", ["clusterIP": "None", "selector": ["app": "db"]]), kind: "Service")
        XCTAssertEqual(Array(cells(headless)[1...4]), ["ClusterIP", "None", "<none>", "<none>"])

        let external = cluster.create(serviceBody("ext", ["type": "ExternalName", "externalName": "db.example.com"]), kind: "Service")
        XCTAssertEqual(Array(cells(external)[1...4]), ["ExternalName", "<none>", "db.example.com", "<none>"])

        let balanced = cluster.create(serviceBody("lb", ["type": "LoadBalancer", "ports": [["port": 443]]]), kind: "Service")
        XCTAssertEqual(cells(balanced)[3], "<pending>")
        let ingress = cluster.setStatus(balanced, ["loadBalancer": ["ingress": [["ip": "203.0.113.9"], ["hostname": "lb.example.com"], ["ip": "203.0.113.1"]]]])
        XCTAssertEqual(cells(ingress)[3], "203.0.113.1,203.0.113.9,lb.example.com")
    }

    func testEndpoints() {
        XCTAssertEqual(columnNames(.endpoints), ["Name", "Endpoints", "Age"])
        func endpoints(_ name: String, _ subsets: JSONValue?) -> StoredObject {
            var body: JSONObject = ["apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": .string(name)]]
            if let subsets { body["subsets"] = subsets }
            return cluster.create(.object(body), kind: "Endpoints")
        }
        XCTAssertEqual(cells(endpoints("empty", nil)), ["empty", "<none>", "10m"])
        let two = endpoints("two", [["addresses": [["ip": "10.0.0.1"], ["ip": "10.0.0.2"]], "ports": [["port": 80]]]])
        XCTAssertEqual(cells(two)[1], "10.0.0.1:80,10.0.0.2:80")
        let many = endpoints("many", [
            ["addresses": [["ip": "10.0.0.1"], ["ip": "10.0.0.2"]], "ports": [["port": 80, "name": "http"], ["port": 443, "name": "https"]]],
            ["addresses": [["ip": "10.0.1.1"]], "ports": [["port": 80, "name": "http"]]],
        ])
        XCTAssertEqual(cells(many)[1], "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 2 more...")
        let bare = endpoints("bare", [["addresses": [["ip": "10.0.0.1"], ["ip": "fd00::1"]]]])
        XCTAssertEqual(cells(bare)[1], "10.0.0.1,fd00::1")
        let six = endpoints("six", [["addresses": [["ip": "fd00::1"]], "ports": [["port": 80]]]])
        XCTAssertEqual(cells(six)[1], "[fd00::1]:80")
        let notReady = endpoints("notready", [["notReadyAddresses": [["ip": "10.0.0.1"]], "ports": [["port": 80]]]])
        XCTAssertEqual(cells(notReady)[1], "", "only ready addresses are listed")
    }

    func testEndpointSlices() {
        XCTAssertEqual(columnNames(.endpointSlice), ["Name", "AddressType", "Ports", "Endpoints", "Age"])
        func slice(_ name: String, ports: JSONValue, endpoints: JSONValue) -> StoredObject {
            cluster.create(["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": ["name": .string(name)],
                            "addressType": "IPv4", "ports": ports, "endpoints": endpoints],
                           kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1")
        }
        let empty = slice("empty", ports: [], endpoints: [])
        XCTAssertEqual(cells(empty), ["empty", "IPv4", "<unset>", "<unset>", "10m"])
        let full = slice("full",
                         ports: [["port": 80, "name": "http"], ["name": "named"], [:], ["port": 9090, "name": "metrics"]],
                         endpoints: [["addresses": ["10.0.0.1"]], ["addresses": ["10.0.0.2"]], ["addresses": ["10.0.0.3"]],
                                     ["addresses": ["10.0.0.4"]], ["addresses": ["10.0.0.5"]]])
        // A port without number or name is stored with name "" (Kubernetes' default), so it
        // prints empty, as kube-apiserver's does; "*" is only for an absent name.
        XCTAssertEqual(Array(cells(full)[2...3]), ["80,named, + 1 more...", "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more..."])
    }

    // MARK: Cluster

    func testNodes() {
        XCTAssertEqual(columnNames(.node), ["Name", "Status", "Roles", "Age", "Version", "Internal-IP", "External-IP",
                                             "OS-Image", "Kernel-Version", "Container-Runtime"])
        let ready = cluster.create([
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": "node-1", "labels": ["node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "",
                                                      "kubernetes.io/role": "edge"]],
            "status": [
                "conditions": [["type": "Ready", "status": "True"]],
                "addresses": [["type": "Hostname", "address": "node-1"], ["type": "InternalIP", "address": "172.18.0.2"],
                              ["type": "InternalIP", "address": "172.18.0.3"]],
                "nodeInfo": ["machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "6.1.0-18-amd64",
                             "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://1.7.13",
                             "kubeletVersion": "v1.32.4", "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"],
            ],
        ], kind: "Node", namespace: "")
        XCTAssertEqual(cells(ready), ["node-1", "Ready", "control-plane,edge,worker", "10m", "v1.32.4", "172.18.0.2", "<none>",
                                      "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.13"])
        let cordoned = cluster.create([
            "apiVersion": "v1", "kind": "Node", "metadata": ["name": "node-2"], "spec": ["unschedulable": true],
            "status": ["conditions": [["type": "Ready", "status": "Unknown"]], "addresses": [["type": "ExternalIP", "address": "198.51.100.4"]]],
        ], kind: "Node", namespace: "")
        XCTAssertEqual(cells(cordoned), ["node-2", "NotReady,SchedulingDisabled", "<none>", "10m", "", "<none>", "198.51.100.4",
                                         "<unknown>", "<unknown>", "<unknown>"])
        let silent = cluster.create(["apiVersion": "v1", "kind": "Node", "metadata": ["name": "node-3"]], kind: "Node", namespace: "")
        XCTAssertEqual(cells(silent)[1], "Unknown")
    }

    func testEvents() {
        XCTAssertEqual(columnNames(.event), ["Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message",
                                              "First Seen", "Count", "Name"])
        XCTAssertEqual(TablePrinters.printer(for: .event).columns.map(\.priority), [0, 0, 0, 0, 1, 1, 0, 1, 1, 1])
        let old = cluster.create([
            "apiVersion": "v1", "kind": "Event", "metadata": ["name": "web-1.17f"],
            "involvedObject": ["kind": "Pod", "namespace": "default", "name": "web-1", "fieldPath": "spec.containers{app}"],
            "reason": "BackOff", "message": "  Back-off restarting failed container\n", "type": "Warning",
            "source": ["component": "kubelet", "host": "node-1"],
            "firstTimestamp": time(0), "lastTimestamp": time(540), "count": 7,
        ], kind: "Event")
        XCTAssertEqual(cells(old), ["60s", "Warning", "BackOff", "pod/web-1", "spec.containers{app}", "kubelet, node-1",
                                    "Back-off restarting failed container", "10m", 7, "web-1.17f"])
        let once = cluster.create([
            "apiVersion": "v1", "kind": "Event", "metadata": ["name": "node-1.1"],
            "involvedObject": ["kind": "Node", "name": "node-1"], "reason": "Starting", "message": "Starting.", "type": "Normal",
            "source": ["component": "shoal"], "firstTimestamp": time(420),
        ], kind: "Event")
        XCTAssertEqual(cells(once), ["3m", "Normal", "Starting", "node/node-1", "", "shoal", "Starting.", "3m", 1, "node-1.1"])
        let series = cluster.create([
            "apiVersion": "v1", "kind": "Event", "metadata": ["name": "web.2"],
            "involvedObject": ["kind": "Deployment", "namespace": "default", "name": "web"], "reason": "Scaled", "message": "m",
            "type": "Normal", "eventTime": .string("\(MetaTime(unixSeconds: TableStore.createdSeconds + 100).description.dropLast()).123456Z"),
            "action": "Scaling", "reportingComponent": "deployment-controller", "reportingInstance": "leader-1",
            "series": ["count": 4, "lastObservedTime": .string("\(MetaTime(unixSeconds: TableStore.createdSeconds + 590).description.dropLast()).5Z")],
        ], kind: "Event")
        XCTAssertEqual(cells(series), ["10s", "Normal", "Scaled", "deployment/web", "", "deployment-controller, leader-1", "m",
                                       "8m20s", 4, "web.2"])
    }

    func testLeases() {
        XCTAssertEqual(columnNames(.lease), ["Name", "Holder", "Age"])
        let held = cluster.create(["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "node-1"],
                                   "spec": ["holderIdentity": "node-1", "leaseDurationSeconds": 40]],
                                  kind: "Lease", apiVersion: "coordination.k8s.io/v1")
        XCTAssertEqual(cells(held), ["node-1", "node-1", "10m"])
        let free = cluster.create(["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "free"]],
                                  kind: "Lease", apiVersion: "coordination.k8s.io/v1")
        XCTAssertEqual(cells(free), ["free", "", "10m"])
    }

    func testNamespacesConfigMapsSecrets() {
        let namespace = cluster.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "team"]], kind: "Namespace", namespace: "")
        XCTAssertEqual(cells(namespace), ["team", "Active", "10m"])
        let configMap = cluster.create(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cfg"],
                                        "data": ["a": "1", "b": "2"], "binaryData": ["c": "AA=="]], kind: "ConfigMap")
        XCTAssertEqual(cells(configMap), ["cfg", 3, "10m"])
        let secret = cluster.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"], "data": ["k": "dg=="]], kind: "Secret")
        XCTAssertEqual(cells(secret), ["s", "Opaque", 1, "10m"])
    }

    // MARK: Every kind

    /// One object of every registered kind, as stored.
    private func sampleOfEveryKind() -> [StoredObject] {
        var samples = [
            pod("p", status: ["phase": "Running", "containerStatuses": [running("app")]]),
            cluster.create(deploymentBody(), kind: "Deployment", apiVersion: "apps/v1"),
            cluster.create(deploymentBody(kind: "ReplicaSet"), kind: "ReplicaSet", apiVersion: "apps/v1"),
            cluster.create(serviceBody("s", ["ports": [["port": 80]]]), kind: "Service"),
            cluster.create(["apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "s"]], kind: "Endpoints"),
            cluster.create(["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": ["name": "s-1"],
                            "addressType": "IPv4", "endpoints": []], kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1"),
            cluster.create(["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n"]], kind: "Node", namespace: ""),
            cluster.create(["apiVersion": "v1", "kind": "Event", "metadata": ["name": "e"], "involvedObject": ["kind": "Pod", "name": "p"]],
                           kind: "Event"),
            cluster.create(["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "l"]],
                           kind: "Lease", apiVersion: "coordination.k8s.io/v1"),
            cluster.create(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "ns"]], kind: "Namespace", namespace: ""),
            cluster.create(["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"]], kind: "ConfigMap"),
            cluster.create(["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s"]], kind: "Secret"),
        ]
        let member = cluster.apply(.create(object: [
            "apiVersion": "shoal.dev/v1", "kind": "Member", "metadata": ["name": "m"],
            "spec": ["address": "10.0.0.1", "peerPort": 7000, "apiPort": 6443, "incarnation": 1, "role": "voter"],
        ], uid: "uid-m", creationTimestamp: TableStore.created))
        XCTAssertTrue(member.succeeded, "\(member)")
        if let object = member.object { samples.append(object) }
        return samples
    }

    func testEveryRegisteredKindHasAPrinterWithOneCellPerColumn() {
        let samples = sampleOfEveryKind()
        for kind in Kind.registered {
            XCTAssertNotNil(TablePrinters.printers[kind.name], "\(kind) has no printer")
            let printer = TablePrinters.printer(for: kind)
            XCTAssertEqual(printer.columns.filter { $0.format == "name" }.count, 1, "\(kind): one name column")
            XCTAssertEqual(printer.columns.filter { $0.priority == 0 }.count >= 2, true, "\(kind)")
            let objects = samples.filter { $0.key.kind == kind }
            XCTAssertFalse(objects.isEmpty, "no sample of \(kind)")
            for object in objects {
                let row = printer.cells(object, now)
                XCTAssertEqual(row.count, printer.columns.count, "\(kind): \(row)")
                XCTAssertTrue(row.allSatisfy { $0.stringValue != nil || $0.intValue != nil }, "\(kind): \(row)")
                // And a row for an object that does not decode still fits the columns.
                XCTAssertEqual(printer.cells(samples[0], now).count, printer.columns.count, "\(kind) over a pod")
            }
        }
    }

    func testAnObjectThatDoesNotDecodeGetsTheGenericCells() {
        // A Deployment's selector is no Service selector (a map of strings): it does not decode.
        let deployment = cluster.create(deploymentBody(), kind: "Deployment", apiVersion: "apps/v1")
        XCTAssertNil(Service(deployment))
        XCTAssertEqual(TablePrinter.service.cells(deployment, now), ["web", "<unknown>", "<unknown>", "<unknown>", "<unknown>", "10m", "<unknown>"])
        XCTAssertEqual(TablePrinter.event.cells(deployment, now).count, 10)
        XCTAssertEqual(TablePrinter.event.cells(deployment, now)[9], "web")
    }

    func testPodTableHasWideColumnsLastAndOneCellPerColumn() throws {
        let objects = [
            pod("a", nodeName: nil),
            pod("b", status: ["phase": "Running", "podIPs": [["ip": "10.244.0.9"]], "containerStatuses": [running("app")]]),
        ]
        let resource = try XCTUnwrap(ResourcePath(group: "", version: "v1", rest: ["namespaces", "default", "pods"]))
        let table = APITable.table(objects, resource: resource, tableVersion: "v1", include: .metadata,
                                   list: ListMetadata(resourceVersion: 9))
        XCTAssertEqual(table["kind"], "Table")
        let columns = try XCTUnwrap(table["columnDefinitions"]?.arrayValue)
        let priorities = columns.compactMap { $0["priority"]?.intValue }
        XCTAssertEqual(priorities.count, columns.count)
        XCTAssertEqual(priorities, priorities.sorted(), "priority-1 columns come after every priority-0 column")
        XCTAssertEqual(columns.filter { $0["priority"] == 1 }.compactMap { $0["name"]?.stringValue },
                       ["IP", "Node", "Nominated Node", "Readiness Gates"])
        let rows = try XCTUnwrap(table["rows"]?.arrayValue)
        XCTAssertEqual(rows.count, 2)
        for row in rows { XCTAssertEqual(row["cells"]?.arrayValue?.count, columns.count) }
        XCTAssertEqual(rows[1]["cells"]?[5], "10.244.0.9")
        XCTAssertEqual(rows[1]["object"]?["kind"], "PartialObjectMetadata")
    }

    func testDurations() {
        XCTAssertEqual(TableCells.age(MetaTime(unixSeconds: now - 303), now: now), "5m3s")
        XCTAssertEqual(TableCells.age(MetaTime(unixSeconds: now + 30), now: now), "0s")
        XCTAssertEqual(TableCells.age(Optional<MetaTime>.none, now: now), "<unknown>")
        XCTAssertEqual(TableCells.trimmed(" \t a b \n"), "a b")
        XCTAssertEqual(TableCells.trimmed("  "), "")
    }
}
