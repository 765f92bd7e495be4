import JSON
import Store
import XCTest

/// Command bytes: round trips, and every malformed input is an `.invalid` result (400).
final class CommandCodingTests: XCTestCase {
    let samples: [StoreCommand] = [
        .create(object: ["a": [1, -1, 1.25, nil, true, false, "ü", ["nested": [:]]], "big": .int(.max), "small": .int(.min)],
                uid: "u", creationTimestamp: createdAt),
        .update(object: configMap("web")),
        .update(object: configMap("web"), expectedResourceVersion: 300, expectedUID: "u"),
        .delete(key: cmKey("web"), expectedResourceVersion: 0),
        .delete(key: ObjectKey(kind: .member, name: "host-a"), expectedUID: "x"),
        .batch([.delete(key: cmKey("a")), .create(object: configMap("b"), uid: "u", creationTimestamp: createdAt)]),
    ]

    func testCommandsRoundTripThroughBytes() throws {
        for command in samples {
            XCTAssertEqual(try StoreCommand.decode(command.encoded()), command)
        }
        XCTAssertEqual(samples[1].encoded().first, StoreCommand.formatVersion)
    }

    func testMalformedBytesAreAnInvalidResultNotACrash() {
        var h = Harness()
        let cases: [([UInt8], String)] = [
            ([], "unexpected end of input at byte 0"),
            ([2, 1], "unsupported command format version 2 (this member reads 1)"),
            ([1, 9], "unknown command tag 9 at byte 1"),
            ([1, 3, 5], "length 5 exceeds the 0 bytes left"),
            ([1, 1, 5, 2, 0xC3, 0x28, 5, 0, 5, 0], "invalid UTF-8 in string at byte 3"),
            ([1, 1, 3, 0x80, 0x00, 5, 0, 5, 0], "overlong varint"),
            ([1, 1, 4, 0, 0, 0, 0, 0, 0, 0xF8, 0x7F, 5, 0, 5, 0], "non-finite number"),
            ([1, 1, 7, 2, 1, 0x61, 0, 1, 0x61, 0, 5, 0, 5, 0], "duplicate key \"a\""),
            ([1, 1, 9], "unknown value tag 9 at byte 2"),
            ([1, 3, 4, 0x50, 0x6F, 0x64, 0x73, 0, 1, 0x61, 0], "unknown kind \"Pods\""),
            ([1, 3, 6] + Array("Member".utf8) + [0, 0, 8], "unknown precondition flags 8"),
            (samples[1].encoded() + [0], "1 trailing bytes"),
            ([1, 1, 6, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "exceeds"),
        ]
        for (bytes, expected) in cases {
            let result = h.apply(bytes: bytes)
            let reason = result.invalidReason ?? "not invalid: \(result)"
            XCTAssertTrue(reason.hasPrefix("malformed command: ") && reason.contains(expected), "\(bytes): \(reason)")
            XCTAssertEqual(result.httpStatus, 400)
        }
        XCTAssertEqual(h.store.count, 0)
    }

    func testDeepNestingIsRejectedBeforeItExhaustsTheStack() {
        var h = Harness()
        let depth = 100_000
        let bytes: [UInt8] = [1, 1] + Array((0..<depth).flatMap { _ in [6, 1] as [UInt8] }) + [0]
        XCTAssertTrue(h.apply(bytes: bytes).invalidReason?.contains("nesting deeper than \(Store.valueDepthMax)") == true)
    }

    func testEveryPrefixAndByteFlipOfACommandIsHandled() {
        // Exhaustive on small inputs: whatever the bytes, apply returns a result.
        var h = Harness()
        for command in samples {
            let bytes = command.encoded()
            for cut in 0..<bytes.count {
                XCTAssertNotNil(h.apply(bytes: Array(bytes.prefix(cut))).invalidReason, "prefix \(cut) of \(command)")
            }
            for position in 0..<bytes.count {
                for bit in 0..<8 {
                    var flipped = bytes
                    flipped[position] ^= UInt8(1 << bit)
                    _ = h.apply(bytes: flipped)
                }
            }
        }
        var rng = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let noise = (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next() % 12) }
            _ = h.apply(bytes: [1] + noise)
        }
    }
}
