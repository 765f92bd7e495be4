import JSON

extension Patch {
    /// Applies a Kubernetes strategic merge patch to `object`, reading each field's strategy
    /// from `schema` (nil: nothing known, so it behaves like a merge patch that also
    /// understands directives).
    ///
    /// Objects merge member by member, recursively; `null` removes a member. A list is
    /// replaced whole unless its strategy says `merge`: then a list of scalars is merged as a
    /// set (existing values kept, new ones added, duplicates dropped) and a list of objects
    /// element by element, matched by the strategy's `mergeKey` (elements with the same key
    /// merge recursively with the element schema, others are added). Directives:
    ///
    /// - `"$patch": "replace"` in an object: the object becomes the patch's content.
    ///   `"$patch": "delete"` in an object: it becomes `{}` (as in Kubernetes; an object
    ///   that was not there stays absent).
    /// - In a merged list of objects, `{"$patch": "replace"}` (alone in its element): the
    ///   list becomes the patch's other elements; `{"<key>": v, "$patch": "delete"}`: every
    ///   element whose key is v is removed.
    /// - `"$retainKeys": [names]` in an object: members not named are cleared first; every
    ///   member the patch sets must be named. Honoured wherever it appears, as kube-apiserver
    ///   does (`PatchStrategy.retainKeys` is what tells kubectl to send it).
    /// - `"$setElementOrder/<field>": [...]`: the merged list `<field>` is put in this order
    ///   (entries are merge-key objects like `{"name": "app"}`, or the scalars); elements it
    ///   does not name keep their place relative to the others as the stored list had it.
    ///   The patch's own `<field>` elements must appear in the same order.
    /// - `"$deleteFromPrimitiveList/<field>": [values]`: removes those values from the list
    ///   `<field>`, whatever its strategy.
    ///
    /// Any other member starting with `$` that the schema does not declare is rejected as an
    /// unknown directive (`malformed`, 400); so are misused directives. Lists of lists, and
    /// merged lists mixing objects with scalars, are `unprocessable` (422).
    ///
    /// List order, exactly as kube-apiserver orders it (and it matters: containers start in
    /// order, later env entries may refer to earlier ones): the elements the patch names come
    /// in the patch's order, each stored element the patch does not name is placed before
    /// the first of them that it preceded in the stored list, and an element new to the list
    /// goes before the remaining stored ones. So `kubectl patch` adding a container puts it
    /// first, while `kubectl apply` sends `$setElementOrder` to keep the file's order.
    ///
    /// Where shoal departs from kube-apiserver, which copies a patch value verbatim where
    /// the stored object has no value yet: new values are built as if merged into nothing,
    /// so their nulls are dropped (kube-apiserver does too) and directives inside them are
    /// applied or rejected rather than stored as fields. A `{"$patch": "replace"}` element
    /// holding other members is rejected instead of silently dropping them; a stored element
    /// without the merge key is kept in place rather than failing the patch. Errors kube-apiserver reports as
    /// 500 are 400 or 422 here (see `PatchError`).
    ///
    /// A patch of `null` changes nothing (as in kube-apiserver); any other non-object patch
    /// is `malformed`. The patch must nest at most `limits.json.nestingDepthMax` deep and no
    /// object or list in the result may exceed `limits.json.containerMembersMax` members.
    public static func applyStrategicMergePatch(
        _ patch: JSONValue, to object: JSONValue, schema: (any PatchSchema)?, limits: PatchLimits = .default
    ) throws(PatchError) -> JSONValue {
        switch patch {
        case .null:
            return object
        case .object(let members):
            try checkDepth(patch, limits, .strategicMergePatch)
            var merger = StrategicMerger(limits: limits)
            return .object(try merger.mergeObject(object.objectValue, members, schema: schema) ?? JSONObject())
        default:
            throw PatchError(.malformed, location: ContentType.strategicMergePatch.patchName,
                             reason: "a strategic merge patch must be a JSON object, not \(PatchValues.kindName(patch))")
        }
    }
}

