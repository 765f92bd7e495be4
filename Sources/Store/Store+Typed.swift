import JSON

/// Typed writes (cluster version 2 on): create, update, status and scale updates, patches and
/// bindings, admitted the way the Kubernetes API server admits them. Order of checks, as in
/// Kubernetes: decoding (400), then validation (422), then existence and preconditions
/// (404/409) against the store; an update that changes nothing writes nothing.
extension Store {
    /// Everything one typed write needs besides the store: the request and where it runs.
    struct WriteContext {
        let write: TypedWrite
        let kind: Kind
        let version: ServedVersion
        let index: UInt64
        let now: MetaTime
        var key: ObjectKey { ObjectKey(kind: kind, namespace: kind.namespaced ? write.namespace : "", name: write.name) }
    }

    mutating func executeTyped(_ write: TypedWrite, index: UInt64, journal: inout Journal) -> StoreResult {
        guard clusterVersion >= 2 else {
            return .rejected(.badRequest("this cluster runs version \(clusterVersion): typed writes need version 2 (every member upgraded)"))
        }
        guard let kind = Kind.named(write.kind), kind.model != nil, kind.sinceClusterVersion <= clusterVersion,
              let version = kind.served(apiVersion: write.apiVersion) else {
            return .rejected(.badRequest("no kind \(FieldError.quote(write.kind)) is registered for version \(FieldError.quote(write.apiVersion))"))
        }
        guard let now = MetaTime(parsing: write.now) else {
            return .rejected(.badRequest("the write carries no valid time (\(FieldError.quote(write.now)))"))
        }
        let context = WriteContext(write: write, kind: kind, version: version, index: index, now: now)
        switch (write.verb, write.subresource) {
        case (.create, nil):
            return createTyped(context, journal: &journal)
        case (.create, .binding?):
            return bindPod(context, journal: &journal)
        case (.update, _), (.patch, _):
            return updateTyped(context, journal: &journal)
        case (.delete, nil):
            return deleteTyped(context, journal: &journal)
        default:
            return .rejected(Rejection(code: 405, reason: "MethodNotAllowed",
                                       message: "\(write.verb) is not supported on \(kind.plural)/\(write.subresource?.rawValue ?? "")"))
        }
    }

    // MARK: Decoding

    /// The body decoded in the client's version into the storage type, or the 400 to answer.
    static func decodeBody(_ body: JSONValue?, _ kind: Kind, _ version: ServedVersion, _ validation: FieldValidation,
                           patched: Bool = false) -> Result<(value: any KindObject, warnings: [String]), Rejection> {
        guard case .object(let members)? = body else {
            return .failure(.badRequest("the body must be a JSON object: a \(kind.name)"))
        }
        if let given = members["apiVersion"]?.stringValue, given != version.apiVersion {
            return .failure(.badRequest("the API version in the data (\(given)) does not match the expected API version (\(version.apiVersion))"))
        }
        if let given = members["kind"]?.stringValue, given != kind.name {
            return .failure(.badRequest("the kind in the data (\(given)) does not match the expected kind (\(kind.name))"))
        }
        var context = DecodeContext()
        guard let value = version.decode(members, &context) else {
            return .failure(.undecodable(kind, apiVersion: version.apiVersion, context.typeErrors.joinedDescription, causes: context.typeErrors))
        }
        if !context.typeErrors.isEmpty {
            return .failure(.undecodable(kind, apiVersion: version.apiVersion, context.typeErrors.joinedDescription,
                                         causes: context.typeErrors))
        }
        let unknown = context.unknownFields.map { "unknown field \(FieldError.quote($0))" }
        if !unknown.isEmpty && validation == .strict {
            let detail = "strict decoding error: " + unknown.joined(separator: ", ")
            if patched {
                return .failure(Rejection(code: 422, reason: "Invalid", message: "\(kind.name) is invalid: patch: Invalid value: \(detail)",
                                          kind: kind.name, group: kind.group,
                                          causes: [FieldError(.invalid, "patch", detail)]))
            }
            return .failure(.undecodable(kind, apiVersion: version.apiVersion, detail))
        }
        return .success((value, validation == .warn ? unknown : []))
    }

