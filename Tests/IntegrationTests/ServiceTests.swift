import Foundation
import JSON
import XCTest

/// Services on three real hosts (`PodCluster`): a NodePort answers from the root namespace on
/// every host's address, and the answers come from the pods on every host; a ClusterIP
/// answers inside a pod; a service whose pods are gone refuses connections at once; pods that
/// come back are served again; a deleted service leaves no rule behind.
final class ServiceTests: XCTestCase {
    func testNodePortAndClusterIPReachThePodsOnEveryHost() throws {
        let cluster = try PodCluster(net: 90 + Int(getpid() % 30))
        defer { cluster.stop() }
        try cluster.start()
        let image = "\(cluster.registryAddress)/shoal/hello:1.0"
        try cluster.apply("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 3
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - name: web
                    image: \(image)
                    ports: [{name: http, containerPort: 80}]
                    readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web-np}
            spec:
              type: NodePort
              selector: {app: web}
              ports: [{port: 80, targetPort: http, nodePort: 30000}]
            """)
        try cluster.k(["rollout", "status", "deployment/web", "--timeout=120s"])
        let pods = try cluster.pods("app=web")
        XCTAssertEqual(Set(pods.map(\.node)).count, 3, "one pod per host: \(pods.map(\.node))")
        let expected = Set(pods.map { "hello from \($0.ip) version 1.0\n" })
        let hosts = try cluster.cluster(["hosts"]).split(whereSeparator: \.isNewline).map(String.init)
        let addresses = try hosts.map { try cluster.cluster(["addr", $0]).trimmingCharacters(in: .whitespacesAndNewlines) }

        // Through each host's NodePort, from outside the hosts: every pod answers, wherever it runs.
        for address in addresses {
            var seen: Set<String> = []
            try cluster.waitFor("every pod answering through \(address):30000", timeout: 30) {
                if let answer = try? cluster.tool(["/usr/bin/curl", "-s", "-m", "2", "http://\(address):30000/"]) { seen.insert(answer) }
                return seen == expected
            }
            XCTAssertEqual(seen, expected, "through \(address):30000")
        }

        // The ClusterIP from inside a pod (busybox nc speaking HTTP/1.0).
        let clusterIP = try cluster.json(["get", "service", "web-np"])[path: ["spec", "clusterIP"]]?.stringValue ?? ""
        XCTAssertTrue(clusterIP.hasPrefix("10."), clusterIP)
        var inside: Set<String> = []
        try cluster.waitFor("every pod answering at \(clusterIP) from a pod", timeout: 30) {
            let run = try cluster.kRun(["exec", pods[0].name, "--", "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc \(clusterIP) 80"])
            if let body = run.out.components(separatedBy: "\r\n\r\n").last, body.hasPrefix("hello") { inside.insert(body) }
            return inside == expected
        }

        // Cluster DNS from a pod: the service's name (short, as the search path completes it,
        // and in full), an unknown name, and the kube-dns Service itself.
        let lookup = try cluster.kRun(["exec", pods[0].name, "--", "nslookup", "web-np.default.svc.cluster.local"])
        XCTAssertTrue(lookup.out.contains(clusterIP), "nslookup of the service's full name: \(lookup.out)\(lookup.err)")
        let short = try cluster.kRun(["exec", pods[0].name, "--", "sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc web-np 80"])
        XCTAssertTrue(short.out.contains("hello from 10.244."), "nc to the short name: \(short.out)\(short.err)")
        let unknown = try cluster.kRun(["exec", pods[0].name, "--", "nslookup", "nope.default.svc.cluster.local"])
        XCTAssertTrue((unknown.out + unknown.err).contains("NXDOMAIN"), "\(unknown.out)\(unknown.err)")
        let dnsService = try cluster.json(["get", "service", "kube-dns", "-n", "kube-system"])
        XCTAssertEqual(dnsService[path: ["spec", "clusterIP"]]?.stringValue, "10.96.0.10")
        XCTAssertEqual(try cluster.kRun(["exec", pods[0].name, "--", "cat", "/etc/resolv.conf"]).out.contains("nameserver 10.96.0.10"), true)

        // No ready pod: connections are refused at once, not left to time out.
        try cluster.k(["scale", "deployment/web", "--replicas=0"])
        try cluster.waitFor("the service to lose its endpoints", timeout: 60) {
            let run = try cluster.run(["/usr/bin/curl", "-s", "-m", "2", "http://\(addresses[0]):30000/"])
            return run.status == 7  // couldn't connect: refused
        }
        let refused = try cluster.run(["/usr/bin/curl", "-s", "-m", "5", "http://\(addresses[1]):30000/"])
        XCTAssertEqual(refused.status, 7, "refused (curl's 7), not left to time out (28)")

        // Pods back: served again.
        try cluster.k(["scale", "deployment/web", "--replicas=3"])
        try cluster.k(["rollout", "status", "deployment/web", "--timeout=120s"])
        try cluster.waitFor("the service to be served again", timeout: 60) {
            try cluster.tool(["/usr/bin/curl", "-s", "-m", "2", "http://\(addresses[2]):30000/"]).hasPrefix("hello from 10.244.")
        }

        // A host dies (its shoal and containerd; its containers outlive them): the survivors
        // stop sending new connections to its pod once the pod is marked not ready.
        let now = try cluster.pods("app=web")
        let victimHost = try XCTUnwrap(hosts.last)
        let victimNode = "shoal-" + addresses[hosts.count - 1].replacingOccurrences(of: ".", with: "-")
        if let doomed = now.first(where: { $0.node == victimNode }) {
            try cluster.cluster(["kill", victimHost])
            let killed = Date()
            defer { print("\(victimHost) killed: its pod \(doomed.ip) left \(hosts[0])'s rules within \(String(format: "%.1f", Date().timeIntervalSince(killed))) s") }
            try cluster.waitFor("\(doomed.ip) gone from \(hosts[0])'s rules", timeout: 60) {
                let rules = try cluster.onHost(hosts[0], ["nft", "list", "table", "ip", "shoal-services"])
                return !rules.contains("\(doomed.ip) . 80") && !rules.contains("\(doomed.ip):80")
            }
            for _ in 0..<10 {
                let answer = try cluster.run(["/usr/bin/curl", "-s", "-m", "2", "http://\(addresses[0]):30000/"]).out
                XCTAssertFalse(answer.contains(doomed.ip), "a dead host's pod still served: \(answer)")
            }
        }

        // A deleted service: no rule of it is left on any (living) host.
        try cluster.k(["delete", "service", "web-np"])
        for host in hosts.dropLast() {
            try cluster.waitFor("\(host)'s rules of web-np to go", timeout: 30) {
                try !cluster.onHost(host, ["nft", "list", "table", "ip", "shoal-services"]).contains("default/web-np/")
            }
        }
    }
}
