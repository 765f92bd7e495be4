import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

// A client of a CRI runtime (containerd) on its unix socket: gRPC over HTTP/2 with
// grpc-swift-2 and its NIO transport, with the messages of cri.proto (Generated/, made by
// scripts/gen-cri). The node agent calls it from its own worker threads, so it offers
// blocking calls (`CRIMethods` names them): each runs the async RPC on gRPC's threads and waits for it there, never
// on the member's loop.

/// Options of one call (deadline, sizes), as `CRIClient.options` makes them.
public typealias CRICallOptions = CallOptions

/// A failed CRI call.
public struct CRICallError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        case notFound
        /// The runtime is not reachable (not started, restarting, socket gone).
        case unavailable
        case deadlineExceeded
        case other
    }

    public var code: Code
    public var message: String

    public var description: String { message }
}

/// One connection to a CRI runtime, reconnecting by itself (gRPC's channel does).
public final class CRIClient: Sendable {
    /// Largest answer accepted: ExecSync output is capped at 16 MiB by the runtime, and a
    /// listing of many containers is large too.
    public static let responseBytesMax = 32 * 1024 * 1024

    public let socketPath: String
    let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Mutex<Task<Void, Never>?> = Mutex(nil)

    public init(socketPath: String) throws {
        self.socketPath = socketPath
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext)
        grpc = GRPCClient(transport: transport)
        let grpc = self.grpc
        connections.withLock { $0 = Task { try? await grpc.runConnections() } }
    }

    /// Stops the connections; calls in flight fail.
    public func close() {
        grpc.beginGracefulShutdown()
    }

    deinit {
        grpc.beginGracefulShutdown()
    }

    /// Call options with a deadline in seconds.
    public static func options(timeoutSeconds: Int64) -> CRICallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(timeoutSeconds)
        options.maxResponseMessageBytes = responseBytesMax
        // Wait for a runtime that is (re)starting rather than fail at once.
        options.waitForReady = true
        return options
    }

    /// Runs an RPC and blocks the calling thread until it answers. Never call it on a thread
    /// that gRPC or Swift concurrency needs (the agent's workers are plain threads).
    public func blocking<T: Sendable>(_ call: @escaping @Sendable (CRIClient) async throws -> T) throws(CRICallError) -> T {
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<T, CRICallError>?>(nil)
        Task {
            let result: Result<T, CRICallError>
            do {
                result = .success(try await call(self))
            } catch let error as RPCError {
                result = .failure(Self.callError(error))
            } catch {
                result = .failure(CRICallError(code: .other, message: "\(error)"))
            }
            answer.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try answer.withLock { $0! }.get()
    }

    static func callError(_ error: RPCError) -> CRICallError {
        let code: CRICallError.Code
        switch error.code {
        case .notFound: code = .notFound
        case .unavailable: code = .unavailable
        case .deadlineExceeded: code = .deadlineExceeded
        default: code = .other
        }
        return CRICallError(code: code, message: error.message)
    }
}
