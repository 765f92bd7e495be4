import RaftCore

/// The binary form of a Raft log entry, shared by the WAL and the peer wire protocol.
/// The encoding is delimited from outside (a record or field length), so a command's data
/// is simply the rest of it.
///
///     index:u64 term:u64 kind:u8 ...
///       kind 0 noop; 1 command: data (the rest);
///       2 membership: change:u8 node:u64 context:bytes voters:u32 id:u64* learners:u32 id:u64*
public enum EntryCodec {
    /// Upper bound on members listed in one membership entry.
    public static let membersMax = 10_000
    /// Upper bound on a membership change's context, in bytes.
    public static let contextBytesMax = 64 << 10

    public struct Malformed: Error, Sendable { public let reason: String }

    public static func encode(_ e: Raft.Entry, into w: inout ByteWriter) {
        w.put(e.index)
        w.put(e.term)
        switch e.payload {
        case .noop:
            w.put(UInt8(0))
        case .command(let data):
            w.put(UInt8(1))
            w.put(data)
        case let .membership(change, membership):
            w.put(UInt8(2))
            w.put(change.kind.rawValue)
            w.put(change.node)
            w.putBytes(change.context)
            w.put(UInt32(membership.voters.count))
            membership.voters.forEach { w.put($0) }
            w.put(UInt32(membership.learners.count))
            membership.learners.forEach { w.put($0) }
        }
    }

    /// Decodes one entry that occupies the rest of `r`.
    public static func decode(_ r: inout ByteReader) throws(Malformed) -> Raft.Entry {
        do {
            let index: UInt64 = try r.get()
            let term: UInt64 = try r.get()
            let kind: UInt8 = try r.get()
            switch kind {
            case 0:
                return Raft.Entry(term: term, index: index, payload: .noop)
            case 1:
                return Raft.Entry(term: term, index: index, payload: .command(try r.getRaw(count: r.remaining)))
            case 2:
                let changeKind: UInt8 = try r.get()
                let node: UInt64 = try r.get()
                let context = try r.getBytes(limit: contextBytesMax)
                let voters = try ids(&r)
                let learners = try ids(&r)
                guard let change = Raft.MembershipChange.Kind(rawValue: changeKind) else {
                    throw Malformed(reason: "unknown membership change \(changeKind)")
                }
                guard let membership = try? Raft.Membership(validatingVoters: voters, learners: learners) else {
                    throw Malformed(reason: "impossible membership")
                }
                return Raft.Entry(term: term, index: index,
                                  payload: .membership(Raft.MembershipChange(change, node: node, context: context), membership))
            default:
                throw Malformed(reason: "unknown entry kind \(kind)")
            }
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(reason: "truncated entry")
        }
    }

    private static func ids(_ r: inout ByteReader) throws -> [UInt64] {
        let count = Int(try r.get(UInt32.self))
        guard count <= membersMax else { throw Malformed(reason: "membership lists \(count) members") }
        return try (0..<count).map { _ in try r.get(UInt64.self) }
    }
}
