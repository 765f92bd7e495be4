import Foundation
import RaftCore
import RaftStorage
import XCTest

/// The write-ahead log on the real file system, in small segments.
final class WALTests: XCTestCase {
    var directory = ""
    let fileSystem = PosixFileSystem()
    static let segmentBytes = 16 << 10

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wal-\(UUID().uuidString)").path
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func entry(_ index: Raft.Index, term: Raft.Term = 1, _ text: String? = nil) -> Raft.Entry {
        Raft.Entry(term: term, index: index, payload: .command(Array((text ?? "entry-\(index)").utf8)))
    }

    func open(_ dir: String? = nil) throws -> (WriteAheadLog, WALContents) {
        try WriteAheadLog.open(directory: dir ?? directory, fileSystem: fileSystem, segmentBytes: Self.segmentBytes)
    }

    func testFreshLogIsEmpty() throws {
        let (_, contents) = try open()
        XCTAssertNil(contents.hardState)
        XCTAssertEqual(contents.entries, [])
        XCTAssertNil(contents.tornTail)
    }

    func testEntriesHardStateAndEveryPayloadKindSurviveReopening() throws {
        let membership = Raft.Membership(voters: [1, 2], learners: [3])
        let entries = [
            Raft.Entry(term: 1, index: 1, payload: .membership(.init(.bootstrap, node: 1), Raft.Membership(voters: [1, 2]))),
            Raft.Entry(term: 2, index: 2, payload: .noop),
            Raft.Entry(term: 2, index: 3, payload: .membership(.init(.addLearner, node: 3, context: [9, 8, 7]), membership)),
            entry(4, term: 2), Raft.Entry(term: 2, index: 5, payload: .command([])),
        ]
        do {
            let (wal, _) = try open()
            wal.append(entries: entries)
            wal.append(hardState: Raft.HardState(term: 2, vote: 1, commit: 4))
            try wal.commit()
        }
        let (_, contents) = try open()
        XCTAssertEqual(contents.entries, entries)
        XCTAssertEqual(contents.hardState, Raft.HardState(term: 2, vote: 1, commit: 4))
    }

    func testUnflushedRecordsAreNotOnDisk() throws {
        do {
            let (wal, _) = try open()
            wal.append(entries: [entry(1)])
            try wal.commit()
            wal.append(entries: [entry(2)])  // never flushed: lost, as a crash would lose it
        }
        XCTAssertEqual(try open().1.entries, [entry(1)])
    }

    func testConflictingSuffixIsReplacedOnReplay() throws {
        do {
            let (wal, _) = try open()
            wal.append(entries: (1...5).map { entry($0) })
            try wal.commit()
            wal.append(entries: [entry(3, term: 2, "new-3"), entry(4, term: 2, "new-4")])
            try wal.commit()
        }
        XCTAssertEqual(try open().1.entries, [entry(1), entry(2), entry(3, term: 2, "new-3"), entry(4, term: 2, "new-4")])
    }

    func testInstalledSnapshotReplacesTheLog() throws {
        do {
            let (wal, _) = try open()
            wal.append(entries: (1...5).map { entry($0) })
            try wal.commit()
            wal.appendSnapshotInstalled(index: 10, term: 3)
            wal.append(entries: [entry(11, term: 3)])
            try wal.commit()
        }
        let contents = try open().1
        XCTAssertEqual(contents.installedSnapshot?.index, 10)
        XCTAssertEqual(contents.entries, [entry(11, term: 3)])
    }

    func testSegmentsRotateAndCompactionDropsWholeSegmentsBelowTheSnapshot() throws {
        let (wal, _) = try open()
        for index in 1...400 {
            wal.append(entries: [entry(Raft.Index(index), String(repeating: "x", count: 200))])
            wal.append(hardState: Raft.HardState(term: 1, vote: 1, commit: Raft.Index(index)))
            try wal.commit()
        }
        let segments = wal.segmentPaths.count
        XCTAssertGreaterThan(segments, 4, "400 entries of 200 bytes fill several 16 KiB segments")
        let deleted = try wal.compact(through: 300)
        XCTAssertGreaterThan(deleted, 0)
        XCTAssertEqual(wal.segmentPaths.count, segments - deleted)
        let contents = try open().1
        // Whatever survives starts at or below 301 and runs to 400; the hard state survives.
        XCTAssertLessThanOrEqual(contents.entries.first!.index, 301)
        XCTAssertEqual(contents.entries.last?.index, 400)
        XCTAssertEqual(contents.hardState?.commit, 400)
    }

