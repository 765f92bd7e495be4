#if canImport(Glibc)
import Glibc
#endif

// Element changes sent to the kernel's nf_tables directly over netlink, as one batch (one
// transaction: all of it applies or none). libnftables would first read the whole ruleset;
// this path reads nothing, so its cost is the size of the change, not of the table.
//
// The wire format is nf_tables' (linux/netfilter/nf_tables.h): a batch begin message, one
// NEWSETELEM or DELSETELEM message per set (at most `elementsPerMessage` elements each), a
// batch end; each set message asks for an acknowledgement, and the batch failed if any
// answer carries an error. Keys and data are in network byte order, each field padded to
// 4 bytes (the layout nft itself sends: the rule turns numgen's value to network order
// before it looks it up in an interval map).

/// nf_tables element batches in one network namespace.
final class NetlinkElements {
    private let socket: NetlinkSocket

    /// Elements per message: an attribute's length is 16 bits, and an element takes at most
    /// about 200 bytes (names are bounded), so a list stays well under 64 KiB.
    static let elementsPerMessage = 150

    /// `namespace`: the path of another network namespace (tests use a scratch one).
    init(namespace: String? = nil) throws(NFTables.Failure) {
        socket = try NetlinkSocket(namespace: namespace)
    }

    /// Applies `changes` to `table` (family ip) as one transaction.
    func apply(_ changes: ElementChanges, table: String) throws(NFTables.Failure) {
        guard !changes.isEmpty else { return }
        var batch = NetlinkWriter(sequence: socket.sequence)
        var acknowledged: Set<UInt32> = []
        batch.finish(batch.begin(type: Wire.batchBegin, flags: NetlinkSocket.flagRequest, family: 0, resource: Wire.subsystemTables))
        func message(_ type: UInt16, _ set: String, _ elements: [SetElement]) {
            acknowledged.insert(batch.sequence)
            let flags = NetlinkSocket.flagRequest | NetlinkSocket.flagAck | (type == Wire.newElements ? Wire.flagCreate : 0)
            let start = batch.begin(type: type, flags: flags, family: Wire.familyIPv4, resource: 0)
            batch.string(Wire.listTable, table)
            batch.string(Wire.listSet, set)
            if !elements.isEmpty {
                // No elements in a DELSETELEM: the set is emptied.
                batch.nest(Wire.listElements) { writer in
                    for element in elements { Self.write(element, &writer) }
                }
            }
            batch.finish(start)
        }
        for set in changes.flushed { message(Wire.deleteElements, set, []) }
        for (set, elements) in Self.bySet(changes.removed) { message(Wire.deleteElements, set, elements) }
        for (set, elements) in Self.bySet(changes.added) { message(Wire.newElements, set, elements) }
        batch.finish(batch.begin(type: Wire.batchEnd, flags: NetlinkSocket.flagRequest, family: 0, resource: Wire.subsystemTables))
        socket.sequence = batch.sequence
        try socket.send(batch.bytes)
        if let error = try socket.awaitAnswers(acknowledged).sorted(by: { $0.key < $1.key }).first?.value {
            throw NFTables.Failure(description: "the kernel refused the element changes: \(String(cString: strerror(-error)))")
        }
    }

    /// Elements grouped by set in order of first appearance, split into messages.
    private static func bySet(_ elements: [SetElement]) -> [(String, [SetElement])] {
        var order: [String] = []
        var groups: [String: [SetElement]] = [:]
        for element in elements {
            if groups[element.set] == nil { order.append(element.set) }
            groups[element.set, default: []].append(element)
        }
        return order.flatMap { set in
            let group = groups[set]!
            return stride(from: 0, to: group.count, by: elementsPerMessage).map { (set, Array(group[$0..<min($0 + elementsPerMessage, group.count)])) }
        }
    }

    private static func write(_ element: SetElement, _ writer: inout NetlinkWriter) {
        switch element.key {
        case .address(let ip, let proto, let port):
            listElement(key: word(ip) + padded([protocolNumber(proto)]) + padded(bigEndian(port)), value: element.value, &writer)
        case .port(let proto, let port):
            listElement(key: padded([protocolNumber(proto)]) + padded(bigEndian(port)), value: element.value, &writer)
        case .slots(let first, let last):
            // An interval is its first value with the data, and the value after its last
            // marked as the end (as nft sends it; an end and the next start may share a key).
            listElement(key: word(first), value: element.value, &writer)
            listElement(key: word(last &+ 1), value: nil, flags: Wire.intervalEnd, &writer)
        }
    }

    private static func listElement(key: [UInt8], value: SetElement.Value?, flags: UInt32 = 0, _ writer: inout NetlinkWriter) {
        writer.nest(Wire.listElement) { writer in
            writer.nest(Wire.elementKey) { $0.attribute(Wire.dataValue, key) }
            switch value {
            case nil: break
            case .endpoint(let ip, let port):
                writer.nest(Wire.elementData) { $0.attribute(Wire.dataValue, word(ip) + padded(bigEndian(port))) }
            case .goto(let chain):
                writer.nest(Wire.elementData) {
                    $0.nest(Wire.dataVerdict) {
                        $0.attribute(Wire.verdictCode, word(UInt32(bitPattern: Wire.verdictGoto)))
                        $0.string(Wire.verdictChain, chain)
                    }
                }
            }
            if flags != 0 { writer.attribute(Wire.elementFlags, word(flags)) }
        }
    }

    static func word(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

    private static func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4) }

    static func protocolNumber(_ proto: ProxyProtocol) -> UInt8 {
        switch proto {
        case .tcp: 6
        case .udp: 17
        }
    }
}

/// nf_tables' numbers (linux/netfilter/nfnetlink.h, nf_tables.h).
private enum Wire {
    static let batchBegin: UInt16 = 0x10
    static let batchEnd: UInt16 = 0x11
    static let subsystemTables: UInt16 = 10
    static let newElements: UInt16 = subsystemTables << 8 | 12
    static let deleteElements: UInt16 = subsystemTables << 8 | 14
    static let flagCreate: UInt16 = 0x400
    static let familyIPv4: UInt8 = 2
    static let listTable: UInt16 = 1, listSet: UInt16 = 2, listElements: UInt16 = 3
    static let listElement: UInt16 = 1
    static let elementKey: UInt16 = 1, elementData: UInt16 = 2, elementFlags: UInt16 = 3
    static let dataValue: UInt16 = 1, dataVerdict: UInt16 = 2
    static let verdictCode: UInt16 = 1, verdictChain: UInt16 = 2
    static let verdictGoto = Int32(-4)
    static let intervalEnd: UInt32 = 1
}
