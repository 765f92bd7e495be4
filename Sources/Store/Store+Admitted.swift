import JSON

/// Writes admitted once, by their proposer, instead of by every member.
///
/// Typed admission (decode, defaults, validation, encode) was most of what a member spends on
/// a create, and every member ran it for every entry. The member that takes a create or an
/// update now runs it against its own store (`Store.admit`) and proposes the result: the
/// object to store and what the store must still hold for that object to be right (the key
/// still free, or the object still at the version it was admitted from; its namespace still
/// there). Applying such an entry only checks those conditions and stores the object, the
/// same on every member. If the store moved in between (an entry applied after the
/// proposer's view changed what admission saw), the entry applies nothing and answers
/// `stale`, and the proposer admits the write again.
///
/// Only writes whose admission reads nothing but the object itself and its key go this way:
/// creates and updates of every kind but Services (whose cluster IPs and node ports depend on
/// every other Service), without cascades, and bindings. Deletes, scale writes and whatever
/// admission refuses or finds unchanged take the full path (`Store+Typed.swift`).
public struct AdmittedWrite: Equatable, Sendable {
    /// What the store must hold for `object` to be stored as admitted.
    public enum Expectation: Equatable, Sendable {
        /// Nothing at the key (a create).
        case absent
        /// The object at the key, at this resourceVersion and uid (an update).
        case current(resourceVersion: UInt64, uid: String)
    }

    /// The cluster version whose rules admitted it; any other version makes it stale.
    public let clusterVersion: Int
    public let expectation: Expectation
    /// The object as it will be stored, but for `metadata.resourceVersion` (the entry's index).
    public let object: JSONValue

    public init(clusterVersion: Int, expectation: Expectation, object: JSONValue) {
        self.clusterVersion = clusterVersion
        self.expectation = expectation
        self.object = object
    }

    // Encoding (tag 7 of StoreCommand):
    //   admitted := clusterVersion:varint expectation:u8 (0 absent | 1 current resourceVersion:varint uid:string) object:value

    func encode(into sink: inout ByteSink) {
        sink.varint(UInt64(clusterVersion))
        switch expectation {
        case .absent:
            sink.byte(0)
        case .current(let version, let uid):
            sink.byte(1)
            sink.varint(version)
            sink.string(uid)
        }
        sink.value(object)
    }

    static func decode(from source: inout ByteSource) throws(BinaryDecodeError) -> AdmittedWrite {
        let version = try source.varint()
        guard version <= UInt64(Int32.max) else { throw source.failure("cluster version \(version) out of range") }
        let expectation: Expectation
        switch try source.byte() {
        case 0: expectation = .absent
        case 1: expectation = .current(resourceVersion: try source.varint(), uid: try source.string())
        case let other: throw source.failure("unknown expectation \(other)")
        }
        return AdmittedWrite(clusterVersion: Int(version), expectation: expectation, object: try source.value())
    }
}

extension Store {
    /// A copy of the store for admitting writes on another thread: the same objects (shared
    /// storage), none of the indexes or watch history, so holding it while the live store moves
    /// on copies little. Good for `admit` only, whose writes read no index.
    public var admissionView: Store {
        var view = Store(watchHistoryEventsMax: 1)
        view.revision = revision
        view.clusterVersion = clusterVersion
        view.clusterVersionMax = clusterVersionMax
        view.unsupportedClusterVersion = unsupportedClusterVersion
        view.tables = tables
        return view
    }