    /// Cuts the newest segment at every byte offset of its last three frames (the rest
    /// zeroed, as a preallocated file looks after a crash mid-write): recovery must return
    /// exactly the entries of the frames written completely before the cut, and cut off the
    /// torn frame.
    func testCrashCutAtEveryOffsetOfTheLastFramesYieldsTheAcknowledgedPrefix() throws {
        var frameEnds: [Int] = []  // file offset where each frame ends
        var entriesAfterFrame: [[Raft.Entry]] = []
        var written: [Raft.Entry] = []
        do {
            let (wal, _) = try open()
            for frame in 0..<6 {
                let batch = (0..<(1 + frame % 3)).map { entry(Raft.Index(written.count + 1 + $0)) }
                written += batch
                wal.append(entries: batch)
                wal.append(hardState: Raft.HardState(term: 1, vote: 0, commit: Raft.Index(written.count)))
                try wal.commit()
                frameEnds.append(wal.writeOffset)
                entriesAfterFrame.append(written)
            }
        }
        let segment = try onlySegment()
        let original = try Data(contentsOf: URL(fileURLWithPath: segment))
        let firstCut = frameEnds[frameEnds.count - 4]
        for cut in firstCut...frameEnds.last! {
            var bytes = original
            bytes.replaceSubrange(cut..<bytes.count, with: Data(count: bytes.count - cut))
            try bytes.write(to: URL(fileURLWithPath: segment))
            let contents = try open().1
            // A frame survives if the cut only zeroed bytes that were zero already.
            let intact = frameEnds.lastIndex { end in end <= cut || original[cut..<end].allSatisfy { $0 == 0 } }!
            XCTAssertEqual(contents.entries, entriesAfterFrame[intact], "cut at \(cut)")
            let torn = intact + 1 < frameEnds.count && original[cut..<frameEnds[intact + 1]].contains { $0 != 0 }
                && frameEnds[intact] < cut
            XCTAssertEqual(contents.tornTail != nil, torn, "cut at \(cut)")
        }
    }

    /// A flipped byte in an earlier frame, with valid frames after it, is corruption:
    /// recovery refuses and names the file and the frame's offset.
    func testChecksumFailureBeforeTheTailIsAHardError() throws {
        var frameStarts: [Int] = []
        do {
            let (wal, _) = try open()
            for index in 1...3 {
                frameStarts.append(wal.writeOffset)
                wal.append(entries: [entry(Raft.Index(index))])
                try wal.commit()
            }
        }
        let segment = try onlySegment()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        bytes[frameStarts[1] + 12] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: segment))
        XCTAssertThrowsError(try open()) { error in
            guard case let .corrupt(path, offset, _) = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, segment)
            XCTAssertEqual(offset, frameStarts[1])
        }
    }

    /// Any single flipped byte anywhere yields either a clear error or a prefix of what was
    /// written — never different entries.
    func testRandomCorruptionYieldsAPrefixOrAClearError() throws {
        var written: [Raft.Entry] = []
        var end = 0
        do {
            let (wal, _) = try open()
            for index in 1...40 {
                let e = entry(Raft.Index(index))
                written.append(e)
                wal.append(entries: [e])
                try wal.commit()
            }
            end = wal.writeOffset
        }
        let segment = try onlySegment()
        let original = try Data(contentsOf: URL(fileURLWithPath: segment))
        var random = Raft.Random(seed: 11)
        var errors = 0
        for _ in 0..<300 {
            var bytes = original
            let position = Int(random.below(UInt64(end)))
            bytes[position] ^= UInt8(1 + random.below(255))
            try bytes.write(to: URL(fileURLWithPath: segment))
            do {
                let contents = try open().1
                XCTAssertEqual(Array(written.prefix(contents.entries.count)), contents.entries, "flip at \(position)")
            } catch let error as StorageError {
                errors += 1
                guard case .corrupt = error else { return XCTFail("unexpected \(error)") }
            }
            try original.write(to: URL(fileURLWithPath: segment))
        }
        XCTAssertGreaterThan(errors, 200, "flips before the last frame must be reported")
    }

    func testForeignFileIsRejected() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 100).write(to: URL(fileURLWithPath: directory + "/wal-0000000000000001.seg"))
        XCTAssertThrowsError(try open()) { error in
            guard case .corrupt = error as? StorageError else { return XCTFail("\(error)") }
        }
    }

    // MARK: Helpers

    func onlySegment() throws -> String {
        let names = try fileSystem.list(directory).filter { $0.hasSuffix(".seg") }
        XCTAssertEqual(names.count, 1)
        return directory + "/" + names[0]
    }
}
