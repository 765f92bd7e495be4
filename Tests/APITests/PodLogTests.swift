@testable import API
import XCTest

/// CRI log lines (what containerd writes) to what `kubectl logs` prints.
final class PodLogTests: XCTestCase {
    func testLinesAcrossChunksPartsAndTimestamps() {
        var formatter = CRILogFormatter(timestamps: false)
        let log = "2026-12-05T09:00:00.000000001Z stdout F hello\n"
            + "2026-12-05T09:00:01.000000001Z stderr P a long \n"
            + "2026-12-05T09:00:01.000000002Z stderr F line\n"
            + "2026-12-05T09:00:02.000000001Z stdout F \n"
            + "2026-12-05T09:00:03.000000001Z stdout F split across reads\n"
        let bytes = Array(log.utf8)
        let cut = bytes.count - 10
        var lines = formatter.lines(Array(bytes[..<cut]))
        XCTAssertEqual(lines, ["hello\n", "a long line\n", "\n"], "a line cut by a read waits for its end")
        lines = formatter.lines(Array(bytes[cut...]))
        XCTAssertEqual(lines, ["split across reads\n"])

        var stamped = CRILogFormatter(timestamps: true)
        XCTAssertEqual(stamped.lines(Array(log.utf8)).first, "2026-12-05T09:00:00.000000001Z hello\n")
        XCTAssertEqual(stamped.lines(Array("garbage\n".utf8)), [], "a line not in the format is skipped")
    }

    func testTheLogRouteParses() {
        XCTAssertEqual(APIRoute(path: "/api/v1/namespaces/default/pods/web-1/log"), .podLog(namespace: "default", name: "web-1"))
        XCTAssertNil(APIRoute(path: "/api/v1/namespaces/default/pods/web-1/logs"))
    }
}
