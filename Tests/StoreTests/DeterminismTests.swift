import JSON
import Store
import XCTest

/// The state machine is deterministic and its invariants hold under random command sequences.
final class DeterminismTests: XCTestCase {
    func testSameCommandsInTheSameOrderGiveIdenticalStores() {
        var rng = SplitMix64(seed: 99)
        let entries = (1...300).map { index in RandomCommands.entry(index: UInt64(index), &rng) }
        var a = Store()
        var b = Store(watchHistoryEventsMax: 7)  // history size is not replicated state
        for (index, bytes) in entries {
            guard let bytes else { a.advance(to: index); b.advance(to: index); continue }
            XCTAssertEqual(a.apply(index: index, bytes), b.apply(index: index, bytes))
        }
        XCTAssertEqual(a.snapshot(), b.snapshot())
        XCTAssertEqual(a.digest, b.digest)
        XCTAssertGreaterThan(a.count, 0)
    }

    func testRandomSequencesKeepTheStoreInvariants() throws {
        for seed in 0..<25 as Range<UInt64> {
            try checkRandomSequence(seed: seed, steps: 250)
        }
    }

    func checkRandomSequence(seed: UInt64, steps: Int) throws {
        var rng = SplitMix64(seed: seed)
        var store = Store()
        var small = Store(watchHistoryEventsMax: 5)
        var log: [(UInt64, [UInt8]?)] = []
        var middle: (snapshot: [UInt8], position: Int)?
        var reported: [WatchEvent] = []
        let context = "seed \(seed)"

        for step in 1...steps {
            if step == steps / 2 { middle = (store.snapshot(), log.count) }
            let (index, bytes) = RandomCommands.entry(index: UInt64(step), &rng)
            log.append((index, bytes))
            let before = store
            guard let bytes else { store.advance(to: index); small.advance(to: index); continue }
            let applied = store.apply(index: index, bytes)
            XCTAssertEqual(small.apply(index: index, bytes), applied, context)
            reported += applied.events
            XCTAssertTrue(applied.events.allSatisfy { $0.resourceVersion == index }, context)
            if let command = try? StoreCommand.decode(bytes) {
                checkOracle(command, before: before, result: applied.result, context: "\(context) step \(step)")
            } else {
                XCTAssertEqual(applied.result.httpStatus, 400, context)
            }

            // Replaying every event rebuilds exactly the stored objects.
            var replayed: [ObjectKey: StoredObject] = [:]
            for event in try store.events(since: 0, WatchFilter(kind: .configMap)) + store.events(since: 0, WatchFilter(kind: .member)) {
                replayed[event.key] = event.type == .deleted ? nil : event.object
            }
            let items = store.list(.configMap).items + store.list(.member).items
            XCTAssertEqual(replayed.count, items.count, context)
            for item in items {
                XCTAssertEqual(replayed[item.key], item, context)
                XCTAssertLessThanOrEqual(item.resourceVersion, store.revision, context)
            }
            XCTAssertEqual(zip(items, items.dropFirst()).filter { !($0.key < $1.key) && $0.key.kind == $1.key.kind }.count, 0, context)

            // A short history either serves the full suffix or says gone.
            let since = rng.next() % (index + 1)
            let filter = WatchFilter(kind: .configMap, namespace: rng.next() % 2 == 0 ? nil : "a")
            do {
                let events = try small.events(since: since, filter)
                XCTAssertEqual(events, try store.events(since: since, filter), context)
            } catch StoreError.gone(let requested, let oldest) {
                XCTAssertLessThan(requested, oldest, context)
            }

            if step % 25 == 0 {
                let snapshot = store.snapshot()
                let restored = try Store(restoring: snapshot)
                XCTAssertEqual(restored.snapshot(), snapshot, context)
                XCTAssertEqual(restored.digest, store.digest, context)
            }
        }
        for kind in Kind.registered {
            let filter = WatchFilter(kind: kind)
            XCTAssertEqual(reported.compactMap { $0.filtered(by: filter) }, try store.events(since: 0, filter), context)
        }

        // A member restored from the middle snapshot that applies the rest ends identical.
        let (snapshot, position) = try XCTUnwrap(middle)
        var resumed = try Store(restoring: snapshot)
        for (index, bytes) in log[position...] {
            if let bytes { _ = resumed.apply(index: index, bytes) } else { resumed.advance(to: index) }
        }
        XCTAssertEqual(resumed.snapshot(), store.snapshot(), context)
    }

