import JSON

/// Lookups the typed write rules need that a scan of the tables would make O(objects): by
/// uid, owner to dependents, the Service IPs and node ports in use. Derived from the tables
/// alone (rebuilt when a store is restored, never in a snapshot), and updated by the one pair
/// of functions through which objects enter and leave the tables (`Store.put`/`remove`), so
/// they cannot drift.
///
/// Snapshot writers copy the tables, not these, so the first write after a snapshot starts
/// does not copy the indexes on the loop.
struct StoreIndexes: Sendable {
    /// Every object by uid.
    private(set) var keysByUID: [String: ObjectKey] = [:]
    /// For each owner uid, the objects naming it in `metadata.ownerReferences`.
    private(set) var dependents: [String: Set<ObjectKey>] = [:]
    /// Service cluster IPs (IPv4 as an integer) in use, and by which Service.
    private(set) var clusterIPs: [UInt32: ObjectKey] = [:]
    /// Node ports in use, and by which Service.
    private(set) var nodePorts: [Int32: ObjectKey] = [:]
    /// Objects per namespace, every kind together (a terminating namespace is finalized when
    /// this reaches zero).
    private(set) var namespaceCounts: [String: Int] = [:]
    /// Objects with a `deletionTimestamp` (being deleted: grace periods, finalizers), so the
    /// leader finds the ones whose grace ended without scanning every object.
    private(set) var beingDeleted: Set<ObjectKey> = []

    mutating func add(_ object: StoredObject) {
        keysByUID[object.uid] = object.key
        for owner in Self.ownerUIDs(object.json) { dependents[owner, default: []].insert(object.key) }
        if object.key.kind.namespaced { namespaceCounts[object.key.namespace, default: 0] += 1 }
        if object.json["metadata"]?["deletionTimestamp"] != nil { beingDeleted.insert(object.key) }
        if object.key.kind.name == "Service" {
            for ip in Self.serviceIPs(object.json) { clusterIPs[ip] = object.key }
            for port in Self.serviceNodePorts(object.json) { nodePorts[port] = object.key }
        }
    }

    mutating func remove(_ object: StoredObject) {
        if keysByUID[object.uid] == object.key { keysByUID[object.uid] = nil }
        for owner in Self.ownerUIDs(object.json) {
            dependents[owner]?.remove(object.key)
            if dependents[owner]?.isEmpty == true { dependents[owner] = nil }
        }
        if object.key.kind.namespaced {
            let left = (namespaceCounts[object.key.namespace] ?? 1) - 1
            namespaceCounts[object.key.namespace] = left > 0 ? left : nil
        }
        beingDeleted.remove(object.key)
        if object.key.kind.name == "Service" {
            for ip in Self.serviceIPs(object.json) where clusterIPs[ip] == object.key { clusterIPs[ip] = nil }
            for port in Self.serviceNodePorts(object.json) where nodePorts[port] == object.key { nodePorts[port] = nil }
        }
    }

    /// The owners' uids an object's JSON names.
    static func ownerUIDs(_ json: JSONValue) -> [String] {
        json["metadata"]?["ownerReferences"]?.arrayValue?.compactMap { $0["uid"]?.stringValue } ?? []
    }

    static func serviceIPs(_ json: JSONValue) -> [UInt32] {
        var ips: [UInt32] = []
        if let list = json["spec"]?["clusterIPs"]?.arrayValue {
            ips = list.compactMap { $0.stringValue.flatMap(IPv4.parse) }
        }
        if ips.isEmpty, let single = json["spec"]?["clusterIP"]?.stringValue.flatMap(IPv4.parse) { ips = [single] }
        return ips
    }

    static func serviceNodePorts(_ json: JSONValue) -> [Int32] {
        json["spec"]?["ports"]?.arrayValue?.compactMap { $0["nodePort"]?.intValue.flatMap { Int32(exactly: $0) } }
            .filter { $0 != 0 } ?? []
    }
}

/// IPv4 addresses as 32-bit integers.
public enum IPv4 {
    /// "10.96.0.1" → its integer; nil for anything but a dotted quad.
    public static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let octet = UInt32(part), octet <= 255, part.count == 1 || part.first != "0" else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    /// The dotted quad.
    public static func format(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
    }

    /// A CIDR ("10.96.0.0/12") as its first address and prefix length.
    public static func parseCIDR(_ text: String) -> (base: UInt32, prefix: Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = parse(String(parts[0])), let prefix = Int(parts[1]), (8...30).contains(prefix) else {
            return nil
        }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        guard address & ~mask == 0 else { return nil }
        return (address, prefix)
    }
}
