import Foundation
import JSON
import XCTest

/// The user story on three hosts, as docs/walkthrough.md tells it, with the real kubectl:
/// the web image pushed to a private registry, an extensions/v1beta1 Deployment and a
/// NodePort Service created from files, the page through every host's NodePort, a rolling
/// update to 2.0 under a client requesting through every host, a scale to two pods on two
/// hosts, and a host that silently loses its network and comes back. Prints the
/// walkthrough's transcript (commands and answers).
final class WalkthroughTests: XCTestCase {
    func testTheWalkthrough() throws {
        try walkthrough(leaderDies: false, net: 60 + Int(getpid() % 20))
    }

    /// The same story, but the Raft leader's member is killed in the middle of the rolling
    /// update (its containers keep running: no request may fail), and the host cut off in
    /// step 7 is the leader's.
    func testTheWalkthroughWhileTheLeaderDies() throws {
        try walkthrough(leaderDies: true, net: 130 + Int(getpid() % 20))
    }

    private func walkthrough(leaderDies: Bool, net: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/debootstrap") else {
            throw XCTSkip("debootstrap is missing (scripts/setup installs it): it builds the web image")
        }
        let cluster = try PodCluster(net: net)
        defer { cluster.stop() }
        let story = Transcript()
        story.step("1. three hosts, a private registry they trust")
        try cluster.start()
        let hosts = try cluster.cluster(["hosts"]).split(whereSeparator: \.isNewline).map(String.init)
        let addresses = try hosts.map { try cluster.cluster(["addr", $0]).trimmingCharacters(in: .whitespacesAndNewlines) }
        story.say("scripts/cluster up 3", addresses.joined(separator: "\n"))

        story.step("2. the application image, pushed as \(cluster.registryAddress)/web:1.0 and :2.0")
        try cluster.tool(["/bin/bash", cluster.repository + "/scripts/web-image", "push", cluster.registryAddress])
        story.say("scripts/web-image push \(cluster.registryAddress)", "(web:1.0, web:2.0)")

        story.step("3. kubectl create -f deploy.yml (extensions/v1beta1, no selector)")
        // The repository's files (docker/web/), with this test's registry and the edits a
        // user makes by hand.
        let deploy = cluster.base + ".deploy.yml"
        let deployment = try String(contentsOfFile: cluster.repository + "/docker/web/deploy.yml", encoding: .utf8)
        XCTAssertTrue(deployment.contains("image: 10.88.0.254:5000/web:1.0") && deployment.contains("replicas: 1"), deployment)
        func writeDeployment(version: String, replicas: Int) throws {
            try deployment.replacingOccurrences(of: "10.88.0.254:5000/web:1.0", with: "\(cluster.registryAddress)/web:\(version)")
                .replacingOccurrences(of: "replicas: 1", with: "replicas: \(replicas)")
                .write(toFile: deploy, atomically: true, encoding: .utf8)
        }
        try writeDeployment(version: "1.0", replicas: 1)
        story.say("kubectl create -f deploy.yml", try cluster.k(["create", "-f", deploy]))
        try cluster.waitFor("the pod Running 1/1", timeout: 180) {
            let pods = try cluster.k(["get", "pods"])
            return pods.contains(" 1/1 ") && pods.contains("Running")
        }
        story.say("kubectl get pods", try cluster.k(["get", "pods"]))

        story.step("4. kubectl create -f service.yml (NodePort 30000)")
        let service = cluster.repository + "/docker/web/service.yml"
        story.say("kubectl create -f service.yml", try cluster.k(["create", "-f", service]))
        let services = try cluster.k(["get", "services"])
        story.say("kubectl get services", services)
        XCTAssertTrue(services.split(separator: "\n").contains { $0.hasPrefix("web-np ") && $0.contains("80:30000/TCP") }, services)
        XCTAssertTrue(services.split(separator: "\n").contains { $0.hasPrefix("kubernetes ") }, services)
        let first = try XCTUnwrap(cluster.pods("app=web").first)
        for address in addresses {
            var answer = ""
            try cluster.waitFor("the page through \(address):30000", timeout: 60) {
                answer = try cluster.tool(["/usr/bin/curl", "-s", "-m", "2", "http://\(address):30000/test.php"])
                return answer == "Server IP address\n\n\(first.ip)\n"
            }
            story.say("curl \(address):30000/test.php", answer)
        }

