import Foundation
import RaftCore
import RaftStorage
import SimKit
import XCTest

/// A member's whole data directory: lock, recovery of snapshot + WAL, failure behaviour.
final class MemberStorageTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("member-\(UUID().uuidString)").path
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func entry(_ index: Raft.Index, term: Raft.Term = 2) -> Raft.Entry {
        Raft.Entry(term: term, index: index, payload: .command(Array("e\(index)".utf8)))
    }

    func testSecondProcessIsRefusedTheDirectory() throws {
        let (first, _) = try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem())
        XCTAssertThrowsError(try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem())) { error in
            XCTAssertEqual(error as? StorageError, .locked(path: directory))
            XCTAssertTrue("\(error)".contains("in use by another shoal process"))
        }
        first.close()
        XCTAssertNoThrow(try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem()))
    }

    /// A member restarted from its directory resumes with its term, vote and log.
    func testRestartResumesTermVoteAndLog() throws {
        let founding = Raft.PersistentState.bootstrap(voters: [1, 2, 3])
        do {
            let (storage, recovered) = try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem())
            XCTAssertTrue(recovered.isEmpty)
            storage.append(entries: founding.entries, hardState: founding.hardState)
            storage.append(entries: [entry(2), entry(3)], hardState: Raft.HardState(term: 2, vote: 3, commit: 2))
            try storage.wal.commit()
        }
        let (_, recovered) = try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem())
        XCTAssertFalse(recovered.isEmpty)
        XCTAssertEqual(recovered.state.hardState, Raft.HardState(term: 2, vote: 3, commit: 2))
        XCTAssertEqual(recovered.state.entries, founding.entries + [entry(2), entry(3)])
        var config = Raft.Config(id: 1, randomSeed: 1)
        config.electionTimeoutTicks = 10
        let node = try RaftNode(config: config, state: recovered.state)
        XCTAssertEqual(node.term, 2)
        XCTAssertEqual(node.vote, 3)
        XCTAssertEqual(node.status.lastIndex, 3)
        XCTAssertEqual(node.membership.voters, [1, 2, 3])
    }

    /// Snapshot plus the WAL entries after it; entries the snapshot covers are dropped.
    func testRecoveryJoinsSnapshotAndLaterEntries() throws {
        let membership = Raft.Membership(voters: [1])
        do {
            let (storage, _) = try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem())
            storage.append(entries: (1...10).map { entry($0) }, hardState: Raft.HardState(term: 2, vote: 1, commit: 10))
            try storage.wal.commit()
            let file = try storage.saveSnapshot(meta: Raft.SnapshotMeta(index: 6, term: 2, membership: membership, sizeBytes: 0),
                                                data: Array("state at 6".utf8))
            XCTAssertGreaterThan(file.sizeBytes, 0)
        }
        let (storage, recovered) = try MemberStorage.open(directory: directory, fileSystem: PosixFileSystem())
        XCTAssertEqual(recovered.state.snapshot.index, 6)
        XCTAssertEqual(recovered.state.snapshot.membership, membership)
        XCTAssertEqual(recovered.state.entries.map(\.index), [7, 8, 9, 10])
        var data: [UInt8] = []
        _ = try storage.snapshots.decompress(recovered.snapshot!.path) { (piece: [UInt8]) throws(StorageError) in data += piece }
        XCTAssertEqual(data, Array("state at 6".utf8))
    }

    /// The PostgreSQL fsync lesson: after a failed sync nothing more is written.
    func testFailedSyncStopsTheLogForGood() throws {
        let disk = FaultyFileSystem(seed: 3)
        disk.makeDurableDirectories("/data")
        let (storage, _) = try MemberStorage.open(directory: "/data", fileSystem: disk, segmentBytes: 64 << 10)
        storage.append(entries: [entry(1)], hardState: nil)
        try storage.wal.flush()
        let segment = storage.wal.segmentPaths.last!
        disk.failNextSync(path: segment)
        XCTAssertThrowsError(try storage.wal.sync()) { error in
            guard case .syncFailed = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("stopping"))
        }
        storage.append(entries: [entry(2)], hardState: nil)
        XCTAssertThrowsError(try storage.wal.commit()) { error in
            guard case .stopped = error as? StorageError else { return XCTFail("\(error)") }
        }
    }

    /// Random crashes of a member writing batches: after every crash, recovery yields every
    /// batch acknowledged (synced) before it, and at most the batches written after it — never
    /// anything else.
    func testRandomCrashesKeepExactlyAnAcknowledgedPrefix() throws {
        for seed in UInt64(1)...40 {
            let disk = FaultyFileSystem(seed: seed)
            disk.makeDurableDirectories("/data")
            var random = Raft.Random(seed: seed)
            var acknowledged: [Raft.Entry] = []
            var written: [Raft.Entry] = []
            for _ in 0..<6 {
                let (storage, recovered) = try MemberStorage.open(directory: "/data", fileSystem: disk, segmentBytes: 8 << 10)
                let entries = recovered.state.entries
                XCTAssertEqual(Array(entries.prefix(acknowledged.count)), acknowledged, "seed \(seed): lost acknowledged entries")
                XCTAssertEqual(Array(written.prefix(entries.count)), entries, "seed \(seed): recovered entries never written")
                acknowledged = entries
                written = entries
                for _ in 0..<(1 + random.below(30)) {
                    let next = Raft.Index(written.count + 1)
                    let batch = (0..<(1 + random.below(5))).map { entry(next + $0, term: 2) }
                    storage.append(entries: batch, hardState: Raft.HardState(term: 2, vote: 1, commit: 0))
                    written += batch
                    try storage.wal.flush()
                    if random.chance(4, in: 5) {
                        try storage.wal.sync()
                        acknowledged = written
                    } else {
                        break  // crash with the last frame written but not synced
                    }
                }
                disk.crash()
            }
        }
    }
}
