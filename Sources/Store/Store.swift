import JSON

/// The replicated state machine: Kubernetes-shaped objects, their revisions, a bounded watch
/// history and snapshots. A pure value: no I/O, no clock, no randomness.
///
/// Every member applies the same committed entries in the same order with
/// `apply(index:_:)`, and ends with the same objects and the same snapshot bytes. The Raft
/// index of the entry is the revision: an object's `resourceVersion` is the index of the
/// entry that last wrote it, and the store's `revision` is the last index applied (entries
/// that carry no store command, such as a new leader's empty entry or a membership change,
/// move it with `advance(to:)`).
///
/// Under cluster version 1 (the first release) only ConfigMaps and Members exist, untyped,
/// in any well-formed namespace. From cluster version 2 the workload kinds are typed and
/// admitted as Kubernetes admits them (`Store+Typed.swift`), namespaces must exist, and
/// deletion follows finalizers, grace periods and owner references (`Store+Deletion.swift`).
///
/// Snapshots: `snapshot()` at revision N is the state after entry N, so the host saves it
/// as the Raft snapshot at index N (and restores with `Store(restoring:)` before applying
/// N+1). A `SnapshotWriter` shares the store's storage; while it lives, the first write to
/// a namespace copies that namespace's objects (copy-on-write), not the whole store.
public struct Store: Sendable {
    /// Most change events kept for watchers to resume from, in events. A watcher that falls
    /// further behind gets `StoreError.gone` and re-lists.
    public static let watchHistoryEventsMax = 10_000
    /// Largest stored object in its binary form, in bytes (Kubernetes' etcd request limit).
    public static let objectSizeMaxBytes = 1_572_864
    /// Most commands in one batch.
    public static let batchCommandsMax = 1_000
    /// Deepest nesting of arrays and objects in a command, in levels (as the JSON parser).
    public static let valueDepthMax = JSONLimits.nestingDepthMaxDefault
    /// Size that snapshot chunks reach before the writer hands them out, in bytes.
    public static let snapshotChunkBytes = 1 << 20

    /// What applying one entry did.
    public struct Applied: Equatable, Sendable {
        /// The entry's index, now the store's revision.
        public let index: UInt64
        /// What to answer the client that proposed the entry.
        public let result: StoreResult
        /// The change events the entry produced, in order (already in the history): what
        /// the server forwards to open watches, after `WatchEvent.filtered(by:)`.
        public let events: [WatchEvent]
    }

    /// The newest cluster version this build can run (see `clusterVersion`).
    public static let clusterVersionSupported = 2

    /// The last index applied (0 for an empty store): the resourceVersion of a list.
    public internal(set) var revision: UInt64
    /// The rules the store applies entries under, replicated like everything else: 1 is the
    /// first release (ConfigMap and Member, untyped); 2 adds the typed workload kinds and
    /// their API machinery. It moves only by a `setClusterVersion` entry, which the leader
    /// proposes once every member reports it can run the new version, so members of mixed
    /// builds never apply one entry differently.
    public internal(set) var clusterVersion = 1
    /// The newest cluster version this member agrees to run: its build's
    /// (`clusterVersionSupported`) unless the operator holds it back (`shoal agent
    /// --cluster-version-max`, which also makes an upgrade testable with one build). Not
    /// replicated: each member sets its own.
    public var clusterVersionMax = Store.clusterVersionSupported
    /// Set when an entry moved the cluster to a version this build cannot run: the member
    /// must stop applying (and be upgraded) rather than diverge.
    public internal(set) var unsupportedClusterVersion: Int?
    var tables: [Kind: KindTable] = [:]
    /// Derived from `tables` (rebuilt on restore, never snapshotted): see `StoreIndexes`.
    var indexes = StoreIndexes()
    /// Change events per kind, so one busy kind does not push another's out of reach.
    var histories: [Kind: EventHistory] = [:]
    let watchHistoryEventsMax: Int
    /// The oldest version a watch may resume from for a kind with no events yet (0, or the
    /// revision of the snapshot the store was restored from).
    var historyFloor: UInt64

    /// An empty store at revision 0 whose watch history holds up to `watchHistoryEventsMax`
    /// events per kind.
    public init(watchHistoryEventsMax: Int = Store.watchHistoryEventsMax) {
        precondition(watchHistoryEventsMax >= 1, "the watch history must hold at least one event")
        revision = 0
        self.watchHistoryEventsMax = watchHistoryEventsMax
        historyFloor = 0
    }

