/// One TCP connection speaking the peer wire protocol (see `PeerWire`): the handshake,
/// framing and per-frame authentication. `PeerTransport` decides what the connection is
/// for (admission, the one-connection rule) and what to do with its messages. Loop thread
/// only.
final class PeerConnection {
    enum Role: Equatable {
        case dialer(expectedID: UInt64)
        case acceptor
    }

    /// The acceptor waits for READY after its AUTH; the dialer goes from AUTH to established.
    enum Phase { case awaitingHello, awaitingAuth, awaitingReady, established, closed }

    let connection: TCPConnection
    let role: Role
    let localID: UInt64
    private(set) var phase = Phase.awaitingHello
    /// The other side's node id: claimed in HELLO, proven by AUTH.
    private(set) var remoteID: UInt64?
    private(set) var remoteInstanceID: UInt64 = 0
    private(set) var remoteContext: [UInt8] = []
    /// Loop time (ms) the connection was opened, and a frame last arrived.
    let openedAtMilliseconds: UInt64
    private(set) var lastReceivedAtMilliseconds: UInt64
    /// Encoded frames (tagged where authenticated) waiting for the end-of-iteration flush.
    private(set) var outgoing: [UInt8] = []

    private weak var transport: PeerTransport?
    private let secret: [UInt8]
    private let localHello: PeerWire.Hello
    private let localAuth: PeerWire.Auth
    private let frameBytesMax: Int
    private var keys: PeerSessionKeys?
    private var decoder: FrameDecoder

    init(connection: TCPConnection, role: Role, transport: PeerTransport, secret: [UInt8],
         localID: UInt64, localAuth: PeerWire.Auth, frameBytesMax: Int) {
        self.connection = connection
        self.role = role
        self.transport = transport
        self.secret = secret
        self.localID = localID
        self.localAuth = localAuth
        self.frameBytesMax = frameBytesMax
        let expected: UInt64
        if case .dialer(let id) = role { expected = id } else { expected = 0 }
        localHello = PeerWire.Hello(senderID: localID, expectedID: expected,
                                    nonce: PeerRandom.bytes(PeerWire.nonceBytes))
        decoder = FrameDecoder(payloadBytesMax: PeerWire.helloPayloadBytes)
        openedAtMilliseconds = connection.loop.nowMilliseconds
        lastReceivedAtMilliseconds = openedAtMilliseconds
    }

    var isDialer: Bool { role != .acceptor }
    /// The node id of the side that dialed (once the peer's HELLO is known).
    var dialerID: UInt64? { isDialer ? localID : remoteID }
    /// Bytes accepted by `send` and not yet handed to the kernel.
    var queuedBytes: Int { outgoing.count + connection.pendingWriteBytes }

    /// Starts reading and sends HELLO.
    func start() {
        connection.onData = { [weak self] bytes in self?.received(bytes) }
        connection.onClose = { [weak self] error in self?.connectionClosed(error) }
        appendFrame(.hello, localHello.encoded())
    }

    // MARK: Receiving

    private func received(_ bytes: [UInt8]) {
        guard phase != .closed else { return }
        transport?.received(byteCount: bytes.count, on: self)
        decoder.append(bytes)
        do {
            while phase != .closed, let frame = try decoder.next() {
                lastReceivedAtMilliseconds = connection.loop.nowMilliseconds
                try handle(frame)
            }
        } catch {
            close(UVError(call: "peer protocol (\(error))", code: UVError.protocolError))
        }
    }

    private func handle(_ frame: PeerFrame) throws(PeerWire.Malformed) {
        switch phase {
        case .awaitingHello:
            guard frame.type == .hello else { throw .unexpected(frame.type) }
            try receiveHello(PeerWire.Hello(decoding: frame.payload))
        case .awaitingAuth:
            guard frame.type == .auth else { throw .unexpected(frame.type) }
            guard keys!.receiving.verify(frame) else { throw .badTag(frame.type) }
            try receiveAuth(PeerWire.Auth(decoding: frame.payload))
        case .awaitingReady:
            guard frame.type == .ready else { throw .unexpected(frame.type) }
            guard keys!.receiving.verify(frame) else { throw .badTag(frame.type) }
            receiveReady()
        case .established:
            guard keys!.receiving.verify(frame) else { throw .badTag(frame.type) }
            try receiveEstablished(frame)
        case .closed:
            return
        }
    }

