/// A connected, ordered stream of bytes on an event loop: a `TCPConnection`, or a
/// `TLSStream` over one. Connection code (the API server, the leader forwarder) holds a
/// `ByteStream` and so does not care whether the bytes are encrypted. Loop thread only.
///
/// The contract is `TCPConnection`'s: reading starts once `onData` is set and pauses while
/// it is nil (back-pressure); `write` queues and never blocks; `onClose` runs exactly once,
/// after the stream is gone (nil for an orderly end); an open stream keeps itself alive.
public protocol ByteStream: AnyObject {
    var loop: EventLoop { get }
    /// Called with the bytes of each read, in order. Setting it starts reading.
    var onData: (([UInt8]) -> Void)? { get set }
    /// Called once when the stream is gone: nil for an orderly end, the error otherwise.
    var onClose: ((UVError?) -> Void)? { get set }
    /// Bytes passed to `write` that are not yet handed to the kernel.
    var pendingWriteBytes: Int { get }
    /// Queues `bytes`; false (dropping them) when the stream is not open.
    @discardableResult func write(_ bytes: [UInt8]) -> Bool
    /// Ends the stream once queued writes are out (bounded by the TCP linger).
    func close()
    /// Ends the stream at once, dropping queued writes; `error` is what `onClose` reports.
    func abort(_ error: UVError?)
    /// True once `close()` or `abort()` ran or the peer went away.
    var isClosed: Bool { get }
}

extension TCPConnection: ByteStream {}
