import RaftCore
import RaftStorage

/// Raft messages on the wire between members (inside PeerTransport's authenticated frames).
///
///     version:u8(1) from:u64 to:u64 term:u64 kind:u8 fields...
///
/// Integers little-endian; entries as `length:u32 EntryCodec`; memberships as
/// `voters:u32 id:u64* learners:u32 id:u64*`. Decoding checks every length and count, and
/// anything malformed is an error (the message is dropped), never a crash.
enum MessageCodec {
    static let version: UInt8 = 1
    /// Upper bound on entries in one append (RaftCore's byte budget keeps real ones far below).
    static let entriesPerMessageMax = 1 << 20

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func encode(_ m: Raft.Message) -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.put(version)
        w.put(m.from)
        w.put(m.to)
        w.put(m.term)
        switch m.kind {
        case let .preVote(index, term):
            w.put(UInt8(1)); w.put(index); w.put(term)
        case let .preVoteResponse(granted):
            w.put(UInt8(2)); w.put(UInt8(granted ? 1 : 0))
        case let .vote(index, term, transfer):
            w.put(UInt8(3)); w.put(index); w.put(term); w.put(UInt8(transfer ? 1 : 0))
        case let .voteResponse(granted):
            w.put(UInt8(4)); w.put(UInt8(granted ? 1 : 0))
        case let .append(a):
            w.put(UInt8(5)); w.put(a.prevIndex); w.put(a.prevTerm); w.put(a.commit)
            w.put(UInt32(a.entries.count))
            for entry in a.entries {
                let lengthAt = w.count
                w.put(UInt32(0))
                EntryCodec.encode(entry, into: &w)
                w.patch(UInt32(w.count - lengthAt - 4), at: lengthAt)
            }
        case let .appendResponse(.accepted(match)):
            w.put(UInt8(6)); w.put(UInt8(0)); w.put(match)
        case let .appendResponse(.rejected(index, hintIndex, hintTerm)):
            w.put(UInt8(6)); w.put(UInt8(1)); w.put(index); w.put(hintIndex); w.put(hintTerm)
        case let .heartbeat(commit, round):
            w.put(UInt8(7)); w.put(commit); w.put(round)
        case let .heartbeatResponse(round):
            w.put(UInt8(8)); w.put(round)
        case let .snapshotChunk(c):
            w.put(UInt8(9)); putMeta(c.meta, &w); w.put(UInt64(c.offset)); w.put(UInt64(c.length)); w.put(c.data)
        case let .snapshotResponse(r):
            w.put(UInt8(10)); w.put(r.snapshotIndex); w.put(UInt64(r.receivedBytes))
            w.put(UInt8(r.matchIndex == nil ? 0 : 1)); w.put(r.matchIndex ?? 0)
        case .timeoutNow:
            w.put(UInt8(11))
        case let .readIndex(id):
            w.put(UInt8(12)); w.put(id)
        case let .readIndexResponse(id, index):
            w.put(UInt8(13)); w.put(id); w.put(UInt8(index == nil ? 0 : 1)); w.put(index ?? 0)
        }
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(Malformed) -> Raft.Message {
        var r = ByteReader(bytes)
        do {
            let v: UInt8 = try r.get()
            guard v == version else { throw Malformed(description: "message version \(v)") }
            let from: UInt64 = try r.get()
            let to: UInt64 = try r.get()
            let term: UInt64 = try r.get()
            let kindCode: UInt8 = try r.get()
            let kind: Raft.Message.Kind
            switch kindCode {
            case 1: kind = .preVote(lastIndex: try r.get(), lastTerm: try r.get())
            case 2: kind = .preVoteResponse(granted: try bool(&r))
            case 3: kind = .vote(lastIndex: try r.get(), lastTerm: try r.get(), leadershipTransfer: try bool(&r))
            case 4: kind = .voteResponse(granted: try bool(&r))
            case 5:
                let prevIndex: UInt64 = try r.get()
                let prevTerm: UInt64 = try r.get()
                let commit: UInt64 = try r.get()
                let count = Int(try r.get(UInt32.self))
                guard count <= entriesPerMessageMax else { throw Malformed(description: "\(count) entries") }
                var entries: [Raft.Entry] = []
                entries.reserveCapacity(min(count, 4096))
                for _ in 0..<count {
                    let length = Int(try r.get(UInt32.self))
                    guard length <= r.remaining else { throw Malformed(description: "entry length \(length)") }
                    var body = ByteReader(bytes, from: r.offset, to: r.offset + length)
                    do { entries.append(try EntryCodec.decode(&body)) } catch { throw Malformed(description: error.reason) }
                    _ = try r.getRaw(count: length)
                }
                kind = .append(.init(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit))
            case 6:
                let tag: UInt8 = try r.get()
                switch tag {
                case 0: kind = .appendResponse(.accepted(matchIndex: try r.get()))
                case 1: kind = .appendResponse(.rejected(rejectedIndex: try r.get(), hintIndex: try r.get(), hintTerm: try r.get()))
                default: throw Malformed(description: "append response tag \(tag)")
                }
            case 7: kind = .heartbeat(commit: try r.get(), readRound: try r.get())
            case 8: kind = .heartbeatResponse(readRound: try r.get())
            case 9:
                let meta = try getMeta(&r)
                let offset = try int(&r)
                let length = try int(&r)
                guard length == r.remaining else { throw Malformed(description: "chunk length \(length) vs \(r.remaining)") }
                kind = .snapshotChunk(.init(meta: meta, offset: offset, length: length, data: try r.getRaw(count: length)))
            case 10:
                let index: UInt64 = try r.get()
                let received = try int(&r)
                let hasMatch = try bool(&r)
                let match: UInt64 = try r.get()
                kind = .snapshotResponse(.init(snapshotIndex: index, receivedBytes: received, matchIndex: hasMatch ? match : nil))
            case 11: kind = .timeoutNow
            case 12: kind = .readIndex(requestID: try r.get())
            case 13:
                let id: UInt64 = try r.get()
                let has = try bool(&r)
                let index: UInt64 = try r.get()
                kind = .readIndexResponse(requestID: id, index: has ? index : nil)
            default:
                throw Malformed(description: "unknown message kind \(kindCode)")
            }
            guard r.remaining == 0 else { throw Malformed(description: "\(r.remaining) trailing bytes") }
            return Raft.Message(from: from, to: to, term: term, kind: kind)
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(description: "truncated message")
        }
    }

