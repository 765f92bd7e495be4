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
