import XCTest

@testable import ClusterDNS

/// Reading queries and writing answers, and that no bytes can crash the reader.
final class DNSMessageTests: XCTestCase {
    func testAQueryRoundTripsIntoAnAnswer() throws {
        let bytes = dnsQuery(id: 0xBEEF, name: "Web.Default.svc.cluster.local", type: 1)
        let query = try DNSMessage.parseQuery(bytes)
        XCTAssertEqual(query.id, 0xBEEF)
        XCTAssertEqual(query.name, "web.default.svc.cluster.local", "names are compared lower-cased")
        XCTAssertEqual(query.type, 1)
        XCTAssertTrue(query.recursionDesired)
        let answer = DNSAnswer(code: .noError, answers: [.a(name: query.name, address: 0x0A600014, ttl: 5)]).encode(for: query, bytesMax: 512)
        XCTAssertEqual(Array(answer[0..<2]), [0xBE, 0xEF])
        XCTAssertEqual(answer[3] & 0x0F, 0, "NOERROR")
        XCTAssertEqual(answer[7], 1, "one answer")
        XCTAssertEqual(Array(answer.suffix(4)), [10, 96, 0, 20])
        XCTAssertEqual(Array(answer[12..<(12 + query.questionBytes.count)]), query.questionBytes, "the question as the client sent it")
    }

    func testTooManyRecordsForUDPSetTheTruncationBit() throws {
        let query = try DNSMessage.parseQuery(dnsQuery(id: 1, name: "many.default.svc.cluster.local", type: 1))
        let records = (0..<100).map { DNSRecord.a(name: query.name, address: UInt32(0x0AF40000 + $0), ttl: 5) }
        let answer = DNSAnswer(code: .noError, answers: records).encode(for: query, bytesMax: 512)
        XCTAssertLessThanOrEqual(answer.count, 512)
        XCTAssertNotEqual(answer[2] & 0x02, 0, "TC: ask again over TCP")
        let whole = DNSAnswer(code: .noError, answers: records).encode(for: query, bytesMax: 65_535)
        XCTAssertEqual(Int(whole[6]) << 8 | Int(whole[7]), 100)
    }

    func testMalformedQueriesAreToldApart() {
        XCTAssertThrowsError(try DNSMessage.parseQuery([1, 2, 3])) { XCTAssertEqual($0 as? DNSParseError, .truncated) }
        var looping = dnsQuery(id: 9, name: "a.b", type: 1)
        looping.replaceSubrange(12..<14, with: [0xC0, 12])  // a pointer to itself
        XCTAssertThrowsError(try DNSMessage.parseQuery(looping)) {
            guard case .malformed(9, _)? = $0 as? DNSParseError else { return XCTFail("\($0)") }
        }
        var response = dnsQuery(id: 3, name: "x", type: 1)
        response[2] |= 0x80
        XCTAssertThrowsError(try DNSMessage.parseQuery(response)) { XCTAssertEqual($0 as? DNSParseError, .unsupported(id: 3, .formatError)) }
        let long = (0..<40).map { _ in "abcdefgh" }.joined(separator: ".")
        XCTAssertThrowsError(try DNSMessage.parseQuery(dnsQuery(id: 4, name: long, type: 1)), "a name over 255 bytes")
    }

    func testRandomAndMutatedBytesNeverCrash() {
        var state: UInt64 = 0xD15EA5E
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let valid = dnsQuery(id: 5, name: "web.default.svc.cluster.local", type: 33)
        let zone = DNSZoneTests.zone()
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(next() % 80)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                bytes = valid
                for _ in 0..<(1 + Int(next() % 4)) { bytes[Int(next()) % bytes.count] = UInt8(truncatingIfNeeded: next()) }
                if next() % 3 == 0 { bytes = Array(bytes.prefix(Int(next()) % bytes.count)) }
            }
            if let query = try? DNSMessage.parseQuery(bytes), let answer = zone.answer(query) {
                XCTAssertLessThanOrEqual(answer.encode(for: query, bytesMax: 512).count, 512)
            }
        }
    }
}

/// A query as a resolver sends it (RD set, one question, class IN).
func dnsQuery(id: UInt16, name: String, type: UInt16) -> [UInt8] {
    var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
    for label in name.split(separator: ".") {
        bytes.append(UInt8(label.utf8.count))
        bytes += Array(label.utf8)
    }
    bytes += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
    return bytes
}
