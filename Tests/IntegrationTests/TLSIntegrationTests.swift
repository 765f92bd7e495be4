import API
import Foundation
import JSON
import XCTest

/// Real processes: the API over HTTPS with the CA every member derives from the token,
/// `shoal kubeconfig` for the real kubectl, joins that verify the endpoint, the plain-HTTP
/// debugging flag.
final class TLSIntegrationTests: XCTestCase {
    /// Every founder derives the same CA on its own: each member's certificate verifies
    /// against any other member's `ca.crt`, for every address and the names it serves.
    func testFoundersShareOneCAWithoutCoordination() throws {
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        _ = try cluster.waitForLeader()
        for server in cluster.names {
            for caHost in cluster.names {
                let reply = try cluster.httpClient(server, trusting: caHost).send(
                    method: "GET", target: "/shoal/v1/status", headers: [("Authorization", "Bearer \(cluster.apiToken)")])
                XCTAssertEqual(reply.status, 200, "\(server) verified with \(caHost)'s CA")
            }
        }
        // The serving key stays private to its member.
        var info = stat()
        XCTAssertEqual(stat("\(cluster.base)/h1/serving.key", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
    }

    /// `shoal kubeconfig` gives kubectl every member, the CA and a credential; kubectl then
    /// talks to every member over verified HTTPS, with the token or a client certificate.
    func testKubeconfigDrivesKubectl() throws {
        guard let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("kubectl is not installed")
        }
        let cluster = try TestCluster(hostCount: 3)
        defer { cluster.shutDown() }
        for name in cluster.names { try cluster.start(name) }
        _ = try cluster.waitForLeader()
        try cluster.waitFor("every member in the member list", timeout: 10) {
            try cluster.api("h2", "GET", "/shoal/v1/members").body.arrayValue?.count == 3
        }
        for flags in [[], ["--client-certificate"]] {
            let made = try cluster.cli("h2", ["kubeconfig"] + flags)
            XCTAssertEqual(made.status, 0, made.output)
            let path = "\(cluster.base)/kubeconfig\(flags.isEmpty ? "" : "-cert")"
            try made.output.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertTrue(made.output.contains("certificate-authority-data:"))
            XCTAssertEqual(made.output.contains("client-certificate-data:"), !flags.isEmpty)
            XCTAssertTrue(made.output.contains("current-context: \"\(cluster.memberName("h2"))\""), made.output)
            for name in cluster.names {
                XCTAssertTrue(made.output.contains("server: \"https://\(cluster.ip(name)):7401\""), made.output)
                let api = try cluster.run([kubectl, "--kubeconfig", path, "--context", cluster.memberName(name), "get", "--raw", "/api"])
                XCTAssertEqual(api.status, 0, api.output)
                XCTAssertTrue(api.output.contains("APIVersions"), api.output)
            }
            let list = try cluster.run([kubectl, "--kubeconfig", path, "get", "--raw", "/api/v1/namespaces/default/configmaps"])
            XCTAssertEqual(list.status, 0, list.output)
        }
    }

    /// A host that only knows the token and an address verifies that address before it
    /// sends the token's bearer: another cluster's member is refused.
    func testJoinVerifiesTheEndpointAgainstTheTokensCA() throws {
        let cluster = try TestCluster(hostCount: 1)
        defer { cluster.shutDown() }
        try cluster.start("h1")
        cluster.addHost(2)
        try cluster.start("h2", founding: false)
        _ = try cluster.waitForLeader(among: ["h1"])
        let otherToken = try cluster.run([TestCluster.binary, "token", "--generate"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let refused = try cluster.cli("h2", ["join", "\(cluster.ip("h1")):7401", "--token", otherToken])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.output.contains("certificate verification failed"), refused.output)

        let joined = try cluster.cli("h2", ["join", "\(cluster.ip("h1")):7401", "--token", cluster.token])
        XCTAssertEqual(joined.status, 0, joined.output)
        // From now on h2 serves with the cluster CA, and its CLI trusts it.
        let status = try cluster.cli("h2", ["status", "-o", "json"])
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertEqual(try cluster.httpClient("h2", trusting: "h1").send(method: "GET", target: "/healthz").status, 200)
    }

    /// `--insecure-http` serves plain HTTP (and says so); the CLI follows the agent's scheme.
    func testInsecureHTTPFlagServesPlainHTTP() throws {
        let cluster = try TestCluster(hostCount: 1)
        defer { cluster.shutDown() }
        try cluster.start("h1", extra: ["--insecure-http"])
        _ = try cluster.waitForLeader()
        XCTAssertEqual(try cluster.api("h1", "GET", "/shoal/v1/status").status, 200)
        XCTAssertEqual(try cluster.cli("h1", ["status"]).status, 0)
        XCTAssertTrue(cluster.log("h1").contains("--insecure-http is for local debugging only"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(cluster.base)/h1/ca.crt"), "no CA in plain-HTTP mode")
        let kubeconfig = try cluster.cli("h1", ["kubeconfig"])
        XCTAssertNotEqual(kubeconfig.status, 0)
        XCTAssertTrue(kubeconfig.output.contains("--insecure-http"), kubeconfig.output)
    }
}
