import CLibUV

/// A failed libuv call: which call, libuv's (negative) error code, and `uv_strerror`'s text.
///
/// Every libuv call in this module goes through `uvCheck`, the one gateway to C (design
/// principle 7); statuses that libuv hands to callbacks are turned into errors by
/// `UVError.status(_:_:)`, which goes through the same function.
public struct UVError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The libuv function (or callback) that reported the error, e.g. `"uv_tcp_connect"`.
    public let call: String
    /// libuv's error code: a negative errno value such as `UV_ECONNREFUSED`.
    public let code: Int32
    /// `uv_strerror(code)`: a human-readable explanation.
    public let message: String

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
        self.message = String(cString: uv_strerror(code))
    }

    /// libuv's symbolic name for the code (`uv_err_name`), e.g. `"ECONNREFUSED"`.
    public var name: String { String(cString: uv_err_name(code)) }

    public var description: String { "\(call) failed: \(name) (\(code)): \(message)" }

    /// The error a callback status stands for, or nil when the status is not an error.
    static func status(_ call: String, _ status: Int32) -> UVError? {
        do {
            try uvCheck(call, status)
            return nil
        } catch {
            return error
        }
    }

    // Codes this module produces itself or reacts to, as plain `Int32`s.
    public static let endOfFile = UV_EOF.rawValue
    public static let cancelled = UV_ECANCELED.rawValue
    public static let timedOut = UV_ETIMEDOUT.rawValue
    public static let connectionReset = UV_ECONNRESET.rawValue
    public static let connectionRefused = UV_ECONNREFUSED.rawValue
    public static let invalidArgument = UV_EINVAL.rawValue
    public static let noBufferSpace = UV_ENOBUFS.rawValue
    public static let protocolError = UV_EPROTO.rawValue
    public static let notConnected = UV_ENOTCONN.rawValue
    public static let permissionDenied = UV_EACCES.rawValue
}

/// The one checking function every libuv call goes through: a negative result becomes a
/// typed `UVError` naming the call; zero or positive results pass.
@inline(__always)
public func uvCheck(_ call: String, _ result: Int32) throws(UVError) {
    if result < 0 { throw UVError(call: call, code: result) }
}

/// For libuv calls whose failure means a broken invariant of this module (initialising a
/// timer, starting a check handle): crash with the call's name instead of throwing.
func uvMust(_ call: String, _ result: Int32, file: StaticString = #file, line: UInt = #line) {
    do {
        try uvCheck(call, result)
    } catch {
        preconditionFailure("libuv call that cannot fail did: \(error)", file: file, line: line)
    }
}
