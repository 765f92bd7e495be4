import JSON
@testable import Store
import XCTest

/// core/v1 Event and its events.k8s.io/v1 form, and coordination.k8s.io/v1 Lease.
final class EventKindTests: XCTestCase {
    // MARK: core/v1

    func testCoreEventRoundTripKeepsFieldsAndOrder() throws {
        let text = """
        {"kind":"Event","apiVersion":"v1","metadata":{"name":"web-0.17f1","namespace":"default"},\
        "involvedObject":{"kind":"Pod","namespace":"default","name":"web-0","uid":"u1","apiVersion":"v1",\
        "resourceVersion":"7","fieldPath":"spec.containers{web}"},"reason":"Pulled","message":"pulled the image",\
        "source":{"component":"kubelet","host":"node-1"},"firstTimestamp":"2026-01-01T00:00:00Z",\
        "lastTimestamp":"2026-01-01T00:01:00Z","count":3,"type":"Normal","eventTime":"2026-01-01T00:00:00.123456Z",\
        "series":{"count":2,"lastObservedTime":"2026-01-01T00:01:00.000001Z"},"action":"Pull",\
        "related":{"kind":"Node","name":"node-1"},"reportingComponent":"kubelet","reportingInstance":"node-1"}
        """
        let json = try JSONValue.parse(text)
        var context = DecodeContext()
        let event = try XCTUnwrap(Event(json: json, context: &context))
        XCTAssertEqual(context.typeErrors, [])
        XCTAssertEqual(context.unknownFields, [])
        XCTAssertEqual(event.eventTime?.microseconds, 123_456)
        XCTAssertEqual(event.wireJSON.jsonString, json.jsonString)
        // The fields Go writes even when empty.
        XCTAssertEqual(Event().wireJSON.jsonString,
                       #"{"metadata":{},"involvedObject":{},"source":{},"reportingComponent":"","reportingInstance":""}"#)
    }

    func testCoreEventValidation() throws {
        // Old style: the event's namespace must be its object's ("default" for cluster-scoped ones).
        var event = Event()
        event.metadata = ObjectMeta(name: "e", namespace: "team")
        event.involvedObject = ObjectReference(kind: "Pod", namespace: "other", name: "p")
        XCTAssertEqual(event.validate().map(\.description),
                       ["involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"])
        event.involvedObject = ObjectReference(kind: "Node", name: "node-1")
        XCTAssertEqual(event.validate().map(\.description),
                       ["involvedObject.namespace: Invalid value: \"\": does not match event.namespace"])
        event.metadata.namespace = "default"
        XCTAssertEqual(event.validate(), [], "any type is accepted through core/v1")

        // New style (eventTime set): the reporting fields are required.
        event.eventTime = MicroTime(unixSeconds: 1_767_225_600)
        XCTAssertEqual(event.validate().map(\.description), [
            "reportingComponent: Required value",
            "reportingComponent: Invalid value: \"\": " + Names.qualifiedNameError("")!,
            "reportingInstance: Required value",
            "action: Required value",
            "reason: Required value",
        ])
        event.reportingComponent = "example.com/controller"
        event.reportingInstance = "controller-0"
        event.action = "Sync"
        event.reason = String(repeating: "r", count: 129)
        XCTAssertEqual(event.validate().map(\.description), ["reason: Invalid value: \"\": can have at most 128 characters"])
    }

    func testFieldLabelsForDescribeAndEvents() throws {
        let json = try JSONValue.parse("""
            {"involvedObject":{"kind":"Pod","namespace":"default","name":"web-0","uid":"u1"},"reason":"Killing",
             "type":"Warning","source":{"component":"kubelet"},"reportingComponent":"kubelet"}
            """)
        let labels = Kind.event.fieldLabels
        XCTAssertEqual(labels["involvedObject.kind"]?(json), "Pod")
        XCTAssertEqual(labels["involvedObject.name"]?(json), "web-0")
        XCTAssertEqual(labels["involvedObject.namespace"]?(json), "default")
        XCTAssertEqual(labels["involvedObject.uid"]?(json), "u1")
        XCTAssertEqual(labels["involvedObject.fieldPath"]?(json), "")
        XCTAssertEqual(labels["regarding.name"]?(json), "web-0")
        XCTAssertEqual(labels["reason"]?(json), "Killing")
        XCTAssertEqual(labels["type"]?(json), "Warning")
        XCTAssertEqual(labels["source"]?(json), "kubelet")
        XCTAssertEqual(labels["reportingComponent"]?(json), "kubelet")
        XCTAssertEqual(Kind.event.shortNames, ["ev"])
        XCTAssertEqual(Kind.event.versions.map(\.apiVersion), ["v1", "events.k8s.io/v1"])
    }

    // MARK: events.k8s.io/v1

    func testEventsV1EventCreatedAndReadBackInBothVersions() throws {
        var store = ServiceStore()
        let body = try JSONValue.parse("""
            {"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"web-0.a1"},
             "eventTime":"2026-01-01T00:00:00.500000Z","reportingController":"example.com/deployer",
             "reportingInstance":"deployer-0","action":"Scale","reason":"ScaledUp",
             "regarding":{"kind":"Deployment","namespace":"default","name":"web","apiVersion":"apps/v1"},
             "note":"scaled up to 3","type":"Normal"}
            """)
        let created = store.create(body, kind: "Event", apiVersion: "events.k8s.io/v1")
        XCTAssertEqual(created.httpStatus, 201, "\(created)")
        let stored = try XCTUnwrap(created.object)
        // Stored (and read through core/v1) in the core shape.
        XCTAssertEqual(stored.json["apiVersion"], "v1")
        XCTAssertEqual(stored.json["involvedObject"]?["name"], "web")
        XCTAssertEqual(stored.json["message"], "scaled up to 3")
        XCTAssertEqual(stored.json["reportingComponent"], "example.com/deployer")
        XCTAssertEqual(stored.json["source"], [:])
        XCTAssertNil(stored.json["note"])
        // Read through events.k8s.io/v1 in that shape, field order of that type.
        let version = try XCTUnwrap(Kind.event.served(apiVersion: "events.k8s.io/v1"))
        let presented = version.present(stored.json)
        XCTAssertEqual(presented["apiVersion"], "events.k8s.io/v1")
        XCTAssertEqual(presented["kind"], "Event")
        XCTAssertEqual(presented.objectValue?.keys, ["kind", "apiVersion", "metadata", "eventTime", "reportingController",
                                                     "reportingInstance", "action", "reason", "regarding", "note", "type",
                                                     "deprecatedSource"])
        XCTAssertEqual(presented["regarding"], body["regarding"])
        XCTAssertEqual(presented["note"], "scaled up to 3")
        XCTAssertEqual(presented["eventTime"], "2026-01-01T00:00:00.500000Z")
        XCTAssertEqual(presented["metadata"]?["uid"], stored.json["metadata"]?["uid"])

        // A merge patch through events.k8s.io/v1 moves the series forward.
        let patched = store.patch("web-0.a1", #"{"series":{"count":2,"lastObservedTime":"2026-01-01T00:05:00.000000Z"}}"#,
                                  kind: "Event", apiVersion: "events.k8s.io/v1")
        XCTAssertEqual(patched.httpStatus, 200, "\(patched)")
        XCTAssertEqual(patched.object?.json["series"], ["count": 2, "lastObservedTime": "2026-01-01T00:05:00.000000Z"])
        XCTAssertEqual(patched.object?.generation, 1)
        // ... but not the rest of the event.
        let rewritten = store.patch("web-0.a1", #"{"note":"something else"}"#, kind: "Event", apiVersion: "events.k8s.io/v1")
        XCTAssertEqual(rewritten.typedRefusal?.causes.map(\.description), ["note: Invalid value: \"something else\": field is immutable"])
        // Through core/v1 the legacy rules apply: the message may change.
        let legacy = store.patch("web-0.a1", #"{"message":"something else"}"#, kind: "Event")
        XCTAssertEqual(legacy.httpStatus, 200, "\(legacy)")
    }

    func testEventsV1RulesAreStricter() throws {
        var store = ServiceStore()
        let body = try JSONValue.parse("""
            {"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"Bad_Name"},
             "regarding":{"kind":"Pod","namespace":"default","name":"p"},"type":"Loud",
             "series":{"count":1},"deprecatedCount":4}
            """)
        let refused = store.create(body, kind: "Event", apiVersion: "events.k8s.io/v1")
        XCTAssertEqual(refused.httpStatus, 422)
        XCTAssertEqual(refused.typedRefusal?.causes.map(\.description), [
            "metadata.name: Invalid value: \"Bad_Name\": " + Names.dnsSubdomainError("Bad_Name")!,
            "series.count: Invalid value: \"\": should be at least 2",
            "series.lastObservedTime: Required value",
            "eventTime: Required value",
            "type: Invalid value: \"\": has invalid value: Loud",
            "deprecatedCount: Invalid value: \"\": needs to be unset",
        ])
        // The same object through core/v1 passes (old style, loose name).
        var decoding = DecodeContext()
        var core = try XCTUnwrap(EventsV1Event(json: body, context: &decoding)).storageEvent
        core.strictRules = nil
        core.metadata.namespace = "default"
        XCTAssertEqual(core.validate(), [])
    }

    func testAnOldStyleEventMayBeUpdatedThroughEventsV1() throws {
        var store = ServiceStore()
        let body = try JSONValue.parse("""
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"web-0.b2"},
             "involvedObject":{"kind":"Pod","namespace":"default","name":"web-0"},"reason":"BackOff","type":"Warning",
             "source":{"component":"kubelet","host":"node-1"},"count":5,
             "firstTimestamp":"2026-01-01T00:00:00Z","lastTimestamp":"2026-01-01T00:09:00Z"}
            """)
        XCTAssertEqual(store.create(body, kind: "Event").httpStatus, 201)
        // The create rules (deprecated fields unset) are not an update's.
        let patched = store.patch("web-0.b2", #"{"series":{"count":6,"lastObservedTime":"2026-01-01T00:10:00.000000Z"}}"#,
                                  kind: "Event", apiVersion: "events.k8s.io/v1")
        XCTAssertEqual(patched.httpStatus, 200, "\(patched)")
        let bad = store.patch("web-0.b2", #"{"series":{"count":1,"lastObservedTime":"2026-01-01T00:10:00.000000Z"}}"#,
                              kind: "Event", apiVersion: "events.k8s.io/v1")
        XCTAssertEqual(bad.typedRefusal?.causes.map(\.description), ["series.count: Invalid value: \"\": should be at least 2"])
    }

    func testEventsV1ConversionIsAFieldForFieldMapping() throws {
        var event = Event()
        event.metadata = ObjectMeta(name: "e", namespace: "default")
        event.involvedObject = ObjectReference(kind: "Pod", namespace: "default", name: "p")
        event.reason = "R"
        event.message = "M"
        event.source = EventSource(component: "kubelet", host: "h")
        event.firstTimestamp = MetaTime(unixSeconds: 10)
        event.lastTimestamp = MetaTime(unixSeconds: 20)
        event.count = 4
        event.type = "Warning"
        event.eventTime = MicroTime(unixSeconds: 10, microseconds: 5)
        var series = EventSeries()
        series.count = 3
        series.lastObservedTime = MicroTime(unixSeconds: 30)
        event.series = series
        event.action = "A"
        event.related = ObjectReference(kind: "Node", name: "n")
        event.reportingComponent = "kubelet"
        event.reportingInstance = "h"
        let v1 = EventsV1Event(storage: event)
        XCTAssertEqual(v1.regarding, event.involvedObject)
        XCTAssertEqual(v1.note, "M")
        XCTAssertEqual(v1.reportingController, "kubelet")
        XCTAssertEqual(v1.deprecatedSource, event.source)
        XCTAssertEqual(v1.deprecatedFirstTimestamp, event.firstTimestamp)
        XCTAssertEqual(v1.deprecatedLastTimestamp, event.lastTimestamp)
        XCTAssertEqual(v1.deprecatedCount, 4)
        XCTAssertEqual(v1.series?.count, 3)
        var back = v1.storageEvent
        XCTAssertEqual(back.strictRules, .create)
        back.strictRules = nil
        back.kind = ""
        back.apiVersion = ""
        XCTAssertEqual(back, event)
    }

    // MARK: Lease (coordination.k8s.io/v1)

    func testLeaseRoundTripValidationAndStore() throws {
        let text = """
        {"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"node-1","namespace":"default"},\
        "spec":{"holderIdentity":"node-1","leaseDurationSeconds":40,"acquireTime":"2026-01-01T00:00:00.000000Z",\
        "renewTime":"2026-01-01T00:00:10.250000Z","leaseTransitions":0}}
        """
        let json = try JSONValue.parse(text)
        var context = DecodeContext()
        var lease = try XCTUnwrap(Lease(json: json, context: &context))
        XCTAssertEqual(context.unknownFields, [])
        XCTAssertEqual(lease.wireJSON.jsonString, json.jsonString, "a zero leaseTransitions pointer is kept")
        XCTAssertEqual(lease.validate(), [])

        lease.spec.leaseDurationSeconds = 0
        lease.spec.leaseTransitions = -1
        lease.spec.preferredHolder = "node-2"
        XCTAssertEqual(lease.validate().map(\.description), [
            "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
            "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
            "spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined",
        ])
        lease.spec.strategy = "Newest"
        XCTAssertEqual(lease.validate().map(\.description).last,
                       "spec.strategy: Unsupported value: \"Newest\": supported values: \"OldestEmulationVersion\"")

        var store = ServiceStore()
        let created = store.create(json, kind: "Lease", apiVersion: "coordination.k8s.io/v1")
        XCTAssertEqual(created.httpStatus, 201, "\(created)")
        var renewed = json
        renewed["spec"]?["renewTime"] = "2026-01-01T00:00:20.000000Z"
        let updated = store.update("node-1", renewed, kind: "Lease", apiVersion: "coordination.k8s.io/v1")
        XCTAssertEqual(updated.httpStatus, 200, "\(updated)")
        XCTAssertEqual(updated.object?.json["spec"]?["renewTime"], "2026-01-01T00:00:20.000000Z")
        XCTAssertEqual(updated.object?.generation, 1, "renewals do not move the generation")
    }
}
