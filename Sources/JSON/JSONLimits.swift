/// The bounds the parser enforces on a document. JSON arrives from clients and peers, so
/// every dimension that costs memory or time is capped (DESIGN principle 6); a document
/// that exceeds one is rejected with a `JSONError` naming the bound, never truncated.
///
/// The defaults suit Kubernetes manifests and API bodies. A caller that legitimately
/// handles bigger documents (a CLI reading a large List response, a benchmark) passes its
/// own limits; the nesting depth may not exceed `nestingDepthCeiling`, because deeper values
/// would overflow the stack when Swift compares, hashes, prints or destroys them.
public struct JSONLimits: Equatable, Hashable, Sendable {
    /// Most nested arrays and objects, counting the outermost as 1. Kubernetes objects
    /// nest about 10 deep (a Deployment's container env is 8); 100 leaves room for CRDs.
    public static let nestingDepthMaxDefault = 100
    /// Hard ceiling on `nestingDepthMax`, in levels: the parser is iterative, but every
    /// other operation on a value (==, hash, print, deinit) recurses once per level.
    public static let nestingDepthCeiling = 1_000
    /// Largest document, in bytes: 8 MiB. The Kubernetes API server caps a request body at
    /// 3 MiB and etcd a request at 1.5 MiB; shoal's HTTP layer applies its own, smaller cap.
    public static let documentSizeMaxBytesDefault = 8 * 1024 * 1024
    /// Largest string (a key or a value) after unescaping, in UTF-8 bytes: 2 MiB.
    /// ConfigMaps and Secrets hold at most 1 MiB of data; base64 grows that to 1.33 MiB.
    public static let stringSizeMaxBytesDefault = 2 * 1024 * 1024
    /// Most members of one array or object, in elements: a List of 100k objects is far
    /// beyond what one shoal response holds, and this stops `[0,0,0,...]` amplification
    /// (two bytes of input become a 16-byte value plus the array's growth slack).
    public static let containerMembersMaxDefault = 100_000
    /// Longest number token, in bytes. Every Double prints in at most 24 characters; a
    /// longer token (thousands of digits) is only useful to make conversion slow.
    public static let numberSizeMaxBytesDefault = 1_024

    /// Most nested arrays and objects, in levels (the outermost counts as 1).
    public var nestingDepthMax: Int
    /// Largest document, in bytes.
    public var documentSizeMaxBytes: Int
    /// Largest string after unescaping, in UTF-8 bytes.
    public var stringSizeMaxBytes: Int
    /// Most members of one array or object, in elements.
    public var containerMembersMax: Int
    /// Longest number token, in bytes.
    public var numberSizeMaxBytes: Int

    /// Limits for a document; every bound must be at least 1, and `nestingDepthMax` at
    /// most `nestingDepthCeiling` (a larger value is a programming error and traps).
    public init(
        nestingDepthMax: Int = JSONLimits.nestingDepthMaxDefault,
        documentSizeMaxBytes: Int = JSONLimits.documentSizeMaxBytesDefault,
        stringSizeMaxBytes: Int = JSONLimits.stringSizeMaxBytesDefault,
        containerMembersMax: Int = JSONLimits.containerMembersMaxDefault,
        numberSizeMaxBytes: Int = JSONLimits.numberSizeMaxBytesDefault
    ) {
        precondition(
            nestingDepthMax >= 1 && nestingDepthMax <= JSONLimits.nestingDepthCeiling,
            "JSONLimits.nestingDepthMax \(nestingDepthMax) outside 1...\(JSONLimits.nestingDepthCeiling)")
        precondition(documentSizeMaxBytes >= 1, "JSONLimits.documentSizeMaxBytes \(documentSizeMaxBytes) < 1")
        precondition(stringSizeMaxBytes >= 1, "JSONLimits.stringSizeMaxBytes \(stringSizeMaxBytes) < 1")
        precondition(containerMembersMax >= 1, "JSONLimits.containerMembersMax \(containerMembersMax) < 1")
        precondition(numberSizeMaxBytes >= 1, "JSONLimits.numberSizeMaxBytes \(numberSizeMaxBytes) < 1")
        self.nestingDepthMax = nestingDepthMax
        self.documentSizeMaxBytes = documentSizeMaxBytes
        self.stringSizeMaxBytes = stringSizeMaxBytes
        self.containerMembersMax = containerMembersMax
        self.numberSizeMaxBytes = numberSizeMaxBytes
    }

    /// The defaults above.
    public static let `default` = JSONLimits()
}
