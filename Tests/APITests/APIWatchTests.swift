import Foundation
import XCTest

@testable import API
import JSON
import Store

final class APIWatchTests: XCTestCase {
    let configMaps = "/api/v1/namespaces/default/configmaps"

    /// Streams a watch, handing each JSON line to `onLine` until it returns false or the
    /// server ends the stream. Returns the lines.
    @discardableResult
    private func watch(_ fixture: APIFixture, _ target: String, readTimeoutMilliseconds: Int = 5_000,
                       onLine: @escaping ([JSONValue]) -> Bool = { _ in true }) throws -> [JSONValue] {
        let state = Unchecked((pending: [UInt8](), lines: [JSONValue]()))
        _ = try fixture.client().stream(
            target: target, headers: [("Authorization", "Bearer \(FakeClusterService.token)")],
            timeoutMilliseconds: readTimeoutMilliseconds
        ) { bytes in
            state.value.pending += bytes
            while let newline = state.value.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(state.value.pending[..<newline])
                state.value.pending.removeFirst(newline + 1)
                guard let value = try? JSONValue.parse(line) else {
                    XCTFail("not a JSON line: \(String(decoding: line, as: UTF8.self))")
                    return false
                }
                state.value.lines.append(value)
                if !onLine(state.value.lines) { return false }
            }
            return true
        }
        return state.value.lines
    }

    private func summary(_ lines: [JSONValue]) -> [String] {
        lines.map { line in
            let object = line["object"]
            return "\(line["type"]?.stringValue ?? "?") \(object?["metadata"]?["name"]?.stringValue ?? "?")@\(object?["metadata"]?["resourceVersion"]?.stringValue ?? "?")"
        }
    }

    private func update(_ name: String, labels: [String: String] = [:], data: [String: String]) -> StoreCommand {
        .update(object: try! JSONValue.parse(configMap(name, labels: labels, data: data)))
    }

    private func key(_ name: String) -> ObjectKey { ObjectKey(kind: .configMap, namespace: "default", name: name) }

    func testWatchFromAVersionSendsTheBacklogThenLiveEventsOnce() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.apply(createCommand("a"))
            service.apply(createCommand("b"))
            service.apply(self.update("a", data: ["k": "v2"]))
            // The live stream overlaps the backlog (the events after 1): none may repeat.
            service.replayOnSubscribe = try! service.store.events(since: 1, WatchFilter(kind: .configMap))
        }
        let lines = try watch(fixture, configMaps + "?watch=true&resourceVersion=1") { lines in
            if lines.count == 2 {
                XCTAssertTrue(fixture.thread.waitUntil("the overlapping replay") { fixture.service.replaysDelivered == 1 })
                fixture.onLoop { service in
                    service.apply(createCommand("c"))
                    service.apply(.delete(key: self.key("b")))
                    service.apply(createCommand("x", namespace: "other"))  // another namespace: not this watch's
                    service.apply(self.update("c", data: ["k": "v3"]))
                }
            }
            return lines.count < 5
        }
        XCTAssertEqual(summary(lines), ["ADDED b@2", "MODIFIED a@3", "ADDED c@4", "DELETED b@5", "MODIFIED c@7"])
        // The client hung up: the subscription is gone.
        XCTAssertTrue(fixture.thread.waitUntil("unsubscribed") { fixture.service.subscriberCount == 0 && fixture.server.watchCount == 0 })
    }

    func testWatchWithoutAVersionStartsWithTheCurrentObjects() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { service in
            service.apply(createCommand("a"))
            service.apply(createCommand("b"))
            service.apply(.delete(key: self.key("a")))
        }
        let lines = try watch(fixture, configMaps + "?watch=1") { lines in
            if lines.count == 1 { fixture.onLoop { $0.apply(self.update("b", data: ["k": "new"])) } }
            return lines.count < 2
        }
        XCTAssertEqual(summary(lines), ["ADDED b@2", "MODIFIED b@4"])
        XCTAssertEqual(fixture.onLoop { $0.linearizableReadCount }, 1)

        // resourceVersion=0: the same, from this member's state at once (no barrier).
        let any = try watch(fixture, "/api/v1/configmaps?watch=true&resourceVersion=0") { $0.count < 1 }
        XCTAssertEqual(summary(any), ["ADDED b@4"])
        XCTAssertEqual(fixture.onLoop { $0.linearizableReadCount }, 1)
    }

    func testLabelSelectorsApplyToWatches() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        let reader = try WatchReader(port: fixture.port, target: configMaps + "?watch=true&resourceVersion=0&labelSelector=app%3Dweb")
        XCTAssertTrue(fixture.thread.waitUntil("subscribed") { fixture.service.subscriberCount == 1 })
        fixture.onLoop { service in
            service.apply(createCommand("x", labels: ["app": "db"]))
            service.apply(createCommand("y", labels: ["app": "web"]))
            service.apply(self.update("y", labels: ["app": "db"], data: ["k": "v"]))   // leaves the selection
            service.apply(self.update("x", labels: ["app": "web"], data: ["k": "v"]))  // enters it
            service.apply(self.update("y", labels: ["app": "db"], data: ["k": "2"]))   // unseen
            service.apply(self.update("x", labels: ["app": "web"], data: ["k": "2"]))
        }
        XCTAssertEqual(summary(reader.read(untilLines: 4)), ["ADDED y@2", "DELETED y@3", "ADDED x@4", "MODIFIED x@6"])
    }

    func testTooOldAVersionIs410() throws {
        let fixture = APIFixture(watchHistoryEventsMax: 2)
        defer { fixture.close() }
        fixture.onLoop { service in
            for name in ["a", "b", "c", "d", "e"] { service.apply(createCommand(name)) }
        }
        let old = try fixture.send("GET", configMaps + "?watch=true&resourceVersion=1")
        XCTAssertEqual(old.status, 410)
        XCTAssertEqual(old.json?["kind"], "Status")
        XCTAssertEqual(old.json?["reason"], "Expired")
        XCTAssertEqual(old.json?["code"], 410)
        XCTAssertTrue(old.json?["message"]?.stringValue?.hasPrefix("too old resource version: 1") == true, old.text)
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.watchCount }, 0)
        // The history still holds what came after 3.
        XCTAssertEqual(summary(try watch(fixture, configMaps + "?watch=true&resourceVersion=3") { $0.count < 2 }), ["ADDED d@4", "ADDED e@5"])
    }

    func testAHistoryThatRestartsUnderAStreamEndsItWith410() throws {
        let fixture = APIFixture(watchHistoryEventsMax: 2)
        defer { fixture.close() }
        fixture.onLoop { $0.apply(createCommand("a")) }
        let reader = try WatchReader(port: fixture.port, target: configMaps + "?watch=true&resourceVersion=1")
        XCTAssertTrue(fixture.thread.waitUntil("subscribed") { fixture.service.subscriberCount == 1 })
        // Entries the stream never heard of (as when a snapshot is installed), then a delivery.
        fixture.onLoop { service in
            for name in ["b", "c", "d"] { service.applySilently(createCommand(name)) }
            service.deliver([])
        }
        let lines = reader.readToEnd()
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(lines.first?["type"], "ERROR")
        XCTAssertEqual(lines.first?["object"]?["code"], 410)
        XCTAssertEqual(lines.first?["object"]?["kind"], "Status")
        XCTAssertEqual(reader.ended?.status, 200)  // the stream ended properly
        XCTAssertTrue(fixture.thread.waitUntil("unsubscribed") { fixture.service.subscriberCount == 0 && fixture.server.watchCount == 0 })
    }

    func testAClientThatHangsUpCancelsItsSubscription() throws {
        let fixture = APIFixture()
        defer { fixture.close() }
        fixture.onLoop { $0.apply(createCommand("a")) }
        let reader = try WatchReader(port: fixture.port, target: configMaps + "?watch=true")
        XCTAssertEqual(summary(reader.read(untilLines: 1)), ["ADDED a@1"])
        XCTAssertEqual(fixture.onLoop { $0.subscriberCount }, 1)
        XCTAssertEqual(fixture.onLoop { _ in fixture.server.watchCount }, 1)
        reader.socket.close()
        XCTAssertTrue(fixture.thread.waitUntil("unsubscribed") {
            fixture.service.subscriberCount == 0 && fixture.server.watchCount == 0 && fixture.server.connectionCount == 0
        })
        fixture.onLoop { $0.apply(createCommand("b")) }  // nobody to deliver to, nothing breaks
        XCTAssertEqual(try fixture.send("GET", "/healthz").status, 200)
    }

    func testAClientTooSlowToReadIsDisconnected() throws {
        var limits = APIServer.Limits()
        limits.watchBufferBytesMax = 256 << 10
        let fixture = APIFixture(limits: limits)
        defer { fixture.close() }
        let reader = try WatchReader(port: fixture.port, target: configMaps + "?watch=true&resourceVersion=0",
                                     receiveBufferBytes: 4096)
        XCTAssertTrue(fixture.thread.waitUntil("subscribed") { fixture.service.subscriberCount == 1 })
        // Never read; 40 x 500 KB of events is far more than socket buffers hold.
        let big = String(repeating: "x", count: 500_000)
        fixture.onLoop { service in
            for i in 0..<40 { service.apply(createCommand("big-\(i)", data: ["k": big])) }
        }
        XCTAssertTrue(fixture.thread.waitUntil("evicted") {
            fixture.server.stats.watchesEvicted == 1 && fixture.service.subscriberCount == 0 && fixture.server.watchCount == 0
        })
        // Reading now: events, then the ERROR line, then the end (or a reset of the connection).
        let lines = reader.readToEnd()
        if reader.ended != nil { XCTAssertEqual(lines.last?["type"], "ERROR") }
        XCTAssertTrue(fixture.thread.waitUntil("connection closed") { fixture.server.connectionCount == 0 })
    }

    func testWatchesAreBoundedAndEndAfterTheirTimeout() throws {
        var limits = APIServer.Limits()
        limits.watchesMax = 1
        limits.sweepIntervalMilliseconds = 20
        let fixture = APIFixture(limits: limits)
        defer { fixture.close() }
        fixture.onLoop { $0.apply(createCommand("a")) }
        let first = try WatchReader(port: fixture.port, target: configMaps + "?watch=true&timeoutSeconds=1")
        XCTAssertEqual(first.read(untilLines: 1).count, 1)
        let second = try fixture.send("GET", configMaps + "?watch=true")
        XCTAssertEqual(second.status, 429)
        XCTAssertEqual(second.json?["reason"], "TooManyRequests")
        // After its timeout the first ends cleanly (the terminating chunk); the slot is free again.
        XCTAssertEqual(first.readToEnd().count, 1)
        XCTAssertEqual(first.ended?.status, 200)
        XCTAssertTrue(fixture.thread.waitUntil("watch ended") { fixture.server.watchCount == 0 && fixture.service.subscriberCount == 0 })
        // The connection stays usable (keep-alive).
        first.socket.send(rawRequest("GET", "/healthz", token: nil))
        XCTAssertEqual(first.socket.responses(1).first?.status, 200)
        XCTAssertEqual(summary(try watch(fixture, configMaps + "?watch=true&timeoutSeconds=1")), ["ADDED a@1"])
    }
}
