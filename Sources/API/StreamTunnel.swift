import Transport

/// Two byte streams joined: what one end sends, the other receives, until either ends (then
/// the other is closed once what it was sent is written). Loop thread only.
///
/// A slow reader holds back a fast writer instead of growing a buffer: reading from an end
/// pauses while more than `backlogBytesMax` bytes wait to be written to the other, and
/// resumes at the next `sweep` once they are out.
final class StreamTunnel {
    private let client: any ByteStream
    private let peer: any ByteStream
    private let backlogBytesMax: Int
    private(set) var ended = false
    /// Called once when the tunnel ends.
    var onEnd: (() -> Void)?

    init(client: any ByteStream, peer: any ByteStream, backlogBytesMax: Int) {
        precondition(backlogBytesMax > 0, "a tunnel must be able to hold a byte in flight")
        self.client = client
        self.peer = peer
        self.backlogBytesMax = backlogBytesMax
    }

    /// Starts carrying bytes; `early` are what the client sent before the tunnel existed.
    /// The client's `onClose` stays with its owner, who calls `end()`.
    func start(early: [UInt8]) {
        peer.onClose = { [weak self] _ in self?.end() }
        if peer.isClosed { return end() }
        if !early.isEmpty { peer.write(early) }
        resume()
    }

    /// Resumes reading from an end whose counterpart has written out its backlog.
    func sweep() {
        if client.isClosed || peer.isClosed { return end() }
        resume()
    }

    /// Ends both directions: each end closes once its queued bytes are out.
    func end() {
        guard !ended else { return }
        ended = true
        client.onData = nil
        peer.onData = nil
        client.close()
        peer.close()
        let hook = onEnd
        onEnd = nil
        hook?()
    }

    private func resume() {
        guard !ended else { return }
        if client.onData == nil && peer.pendingWriteBytes <= backlogBytesMax {
            client.onData = { [weak self] bytes in self?.carry(bytes, fromClient: true) }
        }
        if peer.onData == nil && client.pendingWriteBytes <= backlogBytesMax {
            peer.onData = { [weak self] bytes in self?.carry(bytes, fromClient: false) }
        }
    }

    private func carry(_ bytes: [UInt8], fromClient: Bool) {
        guard !ended else { return }
        let (from, to) = fromClient ? (client, peer) : (peer, client)
        guard to.write(bytes) else { return end() }
        if to.pendingWriteBytes > backlogBytesMax { from.onData = nil }
    }
}
