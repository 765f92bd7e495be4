// DNS messages (RFC 1035) as the cluster DNS server reads and writes them: a query's header
// and first question; answers with A, SRV and PTR records. Reading is bounded and total — any
// bytes give a query or a reason — since every packet may be hostile.

/// Record types the server answers (others get an empty answer for names it knows).
public enum DNSType: UInt16, Sendable {
    case a = 1
    case ptr = 12
    case aaaa = 28
    case srv = 33
    case opt = 41
    case any = 255
}

public enum DNSResponseCode: UInt8, Sendable {
    case noError = 0
    case formatError = 1
    case serverFailure = 2
    case nameError = 3  // NXDOMAIN
    case notImplemented = 4
    case refused = 5
}

/// The parts of a query the server uses.
public struct DNSQuery: Sendable, Equatable {
    public var id: UInt16
    /// Recursion desired (copied into the answer).
    public var recursionDesired: Bool
    /// The question's name, lower-cased, without the final dot ("web.default.svc.cluster.local").
    public var name: String
    public var type: UInt16
    public var questionClass: UInt16
    /// The question as it was sent (copied into the answer, in the sender's case).
    public var questionBytes: [UInt8]
    /// The largest UDP answer the client takes (EDNS0), in bytes; 512 without EDNS.
    public var udpPayloadBytesMax: Int
}

/// Why bytes are not a query the server answers.
public enum DNSParseError: Error, Equatable, Sendable {
    /// Too short to carry an id: nothing can be answered.
    case truncated
    /// Malformed after the id: answered with FORMERR.
    case malformed(id: UInt16, String)
    /// A well-formed message the server does not take (a response, another opcode, not one question).
    case unsupported(id: UInt16, DNSResponseCode)
}

public enum DNSMessage {
    public static let headerBytes = 12
    /// The classic UDP answer limit, in bytes (without EDNS0).
    public static let classicUDPBytesMax = 512
    /// The largest name on the wire, in bytes; and of one label.
    public static let nameBytesMax = 255
    public static let labelBytesMax = 63

    public static func parseQuery(_ bytes: [UInt8]) throws(DNSParseError) -> DNSQuery {
        guard bytes.count >= headerBytes else { throw .truncated }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        let opcode = (flags >> 11) & 0xF
        guard flags & 0x8000 == 0 else { throw .unsupported(id: id, .formatError) }  // a response
        guard opcode == 0 else { throw .unsupported(id: id, .notImplemented) }
        let questions = Int(bytes[4]) << 8 | Int(bytes[5])
        guard questions == 1 else { throw .unsupported(id: id, .formatError) }
        let additional = Int(bytes[10]) << 8 | Int(bytes[11])
        var offset = headerBytes
        let name: String
        do throws(NameError) {
            name = try readName(bytes, &offset)
        } catch {
            throw .malformed(id: id, error.reason)
        }
        guard offset + 4 <= bytes.count else { throw .malformed(id: id, "the question ends early") }
        let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        let questionClass = UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])
        let questionBytes = Array(bytes[headerBytes..<(offset + 4)])
        offset += 4
        // EDNS0: an OPT record in the additional section names the client's UDP limit.
        var payloadMax = classicUDPBytesMax
        if additional > 0, Int(bytes[6]) << 8 | Int(bytes[7]) == 0, Int(bytes[8]) << 8 | Int(bytes[9]) == 0,
           offset + 11 <= bytes.count, bytes[offset] == 0, UInt16(bytes[offset + 1]) << 8 | UInt16(bytes[offset + 2]) == DNSType.opt.rawValue {
            let size = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            payloadMax = min(max(size, classicUDPBytesMax), 4096)
        }
        return DNSQuery(id: id, recursionDesired: flags & 0x0100 != 0, name: name, type: type, questionClass: questionClass,
                        questionBytes: questionBytes, udpPayloadBytesMax: payloadMax)
    }

    struct NameError: Error {
        var reason: String
    }

    /// A name at `offset` (following compression pointers, each to an earlier place, so
    /// they cannot loop), lower-cased and dot-joined; `offset` moves past it.
    static func readName(_ bytes: [UInt8], _ offset: inout Int) throws(NameError) -> String {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var total = 0
        while true {
            guard position < bytes.count else { throw NameError(reason: "a name runs past the end") }
            let length = Int(bytes[position])
            if length & 0xC0 == 0xC0 {
                guard position + 1 < bytes.count else { throw NameError(reason: "a name pointer is cut") }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < position else { throw NameError(reason: "a name pointer does not point back") }
                if !jumped { offset = position + 2 }
                jumped = true
                position = target
                continue
            }
            guard length & 0xC0 == 0 else { throw NameError(reason: "a label has reserved bits set") }
            if length == 0 {
                if !jumped { offset = position + 1 }
                break
            }
            total += length + 1
            guard total <= nameBytesMax else { throw NameError(reason: "a name is longer than \(nameBytesMax) bytes") }
            guard position + 1 + length <= bytes.count else { throw NameError(reason: "a label runs past the end") }
            let label = bytes[(position + 1)...(position + length)].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
            labels.append(String(decoding: label, as: UTF8.self))
            position += 1 + length
        }
        return labels.joined(separator: ".")
    }

    /// A name in wire form (no compression); nil when a label or the whole is too long.
    static func encodeName(_ name: String) -> [UInt8]? {
        var out: [UInt8] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: true) {
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count <= labelBytesMax else { return nil }
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out.append(0)
        return out.count <= nameBytesMax ? out : nil
    }
}

