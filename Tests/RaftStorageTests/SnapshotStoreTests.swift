import Foundation
import RaftCore
import SimKit
@testable import RaftStorage
import XCTest

final class SnapshotStoreTests: XCTestCase {
    private var directory = ""
    private var store: SnapshotStore!
    private let membership = Raft.Membership(voters: [1, 2, 3], learners: [7])

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("snap-\(UUID().uuidString)").path
        store = try SnapshotStore(fileSystem: PosixFileSystem(), directory: directory)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Round trips

    func testRoundTripSmall() throws {
        let data = Array("{\"kind\":\"Pod\"}".utf8)
        let saved = try store.save(meta: meta(index: 42, term: 3), data: data)
        XCTAssertEqual(saved.path, directory + "/snap-000000000000002a-0000000000000003.lz4")
        XCTAssertEqual(saved.sizeBytes, try fileBytes(saved.path).count, "sizeBytes is the file's size")
        XCTAssertEqual(saved.metadata.raftMeta.sizeBytes, saved.sizeBytes)
        XCTAssertEqual(saved.metadata.membership, membership)
        XCTAssertEqual(saved.metadata.dataSizeBytes, data.count)
        XCTAssertEqual(try store.readMetadata(saved.path), saved.metadata)
        XCTAssertEqual(try decompressed(saved.path), data)
    }

    func testRoundTripEmptyDataAndEmptyChunks() throws {
        let empty = try store.save(meta: meta(index: 1, term: 1), chunks: [])
        XCTAssertEqual(try decompressed(empty.path), [])
        XCTAssertEqual(empty.metadata.dataSizeBytes, 0)
        let gaps = try store.save(meta: meta(index: 2, term: 1), chunks: [[], [1, 2], [], [3], []])
        XCTAssertEqual(try decompressed(gaps.path), [1, 2, 3])
    }

    /// 20 MB of pod-like JSON streamed in uneven chunks (some above the compression bound),
    /// read back in pieces that never exceed the decompression bound.
    func testRoundTripLargePodJSON() throws {
        let chunks = podJSONChunks(totalBytes: 20_000_000, seed: 1)
        let data = Array(chunks.joined())
        let saved = try store.save(meta: meta(index: 1_000_000, term: 9), chunks: chunks)
        XCTAssertEqual(saved.metadata.dataSizeBytes, data.count)
        XCTAssertLessThan(saved.sizeBytes, data.count / 3, "pod JSON should compress well")
        var pieces = 0
        var restored: [UInt8] = []
        restored.reserveCapacity(data.count)
        try store.decompress(saved.path) { piece in
            XCTAssertLessThanOrEqual(piece.count, SnapshotStore.decompressPieceBytes)
            XCTAssertFalse(piece.isEmpty)
            pieces += 1
            restored.append(contentsOf: piece)
        }
        XCTAssertEqual(restored.count, data.count)
        XCTAssertTrue(restored == data)
        XCTAssertGreaterThan(pieces, data.count / SnapshotStore.decompressPieceBytes)
    }

    // MARK: The stock lz4 tool

