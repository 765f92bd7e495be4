import Store
#if canImport(Glibc)
import Glibc
#endif

// UDP has no connection to end: a client that keeps sending to a ClusterIP keeps the
// conntrack entry its first packet made, and with it the endpoint that entry was DNATed to,
// removed or not, until the entry has been idle for its timeout (30-120 s). So when
// endpoints leave a UDP service the proxy deletes the flows translated to them, and the
// next packet is a new flow that the rules send to an endpoint that is there (kube-proxy
// does the same).
//
// TCP has the same trap at its start: a SYN that a lost host never answers leaves an entry
// in SYN_SENT for two minutes, DNATed to the lost pod. The client's SYN retransmission
// follows it there, and so does any new connection that happens to reuse the client port
// (measured: clients reuse ports toward a NodePort within 10-30 s, and such a connection
// timed out long after the endpoint had left every rule). So when endpoints leave a TCP
// service the proxy deletes the entries translated to them that the endpoint never
// answered; the retransmitted SYN then starts afresh on a live endpoint. Connections the
// endpoint answered are left alone: they finish, or fail, on their own.
//
// ctnetlink (linux/netfilter/nfnetlink_conntrack.h): a dump of the table's IPv4 entries,
// then one delete per entry to forget, by its original tuple.

/// The conntrack table of one network namespace.
final class ConntrackFlows {
    private let socket: NetlinkSocket

    init(namespace: String? = nil) throws(NFTables.Failure) {
        socket = try NetlinkSocket(namespace: namespace)
    }

    /// One entry: its two directions, and the original direction as the kernel sent it (what
    /// a delete names the entry by).
    struct Flow: Equatable {
        struct Direction: Equatable {
            var source: UInt32 = 0
            var destination: UInt32 = 0
            var sourcePort: UInt16 = 0
            var destinationPort: UInt16 = 0
        }

        var proto: UInt8 = 0
        /// TCP only: conntrack's state of the connection (`Wire.tcpSynSent`, ...).
        var tcpState: UInt8?
        var original = Direction()
        var reply = Direction()
        var originalTuple: [UInt8] = []
        var zone: [UInt8]?
    }

    /// Every IPv4 entry.
    func list() throws(NFTables.Failure) -> [Flow] {
        var request = NetlinkWriter(sequence: socket.sequence)
        let sequence = request.sequence
        request.finish(request.begin(type: Wire.get, flags: NetlinkSocket.flagRequest | NetlinkSocket.flagDump, family: Wire.familyIPv4, resource: 0))
        socket.sequence = request.sequence
        return try socket.dump(request.bytes, sequence: sequence).compactMap(Self.flow)
    }

    /// Deletes the UDP flows translated to one of `udp`, and the TCP connection attempts
    /// translated to one of `tcp` that it never answered; how many it deleted (a flow that
    /// ended meanwhile is not counted, and is no error).
    @discardableResult
    func forget(udpTo udp: Set<ProxyEndpoint>, unansweredTCPTo tcp: Set<ProxyEndpoint>) throws(NFTables.Failure) -> Int {
        func keys(_ endpoints: Set<ProxyEndpoint>) -> Set<UInt64> {
            Set(endpoints.compactMap { endpoint -> UInt64? in
                guard let ip = IPv4.parse(endpoint.ip), let port = UInt16(exactly: endpoint.port) else { return nil }
                return UInt64(ip) << 16 | UInt64(port)
            })
        }
        let (udpTargets, tcpTargets) = (keys(udp), keys(tcp))
        guard !udpTargets.isEmpty || !tcpTargets.isEmpty else { return 0 }
        let doomed = try list().filter { flow in
            // (Translated: the reply comes from somewhere else than the original was sent to.)
            guard flow.original.destination != flow.reply.source else { return false }
            let target = UInt64(flow.reply.source) << 16 | UInt64(flow.reply.sourcePort)
            switch flow.proto {
            case Wire.udp: return udpTargets.contains(target)
            case Wire.tcp: return flow.tcpState.map(Wire.tcpUnanswered.contains) == true && tcpTargets.contains(target)
            default: return false
            }
        }
        guard !doomed.isEmpty else { return 0 }
        var batch = NetlinkWriter(sequence: socket.sequence)
        var sequences: Set<UInt32> = []
        for flow in doomed {
            sequences.insert(batch.sequence)
            let start = batch.begin(type: Wire.delete, flags: NetlinkSocket.flagRequest | NetlinkSocket.flagAck, family: Wire.familyIPv4, resource: 0)
            batch.nest(Wire.tupleOriginal) { $0.bytes += flow.originalTuple }
            if let zone = flow.zone { batch.attribute(Wire.zone, zone) }
            batch.finish(start)
        }
        socket.sequence = batch.sequence
        try socket.send(batch.bytes)
        let errors = try socket.awaitAnswers(sequences)
        if let error = errors.values.first(where: { $0 != -ENOENT }) {
            throw NFTables.Failure(description: "conntrack refused a delete: \(String(cString: strerror(-error)))")
        }
        return doomed.count - errors.count
    }

