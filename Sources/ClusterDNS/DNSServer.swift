import Transport

/// The cluster DNS server of one member, on its loop: UDP and TCP on port 53 of the member's
/// address. Names the zone owns are answered from it; others are forwarded over UDP to the
/// host's resolvers and their answers relayed. Loop thread only.
///
/// Bounds: at most `tcpConnectionsMax` TCP clients (each closed after `tcpIdleMilliseconds`
/// quiet, and after a message larger than `tcpMessageBytesMax`), at most
/// `forwardsInFlightMax` forwarded queries (each answered SERVFAIL after
/// `forwardTimeoutMilliseconds`). Malformed queries get FORMERR when they carry an id, and
/// nothing otherwise; nothing a client sends can make the member crash or grow without limit.
public final class DNSServer {
    public static let tcpConnectionsMax = 64
    public static let tcpIdleMilliseconds: UInt64 = 10_000
    public static let tcpMessageBytesMax = 4_096
    public static let forwardsInFlightMax = 1_024
    public static let forwardTimeoutMilliseconds: UInt64 = 2_000

    public let loop: EventLoop
    /// What the server answers from; replaced when Services or EndpointSlices change.
    public var zone: DNSZone
    /// Resolvers for names outside the cluster ("ip" or "ip:port").
    public let upstreams: [UDPPeer]
    public let udpPort: UInt16
    public let tcpPort: UInt16

    public struct Stats: Sendable {
        public var queries = 0
        public var answered = 0
        public var forwarded = 0
        public var malformed = 0
        public var forwardFailures = 0
    }
    public private(set) var stats = Stats()

    private let udp: UDPSocket
    private let tcp: TCPServer
    private let upstream: UDPSocket?
    private var tcpClients: [ObjectIdentifier: TCPClient] = [:]
    private var forwards: [UInt16: Forward] = [:]
    private var nextForwardID: UInt16 = 1
    private var sweep: LoopTimer?

    private struct Forward {
        var originalID: UInt16
        var deadline: UInt64
        var query: DNSQuery
        var reply: ([UInt8]) -> Void
    }

