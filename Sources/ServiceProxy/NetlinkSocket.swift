import CNFTables
#if canImport(Glibc)
import Glibc
#endif

// A NETLINK_NETFILTER socket (nf_tables and conntrack speak over it) with what the proxy
// needs: send a request or a batch, wait for each acknowledgement, read a dump. Netlink's
// headers and attribute headers are in the host's byte order; payloads are the protocol's.

final class NetlinkSocket {
    private let socket: Int32
    /// The next message's sequence number.
    var sequence: UInt32 = 1

    /// How long to wait for the kernel's answers, in seconds.
    static let answerTimeoutSeconds = 5
    /// Socket buffers: a whole model's elements after a rebuild fit in one batch.
    static let bufferBytes: Int32 = 16 << 20

    /// `namespace`: the path of another network namespace to open the socket in (tests use a
    /// scratch one); the socket stays in the namespace it was made in.
    init(namespace: String? = nil) throws(NFTables.Failure) {
        let fd = try Self.openSocket(namespace: namespace)
        socket = fd
        var address = shoal_sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<shoal_sockaddr_nl>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw NFTables.Failure(description: "netlink bind: \(String(cString: strerror(errno)))")
        }
        var bytes = Self.bufferBytes
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, socklen_t(MemoryLayout<Int32>.size))
        // Answers carry only the header of the message they answer, not all of it.
        var on: Int32 = 1
        _ = setsockopt(fd, Self.solNetlink, Self.netlinkCapAck, &on, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: Self.answerTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(socket) }

    static let netlinkNetfilter: Int32 = 12
    static let solNetlink: Int32 = 270
    static let netlinkCapAck: Int32 = 10
    static let headerBytes = 16
    static let messageError: UInt16 = 2
    static let messageDone: UInt16 = 3
    static let flagRequest: UInt16 = 0x1
    static let flagMulti: UInt16 = 0x2
    static let flagAck: UInt16 = 0x4
    static let flagDump: UInt16 = 0x300

    private static func openSocket(namespace: String?) throws(NFTables.Failure) -> Int32 {
        var home: Int32 = -1
        if let namespace {
            // setns changes only this thread's namespace; it returns home right after.
            home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
            let target = open(namespace, O_RDONLY | O_CLOEXEC)
            defer { if target >= 0 { close(target) } }
            guard home >= 0, target >= 0, setns(target, shoal_clone_newnet) == 0 else {
                if home >= 0 { close(home) }
                throw NFTables.Failure(description: "cannot enter the network namespace \(namespace): \(String(cString: strerror(errno)))")
            }
        }
        let fd = Glibc.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkNetfilter)
        let failure = errno
        if home >= 0 {
            let back = setns(home, shoal_clone_newnet)
            close(home)
            precondition(back == 0, "a thread that cannot return to its network namespace would program the wrong one")
        }
        guard fd >= 0 else { throw NFTables.Failure(description: "netlink socket: \(String(cString: strerror(failure)))") }
        return fd
    }

    func send(_ bytes: [UInt8]) throws(NFTables.Failure) {
        var kernel = shoal_sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &kernel) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<shoal_sockaddr_nl>.size))
                }
            }
        }
        guard sent == bytes.count else {
            throw NFTables.Failure(description: "netlink send of \(bytes.count) bytes: \(sent < 0 ? String(cString: strerror(errno)) : "short write")")
        }
    }

    /// Reads answers until each of `sequences` has one; the errors, by sequence number
    /// (negative errno values), of those that failed.
    func awaitAnswers(_ sequences: Set<UInt32>) throws(NFTables.Failure) -> [UInt32: Int32] {
        var waiting = sequences
        var errors: [UInt32: Int32] = [:]
        while !waiting.isEmpty {
            for message in try receive() where message.type == Self.messageError && message.payload.count >= 4 {
                let error = Int32(bitPattern: message.payload.load(UInt32.self, at: 0))
                if error != 0 { errors[message.sequence] = error }
                waiting.remove(message.sequence)
            }
        }
        return errors
    }

    /// Sends a dump request and returns the payloads of every message of the answer.
    func dump(_ request: [UInt8], sequence: UInt32) throws(NFTables.Failure) -> [[UInt8]] {
        try send(request)
        var payloads: [[UInt8]] = []
        while true {
            for message in try receive() where message.sequence == sequence {
                switch message.type {
                case Self.messageDone: return payloads
                case Self.messageError:
                    let error = message.payload.count >= 4 ? Int32(bitPattern: message.payload.load(UInt32.self, at: 0)) : -EIO
                    if error == 0 { return payloads }
                    throw NFTables.Failure(description: "netlink dump: \(String(cString: strerror(-error)))")
                default: payloads.append(message.payload)
                }
            }
        }
    }

    struct Message {
        var type: UInt16
        var sequence: UInt32
        /// What follows the netlink header.
        var payload: [UInt8]
    }

    /// The messages of one datagram.
    private func receive() throws(NFTables.Failure) -> [Message] {
        var buffer = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = errno == EAGAIN ? "no answer from the kernel in \(Self.answerTimeoutSeconds) s" : String(cString: strerror(errno))
                throw NFTables.Failure(description: "netlink: \(reason)")
            }
            var messages: [Message] = []
            var offset = 0
            while offset + Self.headerBytes <= count {
                let length = Int(buffer.load(UInt32.self, at: offset))
                guard length >= Self.headerBytes, offset + length <= count else { break }
                messages.append(Message(type: buffer.load(UInt16.self, at: offset + 4), sequence: buffer.load(UInt32.self, at: offset + 8),
                                        payload: Array(buffer[(offset + Self.headerBytes)..<(offset + length)])))
                offset += (length + 3) & ~3
            }
            return messages
        }
    }
}

