import JSON
import Store

/// Kubernetes protobuf request bodies (`Content-Type: application/vnd.kubernetes.protobuf`)
/// read into the JSON the same request would have carried as JSON.
///
/// kubectl's typed clients (`kubectl create configmap|secret|namespace|deployment|service`)
/// send protobuf and never fall back to JSON, so a server that refused the body (415) would
/// fail those commands. The body is the 4 bytes `k8s\0` followed by a `runtime.Unknown`
/// message:
///
///     Unknown  { 1: typeMeta { 1: apiVersion, 2: kind }, 2: raw, 3: contentEncoding, 4: contentType }
///
/// `raw` is the object's own message, decoded generically from the `StructSchema` of the
/// served version that `apiVersion` and `kind` name (`Kind.resolve`), field number by field
/// number: nothing here knows a kind. Object messages carry no `kind` or `apiVersion`; those
/// come from `typeMeta` and are written where the schema declares them.
///
/// Go's gogo-generated marshalling writes every non-pointer field, zero or not (an empty
/// `metadata.namespace` is on the wire as an empty string), so presence is mapped back the
/// way Go's JSON encoding would write the decoded struct: `.omitEmpty` fields with zero
/// values are left out, `.optional` (pointer) fields are kept whenever they are on the wire,
/// `.always` fields are written even when absent (their zero value; `{}` for structs). A zero
/// `metav1.Time` (an empty Timestamp message) is JSON `null`, so it is left out.
///
/// Everything is bounded: nesting by the JSON nesting limit (`JSONLimits`), the number of
/// produced values by `decodedValuesMax`, every length by the body. Malformed input of any
/// kind is a `KubeProtobufError` (answer 400), never a crash.
///
/// Departures from Go, each on input kubectl never sends: a non-repeated message field sent
/// twice takes the last occurrence (protobuf would merge the two); fields declared `inline`
/// (no protobuf number in the schema, e.g. a Volume's VolumeSource) are skipped; strings must
/// be valid UTF-8 (JSON cannot carry anything else).
public enum KubeProtobuf {
    /// The media type of Kubernetes protobuf bodies.
    public static let contentType = "application/vnd.kubernetes.protobuf"
    /// The 4 bytes every Kubernetes protobuf body starts with: "k8s" and a zero byte.
    public static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]
    /// Most JSON values (scalars, objects and arrays) one body may decode to. Each costs
    /// about 100 bytes in memory; the bound stops a body of empty messages (2 bytes each,
    /// each materializing its `.always` fields) from growing far beyond its size.
    public static let decodedValuesMax = 1_000_000
    /// Most nested messages, in JSON levels (the top object is 1): the JSON parser's default,
    /// so a decoded body is never deeper than a JSON body could be.
    public static let nestingDepthMax = JSONLimits.nestingDepthMaxDefault

    /// The object a protobuf body holds, as JSON (with `kind` and `apiVersion` set).
    public static func decodeObject(_ body: [UInt8]) throws(KubeProtobufError) -> JSONValue {
        var decoder = KubeProtobufDecoder(bytes: body, valuesMax: decodedValuesMax, depthMax: nestingDepthMax)
        return try decoder.envelope(0..<body.count, depth: 1)
    }

    /// The schema of the object named by `apiVersion` and `kind`: a registered kind's served
    /// version, or one of the types subresources and deletes take (autoscaling/v1 Scale,
    /// v1 Binding, DeleteOptions in any group version, as kube-apiserver accepts it).
    static func schema(apiVersion: String, kind: String) throws(KubeProtobufError) -> StructSchema {
        guard !apiVersion.isEmpty, !kind.isEmpty else { throw KubeProtobufError(.missingTypeMeta) }
        if let resolved = Kind.resolve(apiVersion: apiVersion, kind: kind) {
            guard let version = resolved.version else { throw KubeProtobufError(.untypedKind(kind)) }
            return version.schema
        }
        switch (apiVersion, kind) {
        case ("autoscaling/v1", "Scale"): return Scale.wireInfo.schema
        case ("v1", "Binding"): return Binding.wireInfo.schema
        case (_, "DeleteOptions"): return OpenAPIMeta.DeleteOptions.wireInfo.schema
        default: throw KubeProtobufError(.unknownKind(apiVersion: apiVersion, kind: kind))
        }
    }
}
