import Foundation
import SimKit
import XCTest

/// Runs the scenario scripts in testdata/ (format and commands: Sources/SimKit/Scenario.swift)
/// and compares every command's output with the expected output written under it.
///
/// Golden update: `SHOAL_REWRITE=1 swift test --filter ScenarioTests` rewrites each script
/// with the actual output instead of failing. Do it only after reviewing the change, and read
/// the diff of testdata/ before committing it: a rewritten trace is a claim about correct Raft.
///
/// The scripts are read from the source tree (found through #filePath), not from the copied
/// bundle resources, so that a rewrite updates the files under version control.
final class ScenarioTests: XCTestCase {
    func testCheckQuorumStepdown() { runScript("checkquorum-stepdown.txt") }
    func testFigure8() { runScript("figure8.txt") }
    func testLeaderRemovesItself() { runScript("leader-removes-itself.txt") }
    func testLearnerPromotion() { runScript("learner-promotion.txt") }
    func testPreVotePartitionedRejoin() { runScript("prevote-partitioned-rejoin.txt") }
    func testReadIndex() { runScript("readindex.txt") }
    func testSingleServerMembershipBug() { runScript("single-server-membership-bug.txt") }
    func testSnapshotChunks() { runScript("snapshot-chunks.txt") }
    func testTransferLagging() { runScript("transfer-lagging.txt") }

    /// Every script must have a test method above, so none is silently skipped.
    func testEveryScriptIsRun() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.testdata.path)
            .filter { $0.hasSuffix(".txt") }
        let run: Set<String> = [
            "checkquorum-stepdown.txt", "figure8.txt", "leader-removes-itself.txt", "learner-promotion.txt",
            "prevote-partitioned-rejoin.txt", "readindex.txt", "single-server-membership-bug.txt",
            "snapshot-chunks.txt", "transfer-lagging.txt",
        ]
        for name in names.sorted() where !run.contains(name) {
            XCTFail("testdata/\(name) has no test method in ScenarioTests")
        }
    }

    /// The parser and renderer keep comments and layout, and fill in missing output.
    func testRenderRoundTrip() throws {
        let text = "# c\n\ncluster 1\n----\nok\n\n# d\nstatus\n----\n1: x\n"
        XCTAssertEqual(try ScenarioScript(parsing: text).rendered(outputs: [:]), text)
        let missing = "cluster 1\n\nstatus\n"
        let script = try ScenarioScript(parsing: missing, allowMissingOutput: true)
        XCTAssertEqual(script.rendered(outputs: [1: ["ok"], 3: ["a", "b"]]),
                       "cluster 1\n----\nok\n\nstatus\n----\na\nb\n")
        XCTAssertThrowsError(try ScenarioScript(parsing: missing))
    }

    // MARK: - Harness

    static let testdata = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")
    static let rewrite = ProcessInfo.processInfo.environment["SHOAL_REWRITE"] == "1"

    private func runScript(_ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let url = Self.testdata.appendingPathComponent(name)
        let path = "Tests/SimKitTests/testdata/\(name)"
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            return XCTFail("cannot read \(url.path)", file: file, line: line)
        }
        let script: ScenarioScript
        do {
            script = try ScenarioScript(parsing: text, allowMissingOutput: Self.rewrite)
        } catch {
            return XCTFail("\(path):\(error.line): \(error.message)", file: file, line: line)
        }
        var runner = ScenarioRunner()
        var outputs: [Int: [String]] = [:]
        for block in script.blocks {
            let actual: [String]
            do {
                actual = try runner.run(block.command, line: block.line)
            } catch {
                return XCTFail("\(path):\(error.line): \(error.message)", file: file, line: line)
            }
            outputs[block.line] = actual
            if !Self.rewrite && actual != block.expected {
                let diff = ScenarioDiff.lines(expected: block.expected ?? [], actual: actual)
                XCTFail("""
                    \(path):\(block.line): output of `\(block.command)` differs (- expected, + actual):
                    \(diff.joined(separator: "\n"))
                    (stopping here: later blocks depend on this one's state; \
                    after reviewing, SHOAL_REWRITE=1 rewrites the golden output)
                    """, file: file, line: line)
                return
            }
        }
        if Self.rewrite {
            let rendered = script.rendered(outputs: outputs)
            if rendered != text {
                do {
                    try rendered.write(to: url, atomically: true, encoding: .utf8)
                } catch {
                    XCTFail("cannot rewrite \(url.path): \(error)", file: file, line: line)
                }
            }
        }
    }
}
