import Transport

// One GET to another member's API, as this member (over TLS it presents the member's
// certificate and verifies the other's against the cluster CA; `APIServer.forwardingConnector`),
// with the answer handed to a closure. For pieces of work a member does on another's behalf
// (`kubectl logs` of a pod that runs elsewhere); one connection per request.
final class MemberFetch {
    private weak var server: APIServer?
    private let host: String
    private let port: UInt16
    private let target: String
    private let headers: [(name: String, value: String)]
    private let completion: (Result<HTTPParser.Message, MemberFetchError>) -> Void
    private let parser: HTTPParser
    private var connection: (any ByteStream)?
    private var finished = false
    private var retainSelf: MemberFetch?

    init(server: APIServer, host: String, port: UInt16, target: String, headers: [(name: String, value: String)],
         completion: @escaping (Result<HTTPParser.Message, MemberFetchError>) -> Void) {
        self.server = server
        self.host = host
        self.port = port
        self.target = target
        self.headers = headers
        self.completion = completion
        var limits = HTTPParser.Limits()
        limits.bodyBytesMax = server.limits.forwardResponseBytesMax
        parser = HTTPParser(.response, limits: limits)
    }

    func start() {
        guard let server else { return done(.failure(MemberFetchError("the API server is gone"))) }
        retainSelf = self
        let local = server.host == "0.0.0.0" || server.host == "::" ? nil : server.host
        server.forwardingConnector.connect(loop: server.loop, host: host, port: port, localHost: local,
                                           timeoutMilliseconds: server.limits.requestTimeoutMilliseconds) { result in
            switch result {
            case .success(let connection):
                guard !self.finished else { return connection.abort(nil) }
                self.connection = connection
                connection.onClose = { _ in
                    if let answer = try? self.parser.finish().first { return self.done(.success(answer)) }
                    self.done(.failure(MemberFetchError("the member at \(self.host):\(self.port) closed the connection without answering")))
                }
                connection.onData = { bytes in
                    do {
                        if let answer = try self.parser.feed(bytes).first { self.done(.success(answer)) }
                    } catch {
                        self.done(.failure(MemberFetchError("the member at \(self.host):\(self.port) sent a malformed answer: \(error)")))
                    }
                }
                var head = "GET \(self.target) HTTP/1.1\r\nHost: \(self.host):\(self.port)\r\n"
                for (name, value) in self.headers { head += "\(name): \(value)\r\n" }
                head += "\(forwardedHeader): 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                connection.write(Array(head.utf8))
            case .failure(let error):
                self.done(.failure(MemberFetchError("cannot reach the member at \(self.host):\(self.port): \(error)")))
            }
        }
    }

    private func done(_ result: Result<HTTPParser.Message, MemberFetchError>) {
        guard !finished else { return }
        finished = true
        connection?.abort(nil)
        connection = nil
        completion(result)
        retainSelf = nil
    }
}

/// Why a fetch from another member failed, in words.
struct MemberFetchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