/// Netlink messages being written, one after another.
struct NetlinkWriter {
    var bytes: [UInt8] = []
    var sequence: UInt32

    init(sequence: UInt32) { self.sequence = sequence }

    static let nested: UInt16 = 0x8000

    /// Starts a message (with the netfilter header: family, version 0, resource id); returns
    /// where it starts, for `finish`. Takes the next sequence number.
    mutating func begin(type: UInt16, flags: UInt16, family: UInt8, resource: UInt16) -> Int {
        let start = bytes.count
        append(UInt32(0))
        append(type)
        append(flags)
        append(sequence)
        append(UInt32(0))
        bytes += [family, 0, UInt8(resource >> 8), UInt8(resource & 0xff)]
        sequence &+= 1
        return start
    }

    /// Writes the length of the message that began at `start`.
    mutating func finish(_ start: Int) {
        store(UInt32(bytes.count - start), at: start)
    }

    mutating func attribute(_ type: UInt16, _ payload: [UInt8]) {
        append(UInt16(4 + payload.count))
        append(type)
        bytes += payload
        bytes += [UInt8](repeating: 0, count: (4 - payload.count % 4) % 4)
    }

    mutating func string(_ type: UInt16, _ value: String) { attribute(type, Array(value.utf8) + [0]) }

    mutating func nest(_ type: UInt16, _ body: (inout NetlinkWriter) -> Void) {
        let start = bytes.count
        append(UInt16(0))
        append(type | Self.nested)
        body(&self)
        precondition(bytes.count - start <= Int(UInt16.max), "a netlink attribute holds at most 64 KiB")
        store(UInt16(bytes.count - start), at: start)
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes += $0 }
    }

    private mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value) { for (index, byte) in $0.enumerated() { bytes[offset + index] = byte } }
    }
}

/// The attributes in `bytes[range]`: type (without the nested flag) and payload range.
func netlinkAttributes(_ bytes: [UInt8], _ range: Range<Int>) -> [(type: UInt16, payload: Range<Int>)] {
    var result: [(UInt16, Range<Int>)] = []
    var offset = range.lowerBound
    while offset + 4 <= range.upperBound {
        let length = Int(bytes.load(UInt16.self, at: offset))
        guard length >= 4, offset + length <= range.upperBound else { break }
        result.append((bytes.load(UInt16.self, at: offset + 2) & 0x3fff, (offset + 4)..<(offset + length)))
        offset += (length + 3) & ~3
    }
    return result
}

extension Array where Element == UInt8 {
    /// A host-order integer at `offset`.
    func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        Swift.withUnsafeMutableBytes(of: &value) { target in
            for index in 0..<MemoryLayout<T>.size { target[index] = self[offset + index] }
        }
        return value
    }
}