    /// An entry from a dump message's payload (nfgenmsg, then attributes); nil if it is not
    /// IPv4 with ports.
    private static func flow(_ payload: [UInt8]) -> Flow? {
        guard payload.count > 4 else { return nil }
        var flow = Flow()
        for attribute in netlinkAttributes(payload, 4..<payload.count) {
            switch attribute.type {
            case Wire.tupleOriginal:
                flow.originalTuple = Array(payload[attribute.payload])
                flow.original = direction(payload, attribute.payload, proto: &flow.proto)
            case Wire.tupleReply:
                var proto: UInt8 = 0
                flow.reply = direction(payload, attribute.payload, proto: &proto)
            case Wire.zone:
                flow.zone = Array(payload[attribute.payload])
            case Wire.protoInfo:
                for info in netlinkAttributes(payload, attribute.payload) where info.type == Wire.protoInfoTCP {
                    for field in netlinkAttributes(payload, info.payload) where field.type == Wire.protoInfoTCPState && field.payload.count >= 1 {
                        flow.tcpState = payload[field.payload.lowerBound]
                    }
                }
            default: break
            }
        }
        return flow.originalTuple.isEmpty || flow.proto == 0 ? nil : flow
    }

    private static func direction(_ bytes: [UInt8], _ range: Range<Int>, proto: inout UInt8) -> Flow.Direction {
        var result = Flow.Direction()
        for part in netlinkAttributes(bytes, range) {
            for field in netlinkAttributes(bytes, part.payload) {
                let value = bytes[field.payload]
                switch (part.type, field.type) {
                case (Wire.tupleIP, Wire.ipSource) where value.count == 4: result.source = bigEndian(value)
                case (Wire.tupleIP, Wire.ipDestination) where value.count == 4: result.destination = bigEndian(value)
                case (Wire.tupleProto, Wire.protoNumber) where value.count >= 1: proto = value.first!
                case (Wire.tupleProto, Wire.protoSourcePort) where value.count == 2: result.sourcePort = UInt16(bigEndian(value))
                case (Wire.tupleProto, Wire.protoDestinationPort) where value.count == 2: result.destinationPort = UInt16(bigEndian(value))
                default: break
                }
            }
        }
        return result
    }

    private static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
}

/// ctnetlink's numbers.
private enum Wire {
    static let subsystemConntrack: UInt16 = 1
    static let get: UInt16 = subsystemConntrack << 8 | 1
    static let delete: UInt16 = subsystemConntrack << 8 | 2
    static let familyIPv4: UInt8 = 2
    static let tcp: UInt8 = 6, udp: UInt8 = 17
    static let tupleOriginal: UInt16 = 1, tupleReply: UInt16 = 2, protoInfo: UInt16 = 4, zone: UInt16 = 18
    static let protoInfoTCP: UInt16 = 1, protoInfoTCPState: UInt16 = 1
    /// TCP states before the other end answered: SYN_SENT, and SYN_SENT2 (simultaneous open).
    static let tcpSynSent: UInt8 = 1, tcpSynSent2: UInt8 = 9
    static let tcpUnanswered: Set<UInt8> = [tcpSynSent, tcpSynSent2]
    static let tupleIP: UInt16 = 1, tupleProto: UInt16 = 2
    static let ipSource: UInt16 = 1, ipDestination: UInt16 = 2
    static let protoNumber: UInt16 = 1, protoSourcePort: UInt16 = 2, protoDestinationPort: UInt16 = 3
}