    private static func bool(_ r: inout ByteReader) throws -> Bool {
        let b: UInt8 = try r.get()
        guard b <= 1 else { throw Malformed(description: "boolean \(b)") }
        return b == 1
    }

    private static func int(_ r: inout ByteReader) throws -> Int {
        let v: UInt64 = try r.get()
        guard v <= UInt64(Int.max / 2) else { throw Malformed(description: "size \(v)") }
        return Int(v)
    }

    private static func putMeta(_ meta: Raft.SnapshotMeta, _ w: inout ByteWriter) {
        w.put(meta.index); w.put(meta.term); w.put(UInt64(meta.sizeBytes))
        w.put(UInt32(meta.membership.voters.count)); meta.membership.voters.forEach { w.put($0) }
        w.put(UInt32(meta.membership.learners.count)); meta.membership.learners.forEach { w.put($0) }
    }

    private static func getMeta(_ r: inout ByteReader) throws -> Raft.SnapshotMeta {
        let index: UInt64 = try r.get()
        let term: UInt64 = try r.get()
        let size = try int(&r)
        func ids() throws -> [UInt64] {
            let count = Int(try r.get(UInt32.self))
            guard count <= EntryCodec.membersMax else { throw Malformed(description: "\(count) members") }
            return try (0..<count).map { _ in try r.get(UInt64.self) }
        }
        let voters = try ids()
        let learners = try ids()
        guard let membership = try? Raft.Membership(validatingVoters: voters, learners: learners) else {
            throw Malformed(description: "impossible membership")
        }
        return Raft.SnapshotMeta(index: index, term: term, membership: membership, sizeBytes: size)
    }
}
