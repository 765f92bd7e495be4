import JSON

extension RequestBody {
    /// A protobuf body as JSON (wired to `KubeProtobuf` once it lands).
    static func decodeProtobuf(_ body: [UInt8]) -> Result<JSONValue, HTTPResponse> {
        .failure(APIResponses.status(415, "UnsupportedMediaType", "protobuf request bodies are not decoded yet"))
    }
}
