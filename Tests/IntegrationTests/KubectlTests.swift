import API
import Foundation
import JSON
import XCTest

/// The real kubectl against three real members: what a Kubernetes user types, and the
/// objects, defaults, subresources and garbage collection it leads to. The members run no
/// pods here (loopback hosts, `--no-workloads`): the pods the scheduler binds stay Pending,
/// or a test's stand-in reports them Running.
final class KubectlTests: XCTestCase {
    static let extensionsDeployment = """
    apiVersion: extensions/v1beta1
    kind: Deployment
    metadata:
      name: web-deployment
    spec:
      replicas: 1
      template:
        metadata:
          labels:
            app: web
        spec:
          containers:
          - name: web
            image: registry.local:5000/web:1.0
            ports:
            - containerPort: 80
    """

    static func appsDeployment(image: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
          labels:
            app: api
        spec:
          replicas: 2
          selector:
            matchLabels:
              app: api
          template:
            metadata:
              labels:
                app: api
            spec:
              # The test's members run with --no-workloads (loopback hosts share the machine's
              # network): their Nodes carry the control-plane taint, which this tolerates.
              tolerations:
              - {key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}
              containers:
              - name: api
                image: \(image)
                ports:
                - containerPort: 8080
        """
    }

    static let nodePortService = """
    apiVersion: v1
    kind: Service
    metadata:
      name: web-np
    spec:
      type: NodePort
      selector:
        app: web
      ports:
      - protocol: TCP
        port: 80
        targetPort: 80
        nodePort: 30000
    """

    /// kubectl with this cluster's kubeconfig and its own discovery cache.
    struct Kubectl {
        let path: String
        let kubeconfig: String
        let cacheDir: String
        let cluster: TestCluster

        @discardableResult
        func run(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line, expectSuccess: Bool = true) throws -> String {
            let result = try cluster.run([path, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir] + arguments)
            if expectSuccess {
                XCTAssertEqual(result.status, 0, "kubectl \(arguments.joined(separator: " ")):\n\(result.output)", file: file, line: line)
            }
            return result.output
        }

        func json(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
            let output = try run(arguments + ["-o", "json"], file: file, line: line)
            return try JSONValue.parse(Array(output.utf8))
        }

        func apply(_ manifest: String, _ verb: String = "apply") throws -> String {
            let file = "\(cluster.base)/manifest-\(UUID().uuidString).yaml"
            try manifest.write(toFile: file, atomically: true, encoding: .utf8)
            return try run([verb, "-f", file])
        }
    }

    /// A running three-member cluster at cluster version 2, and kubectl for it.
    func startCluster() throws -> (TestCluster, Kubectl) {
        guard let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("kubectl is not installed (scripts/setup installs Debian's kubernetes-client where it can)")
        }
        let cluster = try TestCluster(hostCount: 3)
        let version = try cluster.run([kubectl, "version", "--client", "-o", "json"])
        let minor = (try? JSONValue.parse(Array(version.output.utf8)))?[path: ["clientVersion", "minor"]]?.stringValue
            .flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        guard minor >= 27 else {
            cluster.shutDown()
            throw XCTSkip("kubectl 1.\(minor) is too old for these tests (they use 1.27+ features such as --subresource); kubectl 1.32 is the reference")
        }
        for name in cluster.names { try cluster.start(name) }
        _ = try cluster.waitForLeader()
        try cluster.waitFor("cluster version 2 on every member", timeout: 15) {
            try cluster.names.allSatisfy { try cluster.status($0)["clusterVersion"]?.intValue == 2 }
        }
        let made = try cluster.cli("h1", ["kubeconfig"])
        XCTAssertEqual(made.status, 0, made.output)
        let kubeconfig = "\(cluster.base)/kubeconfig"
        try made.output.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        return (cluster, Kubectl(path: kubectl, kubeconfig: kubeconfig, cacheDir: "\(cluster.base)/kubectl-cache", cluster: cluster))
    }

    func testTheWalkthroughObjectsWithKubectl() throws {
        let (cluster, k) = try startCluster()
        defer { cluster.shutDown() }

        // Version, discovery, explain.
        XCTAssertTrue(try k.run(["version"]).contains("Server Version: v1.32"))
        let versions = try k.run(["api-versions"])
        for groupVersion in ["apps/v1", "extensions/v1beta1", "v1", "discovery.k8s.io/v1", "coordination.k8s.io/v1", "events.k8s.io/v1"] {
            XCTAssertTrue(versions.split(separator: "\n").contains(Substring(groupVersion)), "\(groupVersion) in\n\(versions)")
        }
        let resources = try k.run(["api-resources"])
        XCTAssertTrue(resources.contains("deployments") && resources.contains("deploy"), resources)
        XCTAssertTrue(try k.run(["explain", "deployment.spec.strategy"]).contains("rollingUpdate"))

        // The old manifest, as written, with no selector.
        XCTAssertTrue(try k.apply(Self.extensionsDeployment, "create").contains("web-deployment created"))
        let web = try k.json(["get", "deployment", "web-deployment"])
        XCTAssertEqual(web["apiVersion"], "apps/v1")
        XCTAssertEqual(web[path: ["spec", "selector", "matchLabels", "app"]], "web")
        XCTAssertEqual(web[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]], 1)
        XCTAssertEqual(web[path: ["spec", "template", "spec", "containers", 0, "imagePullPolicy"]], "IfNotPresent")
        XCTAssertEqual(web[path: ["spec", "template", "spec", "restartPolicy"]], "Always")

        // The NodePort Service beside the kubernetes one.
        XCTAssertTrue(try k.apply(Self.nodePortService, "create").contains("service/web-np created"))
        let services = try k.run(["get", "services"])
        XCTAssertTrue(services.contains("80:30000/TCP"), services)
        XCTAssertTrue(services.contains("kubernetes"), services)
        let service = try k.json(["get", "service", "web-np"])
        XCTAssertTrue(service[path: ["spec", "clusterIP"]]?.stringValue?.hasPrefix("10.") == true, "\(service)")
        XCTAssertEqual(service[path: ["spec", "ports", 0, "nodePort"]], 30000)
        // A second service asking for the same node port is refused with the field's path.
        let taken = try k.run(["create", "service", "nodeport", "other", "--tcp=81:81", "--node-port=30000"], expectSuccess: false)
        XCTAssertTrue(taken.contains("spec.ports[0].nodePort"), taken)

        // apply: create, change, unchanged (no new generation).
        XCTAssertTrue(try k.apply(Self.appsDeployment(image: "registry.local:5000/api:1")).contains("deployment.apps/api created"))
        let first = try k.json(["get", "deployment", "api"])[path: ["metadata", "generation"]]?.intValue
        XCTAssertTrue(try k.apply(Self.appsDeployment(image: "registry.local:5000/api:2")).contains("configured"))
        // The controller then records the new revision on the Deployment (an annotation,
        // which moves the generation, as in Kubernetes): wait for it before comparing.
        try cluster.waitFor("the Deployment's second revision", timeout: 15) {
            try k.json(["get", "deployment", "api"])[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]]?.stringValue == "2"
        }
        let changed = try k.json(["get", "deployment", "api"])
        XCTAssertEqual(changed[path: ["spec", "template", "spec", "containers", 0, "image"]], "registry.local:5000/api:2")
        let second = changed[path: ["metadata", "generation"]]?.intValue
        XCTAssertGreaterThan(second ?? 0, first ?? 0)
        XCTAssertTrue(try k.apply(Self.appsDeployment(image: "registry.local:5000/api:2")).contains("unchanged"))
        XCTAssertEqual(try k.json(["get", "deployment", "api"])[path: ["metadata", "generation"]]?.intValue, second)

        // get in every form.
        let wide = try k.run(["get", "deployments", "-o", "wide"])
        XCTAssertTrue(wide.contains("UP-TO-DATE") && wide.contains("IMAGES") && wide.contains("registry.local:5000/api:2"), wide)
        XCTAssertTrue(try k.run(["get", "deployment", "api", "-o", "yaml"]).contains("kind: Deployment"))
        XCTAssertEqual(try k.run(["get", "deployments", "-o", "name"]).split(separator: "\n").sorted(),
                       ["deployment.apps/api", "deployment.apps/web-deployment"])
        XCTAssertEqual(try k.run(["get", "deployments", "-l", "app=api", "-o", "name"]).split(separator: "\n"), ["deployment.apps/api"])
        XCTAssertEqual(try k.run(["get", "deployments", "--field-selector", "metadata.name=web-deployment", "-o", "name"])
                        .split(separator: "\n"), ["deployment.apps/web-deployment"])
        let everywhere = try k.run(["get", "namespaces", "-A"])
        XCTAssertTrue(everywhere.contains("kube-system") && everywhere.contains("Active"), everywhere)
        XCTAssertTrue(try k.run(["get", "services", "-A"]).contains("NAMESPACE"))
        XCTAssertTrue(try k.run(["describe", "deployment", "web-deployment"]).contains("RollingUpdateStrategy:  1 max unavailable, 1 max surge"))

        // scale, label, annotate, and the three patch types.
        XCTAssertTrue(try k.run(["scale", "deployment", "api", "--replicas=3"]).contains("scaled"))
        XCTAssertEqual(try k.json(["get", "deployment", "api"])[path: ["spec", "replicas"]], 3)
        try k.run(["label", "deployment", "api", "tier=backend"])
        try k.run(["annotate", "deployment", "api", "owner=team-a"])
        try k.run(["patch", "deployment", "api", "--type", "merge", "-p", #"{"spec":{"minReadySeconds":5}}"#])
        try k.run(["patch", "deployment", "api", "--type", "json", "-p", #"[{"op":"replace","path":"/spec/replicas","value":4}]"#])
        try k.run(["patch", "deployment", "api", "--type", "strategic", "-p",
                   #"{"spec":{"template":{"spec":{"containers":[{"name":"api","image":"registry.local:5000/api:3"}]}}}}"#])
        let patched = try k.json(["get", "deployment", "api"])
        XCTAssertEqual(patched[path: ["metadata", "labels", "tier"]], "backend")
        XCTAssertEqual(patched[path: ["metadata", "annotations", "owner"]], "team-a")
        XCTAssertEqual(patched[path: ["spec", "minReadySeconds"]], 5)
        XCTAssertEqual(patched[path: ["spec", "replicas"]], 4)
        XCTAssertEqual(patched[path: ["spec", "template", "spec", "containers", 0, "image"]], "registry.local:5000/api:3")
        XCTAssertEqual(patched[path: ["spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"]], 8080)

        // The status subresource: the controllers' to write; generation does not move. (First
        // let the Deployment controller catch up: its revision annotation moves the generation.)
        var generation: Int64?
        try cluster.waitFor("the Deployment controller to observe the last change", timeout: 10) {
            let current = try k.json(["get", "deployment", "api"])
            generation = current[path: ["metadata", "generation"]]?.intValue
            return current[path: ["status", "observedGeneration"]]?.intValue == generation
                && current[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] != nil
        }
        try k.run(["patch", "deployment", "api", "--subresource=status", "--type", "merge", "-p",
                   #"{"status":{"observedGeneration":1,"replicas":4}}"#])
        // (The Deployment controller writes the real counts back at once.)
        let afterStatus = try k.json(["get", "deployment", "api"])
        XCTAssertEqual(afterStatus[path: ["metadata", "generation"]]?.intValue, generation)

        // create configmap|secret|namespace (protobuf bodies).
        try k.run(["create", "configmap", "settings", "--from-literal=mode=fast"])
        try k.run(["create", "secret", "generic", "creds", "--from-literal=password=s3cret"])
        try k.run(["create", "namespace", "team-a"])
        XCTAssertEqual(try k.json(["get", "configmap", "settings"])[path: ["data", "mode"]], "fast")
        XCTAssertEqual(try k.json(["get", "secret", "creds"])[path: ["data", "password"]], "czNjcmV0")
        XCTAssertEqual(try k.json(["get", "namespace", "team-a"])[path: ["status", "phase"]], "Active")

        // Every member answers the same: writes went through h1, reads come from each.
        for name in cluster.names {
            let context = cluster.memberName(name)
            XCTAssertTrue(try k.run(["--context", context, "get", "deployments", "-o", "name"]).contains("deployment.apps/api"))
        }
    }

    func testWatchDeleteCascadeAndPendingPods() throws {
        let (cluster, k) = try startCluster()
        defer { cluster.shutDown() }
        XCTAssertTrue(try k.apply(Self.appsDeployment(image: "registry.local:5000/api:1")).contains("created"))
        let owner = try k.json(["get", "deployment", "api"])
        let uid = try XCTUnwrap(owner[path: ["metadata", "uid"]]?.stringValue)

        // The Deployment controller makes its ReplicaSet, the ReplicaSet controller its pods
        // from the template, and the scheduler binds them to the nodes the members
        // registered (no node agent runs them yet: they stay Pending).
        XCTAssertEqual(try k.json(["get", "nodes"])["items"]?.arrayValue?.count, 3)
        // The leader gives each node its own pod range (what the pod network will route).
        try cluster.waitFor("three nodes with distinct pod ranges in 10.244.0.0/16", timeout: 10) {
            let ranges = try k.run(["get", "nodes", "-o", "jsonpath={.items[*].spec.podCIDR}"]).split(separator: " ").map(String.init)
            return ranges.count == 3 && Set(ranges).count == 3 && ranges.allSatisfy { $0.hasPrefix("10.244.") && $0.hasSuffix("/24") }
        }
        var podName = ""
        var nodeName = ""
        var rsName = ""
        try cluster.waitFor("the Deployment's ReplicaSet and its two pods, bound to nodes", timeout: 10) {
            let sets = try k.json(["get", "replicasets", "-l", "app=api"])["items"]?.arrayValue ?? []
            guard sets.count == 1, let set = sets.first, set["metadata"]?["ownerReferences"]?[0]?["uid"]?.stringValue == uid,
                  let setUID = set[path: ["metadata", "uid"]]?.stringValue else { return false }
            let items = try k.json(["get", "pods", "-l", "app=api"])["items"]?.arrayValue ?? []
            guard items.count == 2, items.allSatisfy({ $0["metadata"]?["ownerReferences"]?[0]?["uid"]?.stringValue == setUID }),
                  let item = items.first, let node = item[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else { return false }
            rsName = set[path: ["metadata", "name"]]?.stringValue ?? ""
            podName = item[path: ["metadata", "name"]]?.stringValue ?? ""
            nodeName = node
            return true
        }
        let replicaSet = """
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata:
          name: api-manual
          labels: {app: api}
          ownerReferences:
          - {apiVersion: apps/v1, kind: Deployment, name: api, uid: "\(uid)", controller: true, blockOwnerDeletion: true}
        spec:
          replicas: 1
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}}
            spec:
              containers: [{name: api, image: "registry.local:5000/api:1"}]
        """
        XCTAssertTrue(podName.hasPrefix(rsName + "-") && rsName.hasPrefix("api-"), "\(rsName) \(podName)")
        let bound = try k.json(["get", "pod", podName])
        XCTAssertEqual(bound[path: ["status", "phase"]], "Pending")
        XCTAssertTrue((bound[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"] == "PodScheduled" && $0["status"] == "True"
        }, "\(bound)")
        let pods = try k.run(["get", "pods", "-o", "wide"])
        XCTAssertTrue(pods.contains("NODE") && pods.contains(nodeName) && pods.contains("Pending"), pods)
        XCTAssertTrue(try k.run(["get", "pods", "--field-selector", "status.phase=Pending", "-o", "name"]).contains("pod/\(podName)"))
        XCTAssertTrue(try k.run(["get", "pods", "--field-selector", "spec.nodeName=\(nodeName)", "-o", "name"]).contains("pod/\(podName)"))
        XCTAssertTrue(try k.json(["get", "replicaset", rsName])[path: ["status", "replicas"]] == 2)

        // A watch sees a few events as they happen.
        let watchOutput = "\(cluster.base)/watch.out"
        FileManager.default.createFile(atPath: watchOutput, contents: nil)
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: k.path)
        watcher.arguments = ["--kubeconfig", k.kubeconfig, "--cache-dir", k.cacheDir, "get", "configmaps", "-w", "--request-timeout=20s"]
        watcher.standardOutput = FileHandle(forWritingAtPath: watchOutput)
        watcher.standardError = FileHandle(forWritingAtPath: watchOutput)
        try watcher.run()
        defer { if watcher.isRunning { watcher.terminate() } }
        try cluster.waitFor("the watch to list", timeout: 10) {
            (try String(contentsOfFile: watchOutput, encoding: .utf8)).contains("NAME") || watcher.isRunning
        }
        // The watch is open on a member once its stream is registered there (not after a pause).
        try cluster.waitFor("kubectl's watch to reach a member", timeout: 10) {
            try cluster.names.reduce(0) { $0 + (try cluster.metric($1, "shoal_api_watches") ?? 0) } >= 1
        }
        try k.run(["create", "configmap", "watched", "--from-literal=a=1"])
        try k.run(["label", "configmap", "watched", "seen=yes"])
        try cluster.waitFor("two events for the watched configmap", timeout: 10) {
            (try String(contentsOfFile: watchOutput, encoding: .utf8)).components(separatedBy: "watched").count - 1 >= 2
        }
        watcher.terminate()

        // Deleting the Deployment (background, waiting) takes its ReplicaSet and pod with it;
        // the pod, bound to a node, ends its grace period there (no agent confirms it yet).
        XCTAssertTrue(try k.run(["delete", "deployment", "api", "--wait"]).contains("deleted"))
        XCTAssertTrue(try k.run(["get", "replicasets", "-o", "name"]).isEmpty)
        let leftover = try k.json(["get", "pods"])["items"]?.arrayValue ?? []
        XCTAssertTrue(leftover.allSatisfy { $0[path: ["metadata", "deletionTimestamp"]] != nil }, "\(leftover)")

        // Orphan: the ReplicaSet stays, without its owner.
        XCTAssertTrue(try k.apply(Self.appsDeployment(image: "registry.local:5000/api:1")).contains("created"))
        let again = try XCTUnwrap(try k.json(["get", "deployment", "api"])[path: ["metadata", "uid"]]?.stringValue)
        try k.apply(replicaSet.replacingOccurrences(of: uid, with: again), "create")
        try k.run(["delete", "deployment", "api", "--cascade=orphan"])
        let orphan = try k.json(["get", "replicaset", "api-manual"])
        XCTAssertNil(orphan[path: ["metadata", "ownerReferences"]])

        // A bad manifest: a clear 4xx naming every bad field, nothing stored.
        let file = "\(cluster.base)/broken.yaml"
        try """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: broken}
        spec:
          replicas: -1
          selector: {matchLabels: {app: front}}
          template:
            metadata: {labels: {app: back}}
            spec: {containers: [{name: c}]}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let refused = try k.run(["create", "-f", file], expectSuccess: false)
        for field in ["spec.replicas", "spec.template.metadata.labels", "spec.template.spec.containers[0].image"] {
            XCTAssertTrue(refused.contains(field), "\(field) in \(refused)")
        }
        XCTAssertTrue(refused.contains("is invalid"), refused)
        XCTAssertFalse(try k.run(["get", "deployments", "-o", "name"]).contains("broken"))
        let unknown = "\(cluster.base)/unknown.yaml"
        try Self.appsDeployment(image: "x:1").replacingOccurrences(of: "replicas: 2", with: "replicas: 2\n  replicaz: 3")
            .replacingOccurrences(of: "name: api", with: "name: typo").write(toFile: unknown, atomically: true, encoding: .utf8)
        let strict = try k.run(["create", "-f", unknown], expectSuccess: false)
        XCTAssertTrue(strict.contains("unknown field \"spec.replicaz\""), strict)
    }

    /// A member holding the cluster back at version 1 keeps the workload API off for everyone;
    /// once it runs the newer rules, the cluster moves; started with the old rules again, it
    /// stops at the entry it cannot apply instead of applying what follows differently.
    func testTheClusterVersionWaitsForEveryMember() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        try cluster.start("h1")
        try cluster.start("h2")
        try cluster.start("h3", extra: ["--cluster-version-max", "1"])
        _ = try cluster.waitForLeader()
        try cluster.waitFor("every member in the member list", timeout: 10) {
            try cluster.api("h1", "GET", "/shoal/v1/members").body.arrayValue?.count == 3
        }
        // The leader heard every member's handshake and found one that runs version 1 only: that
        // is the figure its duties move the cluster to, so the cluster stays where it is.
        let leader = try cluster.waitForLeader()
        try cluster.waitFor("the leader to hear every member's version", timeout: 10) {
            try cluster.status(leader)["clusterVersionEveryMemberRuns"]?.intValue == 1
        }
        for name in cluster.names {
            XCTAssertEqual(try cluster.status(name)["clusterVersion"]?.intValue, 1, name)
            XCTAssertEqual(try cluster.api(name, "GET", "/apis/apps/v1/namespaces/default/deployments").status, 404)
        }
        // ConfigMaps work under version 1 as they always did.
        XCTAssertEqual(try cluster.api("h2", "POST", "/api/v1/namespaces/default/configmaps",
                                       body: configMap("before", ["k": "v"])).status, 201)

        cluster.kill("h3", signal: SIGTERM)
        try cluster.restartReplacing("h3", remove: ["--cluster-version-max", "1"])
        try cluster.waitFor("cluster version 2 on every member", timeout: 15) {
            try cluster.names.allSatisfy { try cluster.status($0)["clusterVersion"]?.intValue == 2 }
        }
        XCTAssertEqual(try cluster.api("h3", "GET", "/api/v1/namespaces/default/configmaps/before").status, 200,
                       "version 1's objects survive the move")
        XCTAssertEqual(try cluster.api("h3", "GET", "/api/v1/namespaces/kube-system").status, 200)

        // h3 held back again: it meets the version change in its log and stops there.
        cluster.kill("h3", signal: SIGTERM)
        try cluster.restartReplacing("h3", add: ["--cluster-version-max", "1"], waitForAPI: false)
        try cluster.waitFor("h3 to stop", timeout: 15) { !cluster.isRunning("h3") }
        XCTAssertTrue(cluster.log("h3").contains("the cluster moved to version 2"), cluster.log("h3").suffix(2000).description)
        // The others carry on.
        _ = try cluster.waitForLeader(among: ["h1", "h2"])
        XCTAssertEqual(try cluster.api("h1", "GET", "/apis/apps/v1/namespaces/default/deployments").status, 200)
    }
}
