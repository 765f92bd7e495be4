import RaftCore

// Snapshot file format, version 1.
//
// One file per snapshot, named `snap-<index: 16 lowercase hex>-<term: 16 lowercase hex>.lz4`
// (so names sort by index). The whole file is a valid lz4 stream: the stock `lz4 -d file out`
// skips the first frame, a skippable frame holding our metadata, and writes the state-machine
// bytes from the second. All integers are little-endian.
//
//   offset  size  field
//   ------  ----  -----------------------------------------------------------------------
//        0     4  0x184D2A50          lz4 skippable-frame magic (the lz4 tool skips the frame)
//        4     4  N                   bytes of the frame after this field; 56 <= N <= 1 MiB
//        8     4  "SHSN"              tag: this skippable frame is a shoal snapshot's
//       12     4  version = 1         format version
//       16     8  index               last log entry the snapshot covers
//       24     8  term                term of that entry
//       32     8  dataSizeBytes       uncompressed state-machine bytes
//       40     4  dataCRC32C          CRC-32C of the uncompressed bytes
//       44     8  compressedSizeBytes bytes of the lz4 frame that follows the skippable frame
//       52     4  V                   voter count, then V × 8-byte node ids
//              4  L                   learner count, then L × 8-byte node ids
//    8+N-4     4  metadataCRC32C      CRC-32C of bytes [0, 8+N-4): everything before it
//      8+N     …  lz4 frame           magic 0x184D2204, linked blocks, block and content checksums;
//                                     exactly compressedSizeBytes long, ending the file
//
// Rules kept by every future version, so that any version can tell "corrupt" from "newer":
// the frame starts with the skippable magic, the size, the tag and the version, and its last
// 4 bytes are the CRC-32C of everything before them. The checksum is verified before the
// version is looked at, so a flipped version byte reads as corruption, not as a newer format.
//
// Why the metadata sits in front: a reader learns index, term, membership and sizes from one
// small read without decompressing; the writer reserves the frame (its size depends only on
// the membership), streams the data behind it, and fills it in once size and CRC are known.
// Why a CRC-32C of the data besides lz4's xxHash32 content checksum: the same checksum as the
// WAL, computed over the bytes the state machine produced, before lz4 ever saw them.

/// Layout constants of the snapshot file format (see the table at the top of this file).
public enum SnapshotFormat {
    /// The format version this build writes and reads.
    public static let version: UInt32 = 1
    /// The skippable-frame magic that starts every snapshot file.
    public static let skippableMagic: UInt32 = 0x184D_2A50
    /// The tag that marks the skippable frame as a shoal snapshot ("SHSN").
    public static let tag: [UInt8] = Array("SHSN".utf8)
    /// Magic and size fields in front of the skippable frame's payload, in bytes.
    public static let frameHeaderBytes = 8
    /// The smallest payload: fixed fields, two empty id lists and the CRC, in bytes.
    public static let payloadBytesMin = 56
    /// A metadata frame larger than this is corrupt, never allocated, in bytes.
    public static let metadataFrameBytesMax = 1 << 20
    /// The file name suffix.
    public static let suffix = ".lz4"
    /// The suffix of a snapshot still being written; such files are never read.
    public static let temporarySuffix = ".lz4.tmp"
}

/// A snapshot file's name: `snap-<index 16 hex>-<term 16 hex>.lz4`.
public struct SnapshotName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The last log entry the snapshot covers.
    public var index: Raft.Index
    /// The term of that entry.
    public var term: Raft.Term

    /// The name of the snapshot at `index`, `term`.
    public init(index: Raft.Index, term: Raft.Term) {
        self.index = index
        self.term = term
    }

    /// Parses a file name; nil for anything that is not exactly a snapshot name.
    public init?(fileName: String) {
        let bytes = Array(fileName.utf8)
        let prefix = Array("snap-".utf8), suffix = Array(SnapshotFormat.suffix.utf8)
        guard bytes.count == prefix.count + 16 + 1 + 16 + suffix.count,
              Array(bytes[0..<5]) == prefix, bytes[21] == UInt8(ascii: "-"),
              Array(bytes[38...]) == suffix,
              let index = SnapshotName.hex(bytes[5..<21]), let term = SnapshotName.hex(bytes[22..<38])
        else { return nil }
        self.init(index: index, term: term)
    }

    /// The file name.
    public var fileName: String { "snap-\(SnapshotName.hex16(index))-\(SnapshotName.hex16(term))\(SnapshotFormat.suffix)" }
    /// The name while the file is being written.
    public var temporaryFileName: String { fileName + ".tmp" }
    /// The file name, for logs and errors.
    public var description: String { fileName }

    /// Older first: by index, then by term.
    public static func < (a: SnapshotName, b: SnapshotName) -> Bool { (a.index, a.term) < (b.index, b.term) }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Lowercase hex only, so every value has exactly one name.
    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for digit in digits {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(digit - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }
}

