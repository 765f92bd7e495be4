import JSON

/// The three PATCH bodies the Kubernetes API accepts, applied to a stored object as pure
/// functions: same object and patch in, same result out, on every member and every run.
///
/// | Content-Type | sent by | semantics |
/// | --- | --- | --- |
/// | `application/json-patch+json` | `kubectl patch --type=json` | RFC 6902 operations on RFC 6901 pointers (`applyJSONPatch`) |
/// | `application/merge-patch+json` | `kubectl patch --type=merge` | RFC 7386: null deletes, objects merge, the rest replaces (`applyMergePatch`) |
/// | `application/strategic-merge-patch+json` | `kubectl patch` (default), `kubectl apply` | merge patch plus per-field list strategies and `$` directives (`applyStrategicMergePatch`) |
///
/// `kubectl apply` (client-side) computes a three-way strategic merge patch itself, from the
/// `kubectl.kubernetes.io/last-applied-configuration` annotation, the live object and the
/// file, including the new annotation; the server only applies it. Server-side apply
/// (`application/apply-patch+yaml`) is not one of these: `ContentType` does not parse it and
/// the API answers 415, as kube-apiserver does for any other type.
///
/// What happens around a patch is the API's: reading the stored object, turning the result
/// into an update (whose `metadata.resourceVersion`, if the patch set one, is a precondition),
/// validating it (422 when the patched object is not a valid object of its kind), and
/// retrying on a conflict.
///
/// Object member order: JSON gives it no meaning and Kubernetes does not keep it (it decodes
/// into Go structs and prints fields in declaration order and map keys sorted). shoal keeps
/// objects as JSON, so the patch functions fix one order: keys already there keep their
/// place, a replaced value keeps its key's place, new keys follow in the order the patch
/// gives them. List order does have meaning (containers start in order, later env entries
/// may refer to earlier ones) and follows Kubernetes exactly; see `applyStrategicMergePatch`.
public enum Patch {
    /// The media type of a PATCH body.
    public enum ContentType: String, Sendable, CaseIterable {
        /// RFC 6902 JSON Patch.
        case jsonPatch = "application/json-patch+json"
        /// RFC 7386 JSON Merge Patch.
        case mergePatch = "application/merge-patch+json"
        /// Kubernetes' strategic merge patch.
        case strategicMergePatch = "application/strategic-merge-patch+json"

        /// The type named by a `Content-Type` header: the media type compared without regard
        /// to case, parameters (`; charset=utf-8`) ignored. Nil for any other type, which
        /// kube-apiserver answers with 415 Unsupported Media Type.
        public init?(header: String) {
            var mediaType = header.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            while let first = mediaType.first, first == " " || first == "\t" { mediaType.removeFirst() }
            while let last = mediaType.last, last == " " || last == "\t" { mediaType.removeLast() }
            self.init(rawValue: mediaType.lowercased())
        }
    }

    /// Applies a PATCH body to a stored object as kube-apiserver does: parses `body` (a body
    /// that is not JSON, or breaks `limits.json`, is `malformed`: 400), then `apply(_:patch:to:schema:limits:)`.
    public static func apply(
        _ type: ContentType, body: [UInt8], to object: JSONValue, schema: (any PatchSchema)?,
        limits: PatchLimits = .default
    ) throws(PatchError) -> JSONValue {
        let patch: JSONValue
        do {
            patch = try JSONValue.parse(body, limits: limits.json)
        } catch {
            throw PatchError(.malformed, location: type.patchName, reason: "the body is not valid JSON: \(error)")
        }
        return try apply(type, patch: patch, to: object, schema: schema, limits: limits)
    }

    /// Applies a parsed PATCH body to a stored object (a JSON object) as kube-apiserver does:
    /// the algorithm for `type`, plus the server's own rules around it. A merge patch must be
    /// an object (400, as kube-apiserver's strict decoding answers; RFC 7386 alone would let
    /// `null` or a list replace the object). A strategic merge patch of `null` changes
    /// nothing, as in kube-apiserver. Whatever the type, the result must still be an object
    /// (422, as kube-apiserver answers when the result does not decode). `schema` is the
    /// kind's patch metadata, used by strategic merge patches only.
    public static func apply(
        _ type: ContentType, patch: JSONValue, to object: JSONValue, schema: (any PatchSchema)?,
        limits: PatchLimits = .default
    ) throws(PatchError) -> JSONValue {
        let result: JSONValue
        switch type {
        case .jsonPatch:
            result = try applyJSONPatch(patch, to: object, limits: limits)
        case .mergePatch:
            guard case .object = patch else {
                throw PatchError(.malformed, location: type.patchName,
                                 reason: "a merge patch must be a JSON object, not \(PatchValues.kindName(patch))")
            }
            result = try applyMergePatch(patch, to: object, limits: limits)
        case .strategicMergePatch:
            result = try applyStrategicMergePatch(patch, to: object, schema: schema, limits: limits)
        }
        guard case .object = result else {
            throw PatchError(.unprocessable, location: type.patchName,
                             reason: "the patched object would be \(PatchValues.kindName(result)), not a JSON object")
        }
        return result
    }

    /// Throws `malformed` when `patch` nests deeper than `limits.json.nestingDepthMax`. The
    /// parser already bounds what it reads; this makes the bound hold for patches built any
    /// other way, and it is what lets the merge functions recurse along the patch.
    static func checkDepth(_ patch: JSONValue, _ limits: PatchLimits, _ type: ContentType) throws(PatchError) {
        let limit = limits.json.nestingDepthMax
        guard PatchValues.nestingDepth(of: patch, limit: limit) != nil else {
            throw PatchError(.malformed, location: type.patchName, reason: "the patch nests deeper than \(limit) levels")
        }
    }
}

extension Patch.ContentType {
    /// How messages name the patch type: "json patch", "merge patch", "strategic merge patch".
    var patchName: String {
        switch self {
        case .jsonPatch: return "json patch"
        case .mergePatch: return "merge patch"
        case .strategicMergePatch: return "strategic merge patch"
        }
    }
}
