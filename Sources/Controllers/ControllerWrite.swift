import Store

/// A write a controller asks for, with what it does, so the runner can count it as expected
/// until it is answered (and then seen in the cache: the leader answers a write only after
/// applying it).
public struct ControllerWrite: Sendable {
    public enum Effect: Hashable, Sendable {
        /// A pod created for the owner with this uid.
        case createPod(owner: String)
        /// The pod with this uid deleted by the owner with that uid.
        case deletePod(owner: String, pod: String)
        /// The pod with this key bound to the node.
        case bind(pod: ObjectKey, node: String)
        /// Status (or other bookkeeping) of the object with this key.
        case status(ObjectKey)
        /// A ReplicaSet created for the Deployment with this uid.
        case createReplicaSet(owner: String)
        /// The spec or metadata of the object with this key written (or the object deleted).
        case update(ObjectKey)
    }

    public var write: TypedWrite
    public var effect: Effect
    /// What to tell users once the write succeeded ("{name}" in the message: the name of the
    /// object the write created).
    public var event: EventRecord?

    public init(_ write: TypedWrite, _ effect: Effect, event: EventRecord? = nil) {
        self.write = write
        self.effect = effect
        self.event = event
    }
}

extension ControllerWrite {
    /// The object a write changes, when it names one (creates do not).
    public var target: ObjectKey? {
        switch effect {
        case .status(let key), .update(let key): return key
        case .bind(let pod, _): return pod
        case .createPod, .createReplicaSet, .deletePod: return nil
        }
    }

    /// The writes of one pass with at most one per object: two writes computed from the same
    /// version of an object (a ReplicaSet's status from its controller and its scale from the
    /// Deployment's) would make the second fail on the first's new version. A spec write wins
    /// over a status write, else the first is kept; the one dropped is computed again in the
    /// next pass, from the object as it then is.
    public static func onePerObject(_ writes: [ControllerWrite]) -> [ControllerWrite] {
        var updated: Set<ObjectKey> = []
        for write in writes { if case .update(let key) = write.effect { updated.insert(key) } }
        var written: Set<ObjectKey> = []
        return writes.filter { write in
            guard let key = write.target else { return true }
            if case .status = write.effect, updated.contains(key) { return false }
            return written.insert(key).inserted
        }
    }
}
