import JSON

/// Moving the cluster to a newer version of the store's rules (see `Store.clusterVersion`).
extension Store {
    /// The namespaces every cluster of version 2 has (Kubernetes creates the same ones).
    public static let systemNamespaces = ["default", "kube-node-lease", "kube-public", "kube-system"]

    mutating func setClusterVersion(_ version: Int, now: String, index: UInt64, journal: inout Journal) -> StoreResult {
        if version == clusterVersion { return .batch([]) }  // already there (a repeated proposal)
        guard version > clusterVersion else {
            return .invalid(reason: "the cluster version never goes back (at \(clusterVersion), asked for \(version))")
        }
        guard version <= clusterVersionMax else {
            // Every member that can run it moves on; this one cannot, and must stop before it
            // applies anything under rules it does not have.
            unsupportedClusterVersion = version
            return .invalid(reason: "this member runs cluster versions up to \(clusterVersionMax); the cluster moved to \(version): upgrade it")
        }
        guard let time = MetaTime(parsing: now) else { return .invalid(reason: "the version change carries no valid time") }
        let from = clusterVersion
        clusterVersion = version
        if from < 2 && version >= 2 { migrateToVersion2(index: index, now: time, journal: &journal) }
        return .batch([])
    }

    /// Version 2 types ConfigMaps and requires namespaces to exist: stored ConfigMaps are
    /// rewritten in their typed form (same revision: nothing a client can see changed but the
    /// field order), and a Namespace is created for the system namespaces and for every
    /// namespace already holding objects.
    private mutating func migrateToVersion2(index: UInt64, now: MetaTime, journal: inout Journal) {
        for object in tables[.configMap]?.objects(inNamespace: nil) ?? [] {
            guard var typed = ConfigMap(object) else { continue }
            typed.kind = Kind.configMap.name
            typed.apiVersion = Kind.configMap.apiVersion
            guard let rewritten = StoredObject(typed: typed, kind: .configMap), rewritten.key == object.key else { continue }
            put(rewritten, journal: &journal)
        }
        var names = Set(Store.systemNamespaces)
        for (kind, table) in tables where kind.namespaced { names.formUnion(table.namespaces.keys) }
        for name in names.sorted(by: utf8Precedes) where get(ObjectKey(kind: .namespace, name: name)) == nil {
            var namespace = Namespace()
            namespace.kind = Kind.namespace.name
            namespace.apiVersion = Kind.namespace.apiVersion
            namespace.metadata.name = name
            namespace.metadata.uid = Self.derivedUID(index: index, name: "namespace/" + name)
            namespace.metadata.resourceVersion = String(index)
            namespace.metadata.generation = 1
            namespace.metadata.creationTimestamp = now
            namespace.applyDefaults()
            namespace.prepareForCreate()
            guard let stored = StoredObject(typed: namespace, kind: .namespace) else { continue }
            put(stored, journal: &journal)
            journal.events.append(WatchEvent(type: .added, object: stored))
        }
    }

    /// A uid for an object the store creates itself: a version-4-shaped UUID from a hash of
    /// the entry's index and a name, the same on every member.
    static func derivedUID(index: UInt64, name: String) -> String {
        var high = FNV1a64()
        high.add(Array("\(index)/\(name)/high".utf8)[...])
        var low = FNV1a64()
        low.add(Array("\(index)/\(name)/low".utf8)[...])
        var bytes: [UInt8] = []
        for word in [high.value, low.value] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = Array("0123456789abcdef")
        var text = ""
        for (i, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(i) { text += "-" }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 15)])
        }
        return text
    }
}