        story.step("5. web:2.0 in deploy.yml, kubectl apply -f deploy.yml, with a client on every host's NodePort")
        let client = NodePortClient(addresses: addresses, path: "/test.php")
        client.start()
        try writeDeployment(version: "2.0", replicas: 1)
        story.say("kubectl apply -f deploy.yml", try cluster.k(["apply", "-f", deploy]))
        var killedLeader: String?
        // Whether the old pod runs where the leader dies: its host then no longer manages it,
        // and once that host is declared lost the old pod stops counting as serving; if the new
        // pod is not ready by then, requests fail (as they would on Kubernetes).
        var oldPodWithTheLeader = false
        if leaderDies {
            let leader = try cluster.cluster(["leader"]).trimmingCharacters(in: .whitespacesAndNewlines)
            let leaderNode = "shoal-" + addresses[try XCTUnwrap(hosts.firstIndex(of: leader))].replacingOccurrences(of: ".", with: "-")
            oldPodWithTheLeader = try cluster.pods("app=web").contains { $0.node == leaderNode }
            story.say("scripts/cluster kill \(leader)   # the leader's member (its containers keep running)", try cluster.cluster(["kill", leader]))
            killedLeader = leader
            cluster.apiHost = try XCTUnwrap(hosts.first { $0 != leader })
        }
        story.say("kubectl rollout status deployment/web-deployment",
                  try cluster.k(["rollout", "status", "deployment/web-deployment", "--timeout=180s"]))
        var answeredTwo = Set<String>()
        try cluster.waitFor("only 2.0 answering on every host", timeout: 30) {
            answeredTwo = []
            for address in addresses {
                let answer = try cluster.tool(["/usr/bin/curl", "-s", "-m", "2", "http://\(address):30000/test.php"])
                answeredTwo.insert(answer.hasPrefix("v2.0\n") ? "2.0" : answer)
            }
            return answeredTwo == ["2.0"]
        }
        let during = client.stop()
        story.say("kubectl get pods", try cluster.k(["get", "pods"]))
        let updated = try cluster.pods("app=web").map(\.name)
        story.say("(the client meanwhile)", during.summary)
        XCTAssertEqual(during.unexpected, [], "every answer is 1.0's or 2.0's page")
        XCTAssertGreaterThan(during.versionOne, 0, "1.0 answered before the update")
        XCTAssertGreaterThan(during.versionTwo, 0, "2.0 answered after it")
        if !oldPodWithTheLeader {
            XCTAssertEqual(during.failed, 0, "no request failed during the rolling update: \(during.failures.prefix(5))")
        }
        if let killedLeader {
            story.say("scripts/cluster restart \(killedLeader)", try cluster.cluster(["restart", killedLeader]))
            try cluster.waitFor("every node Ready again", timeout: 60) {
                let nodes = try cluster.k(["get", "nodes", "--no-headers"]).split(separator: "\n")
                return nodes.count == 3 && nodes.allSatisfy { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "Ready" }
            }
            story.say("kubectl get nodes", try cluster.k(["get", "nodes"]))
        }

