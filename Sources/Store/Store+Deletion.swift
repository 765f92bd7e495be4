import JSON

/// Deletion under cluster version 2: grace periods, finalizers, owner references and
/// namespaces, decided inside the entry that asks for it.
///
/// Where this departs from Kubernetes: its garbage collector and namespace controller run
/// beside the API server and catch up eventually; here the store applies their rules in the
/// same entry as the delete that triggers them (orphaning dependents, deleting those whose
/// owners are all gone, finishing a foreground deletion when its last blocking dependent
/// goes, removing a terminating namespace once empty). Every member applies the same
/// cascade at the same index, so there is no window in which an owner is gone but its
/// dependents are not yet marked. Dependents created with an owner that does not exist are
/// left alone (Kubernetes' collector would delete them; the leader's controllers may).
extension Store {
    /// The finalizer that holds an object deleted with Foreground propagation.
    public static let foregroundFinalizer = "foregroundDeletion"
    /// Namespaces the cluster needs and no one may delete (as in Kubernetes).
    public static let undeletableNamespaces: Set<String> = ["default", "kube-public", "kube-system"]
    /// Deepest chain of owners a cascade follows (ownership chains are Deployment, ReplicaSet,
    /// Pod: this bound only stops a malformed graph).
    static let cascadeDepthMax = 32

    mutating func deleteTyped(_ c: WriteContext, journal: inout Journal) -> StoreResult {
        let key = c.key
        guard let current = get(key) else { return .notFound(key) }
        if let conflict = Self.preconditionFailure(current, c.write.expectedResourceVersion, c.write.expectedUID) {
            return conflict
        }
        if c.kind == .namespace && Self.undeletableNamespaces.contains(key.name) {
            return .rejected(.forbidden(.namespace, name: key.name, "this namespace may not be deleted"))
        }
        if let grace = c.write.gracePeriodSeconds, grace < 0 {
            return .rejected(.invalid(c.kind, name: key.name, [.invalid("gracePeriodSeconds", grace, "must be greater than or equal to 0")]))
        }
        let propagation = c.write.propagation ?? (c.version.orphansByDefault ? .orphan : .background)
        return delete(current, propagation: propagation, grace: c.write.gracePeriodSeconds, c, depth: 0, journal: &journal)
    }

    @discardableResult
    /// Deletes `current` as a DELETE asks: marks it (grace period, finalizers, foreground) or
    /// removes it, and applies the cascade its propagation calls for.
    mutating func delete(_ current: StoredObject, propagation: TypedWrite.Propagation, grace: Int64?, _ c: WriteContext,
                         depth: Int, journal: inout Journal) -> StoreResult {
        guard let model = current.key.kind.model, let object = model.init(stored: current.json) else {
            // An untyped object (a Member): removed at once.
            remove(current.key, journal: &journal)
            let last = current.withResourceVersion(c.index)
            journal.events.append(WatchEvent(type: .deleted, object: last))
            return .deleted(last)
        }
        return deleteOpened(object, current: current, propagation: propagation, grace: grace, c, depth: depth, journal: &journal)
    }

