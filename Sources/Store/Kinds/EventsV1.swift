import JSON

/// events.k8s.io/v1 Event: the stored core Event in the newer API's shape, with renamed
/// fields (`regarding`, `note`, `reportingController`) and the old-style aggregation
/// fields marked deprecated. Converted field by field to and from `Event`; writes through
/// this version get Kubernetes' stricter events.k8s.io rules (`Event.strictRules`).
public struct EventsV1Event: WireStruct, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var eventTime: MicroTime?
    public var series: EventsV1EventSeries?
    public var reportingController = ""
    public var reportingInstance = ""
    public var action = ""
    public var reason = ""
    public var regarding = ObjectReference()
    public var related: ObjectReference?
    public var note = ""
    public var type = ""
    public var deprecatedSource = EventSource()
    public var deprecatedFirstTimestamp: MetaTime?
    public var deprecatedLastTimestamp: MetaTime?
    public var deprecatedCount: Int32 = 0

    public init() {}

    public static let wireInfo = WireStructInfo<EventsV1Event>(
        "io.k8s.api.events.v1.Event", "A report of something that happened to an object.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Event."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: events.k8s.io/v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .optional("eventTime", 2, \.eventTime, "When it first happened.", required: true),
            .optional("series", 3, \.series, "How often it recurred, for a recurring event."),
            .omitEmpty("reportingController", 4, \.reportingController,
                       "The controller that reported it, as a qualified name (e.g. kubernetes.io/kubelet)."),
            .omitEmpty("reportingInstance", 5, \.reportingInstance, "Which instance of that controller (at most 128 bytes)."),
            .omitEmpty("action", 6, \.action, "What was done, or failed, about the object (at most 128 bytes)."),
            .omitEmpty("reason", 7, \.reason, "Why, as a short CamelCase word (at most 128 bytes)."),
            .always("regarding", 8, \.regarding, "The object the event is about."),
            .optional("related", 9, \.related, "A second object involved."),
            .omitEmpty("note", 10, \.note, "What happened, for people (at most 1 KiB)."),
            .omitEmpty("type", 11, \.type, "Normal or Warning."),
            .always("deprecatedSource", 12, \.deprecatedSource, "Old-style events' source; must be empty on write."),
            .optional("deprecatedFirstTimestamp", 13, \.deprecatedFirstTimestamp,
                      "Old-style events' first sighting; must be empty on write."),
            .optional("deprecatedLastTimestamp", 14, \.deprecatedLastTimestamp,
                      "Old-style events' last sighting; must be empty on write."),
            .omitEmpty("deprecatedCount", 15, \.deprecatedCount, "Old-style events' count; must be empty on write."),
        ])

    /// The events.k8s.io/v1 view of a stored Event.
    public init(storage event: Event) {
        kind = "Event"
        apiVersion = "events.k8s.io/v1"
        metadata = event.metadata
        eventTime = event.eventTime
        series = event.series.map { EventsV1EventSeries(count: $0.count, lastObservedTime: $0.lastObservedTime) }
        reportingController = event.reportingComponent
        reportingInstance = event.reportingInstance
        action = event.action
        reason = event.reason
        regarding = event.involvedObject
        related = event.related
        note = event.message
        type = event.type
        deprecatedSource = event.source
        deprecatedFirstTimestamp = event.firstTimestamp
        deprecatedLastTimestamp = event.lastTimestamp
        deprecatedCount = event.count
    }

    /// The stored Event this one stands for, marked as written through events.k8s.io/v1.
    public var storageEvent: Event {
        var event = Event()
        event.kind = "Event"
        event.apiVersion = "v1"
        event.metadata = metadata
        event.involvedObject = regarding
        event.reason = reason
        event.message = note
        event.source = deprecatedSource
        event.firstTimestamp = deprecatedFirstTimestamp
        event.lastTimestamp = deprecatedLastTimestamp
        event.count = deprecatedCount
        event.type = type
        event.eventTime = eventTime
        if let series {
            var stored = EventSeries()
            stored.count = series.count
            stored.lastObservedTime = series.lastObservedTime
            event.series = stored
        }
        event.action = action
        event.related = related
        event.reportingComponent = reportingController
        event.reportingInstance = reportingInstance
        event.strictRules = .create
        return event
    }
}

