import JSON

/// The write rules: what create, update, delete and batch do, and in which order they check.
/// The order follows the Kubernetes API server: field validation (422) before existence
/// (404/409) on create; existence, then preconditions (409), then field validation on update.
extension Store {
    /// Kubernetes' message for a failed optimistic lock.
    static let modifiedMessage = "the object has been modified; please apply your changes to the latest version and try again"

    mutating func execute(_ command: StoreCommand, index: UInt64, journal: inout Journal) -> StoreResult {
        switch command {
        case .create(let object, let uid, let creationTimestamp):
            if let typed = typedEquivalent(command) { return executeTyped(typed, index: index, journal: &journal) }
            return create(object, uid: uid, creationTimestamp: creationTimestamp, index: index, journal: &journal)
        case .update(let object, let version, let uid):
            if let typed = typedEquivalent(command) { return executeTyped(typed, index: index, journal: &journal) }
            return update(object, expectedResourceVersion: version, expectedUID: uid, index: index, journal: &journal)
        case .delete(let key, let version, let uid):
            if let typed = typedEquivalent(command) { return executeTyped(typed, index: index, journal: &journal) }
            return delete(key, expectedResourceVersion: version, expectedUID: uid, index: index, journal: &journal)
        case .setClusterVersion(let version, let now):
            return setClusterVersion(version, now: now, index: index, journal: &journal)
        case .typed(let write):
            return executeTyped(write, index: index, journal: &journal)
        case .admitted(let write):
            return applyAdmitted(write, index: index, journal: &journal)
        case .batch(let commands):
            // Atomic: on the first failure, undo what the earlier commands wrote.
            var batchJournal = Journal()
            var results: [StoreResult] = []
            for (position, command) in commands.enumerated() {
                precondition(!isBatch(command), "a nested batch passed decoding")
                if case .setClusterVersion = command {
                    rollBack(batchJournal)
                    return .batchAborted(position: position, result: .invalid(reason: "a batch may not change the cluster version"))
                }
                let result = execute(command, index: index, journal: &batchJournal)
                guard result.succeeded else {
                    rollBack(batchJournal)
                    return .batchAborted(position: position, result: result)
                }
                results.append(result)
            }
            journal.undo += batchJournal.undo
            journal.events += batchJournal.events
            return .batch(results)
        }
    }

    /// An untyped write of a kind that is typed at this cluster version, as the typed write it
    /// stands for. Such a write was built by a member that still saw cluster version 1 when the
    /// cluster moved on (the move is one entry; writes in flight around it land after it):
    /// admitting it by the typed rules serves the client instead of refusing it. Untyped writes
    /// carry no time for a deletion, so the epoch stands in (only objects with finalizers keep
    /// a deletionTimestamp, and only ConfigMaps were untyped).
    private func typedEquivalent(_ command: StoreCommand) -> TypedWrite? {
        guard clusterVersion >= 2 else { return nil }
        let epoch = "1970-01-01T00:00:00Z"
        switch command {
        case .create(let object, let uid, let creationTimestamp):
            guard let kind = object["kind"]?.stringValue.flatMap(Kind.named), kind.model != nil else { return nil }
            return TypedWrite(verb: .create, kind: kind.name, apiVersion: object["apiVersion"]?.stringValue ?? kind.apiVersion,
                              namespace: object["metadata"]?["namespace"]?.stringValue ?? "",
                              name: object["metadata"]?["name"]?.stringValue ?? "", body: object, fieldValidation: .ignore,
                              uid: uid, now: creationTimestamp)
        case .update(let object, let version, let uid):
            guard let kind = object["kind"]?.stringValue.flatMap(Kind.named), kind.model != nil else { return nil }
            return TypedWrite(verb: .update, kind: kind.name, apiVersion: object["apiVersion"]?.stringValue ?? kind.apiVersion,
                              namespace: object["metadata"]?["namespace"]?.stringValue ?? "",
                              name: object["metadata"]?["name"]?.stringValue ?? "", body: object, fieldValidation: .ignore,
                              expectedResourceVersion: version, expectedUID: uid, now: epoch)
        case .delete(let key, let version, let uid):
            guard key.kind.model != nil else { return nil }
            return TypedWrite(verb: .delete, kind: key.kind.name, apiVersion: key.kind.apiVersion, namespace: key.namespace,
                              name: key.name, expectedResourceVersion: version, expectedUID: uid, now: epoch)
        default:
            return nil
        }
    }

    /// The untyped commands (create, update, delete of cluster version 1) write only what
    /// that version had: kinds the cluster version enables, and of those only the untyped
    /// ones once typed admission exists (a typed kind written untyped would skip its rules).
    private func untypedRefusal(_ kind: Kind) -> StoreResult? {
        if kind.sinceClusterVersion > clusterVersion {
            return .invalid(reason: "kind: Unsupported value: \(KindValidation.quoted(kind.name)): not enabled before cluster version \(kind.sinceClusterVersion)")
        }
        if kind.model != nil && clusterVersion >= 2 {
            return .invalid(reason: "kind: Unsupported value: \(KindValidation.quoted(kind.name)): written through typed writes from cluster version 2")
        }
        return nil
    }

    private func isBatch(_ command: StoreCommand) -> Bool {
        if case .batch = command { return true } else { return false }
    }

