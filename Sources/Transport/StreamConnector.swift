/// How a member opens an outgoing byte stream to another member's API: plain TCP (the
/// `--insecure-http` debugging mode) or TLS that verifies the peer against a context's
/// trusted roots and the address dialled.
public enum StreamConnector: Sendable {
    case plain
    case tls(TLSContext, limits: TLSStream.Limits = TLSStream.Limits())

    /// Why a stream could not be opened.
    public enum Failure: Error, CustomStringConvertible, Sendable {
        case connect(UVError)
        case tls(TLSError)

        public var description: String {
            switch self {
            case .connect(let error): return "\(error)"
            case .tls(let error): return "TLS: \(error)"
            }
        }
    }

    /// Connects to `host:port` (from `localHost` when given) and, for TLS, completes the
    /// handshake, all within `timeoutMilliseconds` each; `completion` runs once on the loop
    /// thread with the open stream or the failure.
    public func connect(loop: EventLoop, host: String, port: UInt16, localHost: String? = nil,
                        timeoutMilliseconds: Int, completion: @escaping (Result<any ByteStream, Failure>) -> Void) {
        TCPConnection.connect(loop: loop, host: host, port: port, localHost: localHost,
                              timeoutMilliseconds: timeoutMilliseconds) { result in
            let tcp: TCPConnection
            switch result {
            case .failure(let error): return completion(.failure(.connect(error)))
            case .success(let connection): tcp = connection
            }
            guard case .tls(let context, var limits) = self else { return completion(.success(tcp)) }
            limits.handshakeTimeoutMilliseconds = min(limits.handshakeTimeoutMilliseconds, timeoutMilliseconds)
            let stream: TLSStream
            do throws(TLSError) {
                stream = try TLSStream(tcp: tcp, context: context, serverName: host, limits: limits)
            } catch {
                tcp.abort(nil)
                return completion(.failure(.tls(error)))
            }
            stream.onHandshake = { error in
                if let error { completion(.failure(.tls(error))) } else { completion(.success(stream)) }
            }
        }
    }
}