public struct EventsV1EventSeries: WireStruct, Hashable {
    public var count: Int32 = 0
    public var lastObservedTime: MicroTime?
    public init() {}
    public init(count: Int32, lastObservedTime: MicroTime?) {
        self.count = count
        self.lastObservedTime = lastObservedTime
    }
    public static let wireInfo = WireStructInfo<EventsV1EventSeries>(
        "io.k8s.api.events.v1.EventSeries", "How often an event recurred.",
        [
            .always("count", 1, \.count, "How many times it happened so far (at least 2).", required: true),
            .optional("lastObservedTime", 2, \.lastObservedTime, "When it last happened.", required: true),
        ])
}

/// The rules events.k8s.io/v1 adds to the core ones (field paths in that API's names).
extension Event {
    /// What a new event must be: new style, named like most objects, with the deprecated
    /// old-style fields empty.
    func eventsV1CreateErrors() -> [FieldError] {
        var errors: [FieldError] = []
        // The kind's own rule (a path segment) is looser; report only what it let through.
        if Names.pathSegmentError(metadata.name) == nil, let error = Names.dnsSubdomainError(metadata.name) {
            errors.append(.invalid("metadata.name", metadata.name, error))
        }
        errors += eventsV1SeriesErrors()
        if eventTime == nil { errors.append(.required("eventTime")) }
        if !Self.types.contains(type) { errors.append(.invalid("type", "", "has invalid value: \(type)")) }
        if firstTimestamp != nil { errors.append(.invalid("deprecatedFirstTimestamp", "", "needs to be unset")) }
        if lastTimestamp != nil { errors.append(.invalid("deprecatedLastTimestamp", "", "needs to be unset")) }
        if count != 0 { errors.append(.invalid("deprecatedCount", "", "needs to be unset")) }
        if !source.component.isEmpty || !source.host.isEmpty {
            errors.append(.invalid("deprecatedSource", "", "needs to be unset"))
        }
        return errors
    }

    /// A series counts at least two occurrences and says when the last one was.
    func eventsV1SeriesErrors() -> [FieldError] {
        guard let series else { return [] }
        var errors: [FieldError] = []
        if series.count < 2 { errors.append(.invalid("series.count", "", "should be at least 2")) }
        if series.lastObservedTime == nil { errors.append(.required("series.lastObservedTime")) }
        return errors
    }

    /// Through events.k8s.io/v1 an event may only move its series forward: everything else
    /// is fixed once written.
    func eventsV1UpdateErrors(from old: Event) -> [FieldError] {
        var errors: [FieldError] = []
        func fixed<V: WireValue>(_ new: V, _ old: V, _ path: FieldPath) {
            guard new != old else { return }
            let shown: String
            if case .string(let text) = new.wireJSON { shown = FieldError.quote(text) } else { shown = new.wireJSON.jsonString }
            errors.append(FieldError(.invalid, path, value: shown, "field is immutable"))
        }
        fixed(involvedObject, old.involvedObject, "regarding")
        fixed(reason, old.reason, "reason")
        fixed(message, old.message, "note")
        fixed(source, old.source, "deprecatedSource")
        fixed(firstTimestamp.map(\.description) ?? "", old.firstTimestamp.map(\.description) ?? "", "deprecatedFirstTimestamp")
        fixed(lastTimestamp.map(\.description) ?? "", old.lastTimestamp.map(\.description) ?? "", "deprecatedLastTimestamp")
        fixed(count, old.count, "deprecatedCount")
        fixed(type, old.type, "type")
        fixed(eventTime.map(\.description) ?? "", old.eventTime.map(\.description) ?? "", "eventTime")
        fixed(action, old.action, "action")
        fixed(related ?? ObjectReference(), old.related ?? ObjectReference(), "related")
        fixed(reportingComponent, old.reportingComponent, "reportingController")
        fixed(reportingInstance, old.reportingInstance, "reportingInstance")
        return errors
    }
}
