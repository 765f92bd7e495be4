import JSON

/// The `/shoal/v1/...` routes the `shoal` CLI and joining members use (table in
/// `APIRoute.swift`). Membership changes that only the leader can make are forwarded to it.
extension APIServer {
    func serveCluster(_ exchange: APIExchange, _ path: APIRoute.ClusterPath, _ service: ClusterService) {
        let request = exchange.request
        let reply = { (result: Result<JSONValue, ServiceError>) in
            guard exchange.isWaiting else { return }
            switch result {
            case .success(let value): exchange.respond(APIResponses.json(200, value))
            case .failure(let error): exchange.respond(APIResponses.status(error))
            }
        }
        switch (request.method, path) {
        case ("GET", .status):
            exchange.respond(APIResponses.json(200, service.status()))
        case ("GET", .members):
            onLeader(exchange, service) { exchange.respond(APIResponses.json(200, service.members())) }
        case ("POST", .members):
            onLeader(exchange, service) {
                guard let body = jsonObjectBody(exchange) else { return }
                service.admitMember(body, completion: reply)
            }
        case ("DELETE", .member(let name)):
            onLeader(exchange, service) { service.removeMember(named: name, completion: reply) }
        case ("POST", .initialize):
            service.initializeCluster(completion: reply)
        case ("POST", .join):
            guard let body = jsonObjectBody(exchange) else { return }
            guard let endpoint = body["endpoint"]?.stringValue, !endpoint.isEmpty,
                  let token = body["token"]?.stringValue, !token.isEmpty else {
                return exchange.respond(APIResponses.badRequest("the body must be {\"endpoint\":\"IP:PORT\",\"token\":\"...\"}"))
            }
            service.joinCluster(endpoint: endpoint, token: token, completion: reply)
        case ("POST", .leave):
            service.leaveCluster(completion: reply)
        case ("GET", .token):
            if let token = service.joinToken() {
                exchange.respond(APIResponses.json(200, .object(JSONObject([("token", .string(token))]))))
            } else {
                exchange.respond(APIResponses.notFound("no join token: this agent belongs to no cluster (run `shoal init` or `shoal join`)"))
            }
        case ("GET", .credentials):
            let wantsCertificate = ["true", "1"].contains(request.query["clientCertificate"] ?? "")
            reply(service.credentials(clientCertificate: wantsCertificate))
        default:
            exchange.respond(APIResponses.methodNotAllowed(request.method, request.path))
        }
    }

    /// The body as a JSON object; answers 400 and returns nil otherwise.
    private func jsonObjectBody(_ exchange: APIExchange) -> JSONValue? {
        guard let value = try? JSONValue.parse(exchange.request.body), value.objectValue != nil else {
            exchange.respond(APIResponses.badRequest("the request body must be a JSON object"))
            return nil
        }
        return value
    }
}
