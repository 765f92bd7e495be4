import JSON

extension APIServer {
    /// `/openapi/v2` and `/openapi/v3[...]` (wired to `OpenAPIDocuments` once it lands).
    func serveOpenAPI(_ exchange: APIExchange, _ path: APIRoute.OpenAPIPath) {
        exchange.respond(APIResponses.notFound("the OpenAPI documents are not served yet"))
    }
}
