import JSON

extension Store {
    /// A fingerprint of the replicated state: the revision, the cluster version and every
    /// object (kind, key and JSON, in key order). It does not depend on how the store was
    /// built — entry by entry, or restored from a snapshot — so members that applied the same
    /// log up to the same index must agree on it (the simulator checks that they do).
    public func stateDigest() -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, 64 bits
        func mix(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash &*= 0x100_0000_01b3
            }
            hash ^= 0xFF  // separates fields: "ab","c" and "a","bc" differ
            hash &*= 0x100_0000_01b3
        }
        mix(String(revision).utf8)
        mix(String(clusterVersion).utf8)
        for kind in tables.keys.sorted(by: { $0.name < $1.name || ($0.name == $1.name && $0.group < $1.group) }) {
            for object in tables[kind]!.objects(inNamespace: nil) {
                mix(kind.group.utf8)
                mix(kind.name.utf8)
                mix(object.key.namespace.utf8)
                mix(object.key.name.utf8)
                mix(object.json.serialized())
            }
        }
        return hash
    }
}
