import RaftCore
import RaftStorage
import XCTest

final class CRC32CTests: XCTestCase {
    /// The standard check value of CRC-32C: "123456789" → 0xE3069283.
    func testCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
    }

    func testEmptyInputIsZero() {
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }

    /// Extending piece by piece equals one pass, at every split point and odd lengths.
    func testExtendingEqualsOnePass() {
        var random = Raft.Random(seed: 7)
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 63, 500, 999, 1000] {
            let first = CRC32C.checksum(bytes, from: 0, to: split)
            XCTAssertEqual(CRC32C.checksum(bytes, from: split, to: bytes.count, extending: first), whole, "split \(split)")
        }
    }

    func testSingleBitFlipChangesChecksum() {
        var bytes = Array(repeating: UInt8(0x5a), count: 4096)
        let original = CRC32C.checksum(bytes)
        for bit in stride(from: 0, to: 4096 * 8, by: 97) {
            bytes[bit / 8] ^= 1 << (bit % 8)
            XCTAssertNotEqual(CRC32C.checksum(bytes), original, "bit \(bit)")
            bytes[bit / 8] ^= 1 << (bit % 8)
        }
    }
}
