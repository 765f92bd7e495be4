import RaftCore
import SimKit
import XCTest

/// Snapshots: compaction, InstallSnapshot in bounded chunks with a bounded window, resuming
/// and restarting transfers (Raft §7).
final class SnapshotTests: XCTestCase {
    /// Three voters snapshotting every 5 entries; 3 was cut off while entries 3...12 committed,
    /// and the leader's log now starts after its snapshot at 12 (an lz4 snapshot file of 166 bytes).
    func laggingCluster(configure: @escaping @Sendable (inout Raft.Config) -> Void = { _ in }) throws -> ManualCluster {
        var cluster = ManualCluster(voters: [1, 2, 3], snapshotEveryEntries: 5) { config in
            config.snapshotChunkBytesMax = 40
            configure(&config)
        }
        cluster.elect(1)
        cluster.isolate(3)
        try cluster.with(1) { try $0.propose(batch: (0..<10).map { cmd("c\($0)") }) }
        cluster.stabilize()
        cluster.heal()
        XCTAssertEqual(cluster.status(1).snapshotIndex, 12)
        XCTAssertEqual(cluster.status(3).lastIndex, 2)
        return cluster
    }

    /// Ticks the leader (delivering heartbeats) until it finds out that 3 needs the snapshot;
    /// the first chunks are then in flight. Returns the number of ticks it took.
    @discardableResult
    func startTransfer(_ cluster: inout ManualCluster, file: StaticString = #filePath, line: UInt = #line) -> Int {
        for tick in 1...20 {
            cluster.tick(1)
            if cluster.status(1).followers[3]?.state == "snapshot" { return tick }
            cluster.stabilize()
        }
        XCTFail("no snapshot transfer started", file: file, line: line)
        return 0
    }

    func chunks(_ messages: [Raft.Message], to peer: Raft.NodeID = 3) -> [String] {
        messages.filter { $0.to == peer }.compactMap(\.chunkRange)
    }

