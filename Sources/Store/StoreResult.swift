/// The outcome of applying one command. Every member computes the same result for the same
/// entry; the member that proposed it hands the result to the waiting client. The cases
/// mirror Kubernetes API status codes (`httpStatus`).
public indirect enum StoreResult: Equatable, Sendable {
    /// 201: the object as stored.
    case created(StoredObject)
    /// 200: the object as stored. An update that changes nothing writes nothing (no new
    /// resourceVersion, no event) and returns the stored object unchanged.
    case updated(StoredObject)
    /// 200: the object's last state, stamped with the deleting entry's resourceVersion.
    case deleted(StoredObject)
    /// 404.
    case notFound(ObjectKey)
    /// 409 (reason AlreadyExists).
    case alreadyExists(ObjectKey)
    /// 409 (reason Conflict): a precondition (resourceVersion or uid) did not hold.
    case conflict(ObjectKey, reason: String)
    /// 422 for field errors, 400 for a malformed command: the reason says which.
    case invalid(reason: String)
    /// Every command of a batch succeeded; one result per command, in order.
    case batch([StoreResult])
    /// The command at `position` of a batch failed with `result`, so none was applied.
    case batchAborted(position: Int, result: StoreResult)

    /// The HTTP status Kubernetes would answer with.
    public var httpStatus: Int {
        switch self {
        case .created: return 201
        case .updated, .deleted, .batch: return 200
        case .notFound: return 404
        case .alreadyExists, .conflict: return 409
        case .invalid(let reason): return reason.hasPrefix(StoreError.malformedPrefix) ? 400 : 422
        case .batchAborted(_, let result): return result.httpStatus
        }
    }

    /// Whether the command changed (or, for a no-op update, kept) the store as asked.
    public var succeeded: Bool {
        switch self {
        case .created, .updated, .deleted, .batch: return true
        case .notFound, .alreadyExists, .conflict, .invalid, .batchAborted: return false
        }
    }

    /// The object a single successful command produced, if any.
    public var object: StoredObject? {
        switch self {
        case .created(let o), .updated(let o), .deleted(let o): return o
        default: return nil
        }
    }
}

/// Errors the store throws at its readers (results of writes are `StoreResult`s instead).
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 410 Gone: a watch asked for changes after `requested`, but the history now starts
    /// after `oldest` (Kubernetes: "too old resource version"). The client re-lists.
    case gone(requested: UInt64, oldest: UInt64)
    /// Command bytes that do not decode (the reason names the byte offset).
    case malformedCommand(String)
    /// Snapshot bytes that do not decode or break an invariant.
    case corruptSnapshot(String)

    /// The prefix of `.invalid` reasons that come from undecodable command bytes.
    static let malformedPrefix = "malformed command: "

    /// The Kubernetes-style message.
    public var description: String {
        switch self {
        case .gone(let requested, let oldest): return "too old resource version: \(requested) (\(oldest))"
        case .malformedCommand(let reason): return StoreError.malformedPrefix + reason
        case .corruptSnapshot(let reason): return "corrupt store snapshot: \(reason)"
        }
    }
}
