import JSON

extension APIServer {
    /// `/openapi/v2` (JSON or gnostic protobuf, as Accept asks) and `/openapi/v3[/{group version}]`
    /// (`OpenAPIDocuments`, built once from the kind registry).
    func serveOpenAPI(_ exchange: APIExchange, _ path: APIRoute.OpenAPIPath) {
        let request = exchange.request
        let ifNoneMatch = request.header("if-none-match")
        switch path {
        case .v2:
            exchange.respond(OpenAPIDocuments.v2Response(accept: request.header("accept"), ifNoneMatch: ifNoneMatch))
        case .v3Index:
            exchange.respond(OpenAPIDocuments.v3IndexResponse(ifNoneMatch: ifNoneMatch))
        case .v3(let groupVersionPath):
            exchange.respond(OpenAPIDocuments.v3Response(groupVersionPath: groupVersionPath, hash: request.query["hash"],
                                                         ifNoneMatch: ifNoneMatch))
        }
    }
}
