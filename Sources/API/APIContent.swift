import JSON
import Store

/// Content negotiation: what form the client wants answers in (`Accept`), and how its request
/// body is encoded (`Content-Type`).
///
/// kube-apiserver speaks JSON, YAML and protobuf; shoal speaks JSON. Clients that offer
/// protobuf also offer JSON (client-go sends `application/vnd.kubernetes.protobuf,application/json`)
/// and read whichever the answer's Content-Type says, so answers are always JSON. Request
/// bodies in protobuf — what kubectl's typed clients send for `kubectl create configmap` and
/// friends, with no fallback to JSON — are decoded (`KubeProtobuf`) into the JSON they stand for.
enum ResponseForm: Equatable, Sendable {
    /// The objects (or list) themselves.
    case objects
    /// A `meta.k8s.io` Table (`kubectl get`): columns and rows, each row carrying the object
    /// as `includeObject` says.
    case table(version: String, includeObject: IncludeObject)
    /// Metadata only (`PartialObjectMetadata`, as garbage collectors and metadata informers ask).
    case partialMetadata(version: String)

    enum IncludeObject: String, Sendable {
        case none = "None"
        case metadata = "Metadata"
        case object = "Object"
    }

    /// The first acceptable form among the media types of `accept`; nil when none is one this
    /// server can produce (answer 406).
    static func negotiate(_ accept: String?, includeObject: String?) -> ResponseForm? {
        guard let accept, !accept.isEmpty else { return .objects }
        for item in accept.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmed() }
            guard let type = parts.first?.lowercased() else { continue }
            var parameters: [String: String] = [:]
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmed() }
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            guard ["application/json", "application/*", "*/*"].contains(type) else { continue }
            switch parameters["as"] {
            case nil:
                return .objects
            case "Table":
                guard parameters["g"] == "meta.k8s.io", let version = parameters["v"], ["v1", "v1beta1"].contains(version) else { continue }
                let include = IncludeObject(rawValue: includeObject ?? "") ?? .metadata
                return .table(version: version, includeObject: include)
            case "PartialObjectMetadata", "PartialObjectMetadataList":
                guard parameters["g"] == "meta.k8s.io", let version = parameters["v"], ["v1", "v1beta1"].contains(version) else { continue }
                return .partialMetadata(version: version)
            default:
                continue
            }
        }
        return nil
    }
}

/// How a request body is encoded.
enum RequestBody {
    static let protobufContentType = "application/vnd.kubernetes.protobuf"

    /// The body of a POST or PUT as JSON: JSON as sent, protobuf decoded. A 400 or 415
    /// answer (and nil) otherwise.
    static func object(_ request: HTTPRequest) -> Result<JSONValue, HTTPResponse> {
        guard !request.body.isEmpty else { return .failure(APIResponses.badRequest("the request body is empty")) }
        let type = mediaType(request.header("content-type"))
        switch type {
        case "", "application/json", "*/*":
            do {
                return .success(try JSONValue.parse(request.body))
            } catch {
                return .failure(APIResponses.badRequest("the request body is not valid JSON: \(error)"))
            }
        case protobufContentType:
            return decodeProtobuf(request.body)
        default:
            return .failure(unsupported(type, ["application/json", protobufContentType]))
        }
    }

    /// A PATCH body's type and JSON, or the answer refusing it.
    static func patch(_ request: HTTPRequest) -> Result<(TypedWrite.PatchType, JSONValue), HTTPResponse> {
        let type = mediaType(request.header("content-type"))
        guard let patchType = TypedWrite.PatchType.allCases.first(where: { $0.contentType == type }) else {
            if type == "application/apply-patch+yaml" || type == "application/apply-patch+cbor" {
                return .failure(APIResponses.status(
                    415, "UnsupportedMediaType",
                    "server-side apply is not supported by shoal: use client-side `kubectl apply` (without --server-side)"))
            }
            return .failure(unsupported(type, TypedWrite.PatchType.allCases.map(\.contentType)))
        }
        guard !request.body.isEmpty else { return .failure(APIResponses.badRequest("the patch is empty")) }
        do {
            return .success((patchType, try JSONValue.parse(request.body)))
        } catch {
            return .failure(APIResponses.badRequest("the patch is not valid JSON: \(error)"))
        }
    }

    /// The media type of a Content-Type header, lower-cased, without parameters.
    static func mediaType(_ header: String?) -> String {
        guard let header else { return "" }
        return String(header.split(separator: ";").first ?? "").trimmed().lowercased()
    }

    private static func unsupported(_ type: String, _ supported: [String]) -> HTTPResponse {
        APIResponses.status(415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format (\(type)); accepted media types include: "
                                + supported.joined(separator: ", "))
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmed() -> String {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func trimmed() -> String { self[...].trimmed() }
}

extension HTTPResponse {
    /// Adds `Warning: 299 - "<text>"` headers, as kube-apiserver sends warnings (each text once,
    /// at most `warningsMax`).
    mutating func addWarnings(_ warnings: [String]) {
        var seen: Set<String> = []
        for warning in warnings where seen.insert(warning).inserted && seen.count <= Self.warningsMax {
            let escaped = warning.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
            headers.append(("Warning", "299 - \"\(escaped)\""))
        }
    }

    /// Most warnings sent with one answer.
    static let warningsMax = 32
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

/// A ready answer can stand for a failure in a `Result` (what a request-parsing step answers).
extension HTTPResponse: Error {}
