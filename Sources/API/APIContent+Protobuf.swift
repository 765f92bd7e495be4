import JSON

extension RequestBody {
    /// A Kubernetes protobuf body (`k8s\0` + runtime.Unknown) as the JSON it stands for.
    static func decodeProtobuf(_ body: [UInt8]) -> Result<JSONValue, HTTPResponse> {
        do {
            return .success(try KubeProtobuf.decodeObject(body))
        } catch {
            return .failure(APIResponses.badRequest("the protobuf request body does not decode: \(error)"))
        }
    }
}
