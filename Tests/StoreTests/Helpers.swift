import JSON
import Store
import XCTest

/// The creation time every test command carries (the leader's clock, in real use).
let createdAt = "2024-05-01T12:00:00Z"

/// A ConfigMap as a client would send it.
func configMap(_ name: String, namespace: String? = "default", data: JSONValue = ["k": "v"],
               labels: [String: String]? = nil) -> JSONValue {
    var metadata: JSONObject = ["name": .string(name)]
    if let namespace { metadata["namespace"] = .string(namespace) }
    if let labels {
        metadata["labels"] = .object(JSONObject(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    }
    return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(metadata), "data": data]
}

/// A Member as the leader would record it.
func member(_ name: String, address: JSONValue = "10.0.0.1", peerPort: JSONValue = 7000, apiPort: JSONValue = 6443,
            incarnation: JSONValue = 1, role: JSONValue = "voter") -> JSONValue {
    ["apiVersion": "shoal.dev/v1", "kind": "Member", "metadata": ["name": .string(name)],
     "spec": ["address": address, "peerPort": peerPort, "apiPort": apiPort, "incarnation": incarnation, "role": role]]
}

func cmKey(_ name: String, namespace: String = "default") -> ObjectKey {
    ObjectKey(kind: .configMap, namespace: namespace, name: name)
}

func create(_ object: JSONValue, uid: String? = nil) -> StoreCommand {
    let name = object["metadata"]?["name"]?.stringValue ?? "x"
    return .create(object: object, uid: uid ?? "uid-\(name.prefix(40))", creationTimestamp: createdAt)
}

/// A store and the next Raft index, so tests read as a sequence of commands.
struct Harness {
    var store: Store
    var index: UInt64 = 0
    /// Every event `apply` reported, in order.
    var events: [WatchEvent] = []

    init(watchHistoryEventsMax: Int = Store.watchHistoryEventsMax) {
        store = Store(watchHistoryEventsMax: watchHistoryEventsMax)
    }

    @discardableResult
    mutating func apply(_ command: StoreCommand) -> StoreResult { apply(bytes: command.encoded()) }

    @discardableResult
    mutating func apply(bytes: [UInt8]) -> StoreResult {
        index += 1
        let applied = store.apply(index: index, bytes)
        XCTAssertEqual(applied.index, index)
        XCTAssertEqual(store.revision, index)
        events += applied.events
        return applied.result
    }
}

extension StoreResult {
    /// The reason of an `.invalid` result (nil otherwise).
    var invalidReason: String? { if case .invalid(let reason) = self { return reason } else { return nil } }
}

/// SplitMix64: a tiny seeded generator, so random tests replay from their seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