    /// The write admitted against this store as it is, ready to propose as
    /// `StoreCommand.admitted`; nil when it must take the full path (see `AdmittedWrite`).
    /// Writes nothing. `write` carries its uid and time already.
    public func admit(_ write: TypedWrite) -> AdmittedWrite? {
        guard clusterVersion >= 2, unsupportedClusterVersion == nil, let kind = Kind.named(write.kind), kind.model != nil,
              kind != .service, kind.sinceClusterVersion <= clusterVersion,
              let version = kind.served(apiVersion: write.apiVersion), let now = MetaTime(parsing: write.now) else { return nil }
        let context = WriteContext(write: write, kind: kind, version: version, index: revision + 1, now: now)
        switch (write.verb, write.subresource) {
        case (.create, nil):
            guard case .success(let decoded) = Self.decodeBody(write.body, kind, version, write.fieldValidation),
                  case .success(let stored) = prepareCreate(decoded.value, context) else { return nil }
            return AdmittedWrite(clusterVersion: clusterVersion, expectation: .absent, object: stored.json)
        case (.create, .binding?):
            return admitBinding(context)
        case (.update, nil), (.update, .status?), (.patch, nil), (.patch, .status?):
            let key = context.key
            guard let current = get(key), Self.preconditionFailure(current, write.expectedResourceVersion, write.expectedUID) == nil,
                  let model = kind.model, let old = model.init(stored: current.json) else { return nil }
            return admitReplace(old, current: current, context)
        default:
            return nil
        }
    }

    private func admitReplace<T: KindObject>(_ old: T, current: StoredObject, _ c: WriteContext) -> AdmittedWrite? {
        guard case .success(.object(let incoming, let statusOnly)) = incomingUpdate(old, current: current, c),
              let typed = incoming as? T,
              case .write(let stored, let thenRemove) = prepareReplace(old, with: typed, current: current, statusOnly: statusOnly, c),
              !thenRemove else { return nil }
        return AdmittedWrite(clusterVersion: clusterVersion,
                             expectation: .current(resourceVersion: current.resourceVersion, uid: current.uid), object: stored.json)
    }

    /// Stores an admitted write if the store still holds what its admission saw.
    mutating func applyAdmitted(_ write: AdmittedWrite, index: UInt64, journal: inout Journal) -> StoreResult {
        guard write.clusterVersion == clusterVersion else {
            return .stale(reason: "admitted under cluster version \(write.clusterVersion), the cluster runs \(clusterVersion)")
        }
        guard let name = write.object["kind"]?.stringValue, let kind = Kind.named(name), kind.model != nil, kind != .service,
              write.object["apiVersion"]?.stringValue == kind.apiVersion, let metadata = write.object["metadata"],
              let objectName = metadata["name"]?.stringValue else {
            return .invalid(reason: "an admitted write must carry a typed object in its storage version")
        }
        let key = ObjectKey(kind: kind, namespace: kind.namespaced ? metadata["namespace"]?.stringValue ?? "" : "", name: objectName)
        let current = get(key)
        switch write.expectation {
        case .absent:
            if current != nil { return .alreadyExists(key) }
            if kind.namespaced, let refusal = namespaceRefusal(for: ObjectMeta(name: key.name, namespace: key.namespace), kind: kind) {
                return .rejected(refusal)
            }
        case .current(let version, let uid):
            guard let current else { return .notFound(key) }
            guard current.resourceVersion == version, current.uid == uid else {
                return .stale(reason: "\(key) changed since the write was admitted")
            }
        }
        var json = write.object
        json[path: ["metadata", "resourceVersion"]] = .string(String(index))
        guard let stored = StoredObject(admitted: json, key: key, index: index) else {
            return .invalid(reason: "an admitted write lacks its server metadata")
        }
        put(stored, journal: &journal)
        if let current {
            journal.events.append(WatchEvent(type: .modified, object: stored, previous: current))
            return .updated(stored)
        }
        journal.events.append(WatchEvent(type: .added, object: stored))
        return .created(stored)
    }
}

extension StoredObject {
    /// An admitted object's stored form, its server metadata read from its JSON.
    init?(admitted json: JSONValue, key: ObjectKey, index: UInt64) {
        guard let metadata = json["metadata"]?.objectValue, let uid = metadata["uid"]?.stringValue, !uid.isEmpty,
              let generation = metadata["generation"]?.intValue, generation >= 1,
              let created = metadata["creationTimestamp"]?.stringValue, Timestamp.isValid(created) else { return nil }
        var labels: [String: String] = [:]
        for (label, value) in metadata["labels"]?.objectValue ?? JSONObject() {
            guard let text = value.stringValue else { return nil }
            labels[label] = text
        }
        self.init(key: key, uid: uid, resourceVersion: index, generation: generation, creationTimestamp: created,
                  labels: labels, json: json)
    }
}