    private mutating func deleteOpened<T: KindObject>(_ object: T, current: StoredObject, propagation: TypedWrite.Propagation,
                                                      grace: Int64?, _ c: WriteContext, depth: Int,
                                                      journal: inout Journal) -> StoreResult {
        if propagation == .orphan { orphanDependents(of: current, c, journal: &journal) }
        var marked = object
        var meta = marked.metadata
        if propagation == .foreground && hasDependents(current) && !meta.finalizers.contains(Self.foregroundFinalizer) {
            meta.finalizers.append(Self.foregroundFinalizer)
        }
        let period = marked.gracePeriod(requested: grace)
        let graceful = (period ?? 0) > 0
        if graceful {
            let deadline = MetaTime(unixSeconds: c.now.unixSeconds + period!)
            if let existing = meta.deletionTimestamp, existing <= deadline, meta.finalizers == object.metadata.finalizers {
                return .deleted(current)  // already going, and no sooner than asked
            }
            if meta.deletionTimestamp.map({ deadline < $0 }) ?? true {
                meta.deletionTimestamp = deadline
                meta.deletionGracePeriodSeconds = period
            }
        } else if !meta.finalizers.isEmpty {
            if meta.deletionTimestamp != nil && meta.finalizers == object.metadata.finalizers {
                if current.key.kind == .namespace { deleteContents(ofNamespace: current.key.name, c, depth: depth, journal: &journal) }
                return .deleted(current)
            }
            meta.deletionTimestamp = meta.deletionTimestamp ?? c.now
            meta.deletionGracePeriodSeconds = 0
        } else if current.key.kind == .namespace {
            // A namespace stays, Terminating, until what it holds is gone.
            meta.deletionTimestamp = meta.deletionTimestamp ?? c.now
            meta.deletionGracePeriodSeconds = 0
        } else {
            return removeNow(current, c, depth: depth, journal: &journal)
        }
        if meta.deletionTimestamp != object.metadata.deletionTimestamp { meta.generation += 1 }
        meta.resourceVersion = String(c.index)
        marked.metadata = meta
        if var namespace = marked as? Namespace {
            namespace.status.phase = "Terminating"
            marked = namespace as! T
        }
        guard let stored = StoredObject(typed: marked, kind: current.key.kind) else { return .deleted(current) }
        put(stored, journal: &journal)
        journal.events.append(WatchEvent(type: .modified, object: stored, previous: current))
        if propagation == .foreground { deleteDependents(of: stored, propagation: .foreground, c, depth: depth, journal: &journal) }
        if current.key.kind == .namespace {
            deleteContents(ofNamespace: current.key.name, c, depth: depth, journal: &journal)
            if let still = get(current.key) { return .deleted(still) }
            return .deleted(stored.withResourceVersion(c.index))
        }
        return .deleted(stored)
    }

    /// Removes `object` now and applies what its removal implies: background deletion of
    /// dependents left without owners, the end of owners' foreground deletions, and the end of
    /// a terminating namespace.
    @discardableResult
    mutating func removeNow(_ object: StoredObject, _ c: WriteContext, depth: Int, journal: inout Journal) -> StoreResult {
        guard get(object.key) != nil else { return .deleted(object) }
        remove(object.key, journal: &journal)
        let last = object.withResourceVersion(c.index)
        journal.events.append(WatchEvent(type: .deleted, object: last))
        guard depth < Self.cascadeDepthMax else { return .deleted(last) }
        // Dependents whose every owner is now gone follow in the background.
        for key in (indexes.dependents[object.uid] ?? []).sorted() {
            guard let dependent = get(key) else { continue }
            let owners = StoreIndexes.ownerUIDs(dependent.json)
            if owners.allSatisfy({ indexes.keysByUID[$0] == nil }) {
                delete(dependent, propagation: .background, grace: nil, c, depth: depth + 1, journal: &journal)
            }
        }
        // Owners deleting in the foreground may be waiting for this one.
        for ownerUID in StoreIndexes.ownerUIDs(object.json) {
            guard let ownerKey = indexes.keysByUID[ownerUID], let owner = get(ownerKey) else { continue }
            finishForegroundDeletion(owner, c, depth: depth + 1, journal: &journal)
        }
        if object.key.kind.namespaced { finalizeNamespaceIfEmpty(object.key.namespace, c, depth: depth + 1, journal: &journal) }
        return .deleted(last)
    }

    private func hasDependents(_ object: StoredObject) -> Bool { !(indexes.dependents[object.uid] ?? []).isEmpty }

    /// Deletes every dependent of `owner` with `propagation`.
    private mutating func deleteDependents(of owner: StoredObject, propagation: TypedWrite.Propagation, _ c: WriteContext,
                                           depth: Int, journal: inout Journal) {
        guard depth < Self.cascadeDepthMax else { return }
        for key in (indexes.dependents[owner.uid] ?? []).sorted() {
            guard let dependent = get(key), dependent.json["metadata"]?["deletionTimestamp"] == nil
                    || propagation == .foreground else { continue }
            delete(dependent, propagation: propagation, grace: nil, c, depth: depth + 1, journal: &journal)
        }
        finishForegroundDeletion(owner, c, depth: depth, journal: &journal)
    }