        story.step("6. replicas: 2 in deploy.yml, kubectl apply -f deploy.yml")
        try writeDeployment(version: "2.0", replicas: 2)
        story.say("kubectl apply -f deploy.yml", try cluster.k(["apply", "-f", deploy]))
        try cluster.waitFor("two pods Running on two hosts", timeout: 180) {
            let pods = try cluster.pods("app=web")
            return pods.count == 2 && pods.allSatisfy(\.ready) && Set(pods.map(\.node)).count == 2
        }
        story.say("kubectl get pods -o wide", try cluster.k(["get", "pods", "-o", "wide"]))
        let scaled = try cluster.pods("app=web")
        XCTAssertTrue(Set(updated).isSubset(of: Set(scaled.map(\.name))), "scaling kept the running pod: \(updated) then \(scaled.map(\.name))")
        let ips = Set(scaled.map(\.ip))
        for address in addresses {
            var seen: Set<String> = []
            try cluster.waitFor("both pods answering through \(address):30000", timeout: 60) {
                let answer = try cluster.tool(["/usr/bin/curl", "-s", "-m", "2", "http://\(address):30000/test.php"])
                if let ip = answer.split(separator: "\n").last { seen.insert(String(ip)) }
                return seen == ips
            }
            story.say("curl \(address):30000/test.php (repeated)", seen.sorted().joined(separator: "\n"))
        }

        story.step(leaderDies ? "7. the leader's host loses its network (a silent cut), then comes back"
                              : "7. a host with a pod loses its network (a silent cut), then comes back")
        let leaderIndex = try XCTUnwrap(hosts.firstIndex(of: try cluster.cluster(["leader"]).trimmingCharacters(in: .whitespacesAndNewlines)))
        let victimIndex = try XCTUnwrap(leaderDies ? leaderIndex : addresses.indices.first { index in
            index != leaderIndex && scaled.contains { $0.node == "shoal-" + addresses[index].replacingOccurrences(of: ".", with: "-") }
        }, "a host with a pod that is not the leader")
        let victim = hosts[victimIndex]
        let victimNode = "shoal-" + addresses[victimIndex].replacingOccurrences(of: ".", with: "-")
        // kubectl talks to a host that stays.
        cluster.apiHost = hosts[addresses.indices.first { $0 != victimIndex }!]
        let lostPod = scaled.first { $0.node == victimNode }
        let survivors = addresses.indices.filter { $0 != victimIndex }.map { addresses[$0] }
        let loss = NodePortClient(addresses: survivors, path: "/test.php")
        loss.start()
        usleep(500_000)
        let cutAt = Date()
        story.say("scripts/cluster cut \(victim)", try cluster.cluster(["cut", victim]))
        try cluster.waitFor("a replacement pod Ready on a survivor", timeout: 60) {
            let pods = try cluster.pods("app=web")
            return pods.filter { $0.ready && $0.node != victimNode }.count == 2
        }
        let replaced = Date().timeIntervalSince(cutAt)
        try cluster.waitFor("\(victim) NotReady", timeout: 30) {
            try cluster.k(["get", "nodes"]).split(separator: "\n").contains { $0.hasPrefix(victimNode + " ") && $0.contains("NotReady") }
        }
        story.say("kubectl get nodes", try cluster.k(["get", "nodes"]))
        story.say("kubectl get pods -o wide", try cluster.k(["get", "pods", "-o", "wide"]))
        // The survivors answer every request again: 3 s in a row without a failure.
        var quietSince = Date()
        var lastFailures = 0
        try cluster.waitFor("the survivors' NodePorts answering every request", timeout: 60) {
            let failed = loss.snapshot().failed
            if failed != lastFailures {
                lastFailures = failed
                quietSince = Date()
            }
            return Date().timeIntervalSince(quietSince) >= 3
        }
        let outage = loss.stop()
        story.say("(the client on \(survivors.joined(separator: ", ")) meanwhile)", outage.summary
                  + String(format: "; last failure %.2f s after the cut; replacement Ready after %.2f s",
                           outage.lastFailure.map { $0.timeIntervalSince(cutAt) } ?? 0.0, replaced))
        XCTAssertEqual(outage.unexpected, [])
        XCTAssertGreaterThan(outage.versionTwo, 0)

