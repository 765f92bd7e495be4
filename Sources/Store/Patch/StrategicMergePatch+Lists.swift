import JSON

/// Lists in a strategic merge patch: merged ones (as sets of scalars, or objects matched by a
/// merge key), replaced ones, and the element order kube-apiserver gives a merged list.
/// Matching and ordering go through hash tables, so a list of n elements costs O(n log n),
/// never O(n²), whatever the patch.
extension StrategicMerger {
    /// `patch` merged into the stored list `original` (empty when there is none).
    mutating func mergeList(
        _ original: [JSONValue], _ patch: [JSONValue], mergeKey: String?, schema: (any PatchSchema)?
    ) throws(PatchError) -> [JSONValue] {
        if original.isEmpty && patch.isEmpty { return [] }
        var holdsObjects = false
        var holdsScalars = false
        for element in [original, patch].joined() {
            switch element {
            case .array: throw failure(.unprocessable, "a list of lists cannot be merged")
            case .object: holdsObjects = true
            default: holdsScalars = true
            }
        }
        guard !(holdsObjects && holdsScalars) else {
            throw failure(.unprocessable, "the list mixes objects with other values, so it cannot be merged")
        }
        let merged: [JSONValue]
        if holdsObjects {
            guard let mergeKey else {
                throw failure(.unprocessable, "the list holds objects but its schema gives no merge key to match them by")
            }
            merged = try mergeObjectList(original, patch, mergeKey: mergeKey, schema: schema)
        } else {
            merged = Self.mergeScalarList(original, patch)
        }
        guard merged.count <= limits.json.containerMembersMax else {
            throw failure(.unprocessable, "the list would have \(merged.count) elements; at most \(limits.json.containerMembersMax) are allowed")
        }
        return merged
    }

    /// A set union in kube-apiserver's order: the patch's values in patch order, the stored
    /// ones placed among them by `interleave`. Duplicates are dropped.
    static func mergeScalarList(_ original: [JSONValue], _ patch: [JSONValue]) -> [JSONValue] {
        var storedIndex: [JSONValue: Int] = [:]
        var serverOnly: [JSONValue] = []
        var patchItems: [JSONValue] = []
        var patchValues = Set<JSONValue>()
        for value in patch where patchValues.insert(value).inserted { patchItems.append(value) }
        for (position, value) in original.enumerated() where storedIndex[value] == nil {
            storedIndex[value] = position
            if !patchValues.contains(value) { serverOnly.append(value) }
        }
        return interleave(serverOnly, patchItems) { storedIndex[$0] }
    }