    func testLaggingFollowerGetsSnapshotInChunks() throws {
        var cluster = try laggingCluster()
        XCTAssertGreaterThan(cluster.hosts[1]!.newestSnapshotBytes, 0)
        XCTAssertLessThanOrEqual(startTransfer(&cluster), 10, "found within an election timeout")
        XCTAssertEqual(trace(cluster.inFlight.filter { $0.to == 3 && $0.chunkRange != nil }).first,
                       "1->3 Snap index=12 term=2 bytes=0+40/166 term=2")

        let delivered = cluster.stabilize()
        XCTAssertEqual(chunks(delivered), ["0+40", "40+40", "80+40", "120+40", "160+6"])
        XCTAssertTrue(trace(delivered).contains("3->1 SnapResp index=12 received=166 match=12 term=2"))
        XCTAssertEqual(cluster.status(3).snapshotIndex, 12)
        XCTAssertEqual(cluster.status(3).commit, 12)
        XCTAssertEqual(cluster.hosts[3]!.machine, cluster.hosts[1]!.machine)
        XCTAssertEqual(cluster.status(1).followers[3]?.match, 12)
        XCTAssertEqual(cluster.status(1).followers[3]?.state, "replicate")

        // Replication continues with ordinary appends after the snapshot.
        try cluster.propose(1, "after")
        cluster.settle()
        XCTAssertEqual(cluster.status(3).commit, 13)
        XCTAssertEqual(cluster.hosts[3]!.machine.commands.last, cmd("after"))
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testSnapshotChunksInFlightBoundedByWindow() throws {
        var cluster = try laggingCluster { $0.snapshotChunksInflightMax = 2 }
        startTransfer(&cluster)
        XCTAssertEqual(chunks(cluster.inFlight), ["0+40", "40+40"], "a window of two chunks")

        // Each acknowledged chunk lets one more go.
        cluster.deliver(where: { $0.to == 3 && $0.chunkRange == "0+40" })
        cluster.deliver(where: { $0.from == 3 })
        XCTAssertEqual(chunks(cluster.inFlight), ["40+40", "80+40"])
        cluster.stabilize()
        XCTAssertEqual(cluster.status(3).snapshotIndex, 12)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testSnapshotTransferResumesAfterLostChunk() throws {
        var cluster = try laggingCluster()
        startTransfer(&cluster)
        XCTAssertEqual(chunks(cluster.inFlight), ["0+40", "40+40", "80+40", "120+40"])
        XCTAssertEqual(cluster.drop(where: { $0.chunkRange == "40+40" }).count, 1)

        // 3 keeps the first 40 bytes and answers the chunks after the gap with its position;
        // the leader resends from byte 40 (not 0), without waiting for a timeout.
        let delivered = cluster.stabilize()
        XCTAssertTrue(trace(delivered).contains("3->1 SnapResp index=12 received=40 term=2"))
        XCTAssertEqual(chunks(delivered), ["0+40", "80+40", "120+40", "160+6", "40+40", "80+40", "120+40", "160+6"])
        XCTAssertEqual(cluster.status(3).snapshotIndex, 12)
        XCTAssertEqual(cluster.hosts[3]!.machine, cluster.hosts[1]!.machine)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testLostLastChunkIsResentAfterElectionTimeout() throws {
        var cluster = try laggingCluster()
        startTransfer(&cluster)
        cluster.stabilize(losing: { $0.chunkRange == "160+6" })
        XCTAssertEqual(cluster.status(3).snapshotIndex, 0, "the last chunk was lost")

        var resent: [String] = []
        for _ in 0..<10 {
            cluster.tick(1)
            resent += chunks(cluster.stabilize())
        }
        XCTAssertEqual(resent, ["160+6"], "only what was not acknowledged")
        XCTAssertEqual(cluster.status(3).snapshotIndex, 12)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testSnapshotTransferStartsOverWhenFollowerLosesWhatItAssembled() throws {
        var cluster = try laggingCluster()
        startTransfer(&cluster)
        cluster.deliver(where: { $0.chunkRange == "0+40" || $0.chunkRange == "40+40" })
        cluster.deliver(where: { $0.from == 3 })  // the leader now knows 80 bytes arrived
        cluster.crash(3)  // the partial snapshot lived only in memory
        cluster.restart(3)

        var sent: [String] = []
        var answers: [String] = []
        for _ in 0..<10 {
            cluster.tick(1)
            let delivered = cluster.stabilize()
            sent += chunks(delivered)
            answers += trace(delivered.filter { $0.from == 3 && !$0.isHeartbeatResponse })
        }
        XCTAssertEqual(sent.first, "80+40", "first the leader resumes where it believes 3 is")
        XCTAssertEqual(answers.first, "3->1 SnapResp index=12 received=0 term=2")
        // Then from the byte 3 reports. (Its answers to the other stale chunks make the leader
        // send the first window twice: wasteful, not wrong.)
        XCTAssertEqual(Array(sent.drop(while: { $0 != "0+40" }).prefix(4)), ["0+40", "40+40", "80+40", "120+40"])
        XCTAssertTrue(sent.contains("160+6"))
        XCTAssertEqual(cluster.status(3).snapshotIndex, 12)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testFollowerRefusesSnapshotLargerThanItsLimit() throws {
        var cluster = try laggingCluster { config in
            if config.id == 3 { config.snapshotBytesMax = 50 }
        }
        startTransfer(&cluster)
        let delivered = cluster.stabilize()
        XCTAssertEqual(chunks(delivered).count, 4, "the first window went out")
        XCTAssertEqual(delivered.filter { $0.from == 3 && !$0.isHeartbeatResponse && !$0.isAppendResponse }, [],
                       "and was dropped without an answer")
        XCTAssertEqual(cluster.status(3).snapshotIndex, 0)
        XCTAssertEqual(cluster.status(3).lastIndex, 2)
        XCTAssertEqual(cluster.checker.violations, [])
    }

    func testChunkOfSnapshotAlreadyCoveredIsAnsweredWithMatch() throws {
        var cluster = try laggingCluster()
        XCTAssertEqual(cluster.status(2).commit, 12)
        let meta = Raft.SnapshotMeta(index: 12, term: 2, membership: Raft.Membership(voters: [1, 2, 3]), sizeBytes: 76)
        let chunk = Raft.Message.SnapshotChunk(meta: meta, offset: 0, length: 16, data: Array(repeating: 0, count: 16))
        cluster.with(2) { $0.step(msg(1, 2, 2, .snapshotChunk(chunk))) }
        XCTAssertEqual(trace(cluster.inFlight), ["2->1 SnapResp index=12 received=76 match=12 term=2"])
        XCTAssertEqual(cluster.status(2).snapshotIndex, 12, "its own compaction, not the leader's bytes")
        XCTAssertEqual(cluster.hosts[2]!.machine.commands.count, 10)
    }

    func testCompactionDropsEntriesButKeepsSnapshotPoint() throws {
        var node = try makeNode(1, voters: [1])
        node.campaign()
        node.advance(node.ready().ack)  // the vote is durable: it leads
        node.advance(node.ready().ack)  // its no-op is durable
        _ = try node.propose(batch: (3...7).map { cmd("e\($0)") })
        node.advance(node.ready().ack)
        XCTAssertEqual(node.ready().committedEntries.map(\.index), [3, 4, 5, 6, 7])
        XCTAssertEqual(node.status.applied, 7)

        let meta = node.compact(to: 5, snapshotSizeBytes: 123)
        XCTAssertEqual(meta, Raft.SnapshotMeta(index: 5, term: 2, membership: Raft.Membership(voters: [1]), sizeBytes: 123))
        XCTAssertEqual(node.status.snapshotIndex, 5)
        XCTAssertEqual(node.term(at: 5), 2, "the snapshot point keeps its term")
        XCTAssertNil(node.term(at: 4))
        XCTAssertEqual(node.entries(from: 1, through: 7).map(\.index), [6, 7])
        XCTAssertEqual(node.status.lastIndex, 7)
        XCTAssertEqual(node.status.commit, 7)
    }

    /// The host may free compacted entries elsewhere: they come back in one array, and the
    /// log keeps exactly the rest.
    func testCompactionHandsBackTheDroppedEntries() throws {
        var node = try makeNode(1, voters: [1])
        node.campaign()
        node.advance(node.ready().ack)
        node.advance(node.ready().ack)
        _ = try node.propose(batch: (3...7).map { cmd("e\($0)") })
        node.advance(node.ready().ack)
        _ = node.ready()

        let (meta, dropped) = node.compactHandingBack(to: 6, snapshotSizeBytes: 1)
        XCTAssertEqual(meta.index, 6)
        XCTAssertTrue(dropped.map(\.index).starts(with: [1, 2, 3, 4, 5, 6]), "the array that held entries 1...6")
        XCTAssertEqual(node.entries(from: 1, through: 7).map(\.index), [7])
        XCTAssertEqual(node.compactHandingBack(to: 6, snapshotSizeBytes: 1).dropped, [], "nothing more to drop")
    }
}
