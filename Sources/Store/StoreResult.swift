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
    /// A typed write refused (cluster version 2 on): the Kubernetes status, reason, message
    /// and field causes to answer with.
    case rejected(Rejection)
    /// An admitted write found the store changed since it was admitted (`Store+Admitted.swift`):
    /// nothing was applied; the proposer admits it again and retries.
    case stale(reason: String)

    /// The HTTP status Kubernetes would answer with.
    public var httpStatus: Int {
        switch self {
        case .created: return 201
        case .updated, .deleted, .batch: return 200
        case .notFound: return 404
        case .alreadyExists, .conflict: return 409
        case .invalid(let reason): return reason.hasPrefix(StoreError.malformedPrefix) ? 400 : 422
        case .batchAborted(_, let result): return result.httpStatus
        case .rejected(let rejection): return rejection.code
        case .stale: return 409
        }
    }

    /// Whether the command changed (or, for a no-op update, kept) the store as asked.
    public var succeeded: Bool {
        switch self {
        case .created, .updated, .deleted, .batch: return true
        case .notFound, .alreadyExists, .conflict, .invalid, .batchAborted, .rejected, .stale: return false
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

/// Why a typed write was refused, as a Kubernetes `Status` carries it.
public struct Rejection: Error, Equatable, Sendable, CustomStringConvertible {
    /// The HTTP status (400, 403, 404, 409, 422, ...).
    public let code: Int
    /// Kubernetes' `reason` ("Invalid", "BadRequest", "Forbidden", "NotFound", "Conflict", ...).
    public let reason: String
    /// The whole message.
    public let message: String
    /// The kind's name and the object's name, for `details`.
    public let kind: String
    public let group: String
    public let name: String
    /// The field errors behind an Invalid (422) or a decoding failure (400).
    public let causes: [FieldError]

    public init(code: Int, reason: String, message: String, kind: String = "", group: String = "", name: String = "",
                causes: [FieldError] = []) {
        self.code = code
        self.reason = reason
        self.message = message
        self.kind = kind
        self.group = group
        self.name = name
        self.causes = causes
    }

    /// 422 Invalid: `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: ...`.
    public static func invalid(_ kind: Kind, name: String, _ errors: [FieldError]) -> Rejection {
        let qualified = kind.group.isEmpty ? kind.name : "\(kind.name).\(kind.group)"
        return Rejection(code: 422, reason: "Invalid",
                         message: "\(qualified) \(FieldError.quote(name)) is invalid: \(errors.joinedDescription)",
                         kind: kind.name, group: kind.group, name: name, causes: errors)
    }

    /// 400 BadRequest for a body that does not decode as the kind in its version.
    public static func undecodable(_ kind: Kind, apiVersion: String, _ detail: String, causes: [FieldError] = []) -> Rejection {
        Rejection(code: 400, reason: "BadRequest",
                  message: "\(kind.name) in version \(FieldError.quote(apiVersion)) cannot be handled as a \(kind.name): \(detail)",
                  kind: kind.name, group: kind.group, causes: causes)
    }

    /// 400 BadRequest with a plain message.
    public static func badRequest(_ message: String) -> Rejection {
        Rejection(code: 400, reason: "BadRequest", message: message)
    }

    /// 403 Forbidden (e.g. creating in a namespace being deleted).
    public static func forbidden(_ kind: Kind, name: String, _ detail: String) -> Rejection {
        Rejection(code: 403, reason: "Forbidden",
                  message: "\(kind.plural) \(FieldError.quote(name)) is forbidden: \(detail)",
                  kind: kind.plural, group: kind.group, name: name)
    }

    /// 404 NotFound for a missing object named in a message (e.g. the namespace).
    public static func notFound(_ kind: Kind, name: String) -> Rejection {
        Rejection(code: 404, reason: "NotFound", message: "\(kind.plural) \(FieldError.quote(name)) not found",
                  kind: kind.plural, group: kind.group, name: name)
    }

    /// 409 Conflict with a reason.
    public static func conflict(_ kind: Kind, name: String, _ detail: String) -> Rejection {
        Rejection(code: 409, reason: "Conflict",
                  message: "Operation cannot be fulfilled on \(kind.plural) \(FieldError.quote(name)): \(detail)",
                  kind: kind.plural, group: kind.group, name: name)
    }

    public var description: String { "\(code) \(reason): \(message)" }
}

/// A refusal can stand for the failure of an admission step in a `Result`.
extension StoreResult: Error {}
