import JSON

/// The bounds a patch and its result must keep (DESIGN principle 6). A patch arrives from a
/// client, so everything it can make the server do is capped: how deep it nests, how long
/// the lists it builds are, how many JSON patch operations it holds and how much data its
/// `copy` operations may duplicate. Exceeding a bound is an error, never a truncation.
public struct PatchLimits: Equatable, Hashable, Sendable {
    /// Most operations in one JSON patch: kube-apiserver's `maxJSONPatchOperations`.
    public static let jsonPatchOperationsMaxDefault = 10_000
    /// Most bytes JSON patch `copy` operations may add, summed over the patch, in bytes:
    /// kube-apiserver's `JSONPatchMaxCopyBytes` (3 MiB, twice etcd's request limit). Without
    /// it, each `copy` of the root into a member doubles the object: 30 operations reach
    /// gigabytes.
    public static let copiedSizeMaxBytesDefault = 3 * 1024 * 1024

    /// Nesting depth of the patch and of the result (`json.nestingDepthMax`, in levels) and
    /// members of any array or object the patch builds (`json.containerMembersMax`): the
    /// same bounds the parser puts on a request body, so a patched object could have been
    /// sent whole.
    public var json: JSONLimits
    /// Most operations in one JSON patch.
    public var jsonPatchOperationsMax: Int
    /// Most bytes `copy` operations may add, summed over one JSON patch.
    public var copiedSizeMaxBytes: Int

    /// Limits; every bound must be at least 1 (a smaller one is a programming error and traps).
    public init(
        json: JSONLimits = .default,
        jsonPatchOperationsMax: Int = PatchLimits.jsonPatchOperationsMaxDefault,
        copiedSizeMaxBytes: Int = PatchLimits.copiedSizeMaxBytesDefault
    ) {
        precondition(jsonPatchOperationsMax >= 1, "PatchLimits.jsonPatchOperationsMax \(jsonPatchOperationsMax) < 1")
        precondition(copiedSizeMaxBytes >= 1, "PatchLimits.copiedSizeMaxBytes \(copiedSizeMaxBytes) < 1")
        self.json = json
        self.jsonPatchOperationsMax = jsonPatchOperationsMax
        self.copiedSizeMaxBytes = copiedSizeMaxBytes
    }

    /// The defaults above, with the parser's default `JSONLimits`.
    public static let `default` = PatchLimits()
}
