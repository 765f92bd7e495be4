/// The seam the server sends Raft's messages through (design principle 9): `PeerTransport`
/// over TCP in production, an in-memory implementation in tests. Loop thread only.
public protocol PeerMessaging: AnyObject {
    var localID: UInt64 { get }
    /// Callbacks for messages and peers coming and going (see `PeerTransport.Handlers`).
    var handlers: PeerTransport.Handlers { get set }
    /// Registers (or moves) a peer; only registered peers are admitted.
    func setPeer(_ id: UInt64, host: String, port: UInt16)
    func removePeer(_ id: UInt64)
    /// Queues a message; false when it was dropped (the caller retransmits).
    @discardableResult
    func send(to id: UInt64, _ payload: [UInt8]) -> Bool
    func close()
}

extension PeerTransport: PeerMessaging {}
