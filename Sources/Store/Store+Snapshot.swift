import JSON

/// Snapshots: the whole store as deterministic bytes, written and read in pieces so that
/// neither side needs the whole snapshot in one buffer.
///
/// Format (integers little-endian):
///
///     header  := "SHST" 1 revision:u64                        cluster version 1
///              | "SHST" 2 revision:u64 clusterVersion:u32     cluster version 2 and later
///     record  := 0x01 length:u32 object        the object's binary JSON (BinaryCoding.swift)
///     trailer := 0x00 count:u64 checksum:u64   FNV-1a 64 of every byte before `checksum`
///
/// Objects come in key order (kind name, namespace, name, by bytes), each in its stored
/// form, so equal stores give equal bytes. The watch history is not replicated state and is
/// not included: a restored store's history starts at the snapshot's revision, so a watch
/// from an older version gets `gone` and re-lists, exactly as if the events had been
/// evicted. Restoring checks everything: the checksum, the order, every object's shared
/// metadata rules and canonical form (kind-specific rules are not re-run, so a snapshot
/// written under older rules still restores). A cluster still at version 1 writes format 1,
/// which members of the first release read.
extension Store {
    /// The newest snapshot encoding version, written after the magic (1 while the cluster
    /// version is 1).
    public static let snapshotFormatVersion: UInt8 = 2
    static let snapshotMagic: [UInt8] = Array("SHST".utf8)

    /// Produces the snapshot as a sequence of chunks (`next()` until nil). Each chunk but the
    /// last holds at least `chunkBytes` bytes, and at most one object more. The writer keeps
    /// its own copy of the store, so the live store may move on while it writes.
    public struct SnapshotWriter: Sendable {
        /// The tables alone, not the whole store: the live store's indexes and watch history
        /// then stay unshared, and its next write does not copy them.
        private let tables: [Kind: KindTable]
        private let revision: UInt64
        private let clusterVersion: Int
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
            tables = store.tables
            revision = store.revision
            clusterVersion = store.clusterVersion
            self.chunkBytes = chunkBytes
        }

        /// The next chunk, or nil once the trailer has been handed out.
        public mutating func next() -> [UInt8]? {
            guard !finished else { return nil }
            var sink = ByteSink(capacity: min(chunkBytes, Store.snapshotChunkBytes) + 64)
            if !started {
                started = true
                sink.bytes += Store.snapshotMagic
                sink.byte(clusterVersion == 1 ? 1 : 2)
                sink.fixed64(revision)
                if clusterVersion != 1 { sink.fixed32(UInt32(clusterVersion)) }
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
                current = tables[Kind.registered[kindPosition]]?.objects(inNamespace: nil) ?? []
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
        private var clusterVersion = 1
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
            return Store(revision: revision, clusterVersion: clusterVersion, tables: tables, watchHistoryEventsMax: watchHistoryEventsMax)
        }

        /// Reads every complete piece in `pending`; returns how many bytes it used.
        private mutating func consume() throws(StoreError) -> Int {
            var position = 0
            func corrupt(_ reason: String) -> StoreError { .corruptSnapshot(reason) }
            while position < pending.count {
                guard !done else { throw corrupt("\(pending.count - position) bytes after the trailer") }
                let remaining = pending.count - position
                if !readHeader {
                    guard remaining >= 5 else { break }
                    guard Array(pending[position..<position + 4]) == Store.snapshotMagic else { throw corrupt("not a store snapshot (bad magic)") }
                    let version = pending[position + 4]
                    guard version >= 1 && version <= Store.snapshotFormatVersion else {
                        throw corrupt("unsupported snapshot format version \(version) (this member reads 1...\(Store.snapshotFormatVersion))")
                    }
                    let headerBytes = version == 1 ? 13 : 17
                    guard remaining >= headerBytes else { break }
                    revision = littleEndian(at: position + 5, bytes: 8)
                    if version >= 2 {
                        let stored = Int(littleEndian(at: position + 13, bytes: 4))
                        guard stored >= 2 && stored <= Int(Int32.max) else { throw corrupt("cluster version \(stored) in a format-2 snapshot") }
                        clusterVersion = stored
                    }
                    hash.add(pending[position..<position + headerBytes])
                    position += headerBytes
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
                if clusterVersion >= 2 && Self.isTyped(value), let typed = try? Self.decodeTypedStored(value, revision: revision) {
                    object = typed
                } else {
                    object = try Self.decodeStored(value, revision: revision)
                }
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

        /// Whether a stored object is of a typed kind (written by typed admission).
        private static func isTyped(_ value: JSONValue) -> Bool {
            guard let name = value["kind"]?.stringValue, let kind = Kind.named(name) else { return false }
            return kind.model != nil
        }

        /// A typed object read back: its kind's stored shape and the server metadata.
        private static func decodeTypedStored(_ value: JSONValue, revision: UInt64) throws(BinaryDecodeError) -> StoredObject {
            guard let name = value["kind"]?.stringValue, let kind = Kind.named(name), let model = kind.model else {
                throw BinaryDecodeError(reason: "not a typed kind")
            }
            guard value["apiVersion"]?.stringValue == kind.apiVersion else { throw BinaryDecodeError(reason: "\(name) not in its storage version") }
            guard let typed = model.init(stored: value) else { throw BinaryDecodeError(reason: "\(name) does not decode as its kind") }
            guard let object = StoredObject(typed: typed, kind: kind) else {
                throw BinaryDecodeError(reason: "\(name) lacks its server metadata")
            }
            guard object.resourceVersion >= 1, object.resourceVersion <= revision else {
                throw BinaryDecodeError(reason: "resourceVersion after the snapshot's revision \(revision)")
            }
            guard object.json == value else { throw BinaryDecodeError(reason: "\(object.key) is not in its stored form") }
            guard object.key.validationErrors.isEmpty else { throw BinaryDecodeError(reason: "\(object.key) has a malformed key") }
            return object
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
