import JSON

/// One API version at which a kind is served. The first of a kind's versions is its storage
/// version: objects are stored in it, and every other version converts to it on the way in
/// (`decode`) and from it on the way out (`present`).
public struct ServedVersion: Sendable {
    /// The API group ("" for core).
    public let group: String
    /// The version within the group ("v1", "v1beta1").
    public let version: String
    /// The schema of objects in this version (OpenAPI, protobuf, kubectl explain).
    public let schema: StructSchema
    /// Whether deleting through this version orphans dependents by default (Kubernetes' old
    /// extensions/v1beta1, apps/v1beta1 and apps/v1beta2 do; newer versions delete them).
    public let orphansByDefault: Bool
    /// JSON in this version → the typed object in the storage version, this version's own
    /// defaults applied; nil with errors in the context when it does not decode.
    let decode: @Sendable (JSONObject, inout DecodeContext) -> (any KindObject)?
    /// A stored object's JSON → this version's JSON.
    public let present: @Sendable (JSONValue) -> JSONValue

    /// `group/version`, or `version` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The storage version of `T`: decoded as declared, presented as stored.
    public static func storage<T: KindObject>(_ type: T.Type, group: String, version: String, kind: String) -> ServedVersion {
        let info = T.wireInfo
        let schema = StructSchema(definition: info.schema.definition, doc: info.schema.doc, fields: info.schema.fields,
                                  groupVersionKinds: [(group, version, kind)])
        return ServedVersion(group: group, version: version, schema: schema, orphansByDefault: false,
                             decode: { members, context in info.decode(members, &context) },
                             present: { $0 })
    }

    /// An older version of `T` with the same shape: `prepare` takes the JSON first (to lift out
    /// fields only this version has, reporting them through the context), `defaults` then sets
    /// this version's own defaults before the storage version's run.
    public static func alias<T: KindObject>(
        _ type: T.Type, group: String, version: String, kind: String, definition: String, orphansByDefault: Bool,
        prepare: @escaping @Sendable (inout JSONObject, inout DecodeContext) -> Void = { _, _ in },
        defaults: @escaping @Sendable (inout T) -> Void
    ) -> ServedVersion {
        let info = T.wireInfo
        let schema = StructSchema(definition: definition, doc: info.schema.doc, fields: info.schema.fields,
                                  groupVersionKinds: [(group, version, kind)])
        let apiVersion = group.isEmpty ? version : "\(group)/\(version)"
        return ServedVersion(
            group: group, version: version, schema: schema, orphansByDefault: orphansByDefault,
            decode: { members, context in
                var members = members
                prepare(&members, &context)
                var value = info.decode(members, &context)
                defaults(&value)
                return value
            },
            present: { json in
                var json = json
                json["apiVersion"] = .string(apiVersion)
                return json
            })
    }

    /// A version with its own shape (`V`), converted to and from the storage type `T`.
    public static func converted<V: WireStruct, T: KindObject>(
        _ versioned: V.Type, to storage: T.Type, group: String, version: String, kind: String,
        toStorage: @escaping @Sendable (V) -> T, fromStorage: @escaping @Sendable (T) -> V
    ) -> ServedVersion {
        let info = V.wireInfo
        let schema = StructSchema(definition: info.schema.definition, doc: info.schema.doc, fields: info.schema.fields,
                                  groupVersionKinds: [(group, version, kind)])
        return ServedVersion(
            group: group, version: version, schema: schema, orphansByDefault: false,
            decode: { members, context in toStorage(info.decode(members, &context)) },
            present: { json in
                guard let stored = T(stored: json) else { return json }
                return fromStorage(stored).wireJSON
            })
    }
}
