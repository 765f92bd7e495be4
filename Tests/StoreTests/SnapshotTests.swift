import JSON
import Store
import XCTest

/// Snapshots: deterministic bytes, restore in any pieces, watch-gone across a restore, and
/// corrupt input rejected without a crash.
final class SnapshotTests: XCTestCase {
    func populated() -> Harness {
        var h = Harness()
        h.apply(create(configMap("b", namespace: "prod", labels: ["app": "web"])))
        h.apply(create(configMap("a", namespace: "prod", data: ["x": "1", "y": "2"])))
        h.apply(create(member("host-a")))
        h.apply(.update(object: configMap("b", namespace: "prod", data: ["k": "2"], labels: ["app": "web"])))
        h.apply(create(configMap("gone")))
        h.apply(.delete(key: cmKey("gone")))
        var odd = configMap("c", namespace: "dev", data: ["ü": "é"])
        odd["data"] = ["k": "ünïcode ✓"]
        odd["extra"] = ["n": 1.5, "list": [nil, true, -42, "s"]]
        h.apply(create(odd))
        return h
    }

    func testSnapshotRestoreRoundTrips() throws {
        let h = populated()
        let bytes = h.store.snapshot()
        let restored = try Store(restoring: bytes)
        XCTAssertEqual(restored.revision, h.store.revision)
        XCTAssertEqual(restored.snapshot(), bytes)
        XCTAssertEqual(restored.digest, h.store.digest)
        XCTAssertEqual(restored.list(.configMap).items, h.store.list(.configMap).items)
        XCTAssertEqual(restored.list(.member).items, h.store.list(.member).items)
        XCTAssertEqual(restored.count, 4)
    }

    func testEmptyStoreRoundTrips() throws {
        let empty = Store()
        XCTAssertEqual(empty.snapshot().count, 13 + 17)
        let restored = try Store(restoring: empty.snapshot())
        XCTAssertEqual(restored.revision, 0)
        XCTAssertEqual(restored.digest, empty.digest)
    }

    func testWatchFromBeforeTheSnapshotIsGoneAfterRestore() throws {
        let h = populated()
        var restored = try Store(restoring: h.store.snapshot())
        XCTAssertEqual(restored.oldestWatchableRevision(.configMap), 7)
        XCTAssertThrowsError(try restored.events(since: 6, WatchFilter(kind: .configMap))) { error in
            XCTAssertEqual(error as? StoreError, .gone(requested: 6, oldest: 7))
        }
        XCTAssertEqual(try restored.events(since: 7, WatchFilter(kind: .configMap)), [])
        _ = restored.apply(index: 8, create(configMap("new")))
        XCTAssertEqual(try restored.events(since: 7, WatchFilter(kind: .configMap)).map(\.key.name), ["new"])
    }

    func testRestoredStoreContinuesExactlyLikeTheOriginal() throws {
        var h = populated()
        var restored = try Store(restoring: h.store.snapshot())
        let more: [StoreCommand] = [.update(object: configMap("a", namespace: "prod")), .delete(key: cmKey("b", namespace: "prod")),
                                    create(configMap("b", namespace: "prod"), uid: "again")]
        for command in more {
            let original = h.apply(command)
            XCTAssertEqual(restored.apply(index: h.index, command).result, original)
        }
        XCTAssertEqual(restored.snapshot(), h.store.snapshot())
    }

    func testChunkedSnapshotsRestoreFromPiecesOfAnySize() throws {
        let h = populated()
        let whole = h.store.snapshot()
        var writer = h.store.snapshotWriter(chunkBytes: 100)
        var chunks: [[UInt8]] = []
        while let chunk = writer.next() { chunks.append(chunk) }
        XCTAssertGreaterThan(chunks.count, 3)
        XCTAssertEqual(Array(chunks.joined()), whole)
        XCTAssertTrue(chunks.dropLast().allSatisfy { $0.count >= 100 })

        var rng = SplitMix64(seed: 42)
        for _ in 0..<20 {
            var restorer = Store.Restorer()
            var offset = 0
            while offset < whole.count {
                let size = min(whole.count - offset, Int(rng.next() % 64))
                try restorer.feed(Array(whole[offset..<offset + size]))
                offset += size
            }
            XCTAssertEqual(try restorer.finish().snapshot(), whole)
        }
    }

    func testCorruptSnapshotsAreErrorsNotCrashes() {
        let whole = populated().store.snapshot()
        func rejects(_ bytes: [UInt8], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try Store(restoring: bytes), what, file: file, line: line) { error in
                guard case .corruptSnapshot = error as? StoreError else { return XCTFail("\(error)", file: file, line: line) }
            }
        }
        rejects([], "empty")
        rejects(Array("not a snapshot at all".utf8), "garbage")
        for cut in stride(from: 0, to: whole.count, by: 7) { rejects(Array(whole.prefix(cut)), "truncated at \(cut)") }
        for position in 0..<whole.count {
            var flipped = whole
            flipped[position] ^= 0x20
            rejects(flipped, "byte \(position) flipped")
        }
        rejects(whole + [0], "trailing byte")
        var versioned = whole
        versioned[4] = 9
        XCTAssertThrowsError(try Store(restoring: versioned)) { error in
            XCTAssertTrue("\(error)".contains("unsupported snapshot format version 9"), "\(error)")
        }
        var rng = SplitMix64(seed: 1)
        for _ in 0..<200 {
            let noise = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            rejects(Array(whole.prefix(13)) + noise, "header then noise")
        }
    }

    func testSnapshotsCheckInvariantsBeyondTheChecksum() throws {
        // Well-formed, correctly checksummed bytes that break an invariant: an object newer
        // than the snapshot's revision. The store must not trust them.
        let h = populated()
        var bytes = h.store.snapshot()
        bytes.removeLast(17)
        for i in 0..<8 { bytes[5 + i] = i == 0 ? 2 : 0 }  // revision 2, but objects are up to 7
        bytes += [0] + le64(4)
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        bytes += le64(hash)
        XCTAssertThrowsError(try Store(restoring: bytes)) { error in
            XCTAssertTrue("\(error)".contains("resourceVersion"), "\(error)")
        }
    }

    private func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