    func testStockLZ4ToolRestoresTheData() throws {
        let tool = "/usr/bin/lz4"
        guard FileManager.default.isExecutableFile(atPath: tool) else { throw XCTSkip("\(tool) is not installed") }
        let cases: [(String, [[UInt8]])] = [
            ("empty", []), ("small", [Array("hello".utf8)]), ("pods", podJSONChunks(totalBytes: 3_000_000, seed: 2)),
        ]
        for (index, (label, chunks)) in cases.enumerated() {
            let saved = try store.save(meta: meta(index: UInt64(index + 1), term: 1), chunks: chunks)
            let output = directory + "/\(label).out"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["-d", "-f", "-q", saved.path, output]
            try process.run()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "lz4 -d \(label)")
            XCTAssertTrue(try fileBytes(output) == Array(chunks.joined()), "lz4 -d output differs for \(label)")
        }
    }

    // MARK: Corruption

    func testFlippedMetadataByteIsCorrupt() throws {
        let saved = try store.save(meta: meta(index: 5, term: 2), data: Array(repeating: 7, count: 1000))
        for offset in [4, 12, 20, 40, 60, saved.metadata.metadataFrameBytes - 1] {
            try flip(saved.path, at: offset)
            let error = storageError { try store.readMetadata(saved.path) }
            guard case .corrupt(let path, _, let reason)? = error else { return XCTFail("offset \(offset): \(String(describing: error))") }
            XCTAssertEqual(path, saved.path)
            XCTAssertFalse(reason.isEmpty)
            try flip(saved.path, at: offset)  // restore
        }
        XCTAssertNoThrow(try store.readMetadata(saved.path))
    }

    func testFlippedBodyByteIsCorruptOnDecompress() throws {
        let saved = try store.save(meta: meta(index: 5, term: 2), chunks: podJSONChunks(totalBytes: 500_000, seed: 3))
        let bodyStart = saved.metadata.metadataFrameBytes
        for offset in [bodyStart + 2, bodyStart + 7, (bodyStart + saved.sizeBytes) / 2, saved.sizeBytes - 1] {
            try flip(saved.path, at: offset)
            XCTAssertNoThrow(try store.readMetadata(saved.path), "the metadata frame is intact")
            let error = storageError { try store.decompress(saved.path) { _ in } }
            guard case .corrupt(saved.path, _, _)? = error else { return XCTFail("offset \(offset): \(String(describing: error))") }
            try flip(saved.path, at: offset)
        }
        XCTAssertNoThrow(try store.decompress(saved.path) { _ in })
    }

    func testTruncatedOrExtendedFileIsCorrupt() throws {
        let saved = try store.save(meta: meta(index: 5, term: 2), chunks: podJSONChunks(totalBytes: 100_000, seed: 4))
        let original = try fileBytes(saved.path)
        for length in [0, 3, 8, 30, saved.metadata.metadataFrameBytes, original.count / 2, original.count - 1] {
            try Data(original.prefix(length)).write(to: URL(fileURLWithPath: saved.path))
            guard case .corrupt? = storageError({ try store.readMetadata(saved.path) }) else { return XCTFail("length \(length)") }
            guard case .corrupt? = storageError({ try store.decompress(saved.path) { _ in } }) else { return XCTFail("length \(length)") }
        }
        try Data(original + [0, 0, 0]).write(to: URL(fileURLWithPath: saved.path))
        guard case .corrupt? = storageError({ try store.readMetadata(saved.path) }) else { return XCTFail("extended") }
    }

    /// Files whose metadata frame is intact (valid CRC) but disagrees with the lz4 frame: each
    /// of the reader's own checks, beyond liblz4's, catches one.
    func testMetadataThatDisagreesWithTheDataIsCorrupt() throws {
        let saved = try store.save(meta: meta(index: 5, term: 2), chunks: podJSONChunks(totalBytes: 100_000, seed: 8))
        let body = Array(try fileBytes(saved.path).dropFirst(saved.metadata.metadataFrameBytes))
        let cases: [(String, (inout SnapshotMetadata, inout [UInt8]) -> Void)] = [
            ("ends before its end mark", { m, b in m.compressedSizeBytes -= 10; b.removeLast(10) }),
            ("bytes after the lz4 frame", { m, b in m.compressedSizeBytes += 3; b += [1, 2, 3] }),
            ("data checksum mismatch", { m, _ in m.dataCRC32C ^= 1 }),
            ("metadata records", { m, _ in m.dataSizeBytes += 1 }),
            ("more than the", { m, _ in m.dataSizeBytes -= 1 }),
            ("no lz4 frame", { m, b in m.compressedSizeBytes = 0; b = [] }),
        ]
        for (expected, mutate) in cases {
            var metadata = saved.metadata
            var crafted = body
            mutate(&metadata, &crafted)
            try Data(metadata.encoded() + crafted).write(to: URL(fileURLWithPath: saved.path))
            XCTAssertNoThrow(try store.readMetadata(saved.path), expected)
            let error = storageError { try store.decompress(saved.path) { _ in } }
            guard case .corrupt(_, _, let reason)? = error else { XCTFail("\(expected): \(String(describing: error))"); continue }
            XCTAssertTrue(reason.contains(expected), "\(expected): \(reason)")
        }
    }

    /// A frame size field of 2 MiB is rejected from the header alone, before anything is read.
    func testOversizedMetadataFrameIsCorrupt() throws {
        let path = store.path(of: SnapshotName(index: 1, term: 1))
        var writer = ByteWriter()
        writer.put(SnapshotFormat.skippableMagic)
        writer.put(UInt32(2 << 20))
        writer.put([UInt8](repeating: 0, count: 100))
        try Data(writer.bytes).write(to: URL(fileURLWithPath: path))
        guard case .corrupt(_, 4, _)? = storageError({ try store.readMetadata(path) }) else { return XCTFail() }
        XCTAssertNil(try store.newestValid().newest)
    }

    func testNewerFormatVersionIsUnsupported() throws {
        let saved = try store.save(meta: meta(index: 5, term: 2), data: [1, 2, 3])
        var bytes = try fileBytes(saved.path)
        bytes[12] = 2  // version 2, with a checksum that matches
        let crcOffset = saved.metadata.metadataFrameBytes - 4
        let crc = CRC32C.checksum(bytes, from: 0, to: crcOffset)
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { bytes[crcOffset + i] = $0[i] } }
        try Data(bytes).write(to: URL(fileURLWithPath: saved.path))
        XCTAssertEqual(storageError { try store.readMetadata(saved.path) }, .unsupportedFormat(path: saved.path, version: 2))
    }

    func testRenamedFileIsCorrupt() throws {
        let saved = try store.save(meta: meta(index: 5, term: 2), data: [1])
        let renamed = store.path(of: SnapshotName(index: 6, term: 2))
        try FileManager.default.moveItem(atPath: saved.path, toPath: renamed)
        guard case .corrupt? = storageError({ try store.readMetadata(renamed) }) else { return XCTFail() }
    }

    // MARK: Recovery and retention

    func testNewestValidSkipsACorruptNewest() throws {
        _ = try store.save(meta: meta(index: 10, term: 1), data: [1])
        let middle = try store.save(meta: meta(index: 20, term: 2), data: [2])
        let newest = try store.save(meta: meta(index: 30, term: 2), data: [3])
        try flip(newest.path, at: 17)
        let scan = try store.newestValid()
        XCTAssertEqual(scan.newest, middle)
        XCTAssertEqual(scan.skipped.map(\.name), [newest.name])
        guard case .corrupt? = scan.skipped.first?.error else { return XCTFail() }
    }

    func testNewestValidOnAnEmptyDirectory() throws {
        let scan = try store.newestValid()
        XCTAssertNil(scan.newest)
        XCTAssertEqual(scan.skipped, [])
    }

    func testTemporaryLeftoversAreIgnoredAndRemoved() throws {
        let saved = try store.save(meta: meta(index: 10, term: 1), data: [1])
        let leftover = SnapshotName(index: 99, term: 9).temporaryFileName
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory + "/" + leftover))
        try Data([4]).write(to: URL(fileURLWithPath: directory + "/unrelated"))
        XCTAssertEqual(try store.list(), [saved.name])
        let scan = try store.newestValid()
        XCTAssertEqual(scan.newest, saved)
        XCTAssertEqual(scan.removedTemporaries, [leftover])
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/" + leftover))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/unrelated"), "only snapshot leftovers go")
        // A save over a leftover of the same snapshot starts from an empty file.
        try Data([UInt8](repeating: 9, count: 100_000)).write(to: URL(fileURLWithPath: directory + "/" + saved.name.temporaryFileName))
        let again = try store.save(meta: meta(index: 10, term: 1), data: [1])
        XCTAssertEqual(again.sizeBytes, saved.sizeBytes)
    }

    func testRetainKeepsTheNewestTwo() throws {
        for index in 1...4 { _ = try store.save(meta: meta(index: UInt64(index * 10), term: 1), data: [UInt8(index)]) }
        let removed = try store.retain(keep: 2)
        XCTAssertEqual(removed.map(\.index), [10, 20])
        XCTAssertEqual(try store.list().map(\.index), [30, 40])
        XCTAssertEqual(try store.retain(keep: 2), [])
    }

    /// A corrupt newest does not count: the two newest valid ones stay.
    func testRetainCountsOnlyValidSnapshots() throws {
        for index in 1...4 { _ = try store.save(meta: meta(index: UInt64(index * 10), term: 1), data: [UInt8(index)]) }
        try flip(store.path(of: SnapshotName(index: 40, term: 1)), at: 20)
        XCTAssertEqual(try store.retain(keep: 2).map(\.index), [10])
        XCTAssertEqual(try store.list().map(\.index), [20, 30, 40])
    }

    // MARK: Transfer

    func testReadFileRangeBounds() throws {
        let saved = try store.save(meta: meta(index: 5, term: 2), chunks: podJSONChunks(totalBytes: 300_000, seed: 5))
        let whole = try fileBytes(saved.path)
        XCTAssertEqual(try store.readFileRange(saved.path, offset: 0, count: 10), Array(whole[0..<10]))
        XCTAssertEqual(try store.readFileRange(saved.path, offset: whole.count - 4, count: 100), Array(whole.suffix(4)))
        XCTAssertEqual(try store.readFileRange(saved.path, offset: whole.count, count: 100), [])
        XCTAssertEqual(try store.readFileRange(saved.path, offset: whole.count + 1000, count: 100), [])
        XCTAssertEqual(try store.readFileRange(saved.path, offset: 0, count: Int.max), whole, "clamped, not allocated")
        guard case .io(_, _, ENOENT)? = storageError({ try store.readFileRange(directory + "/gone", offset: 0, count: 1) }) else { return XCTFail() }
    }

    /// The leader's file, shipped in chunks and installed on a follower, restores the same data.
    func testInstallAReceivedFile() throws {
        let data = Array(podJSONChunks(totalBytes: 400_000, seed: 6).joined())
        let saved = try store.save(meta: meta(index: 77, term: 4), data: data)
        var received: [UInt8] = []
        while received.count < saved.sizeBytes {
            received += try store.readFileRange(saved.path, offset: received.count, count: 64 << 10)
        }
        let follower = try SnapshotStore(fileSystem: PosixFileSystem(), directory: directory + "/follower")
        let installed = try follower.install(fileBytes: received, expected: saved.metadata.raftMeta)
        XCTAssertEqual(installed.metadata, saved.metadata)
        XCTAssertEqual(try fileBytes(installed.path), received)
        XCTAssertTrue(try decompressed(installed.path, in: follower) == data)
        XCTAssertEqual(try follower.newestValid().newest, installed)
    }

    func testInstallRejectsABadFileAndWritesNothing() throws {
        let saved = try store.save(meta: meta(index: 77, term: 4), chunks: podJSONChunks(totalBytes: 200_000, seed: 7))
        let good = try fileBytes(saved.path)
        let follower = try SnapshotStore(fileSystem: PosixFileSystem(), directory: directory + "/follower")
        var body = good
        body[good.count / 2] ^= 0x40
        guard case .corrupt? = storageError({ try follower.install(fileBytes: body) }) else { return XCTFail("body") }
        guard case .corrupt? = storageError({ try follower.install(fileBytes: Array(good.dropLast())) }) else { return XCTFail("short") }
        var other = saved.metadata.raftMeta
        other.term = 5
        guard case .inconsistent? = storageError({ try follower.install(fileBytes: good, expected: other) }) else { return XCTFail() }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/follower"), [])
    }

    // MARK: Faults through the FileSystem seam

    func testFailedSyncLeavesNoSnapshot() throws {
        let failing = try SnapshotStore(fileSystem: SyncFailingFileSystem(), directory: directory + "/faulty")
        XCTAssertEqual(storageError { try failing.save(meta: meta(index: 3, term: 1), data: [1, 2, 3]) },
                       .syncFailed(path: directory + "/faulty/" + SnapshotName(index: 3, term: 1).temporaryFileName, errno: EIO))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory + "/faulty"), [], "no final file, no leftover")
    }

    /// Power loss in the middle of a save (the write that fails stands for the process dying
    /// there; the crash then keeps random unsynced prefixes, torn) or between the rename and
    /// the directory sync: after restart the older snapshot is still the newest valid one.
    func testCrashesNeverExposeAPartialSnapshot() throws {
        let chunks = podJSONChunks(totalBytes: 600_000, seed: 9).flatMap { chunk in
            stride(from: 0, to: chunk.count, by: 50_000).map { Array(chunk[$0..<min(chunk.count, $0 + 50_000)]) }
        }
        let temporary = "/snap/" + SnapshotName(index: 20, term: 2).temporaryFileName
        for seed in UInt64(1)...20 {
            let fs = FaultyFileSystem(seed: seed)
            let faulty = try SnapshotStore(fileSystem: fs, directory: "/snap")
            let old = try faulty.save(meta: meta(index: 10, term: 1), data: [1, 2, 3])
            var served = 0
            let failAt = Int(seed) % (chunks.count + 1)
            let error = storageError {
                try faulty.save(meta: meta(index: 20, term: 2), nextChunk: {
                    if served == failAt { fs.failNextWrite(path: temporary) }
                    served += 1
                    return served <= chunks.count ? chunks[served - 1] : nil
                })
            }
            XCTAssertNotNil(error, "seed \(seed)")
            fs.crash()
            let scan = try SnapshotStore(fileSystem: fs, directory: "/snap").newestValid()
            XCTAssertEqual(scan.newest, old, "seed \(seed)")
            XCTAssertEqual(try fs.list("/snap"), [old.name.fileName], "seed \(seed)")
        }
        let fs = FaultyFileSystem(seed: 99)
        let faulty = try SnapshotStore(fileSystem: fs, directory: "/snap")
        let old = try faulty.save(meta: meta(index: 10, term: 1), data: [1])
        fs.failNextSync(path: "/snap")
        guard case .syncFailed? = storageError({ try faulty.save(meta: meta(index: 20, term: 2), data: [2]) }) else { return XCTFail() }
        fs.crash()
        XCTAssertEqual(try faulty.newestValid().newest, old, "the rename was never durable")
        // And without faults, a crash right after a save keeps it.
        let new = try faulty.save(meta: meta(index: 30, term: 3), data: [3])
        fs.crash()
        XCTAssertEqual(try faulty.newestValid().newest, new)
    }

    func testSnapshotNames() {
        let name = SnapshotName(index: 0xABC, term: 0x1_0000_0000)
        XCTAssertEqual(name.fileName, "snap-0000000000000abc-0000000100000000.lz4")
        XCTAssertEqual(SnapshotName(fileName: name.fileName), name)
        for bad in ["snap-0000000000000ABC-0000000100000000.lz4", "snap-abc-1.lz4", name.temporaryFileName,
                    "snap-0000000000000abc_0000000100000000.lz4", "wal-0000000000000001.log", ""] {
            XCTAssertNil(SnapshotName(fileName: bad), bad)
        }
        XCTAssertLessThan(SnapshotName(index: 9, term: 5), SnapshotName(index: 10, term: 1))
    }

    // MARK: Helpers

    private func meta(index: Raft.Index, term: Raft.Term) -> Raft.SnapshotMeta {
        Raft.SnapshotMeta(index: index, term: term, membership: membership, sizeBytes: 0)
    }

    private func decompressed(_ path: String, in other: SnapshotStore? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        try (other ?? store).decompress(path) { out += $0 }
        return out
    }

    private func fileBytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func flip(_ path: String, at offset: Int) throws {
        var bytes = try fileBytes(path)
        bytes[offset] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private func storageError<T>(_ body: () throws -> T) -> StorageError? {
        do {
            _ = try body()
            return nil
        } catch let error as StorageError {
            return error
        } catch {
            XCTFail("not a StorageError: \(error)")
            return nil
        }
    }
}