    private func receiveHello(_ hello: PeerWire.Hello) throws(PeerWire.Malformed) {
        switch role {
        case .dialer(let expected):
            guard hello.senderID == expected, hello.expectedID == 0 else { throw .wrongPeer(hello.senderID) }
        case .acceptor:
            guard hello.expectedID == localID, hello.senderID != localID else { throw .wrongPeer(hello.expectedID) }
        }
        remoteID = hello.senderID
        keys = isDialer
            ? PeerSessionKeys.derive(secret: secret, dialerHello: localHello, acceptorHello: hello, localIsDialer: true)
            : PeerSessionKeys.derive(secret: secret, dialerHello: hello, acceptorHello: localHello, localIsDialer: false)
        phase = .awaitingAuth
        decoder.payloadBytesMax = PeerWire.authFixedBytes + PeerTransport.helloContextBytesMax
        // The dialer proves itself first; the acceptor answers once it admitted the dialer.
        if isDialer { appendFrame(.auth, localAuth.encoded()) }
    }

    private func receiveAuth(_ auth: PeerWire.Auth) throws(PeerWire.Malformed) {
        remoteInstanceID = auth.instanceID
        remoteContext = auth.context
        guard let transport, transport.admit(self) else {
            close(UVError(call: "peer handshake (refused)", code: UVError.permissionDenied))
            return
        }
        if isDialer {
            appendFrame(.ready, [])
            becomeEstablished(transport)
        } else {
            appendFrame(.auth, localAuth.encoded())
            phase = .awaitingReady
            decoder.payloadBytesMax = 0
        }
    }

    private func receiveReady() {
        guard let transport, transport.confirm(self) else {
            close(UVError(call: "peer handshake (superseded)", code: UVError.permissionDenied))
            return
        }
        becomeEstablished(transport)
    }

    private func becomeEstablished(_ transport: PeerTransport) {
        phase = .established
        decoder.payloadBytesMax = frameBytesMax
        transport.established(self)
    }

    private func receiveEstablished(_ frame: PeerFrame) throws(PeerWire.Malformed) {
        switch frame.type {
        case .data:
            transport?.deliver(frame.payload, from: self)
        case .ping:
            appendFrame(.pong, frame.payload)
        case .pong:
            guard frame.payload.count == 8 else { throw .badPayload(.pong) }
            let sent: UInt64 = frame.payload.loadBigEndian(at: 0)
            let now = MonotonicClock.nowNanoseconds
            transport?.measured(roundTripNanoseconds: now >= sent ? now - sent : 0, from: self)
        case .hello, .auth, .ready:
            throw .unexpected(frame.type)
        }
    }

    // MARK: Sending

    /// Tags and queues one frame for the end-of-iteration flush.
    func appendFrame(_ type: PeerWire.FrameType, _ payload: [UInt8]) {
        guard phase != .closed else { return }
        let header = PeerWire.header(type: type, payloadBytes: payload.count)
        let wasEmpty = outgoing.isEmpty
        outgoing.append(contentsOf: header)
        outgoing.append(contentsOf: payload)
        if type.isAuthenticated {
            outgoing.append(contentsOf: keys!.sending.tag(header: header, payload: payload))
        }
        if wasEmpty { transport?.needsFlush(self) }
    }

    func sendPing() {
        guard phase == .established else { return }
        var payload: [UInt8] = []
        payload.appendBigEndian(MonotonicClock.nowNanoseconds)
        appendFrame(.ping, payload)
    }

    /// Hands everything queued to the connection in one write; returns the bytes written.
    func flush() -> Int {
        guard phase != .closed, !outgoing.isEmpty else { return 0 }
        let count = outgoing.count
        connection.write(outgoing)
        outgoing.removeAll(keepingCapacity: count <= FrameDecoder.retainedCapacityBytesMax)
        return count
    }

    // MARK: Closing

    /// Closes at once (queued frames are dropped). Idempotent.
    func close(_ error: UVError? = nil) {
        guard phase != .closed else { return }
        phase = .closed
        outgoing = []
        connection.abort(error)
    }

    private func connectionClosed(_ error: UVError?) {
        phase = .closed
        outgoing = []
        transport?.closed(self, error: error)
    }
}