/// The member names with a meaning in a strategic merge patch.
enum PatchDirective {
    /// `$patch`: "replace" or "delete" for the object (or list element) that holds it.
    static let patch = "$patch"
    /// `$retainKeys`: the members of this object to keep.
    static let retainKeys = "$retainKeys"
    /// `$setElementOrder/<field>`: the order of the merged list `<field>`.
    static let setElementOrderPrefix = "$setElementOrder/"
    /// `$deleteFromPrimitiveList/<field>`: values to remove from the list `<field>`.
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/"

    /// What follows `prefix` in `key` (compared by bytes), or nil when `key` does not start with it.
    static func field(of key: String, after prefix: String) -> String? {
        guard key.utf8.starts(with: prefix.utf8) else { return nil }
        // The prefixes are ASCII, so the rest starts on a character boundary.
        return String(decoding: key.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
    }
}

/// One strategic merge in progress: the bounds and where in the patch it is, for messages.
/// Recursion follows the patch, whose depth `applyStrategicMergePatch` checked first.
struct StrategicMerger {
    let limits: PatchLimits
    /// The patch path being merged, e.g. `spec`, `containers`, `0`.
    var path: [JSONPathComponent] = []

    init(limits: PatchLimits) {
        self.limits = limits
    }

    /// An error of `kind` located at the current path.
    func failure(_ kind: PatchError.Kind, _ reason: String) -> PatchError {
        let name = Patch.ContentType.strategicMergePatch.patchName
        return PatchError(kind, location: path.isEmpty ? name : "\(name) at \(PatchValues.render(path))", reason: reason)
    }

    /// The directives and fields of one patch object, read and checked before anything merges.
    private struct ObjectPatch {
        var retained: Set<[UInt8]>?
        var orders: [(field: String, order: [JSONValue])] = []
        var deletions: [(field: String, values: [JSONValue])] = []
        var fields: [(key: String, value: JSONValue)] = []
    }

    /// `patch` merged into `original` (nil: there is no object there yet). Nil only when
    /// `"$patch": "delete"` meets an object that is not there.
    mutating func mergeObject(
        _ original: JSONObject?, _ patch: JSONObject, schema: (any PatchSchema)?
    ) throws(PatchError) -> JSONObject? {
        if let directive = patch[PatchDirective.patch] {
            return try objectDirective(directive, original, patch, schema)
        }
        let parts = try read(patch, schema)
        var result = original ?? JSONObject()
        if let retained = parts.retained {
            if let unlisted = parts.fields.first(where: { !$0.value.isNull && !retained.contains(Array($0.key.utf8)) }) {
                path.append(.key(PatchDirective.retainKeys))
                throw failure(.malformed, "the patch sets \(PatchValues.quoted(unlisted.key)) but $retainKeys does not list it; it must list every field the patch keeps")
            }
            result = PatchValues.keeping(result) { retained.contains(Array($0.utf8)) }
        }
        // The stored lists as they were: the order `$setElementOrder` keeps unnamed elements in.
        let before = result
        result = PatchValues.removing(parts.fields.filter { $0.value.isNull }.map(\.key), from: result)
        for (key, value) in parts.fields where !value.isNull {
            try mergeMember(&result, key, value, schema)
        }
        for (field, order) in parts.orders {
            try applyElementOrder(&result, field, order, stored: before[field]?.arrayValue ?? [],
                                  patchList: patch[field]?.arrayValue, schema)
        }
        for (field, values) in parts.deletions {
            guard case .array(let list)? = result[field] else { continue }
            let doomed = Set(values)
            result[field] = .array(list.filter { !doomed.contains($0) })
        }
        guard result.count <= limits.json.containerMembersMax else {
            throw failure(.unprocessable, "the object would have \(result.count) members; at most \(limits.json.containerMembersMax) are allowed")
        }
        return result
    }

