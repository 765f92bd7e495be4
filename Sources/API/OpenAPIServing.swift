import JSON

/// HTTP answers for the OpenAPI routes, with the caching headers kube-apiserver sends:
/// an ETag (the quoted hash of the bytes) on every document, `304 Not Modified` when
/// `If-None-Match` names it, and for a v3 document requested with its current `hash`,
/// `Cache-Control: public, immutable` (clients keep it until the index names another hash).
extension OpenAPIDocuments {
    /// `GET /openapi/v2`. JSON for `application/json` (and `*/*`, and no Accept); gnostic's
    /// protobuf encoding for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`;
    /// 406 for anything else.
    ///
    /// kubectl 1.32 asks for v2 only in protobuf (`Accept` names nothing else), and only when
    /// it cannot use v3: when `/openapi/v3` fails (it then needs v2 for `explain`, for
    /// validating `apply`/`create`/`replace` input, and for `apply`'s patches), for
    /// `kubectl explain --output=plaintext-openapiv2`, and for `apply` of a kind whose v3
    /// PATCH operation takes no strategic merge patch. A JSON answer to that request fails
    /// the command ("proto: cannot parse invalid wire-format data"), and so does a 406
    /// ("the server was unable to respond with a content type that the client supports"),
    /// so the protobuf form is served. (Measured with kubectl v1.32.4 against a test server.)
    static func v2Response(accept: String?, ifNoneMatch: String?) -> HTTPResponse {
        switch negotiateV2(accept) {
        case .json?: return answer(v2JSON, contentType: "application/json", cacheControl: "no-cache, private", ifNoneMatch)
        case .protobuf?: return answer(v2Protobuf, contentType: v2ProtobufContentType, cacheControl: "no-cache, private", ifNoneMatch)
        case nil:
            return APIResponses.status(406, "NotAcceptable",
                                       "only application/json and \(v2ProtobufMediaType) are served at /openapi/v2")
        }
    }

    /// `GET /openapi/v3`.
    static func v3IndexResponse(ifNoneMatch: String?) -> HTTPResponse {
        answer(v3IndexDocument, contentType: "application/json", cacheControl: "no-cache, private", ifNoneMatch)
    }

    /// `GET /openapi/v3/{groupVersionPath}[?hash=...]`; 404 for a group version nothing is
    /// served at. A stale `hash` gets the current document, not to be cached.
    static func v3Response(groupVersionPath: String, hash: String?, ifNoneMatch: String?) -> HTTPResponse {
        guard let document = v3Documents[groupVersionPath] else {
            return APIResponses.notFound("no OpenAPI document for \(groupVersionPath)")
        }
        let current = hash.map { $0.uppercased() == document.hash } ?? false
        return answer(document, contentType: "application/json",
                      cacheControl: current ? "public, immutable" : "no-cache, private", ifNoneMatch)
    }

    enum V2Form { case json, protobuf }

    /// The first form `accept` names that shoal serves; JSON when it names none at all.
    static func negotiateV2(_ accept: String?) -> V2Form? {
        guard let accept, !accept.trimmingSpaces().isEmpty else { return .json }
        for item in accept.split(separator: ",") {
            let type = (item.split(separator: ";").first.map(String.init) ?? "").trimmingSpaces().lowercased()
            switch type {
            case "application/json", "application/*", "*/*": return .json
            case v2ProtobufMediaType, v2ProtobufContentType: return .protobuf
            default: continue
            }
        }
        return nil
    }

    private static func answer(_ document: Document, contentType: String, cacheControl: String, _ ifNoneMatch: String?) -> HTTPResponse {
        let etag = "\"\(document.hash)\""
        let headers: [(name: String, value: String)] = [("Content-Type", contentType), ("ETag", etag), ("Cache-Control", cacheControl),
                                                        ("Vary", "Accept")]
        if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: { String($0).trimmingSpaces() == etag || String($0).trimmingSpaces() == "*" }) {
            return HTTPResponse(status: 304, headers: Array(headers.dropFirst()))
        }
        return HTTPResponse(status: 200, headers: headers, body: document.bytes)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