    init(revision: UInt64, clusterVersion: Int, tables: [Kind: KindTable], watchHistoryEventsMax: Int) {
        self.revision = revision
        self.clusterVersion = clusterVersion
        self.tables = tables
        self.watchHistoryEventsMax = watchHistoryEventsMax
        // The events before a snapshot are not in it: a watch may resume only from here.
        historyFloor = revision
        for table in tables.values {
            for object in table.objects(inNamespace: nil) { indexes.add(object) }
        }
    }

    // MARK: Reads

    /// The object at `key`, or nil.
    public func get(_ key: ObjectKey) -> StoredObject? { tables[key.kind]?.get(key) }

    /// The number of objects stored, of every kind.
    public var count: Int { tables.values.reduce(0) { $0 + $1.count } }

    /// The objects of `kind` (in `namespace`, if given) whose labels match `selector`, in key
    /// order, with the store's revision as the list's resourceVersion: a watch from that
    /// version sees every later change.
    public func list(_ kind: Kind, namespace: String? = nil, selector: LabelSelector = .everything)
        -> (items: [StoredObject], resourceVersion: UInt64)
    {
        let items = tables[kind]?.objects(inNamespace: namespace) { selector.matches($0.labels) } ?? []
        return (items, revision)
    }

    /// The oldest resourceVersion a watch of `kind` may start from; older ones are `gone`.
    public func oldestWatchableRevision(_ kind: Kind) -> UInt64 { histories[kind]?.start ?? historyFloor }

    /// The change events after `version` that `filter` selects, oldest first (what a watch
    /// from `version` must deliver before the live events). A `version` newer than the
    /// revision yields nothing yet; the caller must still skip live events at or below it.
    /// Version 0 works only while nothing has been evicted: Kubernetes' "any version" is
    /// for the API to serve as a list followed by a watch from the list's version.
    public func events(since version: UInt64, _ filter: WatchFilter) throws(StoreError) -> [WatchEvent] {
        let oldest = oldestWatchableRevision(filter.kind)
        guard version >= oldest else { throw StoreError.gone(requested: version, oldest: oldest) }
        guard let history = histories[filter.kind] else { return [] }
        guard let events = history.events(after: version) else {
            throw StoreError.gone(requested: version, oldest: history.start)
        }
        return events.compactMap { $0.filtered(by: filter) }
    }

    // MARK: Writes that are not commands

    /// Records that the entry at `index` was applied without a store command (a new
    /// leader's empty entry, a membership change): the revision moves, nothing else.
    public mutating func advance(to index: UInt64) {
        precondition(index > revision, "entry \(index) applied after entry \(revision): entries apply once, in order")
        revision = index
    }

    /// Applies the committed entry at `index` carrying `command` (bytes from
    /// `StoreCommand.encoded()`). Total: bytes that do not decode give `.invalid`. The
    /// revision becomes `index` whatever the result. Entries must apply once, in order.
    public mutating func apply(index: UInt64, _ command: [UInt8]) -> Applied {
        precondition(index > revision, "entry \(index) applied after entry \(revision): entries apply once, in order")
        if let version = unsupportedClusterVersion {
            // Halted: this build cannot run the cluster's version; apply nothing more.
            revision = index
            return Applied(index: index, result: .invalid(reason: "this member cannot run cluster version \(version)"), events: [])
        }
        var journal = Journal()
        let result: StoreResult
        do {
            result = execute(try StoreCommand.decode(command), index: index, journal: &journal)
        } catch {
            result = .invalid(reason: error.description)
        }
        revision = index
        for event in journal.events {
            histories[event.key.kind, default: EventHistory(capacity: watchHistoryEventsMax, start: historyFloor)].append(event)
        }
        return Applied(index: index, result: result, events: journal.events)
    }

    /// Encodes `command` and applies it (for tests and tools; the server applies log bytes).
    public mutating func apply(index: UInt64, _ command: StoreCommand) -> Applied {
        apply(index: index, command.encoded())
    }

    // MARK: Storage

    mutating func put(_ object: StoredObject, journal: inout Journal) {
        let previous = get(object.key)
        journal.undo.append((object.key, previous))
        store(object, replacing: previous)
    }

    mutating func remove(_ key: ObjectKey, journal: inout Journal) {
        let previous = get(key)
        journal.undo.append((key, previous))
        if let previous { unstore(previous) }
    }

