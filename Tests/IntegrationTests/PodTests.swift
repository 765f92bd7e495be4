import Foundation
import JSON
import XCTest

/// Pods on three real hosts (`PodCluster`): a Deployment runs one pod per host, every pod
/// answers on its address from every host (the VXLAN overlay), HTTP readiness probes pass and
/// fail as they should, a deleted pod is replaced, a member restarted keeps its containers,
/// and a host whose shoal and containerd die gets its pods replaced elsewhere.
final class PodTests: XCTestCase {
    func deployment(_ name: String, image: String, replicas: Int, readinessPath: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: \(name)
        spec:
          replicas: \(replicas)
          selector:
            matchLabels: {app: \(name)}
          template:
            metadata:
              labels: {app: \(name)}
            spec:
              terminationGracePeriodSeconds: 5
              containers:
              - name: hello
                image: \(image)
                ports:
                - {name: http, containerPort: 80}
                readinessProbe:
                  httpGet: {path: \(readinessPath), port: http}
                  periodSeconds: 1
                  failureThreshold: 1
        """
    }

    func testPodsRunOnEveryHostAndReachEachOther() throws {
        let cluster = try PodCluster(net: 60 + Int(getpid() % 30))
        defer { cluster.stop() }
        try cluster.start()
        let image = "\(cluster.registryAddress)/shoal/hello:1.0"

        // One pod per host, Ready through an HTTP probe against the pod's address.
        let started = Date()
        try cluster.apply(deployment("hello", image: image, replicas: 3, readinessPath: "/healthz"))
        try cluster.k(["rollout", "status", "deployment/hello", "--timeout=120s"])
        print("3 pods Ready \(String(format: "%.1f", Date().timeIntervalSince(started))) s after kubectl apply (image pulled from the registry)")
        var pods = try cluster.pods("app=hello")
        XCTAssertEqual(pods.count, 3)
        XCTAssertEqual(Set(pods.map(\.node)).count, 3, "one pod per host: \(pods.map(\.node))")
        XCTAssertTrue(pods.allSatisfy { $0.ready && $0.ip.hasPrefix("10.244.") }, "\(pods)")

        // Every host reaches every pod by its address (own bridge or the overlay).
        for host in ["h1", "h2", "h3"] {
            for pod in pods {
                var answer = ""
                let asked = Date()
                try cluster.waitFor("\(host) to reach \(pod.name) on \(pod.node) at \(pod.ip)", timeout: 20) {
                    answer = try cluster.onHost(host, ["curl", "-s", "-m", "1", "http://\(pod.ip)/"])
                    return true
                }
                let waited = Date().timeIntervalSince(asked)
                if waited > 1 { print("\(host) -> \(pod.ip) (\(pod.node)) answered after \(String(format: "%.1f", waited)) s") }
                XCTAssertEqual(answer, "hello from \(pod.ip) version 1.0\n", "\(host) -> \(pod.name) on \(pod.node)")
            }
        }

        // kubectl logs from h1's API, wherever the pod runs (read on its host).
        for pod in pods {
            XCTAssertEqual(try cluster.k(["logs", pod.name]), "serving on port 80 as \(pod.ip) (version 1.0)\n", "logs of \(pod.name) on \(pod.node)")
        }
        // kubectl exec through h1's API, wherever the pod runs: output, errors and exit code;
        // stdin with -i; port-forward to a pod on another host.
        for pod in pods {
            let run = try cluster.kRun(["exec", pod.name, "--", "sh", "-c", "echo out $(hostname); echo err >&2; exit 3"])
            XCTAssertEqual(run.status, 3, "exec in \(pod.name) on \(pod.node): \(run.err)")
            XCTAssertEqual(run.out, "out \(pod.name)\n")
            XCTAssertTrue(run.err.hasPrefix("err\n"), run.err)
        }
        XCTAssertEqual(try cluster.kRun(["exec", "-i", pods[0].name, "--", "cat"], input: "from stdin\n").out, "from stdin\n")
        try checkPortForward(cluster, pod: try XCTUnwrap(pods.first { $0.node != pods[0].node }))

        // A container whose process ends (its main process told to stop from inside) is
        // started again: the restart count goes up, the pod is Ready again.
        let stopped = pods[1]
        _ = try cluster.kRun(["exec", stopped.name, "--", "kill", "1"])
        try cluster.waitFor("\(stopped.name)'s container to be restarted", timeout: 30) {
            try cluster.pods("app=hello").contains { $0.name == stopped.name && $0.restarts == stopped.restarts + 1 && $0.ready }
        }

        // -f follows what is written until the container ends; --previous reads the run before.
        try cluster.apply("""
            apiVersion: v1
            kind: Pod
            metadata: {name: counter}
            spec:
              containers:
              - name: count
                image: \(image)
                command: ["/bin/sh", "-c", "i=0; while [ $i -lt 3 ]; do echo line $i; i=$((i+1)); sleep 1; done; exit 1"]
            """)
        try cluster.waitFor("the counter to start", timeout: 30) { try !cluster.k(["logs", "counter"]).isEmpty }
        XCTAssertEqual(try cluster.k(["logs", "-f", "counter"]), "line 0\nline 1\nline 2\n", "-f ends with the container")
        try cluster.waitFor("the counter's restart", timeout: 30) {
            try cluster.k(["logs", "--previous", "counter"]) == "line 0\nline 1\nline 2\n"
        }
        try cluster.k(["delete", "pod", "counter", "--wait=false"])

        // A pod whose readiness probe fails (404) runs but is not Ready.
        try cluster.apply(deployment("unready", image: image, replicas: 1, readinessPath: "/missing"))
        try cluster.waitFor("the unready pod's probe to fail", timeout: 60) {
            try cluster.k(["get", "events", "--field-selector", "reason=Unhealthy"]).contains("HTTP probe failed with statuscode: 404")
        }
        let unready = try XCTUnwrap(cluster.pods("app=unready").first)
        XCTAssertFalse(unready.ready)
        XCTAssertEqual(try cluster.json(["get", "pod", unready.name])[path: ["status", "phase"]]?.stringValue, "Running")
        try cluster.k(["delete", "deployment", "unready"])

        // A deleted pod: stopped and gone, and its ReplicaSet makes another.
        let victim = pods[0]
        try cluster.k(["delete", "pod", victim.name, "--timeout=30s"])
        try cluster.waitFor("a replacement of \(victim.name)", timeout: 60) {
            let now = try cluster.pods("app=hello")
            return now.count == 3 && now.allSatisfy(\.ready) && !now.contains { $0.name == victim.name }
        }

        // A member restarted (SIGKILL, then started again): its containers keep running and
        // are adopted, not started again.
        pods = try cluster.pods("app=hello")
        let leader = try cluster.cluster(["leader"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let hosts = try cluster.cluster(["hosts"]).split(whereSeparator: \.isNewline).map(String.init)
        func node(of host: String) throws -> String {
            "shoal-" + (try cluster.cluster(["addr", host]).trimmingCharacters(in: .whitespacesAndNewlines)).replacingOccurrences(of: ".", with: "-")
        }
        let leaderNode = try node(of: leader)
        let kept = try XCTUnwrap(pods.first { $0.node != leaderNode }, "a pod outside the leader's host: \(pods)")
        let nodeName = kept.node
        let follower = try XCTUnwrap(hosts.first { try node(of: $0) == nodeName })
        // kubectl talks to a host that stays up.
        cluster.apiHost = try XCTUnwrap(hosts.first { $0 != follower })
        try cluster.cluster(["kill", follower])
        try cluster.cluster(["restart", follower])
        try cluster.waitFor("the restarted member's pod to be reported again", timeout: 60) {
            let now = try cluster.pods("app=hello")
            return now.contains { $0.name == kept.name && $0.ready }
        }
        Thread.sleep(forTimeInterval: 3)
        let after = try XCTUnwrap(try cluster.pods("app=hello").first { $0.name == kept.name })
        XCTAssertEqual(after.containerID, kept.containerID, "the restarted member started its container again")
        XCTAssertEqual(after.restarts, kept.restarts, "the restarted member restarted no container")

        // A host's shoal and containerd die (its containers outlive them, as after a kubelet
        // crash): the node goes NotReady, its pod is replaced on the others.
        try cluster.cluster(["kill", follower])
        var lastSeen = ""
        do {
            try cluster.waitFor("\(follower)'s node NotReady", timeout: 30) {
                let nodes = try cluster.json(["get", "node", nodeName])
                lastSeen = "\(nodes[path: ["status", "conditions"]] ?? .null)"
                return (nodes[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
                    $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue != "True"
                }
            }
        } catch {
            let status = (try? cluster.cluster(["status"])) ?? ""
            throw TestClusterError("\(error); the node's conditions: \(lastSeen); cluster:\n\(status)")
        }
        try cluster.waitFor("three Ready pods on the two live hosts", timeout: 60) {
            let now = try cluster.pods("app=hello")
            return now.filter { $0.ready && $0.node != nodeName }.count == 3
        }
        // Back: the member removes the containers of the pods that were moved away.
        try cluster.cluster(["restart", follower])
        let runcRoot = try cluster.cluster(["dir", follower]).trimmingCharacters(in: .whitespacesAndNewlines) + "/containerd/runc/k8s.io"
        try cluster.waitFor("the returning host to remove its old containers", timeout: 60) {
            let running = try cluster.tool(["/usr/sbin/runc", "--root", runcRoot, "list", "-q"])
            return running.split(whereSeparator: \.isNewline).isEmpty
        }
    }

    /// `kubectl port-forward` to the pod's port 80 from a local port, and a request through it.
    private func checkPortForward(_ cluster: PodCluster, pod: (name: String, node: String, ip: String, ready: Bool, containerID: String, restarts: Int)) throws {
        let localPort = 20_000 + Int(getpid() % 20_000)
        let address = try cluster.cluster(["addr", cluster.apiHost]).trimmingCharacters(in: .whitespacesAndNewlines)
        let forward = Process()
        forward.executableURL = URL(fileURLWithPath: cluster.kubectl)
        forward.arguments = ["--kubeconfig", cluster.kubeconfig, "--server", "https://\(address):7401",
                             "port-forward", "pod/\(pod.name)", "\(localPort):80"]
        forward.standardOutput = FileHandle.nullDevice
        forward.standardError = FileHandle.nullDevice
        try forward.run()
        defer {
            forward.terminate()
            forward.waitUntilExit()
        }
        var answer = ""
        try cluster.waitFor("port-forward to \(pod.name) on \(pod.node)", timeout: 20) {
            answer = try cluster.tool(["/usr/bin/curl", "-s", "-m", "2", "http://127.0.0.1:\(localPort)/"])
            return true
        }
        XCTAssertEqual(answer, "hello from \(pod.ip) version 1.0\n", "through port-forward to \(pod.name)")
    }

}