/// What the metadata frame of a snapshot file says.
public struct SnapshotMetadata: Equatable, Sendable {
    /// The last log entry the snapshot covers.
    public var index: Raft.Index
    /// The term of that entry.
    public var term: Raft.Term
    /// The membership in force at `index`.
    public var membership: Raft.Membership
    /// The uncompressed state-machine bytes.
    public var dataSizeBytes: Int
    /// CRC-32C of the uncompressed state-machine bytes.
    public var dataCRC32C: UInt32
    /// The bytes of the lz4 frame after the metadata frame.
    public var compressedSizeBytes: Int

    /// A description with sizes and checksum still to be filled in.
    public init(index: Raft.Index, term: Raft.Term, membership: Raft.Membership,
                dataSizeBytes: Int = 0, dataCRC32C: UInt32 = 0, compressedSizeBytes: Int = 0) {
        self.index = index
        self.term = term
        self.membership = membership
        self.dataSizeBytes = dataSizeBytes
        self.dataCRC32C = dataCRC32C
        self.compressedSizeBytes = compressedSizeBytes
    }

    /// The file's name.
    public var name: SnapshotName { SnapshotName(index: index, term: term) }
    /// The metadata frame's size, header included, in bytes (where the lz4 frame starts).
    public var metadataFrameBytes: Int {
        SnapshotFormat.frameHeaderBytes + SnapshotFormat.payloadBytesMin + 8 * membership.count
    }
    /// The whole file's size in bytes: what Raft ships between members.
    public var fileSizeBytes: Int { metadataFrameBytes + compressedSizeBytes }
    /// The description Raft uses; its `sizeBytes` is the file size, because the leader sends
    /// the compressed file, not the state machine's bytes.
    public var raftMeta: Raft.SnapshotMeta {
        Raft.SnapshotMeta(index: index, term: term, membership: membership, sizeBytes: fileSizeBytes)
    }

    /// The metadata frame, CRC included.
    func encoded() -> [UInt8] {
        let frameBytes = metadataFrameBytes
        precondition(frameBytes <= SnapshotFormat.metadataFrameBytesMax,
                     "a membership of \(membership.count) members does not fit a snapshot metadata frame")
        var writer = ByteWriter(capacity: frameBytes)
        writer.put(SnapshotFormat.skippableMagic)
        writer.put(UInt32(frameBytes - SnapshotFormat.frameHeaderBytes))
        writer.put(SnapshotFormat.tag)
        writer.put(SnapshotFormat.version)
        writer.put(index)
        writer.put(term)
        writer.put(UInt64(dataSizeBytes))
        writer.put(dataCRC32C)
        writer.put(UInt64(compressedSizeBytes))
        for ids in [membership.voters, membership.learners] {
            writer.put(UInt32(ids.count))
            for id in ids { writer.put(id) }
        }
        writer.put(CRC32C.checksum(writer.bytes))
        precondition(writer.count == frameBytes, "metadata frame is \(writer.count) bytes, expected \(frameBytes)")
        return writer.bytes
    }

    /// The payload size announced by a frame header (its first 8 bytes), after checking the
    /// magic and the bounds; never trusted further than `metadataFrameBytesMax`.
    static func payloadBytes(header: [UInt8], path: String, fileSizeBytes: Int) throws(StorageError) -> Int {
        var reader = ByteReader(header)
        guard let magic = try? reader.get(UInt32.self), let size = try? reader.get(UInt32.self) else {
            throw .corrupt(path: path, offset: 0, reason: "file of \(fileSizeBytes) bytes is too short for a snapshot metadata frame")
        }
        guard magic == SnapshotFormat.skippableMagic else {
            throw .corrupt(path: path, offset: 0, reason: "does not start with the lz4 skippable frame of a snapshot")
        }
        let payload = Int(size)
        guard payload >= SnapshotFormat.payloadBytesMin,
              payload + SnapshotFormat.frameHeaderBytes <= SnapshotFormat.metadataFrameBytesMax else {
            throw .corrupt(path: path, offset: 4, reason: "metadata frame size \(payload) is outside \(SnapshotFormat.payloadBytesMin)...\(SnapshotFormat.metadataFrameBytesMax) bytes")
        }
        guard payload + SnapshotFormat.frameHeaderBytes <= fileSizeBytes else {
            throw .corrupt(path: path, offset: fileSizeBytes, reason: "file ends inside the metadata frame (truncated)")
        }
        return payload
    }