    /// An owner being deleted in the foreground goes once no dependent blocks it.
    private mutating func finishForegroundDeletion(_ owner: StoredObject, _ c: WriteContext, depth: Int, journal: inout Journal) {
        guard let current = get(owner.key), current.json["metadata"]?["deletionTimestamp"] != nil,
              var finalizers = current.json["metadata"]?["finalizers"]?.arrayValue?.compactMap(\.stringValue),
              let position = finalizers.firstIndex(of: Self.foregroundFinalizer) else { return }
        let blocking = (indexes.dependents[current.uid] ?? []).contains { key in
            guard let dependent = get(key) else { return false }
            return dependent.json["metadata"]?["ownerReferences"]?.arrayValue?.contains {
                $0["uid"]?.stringValue == current.uid && $0["blockOwnerDeletion"]?.boolValue == true
            } ?? false
        }
        guard !blocking else { return }
        finalizers.remove(at: position)
        if finalizers.isEmpty {
            removeNow(current, c, depth: depth, journal: &journal)
        } else {
            rewrite(current, c, journal: &journal) { json in
                json[path: ["metadata", "finalizers"]] = .array(finalizers.map { .string($0) })
            }
        }
    }

    /// Removes the references to `owner` from its dependents (Orphan propagation).
    private mutating func orphanDependents(of owner: StoredObject, _ c: WriteContext, journal: inout Journal) {
        for key in (indexes.dependents[owner.uid] ?? []).sorted() {
            guard let dependent = get(key) else { continue }
            rewrite(dependent, c, journal: &journal) { json in
                let kept = (json["metadata"]?["ownerReferences"]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != owner.uid }
                json[path: ["metadata", "ownerReferences"]] = kept.isEmpty ? nil : .array(kept)
            }
        }
    }

    /// Deletes everything in a terminating namespace, then the namespace if nothing is left
    /// (pods being given their grace period keep it until they are gone).
    private mutating func deleteContents(ofNamespace namespace: String, _ c: WriteContext, depth: Int, journal: inout Journal) {
        for kind in Kind.registered where kind.namespaced {
            for object in tables[kind]?.objects(inNamespace: namespace) ?? [] {
                guard let current = get(object.key), current.json["metadata"]?["deletionTimestamp"] == nil else { continue }
                delete(current, propagation: .background, grace: nil, c, depth: depth + 1, journal: &journal)
            }
        }
        finalizeNamespaceIfEmpty(namespace, c, depth: depth, journal: &journal)
    }

    /// Removes a terminating namespace that holds nothing any more.
    mutating func finalizeNamespaceIfEmpty(_ namespace: String, _ c: WriteContext, depth: Int, journal: inout Journal) {
        guard (indexes.namespaceCounts[namespace] ?? 0) == 0,
              let stored = get(ObjectKey(kind: .namespace, name: namespace)),
              stored.json["metadata"]?["deletionTimestamp"] != nil,
              (stored.json["metadata"]?["finalizers"]?.arrayValue ?? []).isEmpty else { return }
        removeNow(stored, c, depth: depth, journal: &journal)
    }

    /// Writes a changed copy of `object` (server-side bookkeeping: no admission, new
    /// resourceVersion, a MODIFIED event).
    mutating func rewrite(_ object: StoredObject, _ c: WriteContext, journal: inout Journal, _ change: (inout JSONValue) -> Void) {
        var json = object.json
        change(&json)
        json[path: ["metadata", "resourceVersion"]] = .string(String(c.index))
        // A typed kind is stored in its canonical form (its fields in their order, empty ones
        // omitted), as typed admission writes it: a snapshot restore re-encodes every object
        // and refuses one that differs, so a binding or a deletion mark set by hand here once
        // made a member unable to start from its own snapshot.
        if let model = object.key.kind.model, let typed = model.init(stored: json),
           let canonical = StoredObject(typed: typed, kind: object.key.kind) {
            put(canonical, journal: &journal)
            journal.events.append(WatchEvent(type: .modified, object: canonical, previous: object))
            return
        }
        let labels = json["metadata"]?["labels"]?.objectValue.map { members in
            Dictionary(uniqueKeysWithValues: members.compactMap { key, value in value.stringValue.map { (key, $0) } })
        } ?? [:]
        let updated = StoredObject(key: object.key, uid: object.uid, resourceVersion: c.index, generation: object.generation,
                                   creationTimestamp: object.creationTimestamp, labels: labels, json: json)
        put(updated, journal: &journal)
        journal.events.append(WatchEvent(type: .modified, object: updated, previous: object))
    }
}