    /// What an API member checks before proposing a create or update: the body decodes in its
    /// version (400 otherwise, or 422 for a patched body), and the warnings for unknown fields
    /// under `Warn`. The write is admitted for real, by the same rules, when it applies.
    public static func precheck(_ body: JSONValue?, kind: Kind, version: ServedVersion, fieldValidation: FieldValidation,
                                patched: Bool = false) -> Result<[String], Rejection> {
        decodeBody(body, kind, version, fieldValidation, patched: patched).map(\.warnings)
    }

    // MARK: Create

    private mutating func createTyped(_ c: WriteContext, journal: inout Journal) -> StoreResult {
        switch Self.decodeBody(c.write.body, c.kind, c.version, c.write.fieldValidation) {
        case .failure(let rejection): return .rejected(rejection)
        case .success(let decoded): return create(decoded.value, c, journal: &journal)
        }
    }

    private mutating func create<T: KindObject>(_ value: T, _ c: WriteContext, journal: inout Journal) -> StoreResult {
        switch prepareCreate(value, c) {
        case .failure(let result):
            return result
        case .success(let stored):
            put(stored, journal: &journal)
            journal.events.append(WatchEvent(type: .added, object: stored))
            return .created(stored)
        }
    }

    /// The object a create would store, or the answer refusing it; writes nothing (the
    /// proposer runs it too, to admit a write once: `Store+Admitted.swift`).
    func prepareCreate<T: KindObject>(_ value: T, _ c: WriteContext) -> Result<StoredObject, StoreResult> {
        var object = value
        var meta = object.metadata
        if c.kind.namespaced {
            if meta.namespace.isEmpty { meta.namespace = c.write.namespace }
            guard meta.namespace == c.write.namespace else {
                return .failure(.rejected(.badRequest("the namespace of the provided object does not match the namespace sent on the request")))
            }
        } else {
            meta.namespace = ""
        }
        if meta.name.isEmpty && !meta.generateName.isEmpty {
            meta.name = generatedName(meta.generateName, kind: c.kind, namespace: meta.namespace, index: c.index, uid: c.write.uid)
        }
        meta.uid = c.write.uid
        meta.resourceVersion = String(c.index)
        meta.generation = 1
        meta.creationTimestamp = c.now
        meta.deletionTimestamp = nil
        meta.deletionGracePeriodSeconds = nil
        meta.selfLink = ""
        meta.managedFields = []
        object.metadata = meta
        object.kind = c.kind.name
        object.apiVersion = c.kind.apiVersion
        object.applyDefaults()
        object.prepareForCreate()
        var errors = MetadataRules.validate(object.metadata, kind: c.kind)
        if c.write.uid.isEmpty { errors.append(.required("metadata.uid", "the proposer must give the new object a uid")) }
        errors += object.validate()
        guard errors.isEmpty else { return .failure(.rejected(.invalid(c.kind, name: object.metadata.name, errors))) }
        if let refusal = namespaceRefusal(for: object.metadata, kind: c.kind) { return .failure(.rejected(refusal)) }
        let key = ObjectKey(kind: c.kind, namespace: object.metadata.namespace, name: object.metadata.name)
        guard get(key) == nil else { return .failure(.alreadyExists(key)) }
        let admitErrors = object.admit(in: self, replacing: nil, index: c.index)
        guard admitErrors.isEmpty else { return .failure(.rejected(.invalid(c.kind, name: key.name, admitErrors))) }
        guard let stored = StoredObject(typed: object, kind: c.kind) else {
            return .failure(.rejected(.badRequest("the object lost its server metadata during admission")))
        }
        if let error = Self.sizeRejection(stored) { return .failure(.rejected(error)) }
        return .success(stored)
    }

    /// A namespaced object may only be created in a namespace that exists and is not being
    /// deleted (Kubernetes' NamespaceLifecycle admission).
    func namespaceRefusal(for meta: ObjectMeta, kind: Kind) -> Rejection? {
        guard kind.namespaced else { return nil }
        guard let stored = get(ObjectKey(kind: .namespace, name: meta.namespace)) else {
            return .notFound(.namespace, name: meta.namespace)
        }
        // Read from the stored JSON: decoding the whole Namespace on every write cost more than
        // the rest of this check.
        if stored.json["metadata"]?["deletionTimestamp"] != nil || stored.json["status"]?["phase"] == "Terminating" {
            return .forbidden(kind, name: meta.name,
                              "unable to create new content in namespace \(meta.namespace) because it is being terminated")
        }
        return nil
    }