    /// `"$patch": "replace"` or `"delete"` on an object.
    private mutating func objectDirective(
        _ directive: JSONValue, _ original: JSONObject?, _ patch: JSONObject, _ schema: (any PatchSchema)?
    ) throws(PatchError) -> JSONObject? {
        switch directive {
        case "replace":
            var content = patch
            content[PatchDirective.patch] = nil
            return try mergeObject(nil, content, schema: schema) ?? JSONObject()
        case "delete":
            return original == nil ? nil : JSONObject()
        default:
            path.append(.key(PatchDirective.patch))
            defer { path.removeLast() }
            if directive == "merge" {
                throw failure(.malformed, "\"merge\" is not accepted here (merging is what happens without $patch); use \"replace\" or \"delete\"")
            }
            throw failure(.malformed, "unknown $patch value \(PatchValues.shown(directive)); expected \"replace\" or \"delete\"")
        }
    }

    /// Sorts the members of a patch object into directives and fields, checking directives.
    private mutating func read(_ patch: JSONObject, _ schema: (any PatchSchema)?) throws(PatchError) -> ObjectPatch {
        var parts = ObjectPatch()
        for (key, value) in patch {
            if key == PatchDirective.retainKeys {
                path.append(.key(key))
                defer { path.removeLast() }
                guard case .array(let names) = value else {
                    throw failure(.malformed, "$retainKeys must be a list of field names, not \(PatchValues.kindName(value))")
                }
                var retained = Set<[UInt8]>()
                for name in names {
                    guard case .string(let text) = name else {
                        throw failure(.malformed, "$retainKeys lists field names, which are strings, not \(PatchValues.kindName(name))")
                    }
                    retained.insert(Array(text.utf8))
                }
                parts.retained = retained
            } else if let field = PatchDirective.field(of: key, after: PatchDirective.setElementOrderPrefix) {
                path.append(.key(key))
                defer { path.removeLast() }
                guard !field.isEmpty else { throw failure(.malformed, "$setElementOrder/ must be followed by a field name") }
                guard case .array(let order) = value else {
                    throw failure(.malformed, "\(PatchValues.quoted(key)) must be a list, not \(PatchValues.kindName(value))")
                }
                parts.orders.append((field, order))
            } else if let field = PatchDirective.field(of: key, after: PatchDirective.deleteFromPrimitiveListPrefix) {
                path.append(.key(key))
                defer { path.removeLast() }
                guard !field.isEmpty else { throw failure(.malformed, "$deleteFromPrimitiveList/ must be followed by a field name") }
                guard case .array(let values) = value else {
                    throw failure(.malformed, "\(PatchValues.quoted(key)) must be a list, not \(PatchValues.kindName(value))")
                }
                for doomed in values {
                    switch doomed {
                    case .array, .object:
                        throw failure(.malformed, "\(PatchValues.quoted(key)) lists values to remove from a list of scalars; \(PatchValues.kindName(doomed)) is not one")
                    default:
                        break
                    }
                }
                parts.deletions.append((field, values))
            } else if key.utf8.first == UInt8(ascii: "$") && schema?.member(key) == nil {
                path.append(.key(key))
                defer { path.removeLast() }
                throw failure(.malformed, "unknown directive \(PatchValues.quoted(key)); the directives are $patch, $retainKeys, $setElementOrder/<field> and $deleteFromPrimitiveList/<field>")
            } else {
                parts.fields.append((key, value))
            }
        }
        return parts
    }

    /// Merges the patch value of member `key` (not null) into `result`.
    private mutating func mergeMember(
        _ result: inout JSONObject, _ key: String, _ value: JSONValue, _ schema: (any PatchSchema)?
    ) throws(PatchError) {
        path.append(.key(key))
        defer { path.removeLast() }
        let member = schema?.member(key)
        let strategy = member?.strategy ?? .replace
        switch value {
        case .object(let patchObject):
            result[key] = try mergeObject(result[key]?.objectValue, patchObject, schema: member?.schema).map(JSONValue.object)
        case .array(let patchList) where strategy.merge:
            result[key] = .array(try mergeList(result[key]?.arrayValue ?? [], patchList, mergeKey: strategy.mergeKey,
                                               schema: member?.schema))
        case .array(let patchList):
            result[key] = .array(try replacementList(patchList, schema: member?.schema))
        default:
            result[key] = value
        }
    }
}