    /// Undoes the writes `journal` recorded, newest first (an aborted batch).
    mutating func rollBack(_ journal: Journal) {
        for (key, previous) in journal.undo.reversed() {
            let current = get(key)
            if let previous {
                store(previous, replacing: current)
            } else if let current {
                unstore(current)
            }
        }
    }

    /// The one place objects enter the tables: the indexes follow.
    private mutating func store(_ object: StoredObject, replacing previous: StoredObject?) {
        if let previous { indexes.remove(previous) }
        tables[object.key.kind, default: KindTable()].put(object)
        indexes.add(object)
    }

    /// The one place objects leave the tables.
    private mutating func unstore(_ object: StoredObject) {
        indexes.remove(object)
        tables[object.key.kind]?.remove(object.key)
    }
}

/// The writes of one entry so far: how to undo them, and the events they produce.
struct Journal {
    var undo: [(ObjectKey, StoredObject?)] = []
    var events: [WatchEvent] = []
}

/// The objects of one kind, by namespace and name ("" is the namespace of cluster-scoped
/// kinds). Writes are O(1); lists and snapshots sort what they return (O(m log m) for m
/// objects), which suits a store written far more often than it is listed in full (clients
/// list once, then watch).
struct KindTable: Sendable {
    private(set) var namespaces: [String: NamespaceTable] = [:]
    private(set) var count = 0

    func get(_ key: ObjectKey) -> StoredObject? { namespaces[key.namespace]?.get(key.name) }

    mutating func put(_ object: StoredObject) {
        if namespaces[object.key.namespace, default: NamespaceTable()].put(object) { count += 1 }
    }

    mutating func remove(_ key: ObjectKey) {
        guard namespaces[key.namespace]?.remove(key.name) == true else { return }
        count -= 1
        if namespaces[key.namespace]?.count == 0 { namespaces[key.namespace] = nil }
    }

    /// The objects in `namespace` (every namespace when nil) for which `include` holds, in
    /// key order.
    func objects(inNamespace namespace: String?, where include: (StoredObject) -> Bool = { _ in true }) -> [StoredObject] {
        let selected = namespace.map { [$0] } ?? namespaces.keys.sorted(by: utf8Precedes)
        var result: [StoredObject] = []
        for namespace in selected {
            guard let table = namespaces[namespace] else { continue }
            var matching = table.objects(where: include)
            matching.sort { utf8Precedes($0.key.name, $1.key.name) }
            result += matching
        }
        return result
    }
}

/// The objects of one namespace by name, spread over `bucketCount` dictionaries by a hash of
/// the name. Why: the store is a value that snapshots copy, and the first write after a copy
/// (or a write that grows a full dictionary) copies or rehashes the whole dictionary it
/// touches, on the event loop. One dictionary of 100k objects cost a measured 80 ms stall,
/// long enough to start an election; buckets spread that work over the next writes, each
/// paying for 1/`bucketCount` of it.
struct NamespaceTable: Sendable {
    static let bucketCount = 64

    private var buckets: [[String: StoredObject]] = Array(repeating: [:], count: NamespaceTable.bucketCount)
    private(set) var count = 0

    /// FNV-1a of the name's UTF-8: stable across processes (Swift's own hash is seeded per
    /// process), cheap for names of a few dozen bytes.
    static func bucket(of name: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(bucketCount))
    }

    func get(_ name: String) -> StoredObject? { buckets[Self.bucket(of: name)][name] }

    /// Inserts or replaces; true when the name is new.
    mutating func put(_ object: StoredObject) -> Bool {
        let isNew = buckets[Self.bucket(of: object.key.name)].updateValue(object, forKey: object.key.name) == nil
        if isNew { count += 1 }
        return isNew
    }

    /// True when the name was there.
    mutating func remove(_ name: String) -> Bool {
        guard buckets[Self.bucket(of: name)].removeValue(forKey: name) != nil else { return false }
        count -= 1
        return true
    }

    /// The objects for which `include` holds, in no particular order.
    func objects(where include: (StoredObject) -> Bool) -> [StoredObject] {
        var result: [StoredObject] = []
        for bucket in buckets { result += bucket.values.filter(include) }
        return result
    }
}

/// Byte-wise order of two strings' UTF-8 (the order of keys in lists and snapshots).
func utf8Precedes(_ a: String, _ b: String) -> Bool {
    // Contiguous storage is available for native and small strings alike (no allocation).
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in
            let common = min(x.count, y.count)
            var i = 0
            while i < common {
                if x[i] != y[i] { return x[i] < y[i] }
                i += 1
            }
            return x.count < y.count
        }
    }
    return (fast ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
}