    /// Objects matched by `mergeKey`: `$patch` elements first (deletions, replace), then each
    /// other element merged into the stored one with its key or added.
    private mutating func mergeObjectList(
        _ original: [JSONValue], _ patch: [JSONValue], mergeKey: String, schema: (any PatchSchema)?
    ) throws(PatchError) -> [JSONValue] {
        var doomedKeys = Set<JSONValue>()
        var replace = false
        var entries: [(position: Int, object: JSONObject, key: JSONValue)] = []
        for (position, element) in patch.enumerated() {
            path.append(.index(position))
            defer { path.removeLast() }
            let object = element.objectValue ?? JSONObject()
            guard let directive = object[PatchDirective.patch] else {
                guard let key = object[mergeKey] else {
                    throw failure(.malformed, "the element has no \(PatchValues.quoted(mergeKey)), the merge key of this list")
                }
                entries.append((position, object, key))
                continue
            }
            switch directive {
            case "delete":
                guard let key = object[mergeKey] else {
                    throw failure(.malformed, "a \"$patch\": \"delete\" element needs \(PatchValues.quoted(mergeKey)), the merge key, to say which element goes")
                }
                doomedKeys.insert(key)
            case "replace":
                guard object.count == 1 else {
                    throw failure(.malformed, "a {\"$patch\": \"replace\"} element must hold nothing else; the list's other elements are its new content")
                }
                replace = true
            case "merge":
                throw failure(.malformed, "\"$patch\": \"merge\" is not accepted in a list (merging is what happens without it)")
            default:
                throw failure(.malformed, "unknown $patch value \(PatchValues.shown(directive)); a list element accepts \"delete\", or \"replace\" alone")
            }
        }
        if replace {
            // The list becomes the other elements, as written (duplicates included).
            var replaced: [JSONValue] = []
            replaced.reserveCapacity(entries.count)
            for entry in entries {
                path.append(.index(entry.position))
                defer { path.removeLast() }
                replaced.append(.object(try mergeObject(nil, entry.object, schema: schema) ?? JSONObject()))
            }
            return replaced
        }
        var current = original
        if !doomedKeys.isEmpty {
            current.removeAll { element in element.objectValue?[mergeKey].map(doomedKeys.contains) ?? false }
        }
        // Stored elements without the key match nothing and keep their place.
        var storedIndex: [JSONValue: Int] = [:]
        for (position, element) in current.enumerated() {
            if let key = element.objectValue?[mergeKey], storedIndex[key] == nil { storedIndex[key] = position }
        }
        var position = storedIndex
        var patchOrder: [JSONValue: Int] = [:]
        for entry in entries {
            path.append(.index(entry.position))
            defer { path.removeLast() }
            if patchOrder[entry.key] == nil { patchOrder[entry.key] = entry.position }
            if let index = position[entry.key] {
                current[index] = .object(try mergeObject(current[index].objectValue, entry.object, schema: schema) ?? JSONObject())
            } else {
                guard current.count < limits.json.containerMembersMax else {
                    throw failure(.unprocessable, "the list would have more than \(limits.json.containerMembersMax) elements")
                }
                position[entry.key] = current.count
                current.append(.object(try mergeObject(nil, entry.object, schema: schema) ?? JSONObject()))
            }
        }
        var patchItems: [(element: JSONValue, order: Int, position: Int)] = []
        var serverOnly: [JSONValue] = []
        for (index, element) in current.enumerated() {
            if let key = element.objectValue?[mergeKey], let order = patchOrder[key] {
                patchItems.append((element, order, index))
            } else {
                serverOnly.append(element)
            }
        }
        patchItems.sort { ($0.order, $0.position) < ($1.order, $1.position) }
        return Self.interleave(serverOnly, patchItems.map(\.element)) { element in
            element.objectValue?[mergeKey].flatMap { storedIndex[$0] }
        }
    }

    /// The patch's value for a list the schema does not merge: the list as written, each
    /// object in it built as if merged into nothing (nulls dropped, directives applied).
    mutating func replacementList(_ list: [JSONValue], schema: (any PatchSchema)?) throws(PatchError) -> [JSONValue] {
        var result: [JSONValue] = []
        result.reserveCapacity(list.count)
        for (position, element) in list.enumerated() {
            path.append(.index(position))
            defer { path.removeLast() }
            switch element {
            case .object(let object):
                guard object[PatchDirective.patch] == nil else {
                    throw failure(.malformed, "$patch is not accepted in a list that is replaced whole (its schema gives it no merge strategy)")
                }
                result.append(.object(try mergeObject(nil, object, schema: schema) ?? JSONObject()))
            case .array(let inner):
                result.append(.array(try replacementList(inner, schema: nil)))
            default:
                result.append(element)
            }
        }
        return result
    }

