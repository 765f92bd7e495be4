/// One change to one object, as a Kubernetes watch stream carries it.
public struct WatchEvent: Equatable, Sendable {
    /// The Kubernetes watch event types.
    public enum EventType: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
    }

    /// What happened to the object.
    public let type: EventType
    /// The object after the change; for DELETED its last state, stamped with the deleting
    /// entry's resourceVersion.
    public let object: StoredObject
    /// For MODIFIED: the object before the change, so a selector can tell an object that
    /// moved into or out of it. Nil for ADDED and DELETED.
    public let previous: StoredObject?

    /// An event (the store makes them; tests and the API may build them too).
    public init(type: EventType, object: StoredObject, previous: StoredObject? = nil) {
        self.type = type
        self.object = object
        self.previous = previous
    }

    /// The Raft index of the entry that made the change. Events of one batch share it.
    public var resourceVersion: UInt64 { object.resourceVersion }
    /// The key of the changed object.
    public var key: ObjectKey { object.key }

    /// The event as a watcher with `filter` sees it, or nil when it does not concern it.
    ///
    /// Kind and namespace cannot change, so they simply filter. A label selector follows the
    /// Kubernetes watch cache: a MODIFIED event whose object matched before and matches now
    /// stays MODIFIED; one that starts matching becomes ADDED; one that stops matching
    /// becomes DELETED (carrying the new object, as Kubernetes does), after which the
    /// watcher hears nothing more of it until it matches again.
    public func filtered(by filter: WatchFilter) -> WatchEvent? {
        guard filter.matchesKey(key) else { return nil }
        let now = filter.matchesContent(object)
        switch type {
        case .added, .deleted:
            return now ? self : nil
        case .modified:
            let before = previous.map { filter.matchesContent($0) } ?? now
            switch (before, now) {
            case (true, true): return self
            case (false, true): return WatchEvent(type: .added, object: object)
            case (true, false): return WatchEvent(type: .deleted, object: object)
            case (false, false): return nil
            }
        }
    }
}

/// What a watcher (or a list) wants to see: one kind, optionally one namespace, a label
/// selector and a field selector (everything by default).
public struct WatchFilter: Equatable, Sendable {
    /// The only kind selected.
    public var kind: Kind
    /// Nil: every namespace (and the only choice for cluster-scoped kinds).
    public var namespace: String?
    /// The label selector objects must match.
    public var selector: LabelSelector
    /// The field selector objects must match.
    public var fields: FieldSelector

    /// A filter; by default every namespace and every object.
    public init(kind: Kind, namespace: String? = nil, selector: LabelSelector = .everything,
                fields: FieldSelector = .everything) {
        self.kind = kind
        self.namespace = namespace
        self.selector = selector
        self.fields = fields
    }

    func matchesContent(_ object: StoredObject) -> Bool {
        selector.matches(object.labels) && (fields.isEverything || fields.matches(object))
    }

    func matchesKey(_ key: ObjectKey) -> Bool {
        key.kind == kind && (namespace == nil || key.namespace == namespace)
    }

    /// Whether `object` is one this filter selects.
    public func matches(_ object: StoredObject) -> Bool {
        matchesKey(object.key) && matchesContent(object)
    }
}

/// The most recent change events, at most `capacity` of them, oldest first (a ring buffer).
///
/// `start` is the oldest resourceVersion a watch may resume after: every event with a
/// larger version is still here. Evicting an event at version v moves `start` to v, so a
/// watcher whose version is older must re-list (410 Gone) rather than silently miss it.
struct EventHistory: Sendable {
    let capacity: Int
    private(set) var start: UInt64
    private var ring: [WatchEvent] = []
    /// Position in `ring` of the oldest event once the ring is full (0 until then).
    private var head = 0

    init(capacity: Int, start: UInt64) {
        precondition(capacity >= 1, "the watch history must hold at least one event, got \(capacity)")
        self.capacity = capacity
        self.start = start
    }

    var count: Int { ring.count }

    private func event(at position: Int) -> WatchEvent { ring[(head + position) % ring.count] }

    mutating func append(_ event: WatchEvent) {
        precondition(event.resourceVersion >= start, "event at \(event.resourceVersion) before the history start \(start)")
        if ring.count < capacity {
            ring.append(event)
        } else {
            start = ring[head].resourceVersion
            ring[head] = event
            head = (head + 1) % capacity
        }
    }

    /// The events with a resourceVersion greater than `version`, oldest first, or nil when
    /// some of them have been evicted (`version < start`).
    func events(after version: UInt64) -> [WatchEvent]? {
        guard version >= start else { return nil }
        // The first position whose version is greater (versions never decrease).
        var low = 0
        var high = ring.count
        while low < high {
            let middle = (low + high) / 2
            if event(at: middle).resourceVersion <= version { low = middle + 1 } else { high = middle }
        }
        return (low..<ring.count).map(event(at:))
    }
}
