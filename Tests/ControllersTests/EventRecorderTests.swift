@testable import Controllers
import Store
import XCTest

final class EventRecorderTests: XCTestCase {
    func testARepeatRaisesTheCountAndOldEventsExpire() throws {
        var meta = ObjectMeta()
        meta.name = "web-abc"
        meta.namespace = "default"
        meta.uid = "uid-1"
        let record = EventRecord(.warning, "FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.", component: "default-scheduler",
                                 about: EventRecord.reference("Pod", apiVersion: "v1", meta))
        let first = EventRecorder.write(record, existing: nil, now: MicroTime(unixSeconds: 100), sequence: 1)
        XCTAssertEqual(first.write.verb, .create)
        var event = try XCTUnwrap(Event(stored: first.write.body!))
        XCTAssertEqual(event.count, 1)
        XCTAssertEqual(event.type, "Warning")
        XCTAssertEqual(event.involvedObject.name, "web-abc")
        XCTAssertTrue(event.metadata.name.hasPrefix("web-abc."))
        event.metadata.resourceVersion = "40"
        event.metadata.uid = "event-uid"
        let again = EventRecorder.write(record, existing: event, now: MicroTime(unixSeconds: 130), sequence: 2)
        XCTAssertEqual(again.write.verb, .update)
        XCTAssertEqual(again.write.expectedResourceVersion, 40)
        XCTAssertEqual(again.write.body?["count"], 2)
        XCTAssertEqual(again.write.body?["lastTimestamp"]?.stringValue, MetaTime(unixSeconds: 130).description)

        XCTAssertTrue(EventRecorder.expired([event], now: MetaTime(unixSeconds: 100 + 3_600)).isEmpty)
        XCTAssertEqual(EventRecorder.expired([event], now: MetaTime(unixSeconds: 101 + 3_600)).map(\.write.expectedUID), ["event-uid"])
    }
}