    /// `prefix` plus five characters chosen by the entry's index, the first free one of up to
    /// `generateNameAttemptsMax` candidates (Kubernetes draws them at random; the store may
    /// not, so the index seeds them: every member picks the same name).
    /// A name for `generateName`: the prefix and 5 characters drawn from the write's uid and
    /// the entry's index — the same on every member (the uid travels in the entry), and
    /// different for writes admitted against the same view of the store (their index is the
    /// same then, their uids are not: with the index alone, 100 creates of one ReplicaSet
    /// admitted together all chose one name and all but one failed).
    func generatedName(_ prefix: String, kind: Kind, namespace: String, index: UInt64, uid: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789".utf8)
        let base = String(decoding: prefix.utf8.prefix(MetadataRules.generateNameLengthMax), as: UTF8.self)
        var uidHash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in uid.utf8 { uidHash = (uidHash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var seed = (index &* 0x9E37_79B9_7F4A_7C15) ^ uidHash
        var candidate = base
        for _ in 0..<Self.generateNameAttemptsMax {
            var suffix: [UInt8] = []
            for _ in 0..<5 {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                suffix.append(alphabet[Int((seed >> 33) % UInt64(alphabet.count))])
            }
            candidate = base + String(decoding: suffix, as: UTF8.self)
            if get(ObjectKey(kind: kind, namespace: namespace, name: candidate)) == nil { break }
        }
        return candidate
    }

    /// Candidate names tried for `generateName` before giving up (the create then fails 409).
    static let generateNameAttemptsMax = 8

    // MARK: Update, status, scale, patch

    private mutating func updateTyped(_ c: WriteContext, journal: inout Journal) -> StoreResult {
        let key = c.key
        guard let current = get(key) else { return .notFound(key) }
        if let conflict = Self.preconditionFailure(current, c.write.expectedResourceVersion, c.write.expectedUID) {
            return conflict
        }
        guard let model = c.kind.model, let old = model.init(stored: current.json) else {
            return .rejected(Rejection(code: 500, reason: "InternalError", message: "\(key) does not decode as its kind"))
        }
        return updateOpened(old, current: current, c, journal: &journal)
    }

    private mutating func updateOpened<T: KindObject>(_ old: T, current: StoredObject, _ c: WriteContext,
                                                      journal: inout Journal) -> StoreResult {
        switch incomingUpdate(old, current: current, c) {
        case .failure(let result):
            return result
        case .success(.scale(let scalable, let body)):
            return updateScale(scalable, body: body, current: current, c, journal: &journal)
        case .success(.object(let incoming, let statusOnly)):
            guard let typed = incoming as? T else { return .rejected(.badRequest("the body decoded as another kind")) }
            return replace(old, with: typed, current: current, statusOnly: statusOnly, c, journal: &journal)
        }
    }

    /// What an update or patch asks to write over `old`: the new object (the request's body,
    /// or the stored object with the patch applied, decoded in the client's version), or for
    /// the scale subresource the Scale body. Writes nothing.
    enum IncomingUpdate {
        case object(any KindObject, statusOnly: Bool)
        case scale(any ScalableKind, body: JSONValue?)
    }

    func incomingUpdate<T: KindObject>(_ old: T, current: StoredObject, _ c: WriteContext) -> Result<IncomingUpdate, StoreResult> {
        // The body to admit: the request's, or the stored object with the patch applied.
        var body = c.write.body
        let patched = c.write.verb == .patch
        if patched {
            guard let type = c.write.patchType, let patch = c.write.body else {
                return .failure(.rejected(.badRequest("a patch needs a patch type and a body")))
            }
            let target: JSONValue
            if c.write.subresource == .scale {
                guard let scalable = old as? any ScalableKind else { return .failure(Self.noSubresource(c)) }
                target = Self.scaleView(scalable).wireJSON
            } else {
                target = c.version.present(current.json)
            }
            let schema = c.write.subresource == .scale ? Scale.wireInfo.schema.patchSchema : c.version.schema.patchSchema
            do {
                body = try Patch.apply(Self.patchContentType(type), patch: patch, to: target, schema: schema)
            } catch {
                return .failure(.rejected(Rejection(code: error.httpStatus, reason: error.kind.statusReason,
                                                    message: error.description, kind: c.kind.name, group: c.kind.group,
                                                    name: c.write.name)))
            }
        }
        if c.write.subresource == .scale {
            guard let scalable = old as? any ScalableKind else { return .failure(Self.noSubresource(c)) }
            return .success(.scale(scalable, body: body))
        }
        if c.write.subresource == .status && !c.kind.subresources.contains(.status) { return .failure(Self.noSubresource(c)) }
        switch Self.decodeBody(body, c.kind, c.version, c.write.fieldValidation, patched: patched) {
        case .failure(let rejection): return .failure(.rejected(rejection))
        case .success(let result): return .success(.object(result.value, statusOnly: c.write.subresource == .status))
        }
    }

    /// Writes `incoming` over `old` (stored as `current`) under the update rules.
    mutating func replace<T: KindObject>(_ old: T, with incoming: T, current: StoredObject, statusOnly: Bool,
                                         _ c: WriteContext, journal: inout Journal) -> StoreResult {
        switch prepareReplace(old, with: incoming, current: current, statusOnly: statusOnly, c) {
        case .failure(let result):
            return result
        case .unchanged:
            return .updated(current)  // nothing to write, no event
        case .write(let stored, let thenRemove):
            put(stored, journal: &journal)
            journal.events.append(WatchEvent(type: .modified, object: stored, previous: current))
            guard thenRemove else { return .updated(stored) }
            // A deleted object whose last finalizer just went: it goes now.
            if c.kind == .namespace {
                finalizeNamespaceIfEmpty(current.key.name, c, depth: 0, journal: &journal)
                return .updated(get(current.key) ?? stored.withResourceVersion(c.index))
            }
            return removeNow(stored, c, depth: 0, journal: &journal)
        }
    }

    /// What writing `incoming` over `old` comes to, without writing it.
    enum ReplacePlan {
        case failure(StoreResult)
        /// The write changes nothing.
        case unchanged
        /// The object to store; `thenRemove` when its last finalizer went while it was being
        /// deleted (it is removed right after).
        case write(StoredObject, thenRemove: Bool)
    }

    func prepareReplace<T: KindObject>(_ old: T, with incoming: T, current: StoredObject, statusOnly: Bool,
                                       _ c: WriteContext) -> ReplacePlan {
        let key = current.key
        var object = incoming
        let sent = object.metadata
        if !sent.resourceVersion.isEmpty {
            guard let version = Store.parseResourceVersion(sent.resourceVersion) else {
                return .failure(.rejected(.invalid(c.kind, name: key.name, [.invalid("metadata.resourceVersion", sent.resourceVersion, "must be a decimal revision")])))
            }
            guard version == current.resourceVersion else {
                return .failure(.conflict(key, reason: "\(Self.modifiedMessage) (metadata.resourceVersion \(version), current \(current.resourceVersion))"))
            }
        }
        if !sent.uid.isEmpty && sent.uid != current.uid {
            return .failure(.conflict(key, reason: "Precondition failed: UID in precondition: \(sent.uid), UID in object meta: \(current.uid)"))
        }
        if !sent.name.isEmpty && sent.name != key.name {
            return .failure(.rejected(.badRequest("the name of the object (\(sent.name)) does not match the name on the URL (\(key.name))")))
        }
        if c.kind.namespaced && !sent.namespace.isEmpty && sent.namespace != key.namespace {
            return .failure(.rejected(.badRequest("the namespace of the object (\(sent.namespace)) does not match the namespace on the request (\(key.namespace))")))
        }
        if statusOnly {
            object = object.statusUpdate(of: old)
        } else {
            var meta = object.metadata
            meta.name = key.name
            meta.namespace = key.namespace
            meta.uid = old.metadata.uid
            meta.creationTimestamp = old.metadata.creationTimestamp
            meta.deletionTimestamp = old.metadata.deletionTimestamp
            meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
            meta.generateName = old.metadata.generateName
            meta.selfLink = ""
            meta.managedFields = []
            object.metadata = meta
            object.kind = c.kind.name
            object.apiVersion = c.kind.apiVersion
            object.applyDefaults()
            object.prepareForUpdate(from: old)
        }
        object.metadata.generation = old.metadata.generation
        object.metadata.resourceVersion = old.metadata.resourceVersion
        var errors = MetadataRules.validate(object.metadata, kind: c.kind) + MetadataRules.validateUpdate(object.metadata, old.metadata)
        errors += object.validate()
        errors += object.validateUpdate(from: old, servedAt: c.version.apiVersion)
        guard errors.isEmpty else { return .failure(.rejected(.invalid(c.kind, name: key.name, errors))) }
        let admitErrors = object.admit(in: self, replacing: old, index: c.index)
        guard admitErrors.isEmpty else { return .failure(.rejected(.invalid(c.kind, name: key.name, admitErrors))) }
        if !statusOnly && object.changesGeneration(from: old) { object.metadata.generation = old.metadata.generation + 1 }
        if object.wireJSON.identical(to: current.json) { return .unchanged }
        object.metadata.resourceVersion = String(c.index)
        guard let stored = StoredObject(typed: object, kind: c.kind) else {
            return .failure(.rejected(.badRequest("the object lost its server metadata during admission")))
        }
        if let error = Self.sizeRejection(stored) { return .failure(.rejected(error)) }
        let thenRemove = object.metadata.deletionTimestamp != nil && object.metadata.finalizers.isEmpty && !statusOnly
            && old.metadata.finalizers != object.metadata.finalizers
        return .write(stored, thenRemove: thenRemove)
    }

    private mutating func updateScale(_ old: any ScalableKind, body: JSONValue?, current: StoredObject, _ c: WriteContext,
                                      journal: inout Journal) -> StoreResult {
        guard case .object(let members)? = body else { return .rejected(.badRequest("the body must be a Scale object")) }
        var context = DecodeContext()
        let scale = Scale.wireInfo.decode(members, &context)
        guard context.typeErrors.isEmpty else {
            return .rejected(.undecodable(c.kind, apiVersion: "autoscaling/v1", context.typeErrors.joinedDescription, causes: context.typeErrors))
        }
        if !context.unknownFields.isEmpty && c.write.fieldValidation == .strict {
            return .rejected(.badRequest("strict decoding error: " + context.unknownFields.map { "unknown field \(FieldError.quote($0))" }.joined(separator: ", ")))
        }
        if scale.spec.replicas < 0 {
            let error = FieldError.invalid("spec.replicas", Int64(scale.spec.replicas), "must be greater than or equal to 0")
            return .rejected(Rejection(code: 422, reason: "Invalid",
                                       message: "Scale.autoscaling \(FieldError.quote(c.write.name)) is invalid: \(error)",
                                       kind: "Scale", group: "autoscaling", name: c.write.name, causes: [error]))
        }
        return scaleOpened(old, replicas: scale.spec.replicas, scaleMeta: scale.metadata, current: current, c, journal: &journal)
    }

    private mutating func scaleOpened<T: ScalableKind>(_ old: T, replicas: Int32, scaleMeta: ObjectMeta, current: StoredObject,
                                                       _ c: WriteContext, journal: inout Journal) -> StoreResult {
        var updated = old
        updated.desiredReplicas = replicas
        updated.metadata.resourceVersion = scaleMeta.resourceVersion
        updated.metadata.uid = scaleMeta.uid
        return replace(old, with: updated, current: current, statusOnly: false, c, journal: &journal)
    }

    /// The autoscaling/v1 Scale of a scalable object.
    static func scaleView(_ object: any ScalableKind) -> Scale { Scale.of(object) }

    /// The autoscaling/v1 Scale (JSON) of a stored object whose kind has a scale subresource;
    /// nil for other kinds.
    public static func scaleJSON(of object: StoredObject) -> JSONValue? {
        guard object.key.kind.subresources.contains(.scale), let model = object.key.kind.model,
              let typed = model.init(stored: object.json) as? any ScalableKind else { return nil }
        return scaleView(typed).wireJSON
    }

    static func noSubresource(_ c: WriteContext) -> StoreResult {
        .rejected(Rejection(code: 404, reason: "NotFound",
                            message: "the server could not find the requested resource (\(c.kind.plural)/\(c.write.subresource?.rawValue ?? ""))"))
    }

    public static func patchContentType(_ type: TypedWrite.PatchType) -> Patch.ContentType {
        switch type {
        case .json: return .jsonPatch
        case .merge: return .mergePatch
        case .strategic: return .strategicMergePatch
        }
    }

    static func sizeRejection(_ object: StoredObject) -> Rejection? {
        let size = binarySize(of: object.json)
        guard size > objectSizeMaxBytes else { return nil }
        return Rejection(code: 413, reason: "RequestEntityTooLarge",
                         message: "\(object.key): the stored object takes \(size) bytes, more than \(objectSizeMaxBytes)")
    }
}
