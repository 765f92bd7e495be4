import JSON

/// Snapshots: the whole store as deterministic bytes, written and read in pieces so that
/// neither side needs the whole snapshot in one buffer.
///
/// Format (version `snapshotFormatVersion` = 1, integers little-endian):
///
///     header  := "SHST" version:u8 revision:u64
///     record  := 0x01 length:u32 object        the object's binary JSON (BinaryCoding.swift)
///     trailer := 0x00 count:u64 checksum:u64   FNV-1a 64 of every byte before `checksum`
///
/// Objects come in key order (kind name, namespace, name, by bytes), each in its stored
/// form, so equal stores give equal bytes. The watch history is not replicated state and is
/// not included: a restored store's history starts at the snapshot's revision, so a watch
/// from an older version gets `gone` and re-lists, exactly as if the events had been
/// evicted. Restoring checks everything: the checksum, the order, every object's shared
/// metadata rules and canonical form (kind-specific rules are not re-run, so a snapshot
/// written under older rules still restores).
extension Store {
    /// The snapshot encoding version, written after the magic.
    public static let snapshotFormatVersion: UInt8 = 1
    static let snapshotMagic: [UInt8] = Array("SHST".utf8)

    /// Produces the snapshot as a sequence of chunks (`next()` until nil). Each chunk but the
    /// last holds at least `chunkBytes` bytes, and at most one object more. The writer keeps
    /// its own copy of the store, so the live store may move on while it writes.
    public struct SnapshotWriter: Sendable {
        private let store: Store
        private let chunkBytes: Int
        private var kindPosition = 0
        /// The objects of the kind being written, in key order, and the next one's position.
        private var current: [StoredObject] = []
        private var position = 0
        private var started = false
        private var finished = false
        private var count: UInt64 = 0
        private var hash = FNV1a64()

        init(store: Store, chunkBytes: Int) {
            precondition(chunkBytes >= 1, "snapshot chunks must hold at least a byte, got \(chunkBytes)")
            self.store = store
            self.chunkBytes = chunkBytes
        }

        /// The next chunk, or nil once the trailer has been handed out.
        public mutating func next() -> [UInt8]? {
            guard !finished else { return nil }
            var sink = ByteSink(capacity: min(chunkBytes, Store.snapshotChunkBytes) + 64)
            if !started {
                started = true
                sink.bytes += Store.snapshotMagic
                sink.byte(Store.snapshotFormatVersion)
                sink.fixed64(store.revision)
            }
            while sink.bytes.count < chunkBytes {
                guard let object = nextObject() else {
                    sink.byte(0)
                    sink.fixed64(count)
                    hash.add(sink.bytes)
                    sink.fixed64(hash.value)
                    finished = true
                    return sink.bytes
                }
                sink.byte(1)
                sink.fixed32(UInt32(binarySize(of: object.json)))
                sink.value(object.json)
                count += 1
            }
            hash.add(sink.bytes)
            return sink.bytes
        }

        private mutating func nextObject() -> StoredObject? {
            while position == current.count {
                guard kindPosition < Kind.registered.count else { return nil }
                current = store.tables[Kind.registered[kindPosition]]?.objects(inNamespace: nil) ?? []
                kindPosition += 1
                position = 0
            }
            defer { position += 1 }
            return current[position]
        }
    }

    /// A writer of this store's snapshot in chunks of about `chunkBytes`.
    public func snapshotWriter(chunkBytes: Int = Store.snapshotChunkBytes) -> SnapshotWriter {
        SnapshotWriter(store: self, chunkBytes: chunkBytes)
    }

    /// The whole snapshot in one buffer.
    public func snapshot() -> [UInt8] {
        var writer = snapshotWriter()
        var bytes: [UInt8] = []
        while let chunk = writer.next() { bytes += chunk }
        return bytes
    }

    /// A content hash of the store (FNV-1a 64 of its snapshot bytes): equal on two members
    /// exactly when their objects and revisions are equal.
    public var digest: UInt64 {
        var writer = snapshotWriter()
        var hash = FNV1a64()
        while let chunk = writer.next() { hash.add(chunk) }
        return hash.value
    }

    /// A store restored from a whole snapshot; corrupt bytes throw `corruptSnapshot`.
    public init(restoring snapshot: [UInt8], watchHistoryEventsMax: Int = Store.watchHistoryEventsMax) throws(StoreError) {
        var restorer = Restorer(watchHistoryEventsMax: watchHistoryEventsMax)
        try restorer.feed(snapshot)
        self = try restorer.finish()
    }

    /// Rebuilds a store from snapshot chunks of any sizes: `feed` each in order, then `finish`.
    public struct Restorer: Sendable {
        private let watchHistoryEventsMax: Int
        private var pending: [UInt8] = []
        private var readHeader = false
        private var done = false
        private var failure: StoreError?
        private var revision: UInt64 = 0
        private var tables: [Kind: KindTable] = [:]
        private var count: UInt64 = 0
        private var lastKey: ObjectKey?
        private var hash = FNV1a64()