/// One answer record.
public enum DNSRecord: Sendable, Equatable {
    case a(name: String, address: UInt32, ttl: UInt32)
    case srv(name: String, priority: UInt16, weight: UInt16, port: UInt16, target: String, ttl: UInt32)
    case ptr(name: String, target: String, ttl: UInt32)

    var name: String {
        switch self {
        case .a(let name, _, _), .srv(let name, _, _, _, _, _), .ptr(let name, _, _): return name
        }
    }
}

/// An answer to a query.
public struct DNSAnswer: Sendable, Equatable {
    public var code: DNSResponseCode
    /// The name is the cluster's to answer (the AA bit).
    public var authoritative: Bool
    public var answers: [DNSRecord]
    public var additional: [DNSRecord]

    public init(code: DNSResponseCode, authoritative: Bool = true, answers: [DNSRecord] = [], additional: [DNSRecord] = []) {
        self.code = code
        self.authoritative = authoritative
        self.answers = answers
        self.additional = additional
    }

    /// The answer on the wire for `query`, at most `bytesMax` bytes: records that do not
    /// fit are left out and the TC bit is set (the client asks again over TCP).
    public func encode(for query: DNSQuery, bytesMax: Int) -> [UInt8] {
        var records: [[UInt8]] = []
        var truncated = false
        let fixed = DNSMessage.headerBytes + query.questionBytes.count
        var size = fixed
        var answerCount = 0
        var additionalCount = 0
        for (index, record) in (answers + additional).enumerated() {
            guard let bytes = Self.encode(record) else { continue }
            if size + bytes.count > bytesMax {
                truncated = index < answers.count
                break
            }
            size += bytes.count
            records.append(bytes)
            if index < answers.count { answerCount += 1 } else { additionalCount += 1 }
        }
        var flags: UInt16 = 0x8000  // a response
        if authoritative { flags |= 0x0400 }
        if truncated { flags |= 0x0200 }
        if query.recursionDesired { flags |= 0x0100 }
        flags |= 0x0080  // recursion available (names outside the cluster are forwarded)
        flags |= UInt16(code.rawValue)
        var out = [UInt8(query.id >> 8), UInt8(query.id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 1,
                   UInt8(answerCount >> 8), UInt8(answerCount & 0xFF), 0, 0, UInt8(additionalCount >> 8), UInt8(additionalCount & 0xFF)]
        out += query.questionBytes
        for record in records { out += record }
        return out
    }

    /// A header-only answer (FORMERR, NOTIMP, SERVFAIL) for a message whose question is not used.
    public static func bare(id: UInt16, code: DNSResponseCode) -> [UInt8] {
        [UInt8(id >> 8), UInt8(id & 0xFF), 0x80, 0x80 | code.rawValue, 0, 0, 0, 0, 0, 0, 0, 0]
    }

    static func encode(_ record: DNSRecord) -> [UInt8]? {
        guard let name = DNSMessage.encodeName(record.name) else { return nil }
        var type: UInt16
        var ttl: UInt32
        var data: [UInt8]
        switch record {
        case let .a(_, address, recordTTL):
            type = DNSType.a.rawValue
            ttl = recordTTL
            data = [UInt8(address >> 24), UInt8((address >> 16) & 0xFF), UInt8((address >> 8) & 0xFF), UInt8(address & 0xFF)]
        case let .srv(_, priority, weight, port, target, recordTTL):
            guard let targetName = DNSMessage.encodeName(target) else { return nil }
            type = DNSType.srv.rawValue
            ttl = recordTTL
            data = [UInt8(priority >> 8), UInt8(priority & 0xFF), UInt8(weight >> 8), UInt8(weight & 0xFF),
                    UInt8(port >> 8), UInt8(port & 0xFF)] + targetName
        case let .ptr(_, target, recordTTL):
            guard let targetName = DNSMessage.encodeName(target) else { return nil }
            type = DNSType.ptr.rawValue
            ttl = recordTTL
            data = targetName
        }
        return name + [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1,
                       UInt8(ttl >> 24), UInt8((ttl >> 16) & 0xFF), UInt8((ttl >> 8) & 0xFF), UInt8(ttl & 0xFF),
                       UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
    }
}
