import Foundation
import SimKit
import XCTest

/// Runs the controller scenario scripts in testdata/ (commands: ControllerScenario.swift; file
/// format: Sources/SimKit/Scenario.swift) and compares every command's output with the
/// expected output under it. `SHOAL_REWRITE=1 swift test --filter ControllerScenarioTests`
/// rewrites them with the actual output; read the diff before committing it — every line is a
/// claim about what the controllers must do.
final class ControllerScenarioTests: XCTestCase {
    func testRollout() { runScript("rollout.txt") }
    func testRollback() { runScript("rollback.txt") }
    func testPausedRollout() { runScript("paused-rollout.txt") }
    func testNodeDiesMidRollout() { runScript("node-dies-mid-rollout.txt") }

    func testEveryScriptIsRun() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.testdata.path).filter { $0.hasSuffix(".txt") }
        let run: Set<String> = ["rollout.txt", "rollback.txt", "paused-rollout.txt", "node-dies-mid-rollout.txt"]
        for name in names.sorted() where !run.contains(name) {
            XCTFail("testdata/\(name) has no test method in ControllerScenarioTests")
        }
    }

    static let testdata = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")
    static let rewrite = ProcessInfo.processInfo.environment["SHOAL_REWRITE"] == "1"

    private func runScript(_ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let url = Self.testdata.appendingPathComponent(name)
        let path = "Tests/ControllersTests/testdata/\(name)"
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return XCTFail("cannot read \(url.path)", file: file, line: line) }
        let script: ScenarioScript
        do {
            script = try ScenarioScript(parsing: text, allowMissingOutput: Self.rewrite)
        } catch {
            return XCTFail("\(path):\(error.line): \(error.message)", file: file, line: line)
        }
        var runner = ControllerScenarioRunner()
        var outputs: [Int: [String]] = [:]
        for block in script.blocks {
            let actual: [String]
            do {
                actual = try runner.run(block.command, lineNumber: block.line)
            } catch {
                return XCTFail("\(path):\(error.line): \(error.message)", file: file, line: line)
            }
            outputs[block.line] = actual
            if !Self.rewrite && actual != block.expected {
                XCTFail("""
                    \(path):\(block.line): output of `\(block.command)` differs (- expected, + actual):
                    \(ScenarioDiff.lines(expected: block.expected ?? [], actual: actual).joined(separator: "\n"))
                    (stopping here; after reviewing, SHOAL_REWRITE=1 rewrites the golden output)
                    """, file: file, line: line)
                return
            }
        }
        if Self.rewrite {
            let rendered = script.rendered(outputs: outputs)
            if rendered != text {
                do { try rendered.write(to: url, atomically: true, encoding: .utf8) } catch { XCTFail("cannot rewrite \(url.path): \(error)") }
            }
        }
    }
}
