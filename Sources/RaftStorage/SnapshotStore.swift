import CRC32C
import RaftCore

/// A saved or installed snapshot file.
public struct SnapshotFile: Equatable, Sendable {
    /// The file's path.
    public var path: String
    /// Its verified metadata; `metadata.fileSizeBytes` is the file's size.
    public var metadata: SnapshotMetadata

    /// The file's name.
    public var name: SnapshotName { metadata.name }
    /// The file's size in bytes: what Raft's `SnapshotMeta.sizeBytes` and its chunked
    /// transfer count, since members ship the compressed file.
    public var sizeBytes: Int { metadata.fileSizeBytes }
}

/// The snapshots in one directory, one lz4 file each (layout: SnapshotFormat.swift).
///
/// Every file operation goes through `FileSystem`, so tests substitute a fault-injecting one.
/// Writing follows the usual dance: a `.tmp` file, data, file sync, rename, directory sync;
/// a crash leaves either the old set of files or the new one, plus at most a `.tmp` leftover.
/// Calls block on disk I/O: run them on the storage thread, not on the event loop. The store
/// keeps no mutable state, so concurrent readers (sending chunks) need no lock, but
/// `newestValid` removes `.tmp` files and must not run while a save is in progress.
///
/// It is handed to other threads (a member saves snapshots off its event loop): it holds no
/// mutable state, and `PosixFileSystem` takes calls from any thread. (`FaultyFileSystem`
/// does not, and the simulator uses it from one thread.)
public final class SnapshotStore: @unchecked Sendable {
    /// Uncompressed bytes handed to lz4 per call when saving; bounds the output buffer
    /// (about this much plus one 256 KiB block) whatever size of pieces the caller yields.
    public static let compressChunkBytes = 1 << 20
    /// Compressed bytes read from the file per read when decompressing.
    public static let decompressReadBytes = 1 << 20
    /// The largest piece of decompressed bytes handed to a consumer.
    public static let decompressPieceBytes = 1 << 20
    /// The most bytes one `readFileRange` returns (Raft's chunks are 1 MiB by default).
    public static let rangeReadBytesMax = 16 << 20
    /// Received files are written in writes of at most this many bytes.
    static let installWriteBytes = 4 << 20

    /// The snapshots' directory.
    public let directory: String
    let fileSystem: any FileSystem
    private let compressionLevel: Int32

    /// Opens the directory, creating it (and making its entry durable) if missing.
    /// `compressionLevel` 0 is lz4's fast mode; 3...12 select lz4hc: smaller files, several
    /// times slower to write, as fast to read.
    public init(fileSystem: any FileSystem, directory: String, compressionLevel: Int32 = 0) throws(StorageError) {
        self.fileSystem = fileSystem
        self.directory = directory
        self.compressionLevel = compressionLevel
        try makeDurableDirectory(directory, fileSystem: fileSystem)
    }

    /// The path of the snapshot called `name`.
    public func path(of name: SnapshotName) -> String { joinPath(directory, name.fileName) }

    // MARK: Writing

    /// Saves a snapshot whose state-machine bytes `nextChunk` yields piece by piece (nil at
    /// the end; pieces of any size, empty ones allowed), compressing as they come. `meta`'s
    /// `sizeBytes` is ignored: the returned file's `sizeBytes` is the real file size. A file
    /// of the same name is replaced. Throws the file system's errors; the `.tmp` file is
    /// removed on failure when possible.
    public func save(meta: Raft.SnapshotMeta, nextChunk: () -> [UInt8]?) throws(StorageError) -> SnapshotFile {
        var metadata = SnapshotMetadata(index: meta.index, term: meta.term, membership: meta.membership)
        let finalPath = path(of: metadata.name)
        let temporaryPath = joinPath(directory, metadata.name.temporaryFileName)
        let file = try fileSystem.open(temporaryPath, create: true)
        do throws(StorageError) {
            defer { file.close() }
            try file.truncate(to: 0)  // a leftover of a crashed attempt at the same snapshot
            let encoder = LZ4FrameEncoder(inputBytesMax: SnapshotStore.compressChunkBytes,
                                          compressionLevel: compressionLevel)
            // The metadata frame's size depends only on the membership: reserve it, stream the
            // lz4 frame behind it, and fill it in once the data's size and CRC are known.
            var offset = metadata.metadataFrameBytes
            let header = encoder.begin()
            try file.write(header, at: offset)
            offset += header.count
            var dataCRC: UInt32 = 0
            var dataBytes = 0
            while let chunk = nextChunk() {
                var start = 0
                while start < chunk.count {
                    let stop = min(chunk.count, start + SnapshotStore.compressChunkBytes)
                    let compressed = chunk.withUnsafeBytes { raw in
                        let piece = UnsafeRawBufferPointer(rebasing: raw[start..<stop])
                        dataCRC = CRC32C.checksum(piece, extending: dataCRC)
                        return encoder.update(piece)
                    }
                    if !compressed.isEmpty {  // lz4 holds input back until a block is full
                        try file.write(compressed, at: offset)
                        offset += compressed.count
                    }
                    dataBytes += stop - start
                    start = stop
                }
            }
            let tail = encoder.end()
            try file.write(tail, at: offset)
            offset += tail.count
            metadata.dataSizeBytes = dataBytes
            metadata.dataCRC32C = dataCRC
            metadata.compressedSizeBytes = offset - metadata.metadataFrameBytes
            try file.write(metadata.encoded(), at: 0)
            try file.sync()
        } catch {
            try? fileSystem.remove(temporaryPath)
            throw error
        }
        try publish(temporaryPath, as: finalPath)
        return SnapshotFile(path: finalPath, metadata: metadata)
    }