    /// Puts the list `field` of `result` in the order of `$setElementOrder/<field>`: the
    /// elements the order names in its order, the others placed among them by `interleave`
    /// using `stored`, the list before the patch.
    ///
    /// Entries name elements by their merge key (`{"name": "web"}`), or are the scalars of a
    /// list of scalars. kubectl sends an order for every list Kubernetes merges; when the
    /// schema knows no merge key for a list whose entries are objects (a schema that lags
    /// Kubernetes), nothing can be matched and the list stays as merged rather than failing
    /// `kubectl apply`. kube-apiserver likewise orders lists whatever their strategy.
    mutating func applyElementOrder(
        _ result: inout JSONObject, _ field: String, _ order: [JSONValue], stored: [JSONValue],
        patchList: [JSONValue]?, _ schema: (any PatchSchema)?
    ) throws(PatchError) {
        path.append(.key(PatchDirective.setElementOrderPrefix + field))
        defer { path.removeLast() }
        let mergeKey = schema?.member(field)?.strategy.mergeKey
        // How an element is told apart: its merge key, or itself for a scalar.
        func identity(_ element: JSONValue) -> JSONValue? {
            switch element {
            case .object(let object): return mergeKey.flatMap { object[$0] }
            case .array: return nil
            default: return element
            }
        }
        var orderIdentities: [JSONValue] = []
        var orderIndex: [JSONValue: Int] = [:]
        for (position, entry) in order.enumerated() {
            path.append(.index(position))
            defer { path.removeLast() }
            switch (entry, mergeKey) {
            case (.array, _):
                throw failure(.malformed, "an entry must name an element by its merge key, or be a scalar, not a list")
            case (.object, nil):
                return  // no merge key known to match objects by: leave the list as merged
            case (.object(let object), let key?) where object[key] == nil:
                throw failure(.malformed, "an entry must be an object with \(PatchValues.quoted(key)), the merge key")
            case (.object, _):
                break
            case (_, let key?):
                throw failure(.malformed, "the list is merged by \(PatchValues.quoted(key)), so an entry must be an object like {\(PatchValues.quoted(key)): ...}, not \(PatchValues.kindName(entry))")
            default:
                break
            }
            guard let id = identity(entry) else { continue }
            orderIdentities.append(id)
            if orderIndex[id] == nil { orderIndex[id] = position }
        }
        guard let current = result[field] else { return }
        guard case .array(let list) = current else {
            throw failure(.unprocessable, "\(PatchValues.quoted(field)) is \(PatchValues.kindName(current)), not a list")
        }
        if let patchList, !patchList.isEmpty, !order.isEmpty {
            // The patch's own elements must be a subsequence of the order (deletions aside).
            var cursor = 0
            for element in patchList where element.objectValue?[PatchDirective.patch] == nil {
                guard let id = identity(element) else { continue }
                while cursor < orderIdentities.count && orderIdentities[cursor] != id { cursor += 1 }
                guard cursor < orderIdentities.count else {
                    throw failure(.malformed, "the patch's \(PatchValues.quoted(field)) has \(PatchValues.shown(id)) where this order does not: it must list the patch's elements in the same order")
                }
                cursor += 1
            }
        }
        var storedIndex: [JSONValue: Int] = [:]
        for (position, element) in stored.enumerated() {
            if let id = identity(element), storedIndex[id] == nil { storedIndex[id] = position }
        }
        var named: [(element: JSONValue, order: Int, position: Int)] = []
        var others: [(element: JSONValue, stored: Int, position: Int)] = []
        for (position, element) in list.enumerated() {
            let id = identity(element)
            if let id, let index = orderIndex[id] {
                named.append((element, index, position))
            } else {
                others.append((element, id.flatMap { storedIndex[$0] } ?? Int.max, position))
            }
        }
        named.sort { ($0.order, $0.position) < ($1.order, $1.position) }
        others.sort { ($0.stored, $0.position) < ($1.stored, $1.position) }
        result[field] = .array(Self.interleave(others.map(\.element), named.map(\.element)) { element in
            identity(element).flatMap { storedIndex[$0] }
        })
    }

    /// kube-apiserver's merge of two ordered lists: `serverOnly` (stored elements the patch
    /// does not name, in stored order) into `patchItems` (in the patch's order). At each step
    /// the next stored element goes first when both it and the next patch element were in
    /// the stored list and it came earlier there (`storedIndex`); otherwise the patch element
    /// goes first. Both lists keep their own order.
    static func interleave(
        _ serverOnly: [JSONValue], _ patchItems: [JSONValue], storedIndex: (JSONValue) -> Int?
    ) -> [JSONValue] {
        var result: [JSONValue] = []
        result.reserveCapacity(serverOnly.count + patchItems.count)
        var left = 0
        var right = 0
        while left < serverOnly.count || right < patchItems.count {
            let takeLeft: Bool
            if right == patchItems.count {
                takeLeft = true
            } else if left == serverOnly.count {
                takeLeft = false
            } else if let l = storedIndex(serverOnly[left]), let r = storedIndex(patchItems[right]) {
                takeLeft = l < r
            } else {
                takeLeft = false
            }
            if takeLeft {
                result.append(serverOnly[left])
                left += 1
            } else {
                result.append(patchItems[right])
                right += 1
            }
        }
        return result
    }
}