    public init(loop: EventLoop, host: String, port: UInt16, zone: DNSZone, upstreams: [String]) throws(UVError) {
        self.loop = loop
        self.zone = zone
        self.upstreams = upstreams.compactMap { text in
            let parts = text.split(separator: ":")
            return UDPPeer(host: String(parts[0]), port: parts.count > 1 ? UInt16(parts[1]) ?? 53 : 53)
        }
        udp = try UDPSocket(loop: loop, host: host, port: port)
        udpPort = udp.boundPort
        do {
            tcp = try TCPServer(loop: loop, host: host, port: port == 0 ? udp.boundPort : port)
        } catch {
            udp.close()
            throw error
        }
        tcpPort = tcp.boundPort
        upstream = self.upstreams.isEmpty ? nil : try? UDPSocket(loop: loop, host: "0.0.0.0", port: 0)
        udp.onDatagram = { [weak self] bytes, peer in
            self?.handle(bytes, bytesMax: nil) { answer in self?.udp.send(answer, to: peer) }
        }
        tcp.onConnection = { [weak self] connection in self?.accept(connection) }
        upstream?.onDatagram = { [weak self] bytes, _ in self?.upstreamAnswered(bytes) }
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 500, repeatMilliseconds: 500) { [weak self] in self?.expire() }
        sweep = timer
    }

    public func close() {
        sweep?.close()
        udp.close()
        tcp.close()
        upstream?.close()
        for client in tcpClients.values { client.connection.abort(nil) }
        tcpClients = [:]
    }

    // MARK: Queries

    /// Answers one message (`bytesMax` nil: UDP, limited by what the client said it takes).
    func handle(_ bytes: [UInt8], bytesMax: Int?, reply: @escaping ([UInt8]) -> Void) {
        stats.queries += 1
        let query: DNSQuery
        do {
            query = try DNSMessage.parseQuery(bytes)
        } catch {
            stats.malformed += 1
            switch error {
            case .truncated: return
            case .malformed(let id, _): return reply(DNSAnswer.bare(id: id, code: .formatError))
            case .unsupported(let id, let code):
                if bytes[2] & 0x80 != 0 { return }  // a response: answering it could loop between two servers
                return reply(DNSAnswer.bare(id: id, code: code))
            }
        }
        let limit = bytesMax ?? query.udpPayloadBytesMax
        if let answer = zone.answer(query) {
            stats.answered += 1
            return reply(answer.encode(for: query, bytesMax: limit))
        }
        forward(bytes, query, reply: reply)
    }

    private func forward(_ bytes: [UInt8], _ query: DNSQuery, reply: @escaping ([UInt8]) -> Void) {
        guard let upstream, let server = upstreams.first, forwards.count < Self.forwardsInFlightMax else {
            stats.forwardFailures += 1
            return reply(DNSAnswer(code: .serverFailure, authoritative: false).encode(for: query, bytesMax: DNSMessage.classicUDPBytesMax))
        }
        while forwards[nextForwardID] != nil { nextForwardID &+= 1 }
        let id = nextForwardID
        nextForwardID &+= 1
        forwards[id] = Forward(originalID: query.id, deadline: loop.nowMilliseconds + Self.forwardTimeoutMilliseconds, query: query, reply: reply)
        var relayed = bytes
        relayed[0] = UInt8(id >> 8)
        relayed[1] = UInt8(id & 0xFF)
        stats.forwarded += 1
        upstream.send(relayed, to: server)
    }

    private func upstreamAnswered(_ bytes: [UInt8]) {
        guard bytes.count >= DNSMessage.headerBytes else { return }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard let pending = forwards.removeValue(forKey: id) else { return }  // late or not ours
        var answer = bytes
        answer[0] = UInt8(pending.originalID >> 8)
        answer[1] = UInt8(pending.originalID & 0xFF)
        pending.reply(answer)
    }

    private func expire() {
        let now = loop.nowMilliseconds
        for (id, pending) in forwards where now >= pending.deadline {
            forwards[id] = nil
            stats.forwardFailures += 1
            pending.reply(DNSAnswer(code: .serverFailure, authoritative: false).encode(for: pending.query, bytesMax: DNSMessage.classicUDPBytesMax))
        }
        for client in tcpClients.values where now >= client.lastActivity + Self.tcpIdleMilliseconds {
            client.connection.close()
        }
    }

    // MARK: TCP (two-byte length before each message)

    private final class TCPClient {
        let connection: TCPConnection
        var pending: [UInt8] = []
        var lastActivity: UInt64
        init(connection: TCPConnection, now: UInt64) {
            self.connection = connection
            lastActivity = now
        }
    }

    private func accept(_ connection: TCPConnection) {
        guard tcpClients.count < Self.tcpConnectionsMax else { return connection.abort(nil) }
        let client = TCPClient(connection: connection, now: loop.nowMilliseconds)
        let key = ObjectIdentifier(client)
        tcpClients[key] = client
        connection.onClose = { [weak self] _ in self?.tcpClients[key] = nil }
        connection.onData = { [weak self, weak client] bytes in
            guard let self, let client else { return }
            client.lastActivity = self.loop.nowMilliseconds
            client.pending += bytes
            while client.pending.count >= 2 {
                let length = Int(client.pending[0]) << 8 | Int(client.pending[1])
                guard length <= Self.tcpMessageBytesMax else { return client.connection.abort(nil) }
                guard client.pending.count >= 2 + length else { break }
                let message = Array(client.pending[2..<(2 + length)])
                client.pending.removeFirst(2 + length)
                self.handle(message, bytesMax: 65_535) { [weak client] answer in
                    guard let connection = client?.connection else { return }
                    _ = connection.write([UInt8(answer.count >> 8), UInt8(answer.count & 0xFF)] + answer)
                }
            }
        }
    }
}
