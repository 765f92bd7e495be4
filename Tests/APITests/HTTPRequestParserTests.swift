@testable import API
import XCTest

final class HTTPRequestParserTests: XCTestCase {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testParsesRequestWithQueryHeadersAndBody() throws {
        let parser = HTTPRequestParser()
        let requests = try parser.feed(bytes("POST /api/v1/namespaces/default/configmaps?labelSelector=app%3Dweb&watch=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\nContent-Length: 4\r\n\r\n{\"a\"}"))
        XCTAssertEqual(requests.count, 1)
        let r = requests[0]
        XCTAssertEqual(r.method, "POST")
        XCTAssertEqual(r.path, "/api/v1/namespaces/default/configmaps")
        XCTAssertEqual(r.query["labelSelector"], "app=web")
        XCTAssertEqual(r.query["watch"], "true")
        XCTAssertEqual(r.header("authorization"), "Bearer abc")
        XCTAssertEqual(r.body, bytes("{\"a\""))
        XCTAssertTrue(r.keepAlive)
    }

    func testRequestsSplitAcrossReadsAndPipelined() throws {
        let parser = HTTPRequestParser()
        let text = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        var all: [HTTPRequest] = []
        for byte in bytes(text) { all += try parser.feed([byte]) }
        XCTAssertEqual(all.map(\.path), ["/healthz", "/readyz"])
        XCTAssertEqual(all.map(\.keepAlive), [true, false])
    }

    func testAnUpgradeRequestIsTheLastOneParsed() throws {
        let parser = HTTPRequestParser()
        let head = "POST /api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=echo%20hi HTTP/1.1\r\n"
            + "Host: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n"
        let requests = try parser.feed(bytes(head + "\u{0}\u{1}frames"))
        XCTAssertEqual(requests.count, 1)
        XCTAssertTrue(requests[0].upgrade)
        XCTAssertFalse(requests[0].keepAlive, "no HTTP request follows an upgrade")
        XCTAssertEqual(parser.upgradeRemainder, bytes("\u{0}\u{1}frames"), "the new protocol's bytes are kept, not parsed")
        XCTAssertEqual(queryValues(requests[0].target, "command"), ["sh", "-c", "echo hi"], "a repeated parameter keeps every value in order")
        XCTAssertEqual(requests[0].query["command"], "echo hi")
        XCTAssertThrowsError(try parser.feed(bytes("GET / HTTP/1.1\r\n\r\n")), "nothing after an upgrade is parsed as HTTP")

        let plain = try HTTPRequestParser().feed(bytes("GET /healthz HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"))
        XCTAssertEqual(plain.map(\.upgrade), [false], "Upgrade without Connection: Upgrade asks for nothing")
    }

    func testMalformedRequestIsA400() {
        let parser = HTTPRequestParser()
        XCTAssertThrowsError(try parser.feed(bytes("GARBAGE\r\n\r\n"))) { error in
            XCTAssertEqual((error as? HTTPRequestParser.Failure)?.status, 400)
        }
    }

    func testOversizedHeadersAndBodyAreRefused() {
        var limits = HTTPRequestParser.Limits()
        limits.headerBytesMax = 100
        limits.bodyBytesMax = 10
        let big = HTTPRequestParser(limits: limits)
        XCTAssertThrowsError(try big.feed(bytes("GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: 200))\r\n\r\n"))) { error in
            XCTAssertEqual((error as? HTTPRequestParser.Failure)?.status, 431)
        }
        let body = HTTPRequestParser(limits: limits)
        XCTAssertThrowsError(try body.feed(bytes("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"))) { error in
            XCTAssertEqual((error as? HTTPRequestParser.Failure)?.status, 413)
        }
        let chunked = HTTPRequestParser(limits: limits)
        XCTAssertThrowsError(try chunked.feed(bytes("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"))) { error in
            XCTAssertEqual((error as? HTTPRequestParser.Failure)?.status, 413)
        }
    }

    func testRandomBytesNeverCrash() {
        var state: UInt64 = 42
        for _ in 0..<2000 {
            let parser = HTTPRequestParser()
            var input: [UInt8] = []
            for _ in 0..<200 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                input.append(UInt8(truncatingIfNeeded: state >> 56))
            }
            _ = try? parser.feed(Array("GET /".utf8) + input)
        }
    }
}