    /// Decodes and checks a whole metadata frame (`frame` holds exactly its bytes) of a file of
    /// `fileSizeBytes` bytes.
    static func decode(frame: [UInt8], path: String, fileSizeBytes: Int) throws(StorageError) -> SnapshotMetadata {
        let end = frame.count - 4
        guard end >= SnapshotFormat.frameHeaderBytes + SnapshotFormat.payloadBytesMin - 4 else {
            throw .corrupt(path: path, offset: 0, reason: "metadata frame of \(frame.count) bytes is too short")
        }
        var crcReader = ByteReader(frame, from: end)
        let stored = (try? crcReader.get(UInt32.self)) ?? 0
        guard CRC32C.checksum(frame, from: 0, to: end) == stored else {
            throw .corrupt(path: path, offset: end, reason: "metadata checksum mismatch")
        }
        var reader = ByteReader(frame, from: SnapshotFormat.frameHeaderBytes, to: end)
        let fields: Fields
        do throws(ByteReader.Underflow) { fields = try Fields(&reader) } catch {
            throw .corrupt(path: path, offset: reader.offset, reason: "metadata frame ends inside a field")
        }
        guard fields.tag == SnapshotFormat.tag else {
            throw .corrupt(path: path, offset: 8, reason: "skippable frame is not a shoal snapshot's")
        }
        guard fields.version == SnapshotFormat.version else { throw .unsupportedFormat(path: path, version: fields.version) }
        guard reader.remaining == 0 else {
            throw .corrupt(path: path, offset: reader.offset, reason: "\(reader.remaining) unexpected bytes in the metadata frame")
        }
        guard let membership = try? Raft.Membership(validatingVoters: fields.voters, learners: fields.learners) else {
            throw .corrupt(path: path, offset: 52, reason: "invalid membership: voters \(fields.voters), learners \(fields.learners)")
        }
        guard fields.dataSize <= UInt64(Int.max), fields.compressedSize == UInt64(fileSizeBytes - frame.count) else {
            throw .corrupt(path: path, offset: fileSizeBytes,
                           reason: "file is \(fileSizeBytes) bytes, metadata says \(frame.count) + \(fields.compressedSize) (truncated or extended)")
        }
        return SnapshotMetadata(index: fields.index, term: fields.term, membership: membership,
                                dataSizeBytes: Int(fields.dataSize), dataCRC32C: fields.dataCRC,
                                compressedSizeBytes: Int(fields.compressedSize))
    }

    /// The payload's fields as read, before any of them is checked.
    private struct Fields {
        var tag: [UInt8], version: UInt32, index: UInt64, term: UInt64
        var dataSize: UInt64, dataCRC: UInt32, compressedSize: UInt64
        var voters: [Raft.NodeID], learners: [Raft.NodeID]

        init(_ reader: inout ByteReader) throws(ByteReader.Underflow) {
            tag = try reader.getRaw(count: 4)
            version = try reader.get()
            index = try reader.get()
            term = try reader.get()
            dataSize = try reader.get()
            dataCRC = try reader.get()
            compressedSize = try reader.get()
            voters = try SnapshotMetadata.readIDs(&reader)
            learners = try SnapshotMetadata.readIDs(&reader)
        }
    }

    /// A count-prefixed list of node ids; the count is checked against the bytes left before
    /// anything is allocated.
    fileprivate static func readIDs(_ reader: inout ByteReader) throws(ByteReader.Underflow) -> [Raft.NodeID] {
        let count = Int(try reader.get(UInt32.self))
        guard count <= reader.remaining / 8 else { throw ByteReader.Underflow() }
        var ids: [Raft.NodeID] = []
        ids.reserveCapacity(count)
        for _ in 0..<count { ids.append(try reader.get(UInt64.self)) }
        return ids
    }
}
