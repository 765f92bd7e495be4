import JSON

extension Patch {
    /// Applies an RFC 7386 JSON merge patch: an object merges into an object member by
    /// member (recursively), `null` removes the member, and anything else (a list, a scalar,
    /// an object where the target is not one) replaces the target, with the nulls of a
    /// replacing object's members removed as the RFC's algorithm does. A patch that is not
    /// an object replaces the whole document (`apply` refuses such patches for Kubernetes
    /// objects, as kube-apiserver does).
    ///
    /// Lists are taken as written, nulls inside them included, as the RFC says. (The library
    /// kube-apiserver uses also strips nulls from objects inside a replacing list; Kubernetes
    /// then drops null fields when it decodes the object anyway.)
    ///
    /// Throws `malformed` for a patch deeper than `limits.json.nestingDepthMax`, and
    /// `unprocessable` when an object would get more than `limits.json.containerMembersMax`
    /// members. Existing members keep their order; new ones follow in patch order.
    public static func applyMergePatch(
        _ patch: JSONValue, to document: JSONValue, limits: PatchLimits = .default
    ) throws(PatchError) -> JSONValue {
        try checkDepth(patch, limits, .mergePatch)
        var path: [JSONPathComponent] = []
        return try mergePatched(document, patch, limits, &path)
    }

    /// RFC 7386's MergePatch(Target, Patch); `target` nil when the member is absent.
    /// Recursion follows the patch, whose depth was checked.
    private static func mergePatched(
        _ target: JSONValue?, _ patch: JSONValue, _ limits: PatchLimits, _ path: inout [JSONPathComponent]
    ) throws(PatchError) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = target?.objectValue ?? JSONObject()
        // Removals first, in one pass; they touch other keys than the rest, so order is kept.
        var removed: [String] = []
        for (key, value) in patchMembers where value.isNull { removed.append(key) }
        result = PatchValues.removing(removed, from: result)
        for (key, value) in patchMembers where !value.isNull {
            path.append(.key(key))
            defer { path.removeLast() }
            let merged = try mergePatched(result[key], value, limits, &path)
            result[key] = merged
        }
        guard result.count <= limits.json.containerMembersMax else {
            let location = path.isEmpty ? "merge patch" : "merge patch at \(PatchValues.render(path))"
            throw PatchError(.unprocessable, location: location,
                             reason: "the object would have \(result.count) members; at most \(limits.json.containerMembersMax) are allowed")
        }
        return .object(result)
    }
}