        story.say("scripts/cluster heal \(victim)", try cluster.cluster(["heal", victim]))
        try cluster.waitFor("\(victim) Ready again", timeout: 60) {
            try cluster.k(["get", "nodes"]).split(separator: "\n").contains { $0.hasPrefix(victimNode + " ") && $0.contains(" Ready") }
        }
        story.say("kubectl get nodes", try cluster.k(["get", "nodes"]))
        // Its old container is not served: through every host, only the current pods answer.
        let now = try cluster.pods("app=web")
        if let lostPod {
            XCTAssertFalse(now.contains { $0.name == lostPod.name }, "the lost pod was replaced, not kept: \(now.map(\.name))")
        }
        let current = Set(now.map(\.ip))
        for address in addresses {
            for _ in 0..<12 {
                let answer = try cluster.tool(["/usr/bin/curl", "-s", "-m", "2", "http://\(address):30000/test.php"])
                let ip = String(answer.split(separator: "\n").last ?? "")
                XCTAssertTrue(current.contains(ip), "through \(address): \(ip) is not a current pod (\(current.sorted()))")
            }
        }
        story.say("curl <every host>:30000/test.php (repeated)", current.sorted().joined(separator: "\n"))
        print(story.text)
    }
}

/// The walkthrough as a user would read it: each step's title, then each command and answer.
final class Transcript {
    private(set) var text = ""

    func step(_ title: String) {
        text += "\n## \(title)\n"
        print("walkthrough: \(title)")
    }

    func say(_ command: String, _ output: String) {
        text += "$ \(command)\n\(output.hasSuffix("\n") || output.isEmpty ? output : output + "\n")"
    }
}

/// A client that keeps requesting a page through each address's NodePort, back to back (a
/// thread per address, a new connection each time, like curl), counting what answers and
/// what fails.
final class NodePortClient: @unchecked Sendable {
    struct Tally {
        var versionOne = 0
        var versionTwo = 0
        var failed = 0
        var failures: [String] = []
        var unexpected: [String] = []
        var lastFailure: Date?

        var summary: String {
            "\(versionOne + versionTwo + failed) requests: \(versionOne) answered by 1.0, \(versionTwo) by 2.0, \(failed) failed"
        }
    }

    private let addresses: [String]
    private let path: String
    private let lock = NSLock()
    private var tally = Tally()
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    /// How long one request may take before it counts as failed, in seconds.
    static let requestTimeoutSeconds = 2

    init(addresses: [String], path: String) {
        self.addresses = addresses
        self.path = path
    }

    func start() {
        for address in addresses {
            Thread { [self] in loop(address) }.start()
        }
    }

    /// One address's requests, back to back.
    private func loop(_ address: String) {
        while lock.withLock({ running }) {
            let result = Self.get(address, path)
            lock.withLock {
                switch result {
                case .success(let body) where body.hasPrefix("v2.0\nServer IP address\n\n"): tally.versionTwo += 1
                case .success(let body) where body.hasPrefix("Server IP address\n\n"): tally.versionOne += 1
                case .success(let body): tally.unexpected.append("\(address): \(body)")
                case .failure(let reason):
                    tally.failed += 1
                    tally.failures.append("\(address): \(reason)")
                    tally.lastFailure = Date()
                }
            }
        }
        done.signal()
    }

    /// The counts so far.
    func snapshot() -> Tally { lock.withLock { tally } }

    func stop() -> Tally {
        lock.withLock { running = false }
        for _ in addresses { done.wait() }
        return lock.withLock { tally }
    }

    enum Outcome {
        case success(String)
        case failure(String)
    }

    /// One GET over curl (HTTP/1.1, a new connection); its body, or why it failed.
    static func get(_ address: String, _ path: String) -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-S", "-f", "-m", String(requestTimeoutSeconds), "http://\(address):30000\(path)"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return .failure("\(error)") }
        let body = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? .success(body) : .failure("curl \(process.terminationStatus): \(errors)")
    }
}