/// Deterministic pod-like JSON (what the Store snapshots), in chunks of uneven sizes.
private func podJSONChunks(totalBytes: Int, seed: UInt64) -> [[UInt8]] {
    var random = Raft.Random(seed: seed)
    let apps = ["web", "api", "worker", "cache", "ingest", "billing", "search", "auth"]
    let images = ["registry.local/web:1.4.2", "registry.local/api:2.0.1", "docker.io/library/redis:7.2", "registry.local/worker:0.9.13"]
    let phases = ["Running", "Running", "Running", "Pending", "Succeeded"]
    var chunks: [[UInt8]] = []
    var chunk: [UInt8] = []
    var total = 0
    var chunkTarget = 1 + Int(random.below(2_500_000))
    var serial = 0
    while total < totalBytes {
        serial += 1
        let app = apps[Int(random.below(UInt64(apps.count)))]
        let uid = String(random.next(), radix: 16)
        let pod = """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(app)-\(String(random.next() % 0xFFFFF, radix: 36))",\
            "namespace":"default","uid":"\(uid)","resourceVersion":"\(serial)","labels":{"app":"\(app)",\
            "pod-template-hash":"\(String(random.below(1 << 30), radix: 16))"}},"spec":{"nodeName":"host-\(random.below(5) + 1)",\
            "containers":[{"name":"\(app)","image":"\(images[Int(random.below(UInt64(images.count)))])",\
            "ports":[{"containerPort":\(8000 + random.below(100))}],"resources":{"requests":{"cpu":"\(random.below(10) * 50 + 50)m",\
            "memory":"\(random.below(8) * 64 + 64)Mi"}}}],"restartPolicy":"Always"},"status":{"phase":"\(phases[Int(random.below(5))])",\
            "podIP":"10.\(random.below(4)).\(random.below(256)).\(random.below(256))","restartCount":\(random.below(3))}}

            """
        chunk += Array(pod.utf8)
        total += pod.utf8.count
        if chunk.count >= chunkTarget {
            chunks.append(chunk)
            chunk = []
            chunkTarget = 1 + Int(random.below(2_500_000))
        }
    }
    if !chunk.isEmpty { chunks.append(chunk) }
    return chunks
}

