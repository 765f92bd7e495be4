import Foundation
import RaftCore
import RaftStorage
import XCTest

final class GroupCommitWorkerTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gcw-\(UUID().uuidString)").path
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Many batches submitted from one thread while syncs are in flight complete in order,
    /// with far fewer syncs than batches, and everything is on disk afterwards.
    func testBatchesCompleteInOrderWithFewerSyncsThanBatches() throws {
        let (wal, _) = try WriteAheadLog.open(directory: directory, fileSystem: PosixFileSystem(), segmentBytes: 1 << 20)
        let completed = Completed()
        let worker = GroupCommitWorker(wal: wal) { tokens, error in
            XCTAssertNil(error)
            completed.add(tokens)
        }
        let count = 2000
        for i in 1...count {
            let entry = Raft.Entry(term: 1, index: Raft.Index(i), payload: .command(Array("e\(i)".utf8)))
            worker.submit(.init(token: UInt64(i), entries: [entry], hardState: nil, needsSync: true))
        }
        worker.stop()
        XCTAssertEqual(completed.tokens, (1...count).map(UInt64.init))
        let (syncs, batches) = worker.statistics
        XCTAssertEqual(batches, count)
        XCTAssertLessThan(syncs, count, "group commit must share syncs")
        let (_, contents) = try WriteAheadLog.open(directory: directory, fileSystem: PosixFileSystem(), segmentBytes: 1 << 20)
        XCTAssertEqual(contents.entries.count, count)
    }

    /// A commit-index-only hard state needs no sync: it completes at once and is written with
    /// the next synced frame.
    func testCommitOnlyHardStateIsNotSyncedAlone() throws {
        let (wal, _) = try WriteAheadLog.open(directory: directory, fileSystem: PosixFileSystem(), segmentBytes: 1 << 20)
        let completed = Completed()
        let worker = GroupCommitWorker(wal: wal) { tokens, _ in completed.add(tokens) }
        worker.submit(.init(token: 1, entries: [], hardState: Raft.HardState(term: 1, vote: 1, commit: 5), needsSync: false))
        worker.stop()
        XCTAssertEqual(completed.tokens, [1])
        XCTAssertEqual(worker.statistics.syncs, 0)
    }
}

private final class Completed: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [UInt64] = []
    func add(_ tokens: [UInt64]) { lock.lock(); all += tokens; lock.unlock() }
    var tokens: [UInt64] { lock.lock(); defer { lock.unlock() }; return all }
}