    /// Saves a snapshot whose state-machine bytes are `chunks`, in order.
    public func save(meta: Raft.SnapshotMeta, chunks: [[UInt8]]) throws(StorageError) -> SnapshotFile {
        var iterator = chunks.makeIterator()
        return try save(meta: meta, nextChunk: { iterator.next() })
    }

    /// Saves a snapshot whose state-machine bytes are `data`.
    public func save(meta: Raft.SnapshotMeta, data: [UInt8]) throws(StorageError) -> SnapshotFile {
        try save(meta: meta, chunks: [data])
    }

    /// Installs a snapshot file received whole from the leader: checks its metadata, that it
    /// agrees with `expected` (what Raft said it is sending; `.inconsistent` otherwise), and
    /// that it decompresses to data of the recorded size and CRC-32C (`.corrupt` otherwise),
    /// before writing it like `save` does. Nothing is written for a bad file.
    public func install(fileBytes: [UInt8], expected: Raft.SnapshotMeta? = nil) throws(StorageError) -> SnapshotFile {
        let receivedPath = joinPath(directory, "(received snapshot)")
        let metadata = try SnapshotStore.metadata(of: fileBytes, path: receivedPath)
        if let expected, expected != metadata.raftMeta {
            throw .inconsistent("received snapshot file describes \(metadata.raftMeta), Raft expected \(expected)")
        }
        let reader = try SnapshotDataReader(source: .bytes(fileBytes), path: receivedPath, metadata: metadata)
        try reader.verifyAll()

        let finalPath = path(of: metadata.name)
        let temporaryPath = joinPath(directory, metadata.name.temporaryFileName)
        let file = try fileSystem.open(temporaryPath, create: true)
        do throws(StorageError) {
            defer { file.close() }
            try file.truncate(to: 0)
            var offset = 0
            while offset < fileBytes.count {
                let stop = min(fileBytes.count, offset + SnapshotStore.installWriteBytes)
                let failure = fileBytes.withUnsafeBytes { raw -> StorageError? in
                    do throws(StorageError) {
                        try file.write(UnsafeRawBufferPointer(rebasing: raw[offset..<stop]), at: offset)
                        return nil
                    } catch { return error }
                }
                if let failure { throw failure }
                offset = stop
            }
            try file.sync()
        } catch {
            try? fileSystem.remove(temporaryPath)
            throw error
        }
        try publish(temporaryPath, as: finalPath)
        return SnapshotFile(path: finalPath, metadata: metadata)
    }

    /// Renames a synced temporary file to its final name and makes the rename durable.
    private func publish(_ temporaryPath: String, as finalPath: String) throws(StorageError) {
        try fileSystem.rename(temporaryPath, to: finalPath)
        try fileSystem.syncDirectory(directory)
    }

    /// Deletes all but the newest `keep` snapshots whose metadata checks out, with every file
    /// older than the oldest of those (valid or not), then syncs the directory. Unreadable
    /// files newer than that are left for an operator to look at; they age out as newer
    /// snapshots are saved. Returns the names removed, oldest first.
    @discardableResult
    public func retain(keep: Int = 2) throws(StorageError) -> [SnapshotName] {
        precondition(keep >= 1, "retain must keep at least one snapshot")
        let names = try list()
        var valid = 0
        var cut: Int?  // position in `names` of the oldest snapshot kept for being valid
        for position in names.indices.reversed() where (try? readMetadata(path(of: names[position]))) != nil {
            valid += 1
            if valid == keep { cut = position; break }
        }
        guard let cut, cut > 0 else { return [] }
        let doomed = Array(names[..<cut])
        for name in doomed { try fileSystem.remove(path(of: name)) }
        try fileSystem.syncDirectory(directory)
        return doomed
    }
}

/// The directory that holds `path` ("." for a bare name).
func parentDirectory(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
}
