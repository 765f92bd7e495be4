import Store

/// What a controller tells users about an object (`kubectl describe` shows it under Events):
/// recorded by the runner once the write it goes with succeeded.
public struct EventRecord: Hashable, Sendable {
    public enum Kind: String, Sendable { case normal = "Normal", warning = "Warning" }

    public var kind: Kind
    public var reason: String
    public var message: String
    /// The component reporting it (`default-scheduler`, `replicaset-controller`, ...).
    public var component: String
    public var object: ObjectReference

    public init(_ kind: Kind, _ reason: String, _ message: String, component: String, about object: ObjectReference) {
        self.kind = kind
        self.reason = reason
        self.message = message
        self.component = component
        self.object = object
    }

    /// Events alike in object, reason, message and component are one event with a count.
    public var aggregationKey: String { [object.uid, object.name, reason, message, component].joined(separator: "\u{1F}") }

    public static func reference(_ kind: String, apiVersion: String, _ meta: ObjectMeta) -> ObjectReference {
        var reference = ObjectReference()
        reference.kind = kind
        reference.apiVersion = apiVersion
        reference.namespace = meta.namespace
        reference.name = meta.name
        reference.uid = meta.uid
        reference.resourceVersion = meta.resourceVersion
        return reference
    }
}

/// Writes events as Kubernetes' event recorder does: a repeat of an event (same object,
/// reason, message, component) raises its count and last time instead of adding an event;
/// events last an hour (Kubernetes' default TTL), then the leader removes them.
public enum EventRecorder {
    /// Seconds an event is kept after it last happened.
    public static let timeToLiveSeconds: Int64 = 3_600
    /// Old events removed per pass at most.
    public static let expiriesPerPassMax = 100

    /// The write that records `record` now: an update of `existing` (a repeat), else a new
    /// event named after the object and the time (`sequence` keeps names apart).
    public static func write(_ record: EventRecord, existing: Event?, now: MicroTime, sequence: UInt64) -> ControllerWrite {
        let seconds = MetaTime(unixSeconds: now.unixSeconds)
        if let existing, let version = UInt64(existing.metadata.resourceVersion) {
            var repeated = existing
            repeated.count = max(1, existing.count) + 1
            repeated.lastTimestamp = seconds
            let write = TypedWrite(verb: .update, kind: "Event", apiVersion: "v1", namespace: existing.metadata.namespace,
                                   name: existing.metadata.name, body: repeated.wireJSON, expectedResourceVersion: version)
            return ControllerWrite(write, .update(ObjectKey(kind: .event, namespace: existing.metadata.namespace, name: existing.metadata.name)))
        }
        var event = Event()
        event.kind = "Event"
        event.apiVersion = "v1"
        let stamp = UInt64(now.unixSeconds) &* 1_000_000 &+ UInt64(now.microseconds) &+ sequence
        event.metadata.name = "\(record.object.name).\(String(stamp, radix: 16))"
        event.metadata.namespace = record.object.namespace.isEmpty ? "default" : record.object.namespace
        event.involvedObject = record.object
        event.reason = record.reason
        event.message = record.message
        event.type = record.kind.rawValue
        event.source = EventSource(component: record.component)
        event.firstTimestamp = seconds
        event.lastTimestamp = seconds
        event.count = 1
        event.reportingComponent = record.component
        event.reportingInstance = record.component
        let write = TypedWrite(verb: .create, kind: "Event", apiVersion: "v1", namespace: event.metadata.namespace, name: event.metadata.name,
                               body: event.wireJSON)
        return ControllerWrite(write, .update(ObjectKey(kind: .event, namespace: event.metadata.namespace, name: event.metadata.name)))
    }

    /// Deletes of events that last happened more than `timeToLiveSeconds` ago (at most
    /// `expiriesPerPassMax`, by name: only the expired ones are sorted).
    public static func expired(_ events: [Event], now: MetaTime) -> [ControllerWrite] {
        events.filter { event in
            let last = event.lastTimestamp ?? event.eventTime.map { MetaTime(unixSeconds: $0.unixSeconds) } ?? event.metadata.creationTimestamp
            return (last?.unixSeconds ?? now.unixSeconds) + timeToLiveSeconds < now.unixSeconds
        }.sorted { $0.metadata.name < $1.metadata.name }.prefix(expiriesPerPassMax).map { event in
            let write = TypedWrite(verb: .delete, kind: "Event", apiVersion: "v1", namespace: event.metadata.namespace,
                                   name: event.metadata.name, expectedUID: event.metadata.uid)
            return ControllerWrite(write, .update(ObjectKey(kind: .event, namespace: event.metadata.namespace, name: event.metadata.name)))
        }
    }
}
