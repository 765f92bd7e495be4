import RaftCore

/// The write-ahead log's on-disk format, version 1.
///
/// A WAL is a directory of segment files `wal-<sequence, 16 hex digits>.seg`, each
/// preallocated (`WAL.segmentBytes`) with zeros.
///
///     segment  = header frame*  (zeros to the end)
///     header   = "SHOALWAL" version:u32 reserved:u32 sequence:u64 crc:u32 reserved:u32   (32 bytes)
///     frame    = length:u32 crc:u32 record* padding                 (8-byte aligned)
///     record   = type:u8 length:u32 payload                         (type 0 = padding to the end)
///
/// All integers are little-endian. A frame is one write: the records of one group commit.
/// Its `crc` is CRC-32C over its length field and its body, so a torn or flipped byte
/// anywhere in the frame is detected. Records carry no checksum of their own.
///
/// Record payloads:
///     entry (1)      index:u64 term:u64 kind:u8 ...
///                      kind 0 noop; 1 command: data (the rest); 2 membership: change:u8 node:u64
///                      context:bytes voters:u32 id:u64* learners:u32 id:u64*
///     hardState (2)  term:u64 vote:u64 commit:u64
///     snapshot (3)   index:u64 term:u64 — a snapshot from the leader replaced the whole log:
///                    entries before this record are discarded
///
/// Later records win: an entry at or below the last index replaces the suffix from its index
/// (Raft truncation), the last hard state is the current one.
public enum WALFormat {
    public static let version: UInt32 = 1
    static let magic: [UInt8] = Array("SHOALWAL".utf8)
    static let headerBytes = 32
    static let frameHeaderBytes = 8
    static let frameAlignmentBytes = 8
    /// Upper bound on one frame (a group commit); larger lengths are corruption.
    public static let frameBytesMax = 256 << 20
    /// Upper bound on one record's payload.
    static let recordBytesMax = 64 << 20

    enum RecordType: UInt8 {
        case padding = 0
        case entry = 1
        case hardState = 2
        case snapshot = 3
    }

    static func segmentName(_ sequence: UInt64) -> String {
        "wal-" + hex16(sequence) + ".seg"
    }

    static func parseSegmentName(_ name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.hasSuffix(".seg"), name.count == 4 + 16 + 4 else { return nil }
        return UInt64(name.dropFirst(4).prefix(16), radix: 16)
    }

    static func encodeHeader(sequence: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: headerBytes)
        w.put(magic)
        w.put(version)
        w.put(UInt32(0))
        w.put(sequence)
        w.put(CRC32C.checksum(w.bytes))
        w.put(UInt32(0))
        return w.bytes
    }

    /// Validates a segment header; returns its sequence number.
    static func decodeHeader(_ bytes: [UInt8], path: String) throws(StorageError) -> UInt64 {
        guard bytes.count >= headerBytes, Array(bytes[0..<8]) == magic else {
            throw .corrupt(path: path, offset: 0, reason: "not a shoal WAL segment (bad magic)")
        }
        var r = ByteReader(bytes, from: 8, to: headerBytes)
        do {
            let version = try r.get(UInt32.self)
            _ = try r.get(UInt32.self)
            let sequence = try r.get(UInt64.self)
            let crc = try r.get(UInt32.self)
            guard crc == CRC32C.checksum(bytes, from: 0, to: 24) else {
                throw StorageError.corrupt(path: path, offset: 0, reason: "segment header checksum mismatch")
            }
            guard version == WALFormat.version else { throw StorageError.unsupportedFormat(path: path, version: version) }
            return sequence
        } catch let error as StorageError {
            throw error
        } catch {
            throw .corrupt(path: path, offset: 0, reason: "short segment header")
        }
    }

    // MARK: Records

    static func putEntry(_ e: Raft.Entry, into w: inout ByteWriter) {
        let start = beginRecord(.entry, into: &w)
        EntryCodec.encode(e, into: &w)
        endRecord(start, in: &w)
    }

    static func putHardState(_ s: Raft.HardState, into w: inout ByteWriter) {
        let start = beginRecord(.hardState, into: &w)
        w.put(s.term)
        w.put(s.vote)
        w.put(s.commit)
        endRecord(start, in: &w)
    }

    static func putSnapshot(index: Raft.Index, term: Raft.Term, into w: inout ByteWriter) {
        let start = beginRecord(.snapshot, into: &w)
        w.put(index)
        w.put(term)
        endRecord(start, in: &w)
    }

    private static func beginRecord(_ type: RecordType, into w: inout ByteWriter) -> Int {
        w.put(type.rawValue)
        let start = w.count
        w.put(UInt32(0))  // length, patched by endRecord
        return start
    }

    private static func endRecord(_ start: Int, in w: inout ByteWriter) {
        w.patch(UInt32(w.count - start - 4), at: start)
    }

    /// One decoded record.
    enum Record {
        case entry(Raft.Entry)
        case hardState(Raft.HardState)
        case snapshot(index: Raft.Index, term: Raft.Term)
    }

    struct Malformed: Error { let reason: String }

    /// Decodes the records of a frame body (`bytes[start..<end]`).
    static func decodeRecords(_ bytes: [UInt8], from start: Int, to end: Int,
                              _ visit: (Record) throws(Malformed) -> Void) throws(Malformed) {
        var r = ByteReader(bytes, from: start, to: end)
        while r.remaining > 0 {
            guard let typeByte = try? r.get(UInt8.self) else { throw Malformed(reason: "truncated record type") }
            guard let type = RecordType(rawValue: typeByte) else { throw Malformed(reason: "unknown record type \(typeByte)") }
            if type == .padding { return }
            guard let length = try? r.get(UInt32.self), Int(length) <= recordBytesMax, Int(length) <= r.remaining else {
                throw Malformed(reason: "record length out of bounds")
            }
            let recordEnd = r.offset + Int(length)
            var body = ByteReader(bytes, from: r.offset, to: recordEnd)
            do {
                switch type {
                case .entry:
                    do { try visit(.entry(EntryCodec.decode(&body))) } catch let error as EntryCodec.Malformed {
                        throw Malformed(reason: error.reason)
                    }
                case .hardState:
                    try visit(.hardState(Raft.HardState(term: try body.get(), vote: try body.get(), commit: try body.get())))
                case .snapshot:
                    try visit(.snapshot(index: try body.get(), term: try body.get()))
                case .padding:
                    break
                }
            } catch let error as Malformed {
                throw error
            } catch {
                throw Malformed(reason: "truncated \(type) record")
            }
            _ = try? r.getRaw(count: Int(length))
        }
    }
}

func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}