/// The real file system, except that every file sync fails with EIO.
private final class SyncFailingFileSystem: FileSystem {
    let real = PosixFileSystem()
    func open(_ path: String, create: Bool) throws(StorageError) -> any StorageFile {
        SyncFailingFile(try real.open(path, create: create))
    }
    func list(_ directory: String) throws(StorageError) -> [String] { try real.list(directory) }
    func exists(_ path: String) -> Bool { real.exists(path) }
    func makeDirectory(_ path: String) throws(StorageError) { try real.makeDirectory(path) }
    func rename(_ from: String, to: String) throws(StorageError) { try real.rename(from, to: to) }
    func remove(_ path: String) throws(StorageError) { try real.remove(path) }
    func syncDirectory(_ path: String) throws(StorageError) { try real.syncDirectory(path) }
    func lockDirectory(_ path: String) throws(StorageError) -> any DirectoryLock { try real.lockDirectory(path) }
}

private final class SyncFailingFile: StorageFile {
    let inner: any StorageFile
    init(_ inner: any StorageFile) { self.inner = inner }
    var path: String { inner.path }
    func size() throws(StorageError) -> Int { try inner.size() }
    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] { try inner.read(at: offset, count: count) }
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) { try inner.write(bytes, at: offset) }
    func sync() throws(StorageError) { throw .syncFailed(path: inner.path, errno: EIO) }
    func truncate(to size: Int) throws(StorageError) { try inner.truncate(to: size) }
    func preallocate(size: Int) throws(StorageError) { try inner.preallocate(size: size) }
    func close() { inner.close() }
}