    private mutating func create(_ value: JSONValue, uid: String, creationTimestamp: String, index: UInt64,
                                 journal: inout Journal) -> StoreResult {
        let incoming: IncomingObject
        do { incoming = try IncomingObject(value) } catch { return .invalid(reason: error.reason) }
        if let refusal = untypedRefusal(incoming.key.kind) { return refusal }
        var errors: [String] = []
        if let error = IncomingObject.uidError(uid) { errors.append(error) }
        if !Timestamp.isValid(creationTimestamp) {
            errors.append("metadata.creationTimestamp: Invalid value: \(KindValidation.quoted(creationTimestamp)): must be RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ)")
        }
        if incoming.resourceVersion != nil {
            errors.append("metadata.resourceVersion: Forbidden: must not be set on objects to be created")
        }
        if !errors.isEmpty { return .invalid(reason: errors.joined(separator: "; ")) }
        let object = incoming.stored(uid: uid, resourceVersion: index, generation: 1, creationTimestamp: creationTimestamp)
        if let error = Self.sizeError(object) { return .invalid(reason: error) }
        guard get(incoming.key) == nil else { return .alreadyExists(incoming.key) }
        put(object, journal: &journal)
        journal.events.append(WatchEvent(type: .added, object: object))
        return .created(object)
    }

    private mutating func update(_ value: JSONValue, expectedResourceVersion: UInt64?, expectedUID: String?, index: UInt64,
                                 journal: inout Journal) -> StoreResult {
        let incoming: IncomingObject
        do { incoming = try IncomingObject(value) } catch { return .invalid(reason: error.reason) }
        if let refusal = untypedRefusal(incoming.key.kind) { return refusal }
        guard let current = get(incoming.key) else { return .notFound(incoming.key) }
        if let conflict = Self.preconditionFailure(current, expectedResourceVersion, expectedUID) { return conflict }
        if let version = incoming.resourceVersion, version != current.resourceVersion {
            return .conflict(current.key, reason: "\(Self.modifiedMessage) (metadata.resourceVersion \(version), current \(current.resourceVersion))")
        }
        var errors: [String] = []
        if let uid = incoming.uid, uid != current.uid {
            errors.append("metadata.uid: Invalid value: \(KindValidation.quoted(uid)): field is immutable")
        }
        errors += current.key.kind.validateUpdate(current.json.objectValue!, incoming.body)
        if !errors.isEmpty { return .invalid(reason: errors.joined(separator: "; ")) }

        // The creation timestamp and uid are the stored ones whatever the client sent.
        let unchanged = incoming.stored(uid: current.uid, resourceVersion: current.resourceVersion,
                                        generation: current.generation, creationTimestamp: current.creationTimestamp)
        if Self.identical(unchanged.json, current.json) { return .updated(current) }  // nothing to write, no event
        let specChanged = !Self.identical(Self.withoutMetadata(unchanged.json), Self.withoutMetadata(current.json))
        let object = incoming.stored(uid: current.uid, resourceVersion: index,
                                     generation: current.generation + (specChanged ? 1 : 0),
                                     creationTimestamp: current.creationTimestamp)
        if let error = Self.sizeError(object) { return .invalid(reason: error) }
        put(object, journal: &journal)
        journal.events.append(WatchEvent(type: .modified, object: object, previous: current))
        return .updated(object)
    }

    private mutating func delete(_ key: ObjectKey, expectedResourceVersion: UInt64?, expectedUID: String?, index: UInt64,
                                 journal: inout Journal) -> StoreResult {
        let errors = key.validationErrors
        if !errors.isEmpty { return .invalid(reason: errors.joined(separator: "; ")) }
        if let refusal = untypedRefusal(key.kind) { return refusal }
        guard let current = get(key) else { return .notFound(key) }
        if let conflict = Self.preconditionFailure(current, expectedResourceVersion, expectedUID) { return conflict }
        remove(key, journal: &journal)
        let last = current.withResourceVersion(index)
        journal.events.append(WatchEvent(type: .deleted, object: last))
        return .deleted(last)
    }

    static func preconditionFailure(_ current: StoredObject, _ version: UInt64?, _ uid: String?) -> StoreResult? {
        if let uid, uid != current.uid {
            return .conflict(current.key, reason: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid)")
        }
        if let version, version != current.resourceVersion {
            return .conflict(current.key, reason: "\(modifiedMessage) (expected resourceVersion \(version), current \(current.resourceVersion))")
        }
        return nil
    }

    /// Equal down to the bytes. `JSONValue ==` compares strings by Unicode canonical
    /// equivalence, so it would call an update from "é" to "e\u{301}" a no-op and drop it.
    private static func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
        guard a == b else { return false }
        var sinkA = ByteSink()
        var sinkB = ByteSink()
        sinkA.value(a)
        sinkB.value(b)
        return sinkA.bytes == sinkB.bytes
    }

    private static func withoutMetadata(_ json: JSONValue) -> JSONValue {
        var rest = json
        rest["metadata"] = nil
        return rest
    }

    private static func sizeError(_ object: StoredObject) -> String? {
        let size = binarySize(of: object.json)
        guard size > objectSizeMaxBytes else { return nil }
        return "\(object.key): Too long: the stored object takes \(size) bytes, more than \(objectSizeMaxBytes)"
    }
}