        /// A restorer for a store whose watch history will hold `watchHistoryEventsMax` events.
        public init(watchHistoryEventsMax: Int = Store.watchHistoryEventsMax) {
            self.watchHistoryEventsMax = watchHistoryEventsMax
        }

        /// Consumes the next piece of the snapshot.
        public mutating func feed(_ chunk: [UInt8]) throws(StoreError) {
            if let failure { throw failure }
            pending += chunk
            do {
                let consumed = try consume()
                pending.removeFirst(consumed)
            } catch {
                failure = error
                throw error
            }
        }

        /// The restored store, once the trailer has been read and checked.
        public func finish() throws(StoreError) -> Store {
            if let failure { throw failure }
            guard done else { throw StoreError.corruptSnapshot("truncated: \(readHeader ? "no trailer" : "no header")") }
            return Store(revision: revision, tables: tables, watchHistoryEventsMax: watchHistoryEventsMax)
        }

        /// Reads every complete piece in `pending`; returns how many bytes it used.
        private mutating func consume() throws(StoreError) -> Int {
            var position = 0
            func corrupt(_ reason: String) -> StoreError { .corruptSnapshot(reason) }
            while position < pending.count {
                guard !done else { throw corrupt("\(pending.count - position) bytes after the trailer") }
                let remaining = pending.count - position
                if !readHeader {
                    guard remaining >= 13 else { break }
                    guard Array(pending[position..<position + 4]) == Store.snapshotMagic else { throw corrupt("not a store snapshot (bad magic)") }
                    let version = pending[position + 4]
                    guard version == Store.snapshotFormatVersion else {
                        throw corrupt("unsupported snapshot format version \(version) (this member reads \(Store.snapshotFormatVersion))")
                    }
                    revision = littleEndian(at: position + 5, bytes: 8)
                    hash.add(pending[position..<position + 13])
                    position += 13
                    readHeader = true
                    continue
                }
                switch pending[position] {
                case 0:
                    guard remaining >= 17 else { return position }
                    hash.add(pending[position..<position + 9])
                    let storedCount = littleEndian(at: position + 1, bytes: 8)
                    let checksum = littleEndian(at: position + 9, bytes: 8)
                    guard checksum == hash.value else { throw corrupt("checksum mismatch") }
                    guard storedCount == count else { throw corrupt("trailer counts \(storedCount) objects, found \(count)") }
                    position += 17
                    done = true
                case 1:
                    guard remaining >= 5 else { return position }
                    let length = Int(littleEndian(at: position + 1, bytes: 4))
                    guard length <= Store.objectSizeMaxBytes else { throw corrupt("record of \(length) bytes at object \(count)") }
                    guard remaining - 5 >= length else { return position }
                    try record(from: position + 5, to: position + 5 + length)
                    hash.add(pending[position..<position + 5 + length])
                    position += 5 + length
                default:
                    throw corrupt("unknown record tag \(pending[position]) at object \(count)")
                }
            }
            return position
        }

        private func littleEndian(at offset: Int, bytes count: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<count { value |= UInt64(pending[offset + i]) << UInt64(8 * i) }
            return value
        }

        private mutating func record(from start: Int, to end: Int) throws(StoreError) {
            var source = ByteSource(pending, from: start, to: end)
            let object: StoredObject
            do throws(BinaryDecodeError) {
                let value = try source.value()
                guard source.isAtEnd else { throw source.failure("trailing bytes in object") }
                object = try Self.decodeStored(value, revision: revision)
            } catch {
                throw StoreError.corruptSnapshot("object \(count): \(error.reason)")
            }
            if let lastKey, !(lastKey < object.key) {
                throw StoreError.corruptSnapshot("object \(count) (\(object.key)) is not after \(lastKey)")
            }
            lastKey = object.key
            tables[object.key.kind, default: KindTable()].put(object)
            count += 1
        }

        /// A stored object read back: shared rules, server metadata, and the canonical form.
        private static func decodeStored(_ value: JSONValue, revision: UInt64) throws(BinaryDecodeError) -> StoredObject {
            let incoming: IncomingObject
            do { incoming = try IncomingObject(value, checkKindRules: false) } catch { throw BinaryDecodeError(reason: error.reason) }
            let metadata = incoming.metadata
            guard let uid = incoming.uid, IncomingObject.uidError(uid) == nil else { throw BinaryDecodeError(reason: "bad uid") }
            guard let version = incoming.resourceVersion, version >= 1, version <= revision else {
                throw BinaryDecodeError(reason: "resourceVersion missing or after the snapshot's revision \(revision)")
            }
            guard let generation = metadata["generation"]?.intValue, generation >= 1 else { throw BinaryDecodeError(reason: "bad generation") }
            guard let created = metadata["creationTimestamp"]?.stringValue, Timestamp.isValid(created) else {
                throw BinaryDecodeError(reason: "bad creationTimestamp")
            }
            let object = incoming.stored(uid: uid, resourceVersion: version, generation: generation, creationTimestamp: created)
            guard object.json == value else { throw BinaryDecodeError(reason: "\(incoming.key) is not in its stored form") }
            return object
        }
    }
}
