import RaftStorage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Crashes, injected faults and inspection for tests.
extension FaultyFileSystem {
    // MARK: Crashes

    /// A power loss: every directory reverts to its durable listing and every file to its
    /// durable content, except that, per `options`, a random prefix (in issue order) of each
    /// file's unsynced operations reached the disk anyway, the last of them possibly torn.
    /// Locks are released, files opened before are dead, and injected failures not yet
    /// triggered are cleared (the process that asked for them is gone).
    public func crash() {
        crash(keepingUnsyncedPrefix: options.keepUnsyncedPrefix, tearing: options.tearLastWrite)
    }

    /// A power loss that keeps nothing unsynced: the disk holds exactly what was synced.
    public func crashLosingAllUnsynced() {
        crash(keepingUnsyncedPrefix: false, tearing: false)
    }

    private func crash(keepingUnsyncedPrefix: Bool, tearing: Bool) {
        crashCount += 1
        heldLocks = [:]
        for directory in nodes.values where directory.isDirectory {
            directory.currentEntries = directory.durableEntries
        }
        collectGarbage()  // files only a volatile listing named are gone
        // Sorted: Dictionary order differs between processes, and each file draws random
        // numbers, so an unsorted walk would break reproducibility of a seed.
        for id in nodes.keys.sorted() {
            let file = node(id)
            file.pendingSyncFailure = nil
            file.pendingWriteFailure = nil
            if file.isDirectory { continue }
            let ops = file.unsynced
            file.unsynced = []
            let surviving = keepingUnsyncedPrefix && !ops.isEmpty ? Int(random.below(UInt64(ops.count) + 1)) : 0
            for (index, op) in ops.prefix(surviving).enumerated() {
                if tearing, index == surviving - 1, case let .write(offset, bytes) = op, random.chance(1, in: 2) {
                    tear(bytes, at: offset, into: &file.durable)
                } else {
                    op.apply(to: &file.durable)
                }
            }
            file.current = file.durable
        }
    }

    /// Writes only part of a write, as a disk losing power in the middle of it.
    private func tear(_ bytes: [UInt8], at offset: Int, into content: inout [UInt8]) {
        switch options.tearMode {
        case .bytePrefix:
            let kept = Int(random.below(UInt64(bytes.count) + 1))
            FaultyDataOp.write(bytes[..<kept], at: offset, into: &content)
        case .sectors:
            // Sectors are aligned to the file, not to the write: a write starting mid-sector
            // shares its first sector with older data.
            let sector = options.sectorSizeBytes
            var start = offset
            while start < offset + bytes.count {
                let end = min((start / sector + 1) * sector, offset + bytes.count)
                if random.chance(1, in: 2) {
                    FaultyDataOp.write(bytes[(start - offset)..<(end - offset)], at: start, into: &content)
                }
                start = end
            }
        }
    }

    // MARK: Injected faults

    /// Corrupts `count` distinct random bytes of the disk copy of the file at `path`, each
    /// XORed with a random non-zero mask, and returns their offsets in ascending order.
    /// Reads see the corruption wherever the page cache holds no newer unsynced data.
    /// `count` must not exceed the durable size (sync first: only the disk can rot).
    @discardableResult
    public func flipBytes(path: String, count: Int = 1) -> [Int] {
        let file = existingFile(path, for: "flipBytes")
        precondition(count >= 0 && count <= file.durable.count,
                     "flipBytes(\(path)): \(count) bytes asked, \(file.durable.count) durable")
        var chosen: Set<Int> = []
        var offsets: [Int] = []
        while offsets.count < count {
            let offset = Int(random.below(UInt64(file.durable.count)))
            if chosen.insert(offset).inserted { offsets.append(offset) }
        }
        for offset in offsets {
            flip(file, at: offset, mask: UInt8(truncatingIfNeeded: 1 + random.below(255)))
        }
        return offsets.sorted()
    }

    /// Corrupts the byte at `offset` of the disk copy of the file at `path` by XORing it with
    /// `mask` (every bit by default); reads see it unless newer unsynced data covers it.
    public func flipByte(path: String, at offset: Int, mask: UInt8 = 0xFF) {
        let file = existingFile(path, for: "flipByte")
        precondition(offset >= 0 && offset < file.durable.count,
                     "flipByte(\(path)): offset \(offset) outside the \(file.durable.count) durable bytes")
        precondition(mask != 0, "flipByte: a zero mask changes nothing")
        flip(file, at: offset, mask: mask)
    }

    private func flip(_ file: FaultyNode, at offset: Int, mask: UInt8) {
        if file.isClean(at: offset) { file.current[offset] ^= mask }
        file.durable[offset] ^= mask
    }

    /// Makes the next sync of the file or directory at `path` fail with `errno` (EIO by
    /// default). For a file, the unsynced data is dropped as Linux drops it: reads still
    /// return it, it never reaches the disk, and the sync after that succeeds.
    public func failNextSync(path: String, errno code: Int32 = EIO) {
        existingNode(path, for: "failNextSync").pendingSyncFailure = code
    }

    /// Makes the next non-empty write to the file at `path` fail with `errno` (EIO by
    /// default; ENOSPC for a full disk) without writing anything.
    public func failNextWrite(path: String, errno code: Int32 = EIO) {
        existingFile(path, for: "failNextWrite").pendingWriteFailure = code
    }

    // MARK: Inspection

    /// The disk content of the file currently at `path` (what a crash losing every unsynced
    /// write would leave), or nil when no file is there.
    public func durableContent(_ path: String) -> [UInt8]? {
        fileIfPresent(path)?.durable
    }

    /// What a read of the file currently at `path` returns, or nil when no file is there.
    public func currentContent(_ path: String) -> [UInt8]? {
        fileIfPresent(path)?.current
    }

    /// How many writes, truncations and preallocations of the file at `path` are not yet
    /// synced (0 when no file is there).
    public func unsyncedWriteCount(_ path: String) -> Int {
        fileIfPresent(path)?.unsynced.count ?? 0
    }

    /// The paths of all files, sorted: in the current listings, or (`durable`) in the
    /// listings a crash would leave.
    public func filePaths(durable: Bool = false) -> [String] {
        var paths: [String] = []
        var visited: Set<Int> = [root.id]  // a crash between two directory syncs can link a directory twice
        var stack: [(FaultyNode, String)] = [(root, "")]
        while let (directory, prefix) = stack.popLast() {
            for (name, id) in durable ? directory.durableEntries : directory.currentEntries {
                let child = node(id)
                let path = prefix + "/" + name
                if !child.isDirectory {
                    paths.append(path)
                } else if visited.insert(id).inserted {
                    stack.append((child, path))
                }
            }
        }
        return paths.sorted()
    }

    private func fileIfPresent(_ path: String) -> FaultyNode? {
        guard let found = try? lookup(path, call: "inspect"), !found.isDirectory else { return nil }
        return found
    }

    private func existingNode(_ path: String, for hook: String) -> FaultyNode {
        guard let found = try? lookup(path, call: hook) else { preconditionFailure("\(hook): no file or directory at \(path)") }
        return found
    }

    private func existingFile(_ path: String, for hook: String) -> FaultyNode {
        let found = existingNode(path, for: hook)
        precondition(!found.isDirectory, "\(hook): \(path) is a directory")
        return found
    }
}
