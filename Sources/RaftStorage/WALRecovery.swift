import RaftCore

/// What a WAL holds, replayed in order.
public struct WALContents: Equatable, Sendable {
    /// The last hard state written (nil if none).
    public var hardState: Raft.HardState?
    /// The last "snapshot replaced the log" record, if any.
    public var installedSnapshot: (index: Raft.Index, term: Raft.Term)?
    /// Entries after truncations, contiguous.
    public var entries: [Raft.Entry] = []
    /// Where a torn final frame was cut off, if one was (file and byte offset).
    public var tornTail: (path: String, offset: Int)?

    public static func == (a: WALContents, b: WALContents) -> Bool {
        a.hardState == b.hardState && a.installedSnapshot?.index == b.installedSnapshot?.index
            && a.installedSnapshot?.term == b.installedSnapshot?.term && a.entries == b.entries
            && a.tornTail?.path == b.tornTail?.path && a.tornTail?.offset == b.tornTail?.offset
    }

    mutating func apply(_ record: WALFormat.Record) throws(WALFormat.Malformed) {
        switch record {
        case .hardState(let state):
            hardState = state
        case let .snapshot(index, term):
            installedSnapshot = (index, term)
            entries = []
        case .entry(let entry):
            guard let first = entries.first else {
                if let base = installedSnapshot, entry.index != base.index + 1 {
                    throw WALFormat.Malformed(reason: "entry \(entry.index) does not follow the installed snapshot at \(base.index)")
                }
                entries = [entry]
                return
            }
            let last = first.index + UInt64(entries.count) - 1
            if entry.index == last + 1 {
                entries.append(entry)
            } else if entry.index >= first.index && entry.index <= last {
                entries.removeSubrange(Int(entry.index - first.index)...)  // Raft truncation
                entries.append(entry)
            } else if entry.index < first.index {
                entries = [entry]  // truncated below everything kept here (older segments were compacted)
            } else {
                throw WALFormat.Malformed(reason: "gap: entry \(entry.index) after \(last)")
            }
        }
    }
}

/// One segment as found by recovery.
struct SegmentInfo {
    var sequence: UInt64
    var path: String
    /// Where the next frame would go (the end of the last valid frame).
    var end: Int
    /// The highest entry index written in it (0 if none).
    var maxIndex: Raft.Index
}

/// Reads every segment in order. A frame that fails its checksum is tolerated only as the
/// torn tail of the log: if any valid frame follows it, in that segment or a later one,
/// committed data would be skipped, so recovery stops with an error naming file and offset.
struct WALScanner {
    let fileSystem: any FileSystem
    let directory: String

    func scan() throws(StorageError) -> (WALContents, [SegmentInfo]) {
        let names = try fileSystem.list(directory)
        let sequences = names.compactMap(WALFormat.parseSegmentName).sorted()
        var contents = WALContents()
        var segments: [SegmentInfo] = []
        var firstInvalid: (path: String, offset: Int, reason: String)?
        for sequence in sequences {
            let path = joinPath(directory, WALFormat.segmentName(sequence))
            let file = try fileSystem.open(path, create: false)
            defer { file.close() }
            let bytes = try file.read(at: 0, count: try file.size())
            let headerSequence = try WALFormat.decodeHeader(bytes, path: path)
            guard headerSequence == sequence else {
                throw .corrupt(path: path, offset: 0, reason: "header says segment \(headerSequence)")
            }
            if let previous = segments.last, sequence != previous.sequence + 1 {
                throw .inconsistent("WAL segment \(previous.sequence + 1) is missing before \(path)")
            }
            var info = SegmentInfo(sequence: sequence, path: path, end: WALFormat.headerBytes, maxIndex: 0)
            var offset = WALFormat.headerBytes
            while offset + WALFormat.frameHeaderBytes <= bytes.count {
                guard let frame = validFrame(bytes, at: offset) else {
                    if let invalid = firstInvalid {
                        throw .corrupt(path: invalid.path, offset: invalid.offset, reason: invalid.reason + ", and valid data follows it")
                    }
                    if isZero(bytes, from: offset) { break }  // the clean end of this segment
                    firstInvalid = (path, offset, "frame checksum or length mismatch")
                    if nextValidFrame(bytes, after: offset) != nil {
                        throw .corrupt(path: path, offset: offset, reason: "frame checksum or length mismatch, and valid data follows it")
                    }
                    break
                }
                if let invalid = firstInvalid {
                    throw .corrupt(path: invalid.path, offset: invalid.offset, reason: invalid.reason + ", and valid data follows it")
                }
                do {
                    try WALFormat.decodeRecords(bytes, from: frame.bodyStart, to: frame.bodyEnd) { (record) throws(WALFormat.Malformed) in
                        if case .entry(let entry) = record { info.maxIndex = max(info.maxIndex, entry.index) }
                        try contents.apply(record)
                    }
                } catch {
                    throw .corrupt(path: path, offset: offset, reason: error.reason)
                }
                offset = frame.next
                info.end = offset
            }
            segments.append(info)
        }
        if let invalid = firstInvalid { contents.tornTail = (invalid.path, invalid.offset) }
        return (contents, segments)
    }

    struct Frame {
        var bodyStart: Int
        var bodyEnd: Int
        var next: Int
    }

    func validFrame(_ bytes: [UInt8], at offset: Int) -> Frame? {
        var r = ByteReader(bytes, from: offset)
        guard let length = try? r.get(UInt32.self), let crc = try? r.get(UInt32.self) else { return nil }
        let bodyLength = Int(length)
        guard bodyLength > 0, bodyLength <= WALFormat.frameBytesMax,
              offset + WALFormat.frameHeaderBytes + bodyLength <= bytes.count else { return nil }
        let bodyStart = offset + WALFormat.frameHeaderBytes
        let bodyEnd = bodyStart + bodyLength
        var computed = CRC32C.checksum(bytes, from: offset, to: offset + 4)
        computed = CRC32C.checksum(bytes, from: bodyStart, to: bodyEnd, extending: computed)
        guard computed == crc else { return nil }
        return Frame(bodyStart: bodyStart, bodyEnd: bodyEnd, next: bodyEnd)
    }

    /// The first valid frame at an aligned position after `offset`, if any.
    func nextValidFrame(_ bytes: [UInt8], after offset: Int) -> Int? {
        var candidate = offset + WALFormat.frameAlignmentBytes
        while candidate + WALFormat.frameHeaderBytes <= bytes.count {
            if validFrame(bytes, at: candidate) != nil { return candidate }
            candidate += WALFormat.frameAlignmentBytes
        }
        return nil
    }

    func isZero(_ bytes: [UInt8], from offset: Int) -> Bool {
        precondition(offset >= 0, "negative offset \(offset)")
        // Eight bytes at a time: the preallocated tail of a segment is tens of megabytes.
        return bytes.withUnsafeBytes { raw in
            var i = offset
            while i + 8 <= raw.count {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
                i += 8
            }
            while i < raw.count {
                if raw[i] != 0 { return false }
                i += 1
            }
            return true
        }
    }
}
