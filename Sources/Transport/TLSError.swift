import COpenSSL

/// A failed TLS operation: which OpenSSL call (or which step of this module), and why, with
/// the text of every error OpenSSL queued for it.
///
/// Every OpenSSL call in this module goes through `tlsCheck` (or, for the calls that read,
/// write and handshake, `TLSSession`'s classification of their result, which builds its
/// errors the same way): the one gateway to OpenSSL, as `uvCheck` is to libuv (design
/// principle 7). OpenSSL's error queue is per thread; the gateway drains it into the error,
/// so a later call never sees a stale entry.
public struct TLSError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The OpenSSL function or the step that failed, e.g. `"SSL_do_handshake"`.
    public let call: String
    /// What went wrong: OpenSSL's queued reasons (first one first), or this module's own.
    public let reason: String
    /// The kind of failure, for callers that react differently (a timeout, a peer that spoke
    /// plain HTTP) without parsing text.
    public let kind: Kind

    public enum Kind: String, Sendable {
        /// OpenSSL refused: a protocol error, a bad certificate, a failed verification.
        case openSSL
        /// The handshake did not finish within its bound.
        case handshakeTimeout
        /// A peer sent more than the TLS layer will hold (see `TLSStream.Limits`).
        case bufferLimit
        /// A client spoke plain HTTP to the TLS port.
        case plainHTTP
        /// The peer's certificate could not be verified (OpenSSL's verify result says why).
        case verification
        /// A certificate, key or trust anchor given to this module could not be used.
        case configuration
        /// The underlying connection failed (connect, read, write).
        case io
    }

    public init(call: String, reason: String, kind: Kind) {
        self.call = call
        self.reason = reason
        self.kind = kind
    }

    /// An error for `call` from OpenSSL's queue (drained here); `fallback` when it is empty
    /// (some failures, such as a clean EOF mid-handshake, queue nothing).
    static func fromQueue(_ call: String, fallback: String, kind: Kind = .openSSL) -> TLSError {
        let queued = drainErrorQueue()
        return TLSError(call: call, reason: queued.isEmpty ? fallback : queued.joined(separator: "; "), kind: kind)
    }

    /// Empties this thread's OpenSSL error queue, returning its entries as text.
    static func drainErrorQueue() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            if reasons.count < Self.queuedReasonsMax {
                reasons.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            }
        }
        return reasons
    }

    /// Queued reasons kept per error (the queue can be long after a failed chain).
    static let queuedReasonsMax = 4

    public var description: String { "\(call) failed: \(reason)" }
}

/// The one checking function for OpenSSL calls that return 1 on success (most of its
/// configuration API): anything else becomes a `TLSError` naming the call.
@inline(__always)
func tlsCheck(_ call: String, _ result: Int32, kind: TLSError.Kind = .configuration) throws(TLSError) {
    if result != 1 { throw TLSError.fromQueue(call, fallback: "returned \(result)", kind: kind) }
}

/// The same gateway for OpenSSL calls that return a pointer (nil on failure).
@inline(__always)
func tlsCheck<Pointer>(_ call: String, _ result: Pointer?, kind: TLSError.Kind = .configuration) throws(TLSError) -> Pointer {
    guard let result else { throw TLSError.fromQueue(call, fallback: "returned NULL", kind: kind) }
    return result
}
