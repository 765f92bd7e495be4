import RaftCore

/// Compact, stable one-line renderings of Raft values for traces and golden files.
public enum TraceFormat {
    public static func message(_ m: Raft.Message) -> String {
        "\(m.from)->\(m.to) \(kind(m.kind)) term=\(m.term)"
    }

    public static func kind(_ kind: Raft.Message.Kind) -> String {
        switch kind {
        case let .preVote(index, term): return "PreVote last=(\(index),\(term))"
        case let .preVoteResponse(granted): return "PreVoteResp granted=\(granted)"
        case let .vote(index, term, transfer):
            return "Vote last=(\(index),\(term))" + (transfer ? " transfer" : "")
        case let .voteResponse(granted): return "VoteResp granted=\(granted)"
        case let .append(a):
            return "App prev=(\(a.prevIndex),\(a.prevTerm)) commit=\(a.commit) entries=[\(a.entries.map(entry).joined(separator: " "))]"
        case let .appendResponse(.accepted(match)): return "AppResp match=\(match)"
        case let .appendResponse(.rejected(index, hintIndex, hintTerm)):
            return "AppResp reject=\(index) hint=(\(hintIndex),\(hintTerm))"
        case let .heartbeat(commit, round): return "Heartbeat commit=\(commit) round=\(round)"
        case let .heartbeatResponse(round): return "HeartbeatResp round=\(round)"
        case let .snapshotChunk(c):
            return "Snap index=\(c.meta.index) term=\(c.meta.term) bytes=\(c.offset)+\(c.length)/\(c.meta.sizeBytes)"
        case let .snapshotResponse(r):
            return "SnapResp index=\(r.snapshotIndex) received=\(r.receivedBytes)" + (r.matchIndex.map { " match=\($0)" } ?? "")
        case .timeoutNow: return "TimeoutNow"
        case let .readIndex(id): return "ReadIndex req=\(id)"
        case let .readIndexResponse(id, index): return "ReadIndexResp req=\(id) index=\(index.map(String.init) ?? "none")"
        }
    }

    /// `index/term payload`, e.g. `3/2 noop`, `4/2 "x"`, `5/2 +learner4`.
    public static func entry(_ e: Raft.Entry) -> String {
        "\(e.index)/\(e.term) " + payload(e.payload)
    }

    public static func payload(_ p: Raft.Entry.Payload) -> String {
        switch p {
        case .noop: return "noop"
        case .command(let data):
            if let text = String(validating: data, as: UTF8.self), text.allSatisfy({ $0.isASCII && !$0.isNewline }) {
                return "\"\(text)\""
            }
            return "<\(data.count) bytes>"
        case let .membership(change, m):
            switch change.kind {
            case .bootstrap: return "founders=\(m.voters.map(String.init).joined(separator: ","))"
            case .addLearner: return "+learner\(change.node)"
            case .promote: return "+voter\(change.node)"
            case .remove: return "-member\(change.node)"
            }
        }
    }

    public static func membership(_ m: Raft.Membership) -> String {
        "voters=\(m.voters.map(String.init).joined(separator: ",")) learners=\(m.learners.map(String.init).joined(separator: ","))"
    }

    public static func status(_ s: Raft.Status) -> String {
        var line = "\(s.id): \(s.role.rawValue) term=\(s.term) vote=\(s.vote) leader=\(s.leader) last=(\(s.lastIndex),\(s.lastTerm)) commit=\(s.commit) applied=\(s.applied)"
        if s.snapshotIndex > 0 { line += " snapshot=\(s.snapshotIndex)" }
        if s.leadTransferee != 0 { line += " transferee=\(s.leadTransferee)" }
        return line
    }
}