    /// What the result must be, judged from the store before the command.
    func checkOracle(_ command: StoreCommand, before: Store, result: StoreResult, context: String) {
        switch command {
        case .create(let object, _, _):
            guard let key = RandomCommands.key(of: object), RandomCommands.isValid(object) else { return }
            XCTAssertEqual(result.httpStatus, before.get(key) == nil ? 201 : 409, context)
        case .update(let object, let version, _):
            guard let key = RandomCommands.key(of: object), RandomCommands.isValid(object) else { return }
            guard let current = before.get(key) else { return XCTAssertEqual(result, .notFound(key), context) }
            if let version, version != current.resourceVersion {
                guard case .conflict = result else { return XCTFail("\(context): \(result)") }
            } else {
                XCTAssertEqual(result.httpStatus, 200, context)
            }
        case .delete(let key, let version, _):
            guard let current = before.get(key) else { return XCTAssertEqual(result, .notFound(key), context) }
            XCTAssertEqual(result.httpStatus, version == nil || version == current.resourceVersion ? 200 : 409, context)
        case .batch:
            XCTAssertTrue([200, 404, 409, 422].contains(result.httpStatus), context)
        case .setClusterVersion, .typed, .admitted:
            break  // not generated here (cluster version 1 commands only)
        }
    }
}

/// Random but reproducible entries over a small key space, so commands collide often.
enum RandomCommands {
    static let names = ["x", "y", "z"]
    static let namespaces = ["a", "b"]

    static func pick<T>(_ items: [T], _ rng: inout SplitMix64) -> T { items[Int(rng.next() % UInt64(items.count))] }

    static func object(_ rng: inout SplitMix64) -> JSONValue {
        if rng.next() % 4 == 0 {
            return member(pick(["m1", "m2", "Bad_Name"], &rng), incarnation: .int(Int64(rng.next() % 3)), role: pick(["voter", "learner"], &rng))
        }
        var labels: [String: String] = [:]
        if rng.next() % 2 == 0 { labels["app"] = pick(["web", "db"], &rng) }
        if rng.next() % 3 == 0 { labels["tier"] = "front" }
        let data: JSONValue = rng.next() % 10 == 0 ? ["k": 1] : ["k": .string(pick(["1", "2", "3"], &rng))]
        return configMap(pick(names, &rng), namespace: pick(namespaces, &rng), data: data, labels: labels)
    }

    static func single(index: UInt64, _ rng: inout SplitMix64) -> StoreCommand {
        let version: UInt64? = rng.next() % 2 == 0 ? nil : rng.next() % (index + 1)
        switch rng.next() % 10 {
        case 0...3: return .create(object: object(&rng), uid: "u\(index)-\(rng.next() % 100)", creationTimestamp: createdAt)
        case 4...6: return .update(object: object(&rng), expectedResourceVersion: version)
        default:
            let key = rng.next() % 4 == 0
                ? ObjectKey(kind: .member, name: pick(["m1", "m2"], &rng))
                : ObjectKey(kind: .configMap, namespace: pick(namespaces, &rng), name: pick(names, &rng))
            return .delete(key: key, expectedResourceVersion: version)
        }
    }

    /// The entry at `index`: command bytes, or nil for an entry without a command.
    static func entry(index: UInt64, _ rng: inout SplitMix64) -> (UInt64, [UInt8]?) {
        switch rng.next() % 20 {
        case 0: return (index, nil)
        case 1: return (index, (0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        case 2, 3: return (index, StoreCommand.batch((0..<rng.next() % 4).map { _ in single(index: index, &rng) }).encoded())
        default: return (index, single(index: index, &rng).encoded())
        }
    }

    static func key(of object: JSONValue) -> ObjectKey? {
        guard let name = object["metadata"]?["name"]?.stringValue else { return nil }
        if object["kind"] == "Member" { return ObjectKey(kind: .member, name: name) }
        return ObjectKey(kind: .configMap, namespace: object["metadata"]?["namespace"]?.stringValue ?? "", name: name)
    }

    static func isValid(_ object: JSONValue) -> Bool {
        if object["metadata"]?["name"] == "Bad_Name" { return false }
        if object["kind"] == "Member" { return true }
        return object["data"]?["k"]?.stringValue != nil
    }
}
