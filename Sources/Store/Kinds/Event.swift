import JSON

/// A report of something that happened to an object (core/v1 Event): what `kubectl describe`
/// lists under Events and `kubectl events` prints. The same stored object is served as
/// events.k8s.io/v1 Event (`EventsV1Event`), in that API's shape and under its stricter rules.
///
/// Events come in two styles. Old-style events (no `eventTime`) are aggregated by their
/// reporter through `count`, `firstTimestamp` and `lastTimestamp`, and name their source in
/// `source`; new-style events carry `eventTime`, `series`, `action`, `reportingComponent`
/// and `reportingInstance`. Which rules apply follows from `eventTime`, as in Kubernetes.
public struct Event: KindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var involvedObject = ObjectReference()
    public var reason = ""
    public var message = ""
    public var source = EventSource()
    public var firstTimestamp: MetaTime?
    public var lastTimestamp: MetaTime?
    public var count: Int32 = 0
    public var type = ""
    public var eventTime: MicroTime?
    public var series: EventSeries?
    public var action = ""
    public var related: ObjectReference?
    public var reportingComponent = ""
    public var reportingInstance = ""
    /// Not on the wire: set when the write came through events.k8s.io/v1, whose stricter
    /// rules (`EventsV1Event.swift`) then apply. Validation hooks see only the object, so the
    /// version rides on it from decoding to validation; it is never stored.
    public var strictRules: StrictRules?

    /// Which of events.k8s.io/v1's rules a write through that API gets.
    public enum StrictRules: Sendable, Hashable {
        /// A new event: the full set (new style only, deprecated fields empty, DNS name).
        case create
        /// A change: only the series may move.
        case update
    }

    public init() {}

    /// The event types Kubernetes knows.
    public static let types = ["Normal", "Warning"]
    /// Longest `action`, `reason` and `reportingInstance` of a new-style event, in bytes.
    public static let shortFieldLengthMax = 128
    /// Longest `message` of a new-style event, in bytes.
    public static let messageLengthMax = 1024

    public static let wireInfo = WireStructInfo<Event>(
        "io.k8s.api.core.v1.Event", "A report of something that happened to an object.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Event."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .always("involvedObject", 2, \.involvedObject, "The object the event is about.", required: true),
            .omitEmpty("reason", 3, \.reason, "Why, as a short CamelCase word a program can match."),
            .omitEmpty("message", 4, \.message, "What happened, for people."),
            .always("source", 5, \.source, "Who reported it (old-style events)."),
            .optional("firstTimestamp", 6, \.firstTimestamp, "When it was first seen (old-style events)."),
            .optional("lastTimestamp", 7, \.lastTimestamp, "When it was last seen (old-style events)."),
            .omitEmpty("count", 8, \.count, "How many times it was seen (old-style events)."),
            .omitEmpty("type", 9, \.type, "Normal or Warning."),
            .optional("eventTime", 10, \.eventTime, "When it first happened (new-style events)."),
            .optional("series", 11, \.series, "How often it recurred, for a recurring new-style event."),
            .omitEmpty("action", 12, \.action, "What was done, or failed, about the object."),
            .optional("related", 13, \.related, "A second object involved (e.g. the node a pod was bound to)."),
            .always("reportingComponent", 14, \.reportingComponent, "The component that reported it (e.g. kubelet)."),
            .always("reportingInstance", 15, \.reportingInstance, "Which instance of that component (e.g. a host name)."),
        ])

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        let namespace = metadata.namespace
        let involvedNamespace = involvedObject.namespace
        let controllerPath: FieldPath = strictRules == nil ? "reportingComponent" : "reportingController"
        if eventTime == nil {
            // Old style: the event lives in its object's namespace ("default" for
            // cluster-scoped objects, as old clients do).
            let matches = involvedNamespace.isEmpty ? (namespace.isEmpty || namespace == "default") : namespace == involvedNamespace
            if !matches { errors.append(.invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace")) }
        } else {
            if involvedNamespace.isEmpty && namespace != "default" && namespace != "kube-system" {
                errors.append(.invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace"))
            }
            if reportingComponent.isEmpty { errors.append(.required(controllerPath)) }
            if let error = Names.qualifiedNameError(reportingComponent) {
                errors.append(.invalid(controllerPath, reportingComponent, error))
            }
            errors += Self.shortFieldErrors(reportingInstance, "reportingInstance")
            errors += Self.shortFieldErrors(action, "action")
            errors += Self.shortFieldErrors(reason, "reason")
            if message.utf8.count > Self.messageLengthMax {
                errors.append(.invalid(strictRules == nil ? "message" : "note", "", "can have at most \(Self.messageLengthMax) characters"))
            }
        }
        switch strictRules {
        case .create?: errors += eventsV1CreateErrors()
        case .update?: errors += eventsV1SeriesErrors()
        case nil: break
        }
        return errors
    }

    /// Required, and at most `shortFieldLengthMax` bytes.
    private static func shortFieldErrors(_ value: String, _ path: FieldPath) -> [FieldError] {
        if value.isEmpty { return [.required(path)] }
        if value.utf8.count > shortFieldLengthMax {
            return [.invalid(path, "", "can have at most \(shortFieldLengthMax) characters")]
        }
        return []
    }

    /// A write through events.k8s.io/v1 that replaces a stored event is an update.
    public mutating func prepareForUpdate(from old: Event) {
        if strictRules != nil { strictRules = .update }
    }

    public func validateUpdate(from old: Event) -> [FieldError] {
        strictRules == .update ? eventsV1UpdateErrors(from: old) : []
    }

    /// Events record what happened; the generation stays put.
    public func changesGeneration(from old: Event) -> Bool { false }
}

public struct EventSource: WireStruct, Hashable {
    public var component = ""
    public var host = ""
    public init() {}
    public init(component: String, host: String = "") {
        self.component = component
        self.host = host
    }
    public static let wireInfo = WireStructInfo<EventSource>(
        "io.k8s.api.core.v1.EventSource", "Who reported an event.",
        [
            .omitEmpty("component", 1, \.component, "The reporting component."),
            .omitEmpty("host", 2, \.host, "The host it runs on."),
        ])
}

public struct EventSeries: WireStruct, Hashable {
    public var count: Int32 = 0
    public var lastObservedTime: MicroTime?
    public init() {}
    public static let wireInfo = WireStructInfo<EventSeries>(
        "io.k8s.api.core.v1.EventSeries", "How often a new-style event recurred.",
        [
            .omitEmpty("count", 1, \.count, "How many times it happened so far."),
            .optional("lastObservedTime", 2, \.lastObservedTime, "When it last happened."),
        ])
}

extension Kind {
    /// Event: namespaced, names only need to be path segments; served as core/v1 (storage)
    /// and events.k8s.io/v1. The field labels are what `kubectl describe` and `kubectl events`
    /// select on (events.k8s.io spellings included).
    public static let event = Kind(
        Event.self, name: "Event", plural: "events", namespaced: true, nameRule: .pathSegment, shortNames: ["ev"],
        sinceClusterVersion: 2,
        versions: [
            .storage(Event.self, group: "", version: "v1", kind: "Event"),
            .converted(EventsV1Event.self, to: Event.self, group: "events.k8s.io", version: "v1", kind: "Event",
                       toStorage: { $0.storageEvent }, fromStorage: { EventsV1Event(storage: $0) }),
        ],
        fieldLabels: Event.fieldLabels)
}

extension Event {
    static let fieldLabels: [String: Kind.FieldLabel] = {
        var labels: [String: Kind.FieldLabel] = [
            "reason": { $0["reason"]?.stringValue ?? "" },
            "reportingComponent": { $0["reportingComponent"]?.stringValue ?? "" },
            "reportingController": { $0["reportingComponent"]?.stringValue ?? "" },
            "source": { $0["source"]?["component"]?.stringValue ?? "" },
            "type": { $0["type"]?.stringValue ?? "" },
        ]
        for field in ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"] {
            let read: Kind.FieldLabel = { $0["involvedObject"]?[field]?.stringValue ?? "" }
            labels["involvedObject." + field] = read
            labels["regarding." + field] = read
        }
        return labels
    }()
}
