import RaftCore

/// What `newestValid` found in the snapshot directory.
public struct SnapshotScan: Sendable {
    /// A snapshot file that could not be used, and why.
    public struct Skipped: Equatable, Sendable {
        /// The file's name.
        public var name: SnapshotName
        /// Why it was skipped (`.corrupt`, `.unsupportedFormat` or `.io`).
        public var error: StorageError
    }

    /// The newest snapshot whose metadata checks out, if any.
    public var newest: SnapshotFile?
    /// Newer snapshots passed over on the way to `newest`, newest first.
    public var skipped: [Skipped]
    /// Leftover `.tmp` files of interrupted writes that were removed.
    public var removedTemporaries: [String]
}

extension SnapshotStore {
    /// The snapshot files present, oldest first, by name only (nothing is read). Other files
    /// in the directory, `.tmp` leftovers among them, are not listed.
    public func list() throws(StorageError) -> [SnapshotName] {
        try fileSystem.list(directory).compactMap { SnapshotName(fileName: $0) }.sorted()
    }

    /// Finds the newest snapshot whose metadata frame checks out (magic, bounds, checksum,
    /// version, membership, file size), reporting the newer ones it had to skip, and removes
    /// `.tmp` leftovers of interrupted writes. The data itself is verified when it is read
    /// (`decompress`); a caller whose restore fails can fall back to an older snapshot.
    /// Call it at recovery, before any save: a save in progress has a `.tmp` file.
    public func newestValid() throws(StorageError) -> SnapshotScan {
        let entries = try fileSystem.list(directory)
        var removed: [String] = []
        for entry in entries where entry.hasPrefix("snap-") && entry.hasSuffix(SnapshotFormat.temporarySuffix) {
            try fileSystem.remove(joinPath(directory, entry))
            removed.append(entry)
        }
        if !removed.isEmpty { try fileSystem.syncDirectory(directory) }
        var scan = SnapshotScan(newest: nil, skipped: [], removedTemporaries: removed)
        for name in entries.compactMap({ SnapshotName(fileName: $0) }).sorted().reversed() {
            let filePath = path(of: name)
            do throws(StorageError) {
                scan.newest = SnapshotFile(path: filePath, metadata: try readMetadata(filePath))
                return scan
            } catch {
                scan.skipped.append(SnapshotScan.Skipped(name: name, error: error))
            }
        }
        return scan
    }

    /// Reads and checks a snapshot file's metadata frame and its size (a truncated file is
    /// caught here, without decompressing). For a file named like a snapshot, the name must
    /// match the metadata's index and term.
    public func readMetadata(_ path: String) throws(StorageError) -> SnapshotMetadata {
        let file = try fileSystem.open(path, create: false)
        defer { file.close() }
        return try SnapshotStore.readMetadata(file)
    }

    /// Up to `count` bytes of a snapshot file from `offset`, for sending it in chunks: fewer at
    /// the end of the file, none past it, and never more than `rangeReadBytesMax`, whatever
    /// `count` asks for. Only the range is read.
    public func readFileRange(_ path: String, offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        precondition(offset >= 0 && count >= 0, "negative snapshot range \(offset), \(count)")
        let file = try fileSystem.open(path, create: false)
        defer { file.close() }
        return try file.read(at: offset, count: min(count, SnapshotStore.rangeReadBytesMax))
    }

    /// Opens a snapshot's data for streaming decompression (see `SnapshotDataReader`).
    public func openData(_ path: String) throws(StorageError) -> SnapshotDataReader {
        let file = try fileSystem.open(path, create: false)
        do throws(StorageError) {
            let metadata = try SnapshotStore.readMetadata(file)
            return try SnapshotDataReader(source: .file(file), path: path, metadata: metadata)
        } catch {
            file.close()
            throw error
        }
    }

    /// Decompresses a snapshot's data, handing it to `consume` in pieces of at most
    /// `decompressPieceBytes`, and verifies size and CRC-32C at the end: an lz4 error or a
    /// mismatch is `.corrupt(path:offset:reason:)`. Until this returns, treat what `consume`
    /// received as provisional (discard it on a throw). `consume`'s own errors pass through.
    @discardableResult
    public func decompress(_ path: String, consume: ([UInt8]) throws(StorageError) -> Void) throws(StorageError) -> SnapshotMetadata {
        let reader = try openData(path)
        while let piece = try reader.next() { try consume(piece) }
        return reader.metadata
    }

    /// Checks the metadata frame at the start of a whole file held in memory.
    static func metadata(of fileBytes: [UInt8], path: String) throws(StorageError) -> SnapshotMetadata {
        let header = Array(fileBytes.prefix(SnapshotFormat.frameHeaderBytes))
        let payload = try SnapshotMetadata.payloadBytes(header: header, path: path, fileSizeBytes: fileBytes.count)
        let frame = Array(fileBytes[0..<SnapshotFormat.frameHeaderBytes + payload])
        return try SnapshotMetadata.decode(frame: frame, path: path, fileSizeBytes: fileBytes.count)
    }

    /// Checks the metadata frame of an open file, reading only the frame.
    static func readMetadata(_ file: any StorageFile) throws(StorageError) -> SnapshotMetadata {
        let fileSize = try file.size()
        let header = try file.read(at: 0, count: SnapshotFormat.frameHeaderBytes)
        let payload = try SnapshotMetadata.payloadBytes(header: header, path: file.path, fileSizeBytes: fileSize)
        let frame = try file.read(at: 0, count: SnapshotFormat.frameHeaderBytes + payload)
        guard frame.count == SnapshotFormat.frameHeaderBytes + payload else {
            throw .corrupt(path: file.path, offset: frame.count, reason: "file shrank while its metadata was read")
        }
        let metadata = try SnapshotMetadata.decode(frame: frame, path: file.path, fileSizeBytes: fileSize)
        let fileName = String(file.path.split(separator: "/").last ?? "")
        if let named = SnapshotName(fileName: fileName), named != metadata.name {
            throw .corrupt(path: file.path, offset: 16,
                           reason: "metadata says index \(metadata.index) term \(metadata.term), the name says otherwise")
        }
        return metadata
    }
}
