import Foundation
import XCTest

/// docker/ as a user runs it: scripts/docker-selftest starts a private dockerd, builds
/// shoal's image from this build, starts docker/compose.yaml's three hosts with one command
/// and walks through the story against them with kubectl (deploy, NodePort on every host,
/// rolling update to two replicas, a host container killed and started again), then removes
/// everything. Its transcript is printed; any failed check fails the test.
final class DockerComposeTests: XCTestCase {
    func testTheComposeClusterRunsTheWalkthrough() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (dockerd, debootstrap)") }
        for tool in ["/usr/sbin/dockerd", "/usr/bin/docker", "/usr/bin/docker-compose", "/usr/sbin/debootstrap", "/usr/bin/skopeo", "/usr/bin/umoci"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) is missing (scripts/setup installs it)")
        }
        guard FileManager.default.isExecutableFile(atPath: TestCluster.binary) else { throw XCTSkip("shoal is not built") }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let transcript = FileManager.default.temporaryDirectory.appendingPathComponent("docker-selftest-\(getpid()).log")
        XCTAssertTrue(FileManager.default.createFile(atPath: transcript.path, contents: nil), "cannot write \(transcript.path)")
        defer { try? FileManager.default.removeItem(at: transcript) }
        let output = try FileHandle(forWritingTo: transcript)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repository + "/scripts/docker-selftest", "--binary", TestCluster.binary]
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try output.close()
        let text = (try? String(contentsOf: transcript, encoding: .utf8)) ?? ""
        print(text)
        XCTAssertEqual(process.terminationStatus, 0, "scripts/docker-selftest failed; its transcript is above")
        XCTAssertTrue(text.contains("docker-selftest: PASSED"), "the self-test did not reach its end")
    }
}
