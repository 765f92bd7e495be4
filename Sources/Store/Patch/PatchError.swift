/// Why a patch was not applied. The patch functions return a new value or throw this, so a
/// failed patch changes nothing. `description` reads like
/// `json patch operation 1 (test "/spec/replicas"): test failed: the value is 2, not 3` and is
/// meant to reach the kubectl user as the Status message.
///
/// What kube-apiserver answers (k8s.io/apiserver `endpoints/handlers/patch.go`, with
/// `fieldValidation=Strict`, kubectl's default), and the `Kind` shoal answers with:
///
/// | failure | kube-apiserver | shoal |
/// | --- | --- | --- |
/// | body is not JSON | 400 | `malformed` 400 (`Patch.apply(_:body:...)`) |
/// | any patch nested deeper than the bound | 400 (Go's decoder stops at 10,000 levels) | `malformed` 400 (`JSONLimits.nestingDepthMax`) |
/// | JSON patch: not a list of objects, or `op`/`path`/`from` not strings | 400 | `malformed` 400 |
/// | JSON patch: more than 10,000 operations | 413 | `tooManyOperations` 413 |
/// | JSON patch: unknown or missing `op`, missing `path`/`value`/`from`, bad pointer, path that does not exist, index out of range, copies past 3 MiB | 422 | `unprocessable` 422 |
/// | JSON patch: `test` finds another value | 422 | `testFailed` 422 |
/// | JSON patch: members besides op/path/from/value | 400 (strict decoding) | ignored, as RFC 6902 says |
/// | merge patch: not an object (null, list, scalar) | 400 | `malformed` 400 |
/// | strategic: not an object | 400 (`null` is an empty patch) | `malformed` 400 (`null` changes nothing) |
/// | strategic: `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…` not lists; a kept field missing from `$retainKeys` | 400 | `malformed` 400 |
/// | strategic: unknown `$patch` value, `"$patch": "merge"`, a list element without its merge key, `$setElementOrder` out of step with the patch's list | 500 (a plain Go error becomes an internal error) | `malformed` 400 |
/// | strategic: unknown `$` directive | kept as a field, then rejected by strict decoding (422) | `malformed` 400 |
/// | strategic: list of lists | 422 | `unprocessable` 422 |
/// | strategic: merged list mixing objects and scalars, or of objects with no merge key in the schema | 500 | `unprocessable` 422 |
/// | result past a bound (members per list or object, nesting after a JSON patch) | no such bounds | `unprocessable` 422 |
/// | the patched object is not an object, or is not valid for its kind | 422 (Invalid) | `unprocessable` 422 (`Patch.apply`); validation is the API's, 422 |
///
/// shoal never answers 500 for a bad patch: a client's mistake is a 4xx.
public struct PatchError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure, which decides the HTTP status.
    public enum Kind: Equatable, Hashable, Sendable {
        /// 400 Bad Request: the body is not a patch of its type (wrong JSON shape, a directive
        /// that is unknown or malformed, a patch deeper than the nesting bound).
        case malformed
        /// 413 Request Entity Too Large: a JSON patch with more operations than
        /// `PatchLimits.jsonPatchOperationsMax`.
        case tooManyOperations
        /// 422 Unprocessable Entity: a JSON patch `test` operation found another value.
        case testFailed
        /// 422 Unprocessable Entity: a well-formed patch that cannot be applied to this object
        /// (a path that is not there, a list that cannot be merged, a result past a bound).
        case unprocessable

        /// The HTTP status kube-apiserver answers with.
        public var httpStatus: Int {
            switch self {
            case .malformed: return 400
            case .tooManyOperations: return 413
            case .testFailed, .unprocessable: return 422
            }
        }

        /// The Kubernetes `Status.reason` that goes with `httpStatus`.
        public var statusReason: String {
            switch self {
            case .malformed: return "BadRequest"
            case .tooManyOperations: return "RequestEntityTooLarge"
            case .testFailed, .unprocessable: return "Invalid"
            }
        }
    }

    /// What kind of failure.
    public let kind: Kind
    /// Where, in words: `json patch operation 2 (remove "/metadata/labels/tier")`,
    /// `strategic merge patch at spec.containers[0]`, or just the patch type.
    public let location: String
    /// Why, in words: `"/metadata/labels" has no member "tier"`.
    public let reason: String
    /// For a JSON patch, the zero-based position of the operation that failed.
    public let operationIndex: Int?

    /// An error of `kind` at `location` (see the properties).
    public init(_ kind: Kind, location: String, reason: String, operationIndex: Int? = nil) {
        self.kind = kind
        self.location = location
        self.reason = reason
        self.operationIndex = operationIndex
    }

    /// The status code for the API to answer with (`kind.httpStatus`).
    public var httpStatus: Int { kind.httpStatus }

    /// `"<location>: <reason>"`.
    public var description: String { "\(location): \(reason)" }
}

/// A failure below the level that knows where it happened (which operation, which field);
/// the caller turns it into a `PatchError` with a location.
struct PatchFailure: Error {
    let kind: PatchError.Kind
    let reason: String

    init(_ kind: PatchError.Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }
}
