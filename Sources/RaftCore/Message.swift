extension Raft {
    /// A message between two members. `term` is the sender's term, except in a pre-vote
    /// request and a granted pre-vote response, where it is the term the sender would campaign in.
    public struct Message: Equatable, Sendable {
        public var from: NodeID
        public var to: NodeID
        public var term: Term
        public var kind: Kind

        public init(from: NodeID, to: NodeID, term: Term, kind: Kind) {
            self.from = from
            self.to = to
            self.term = term
            self.kind = kind
        }

        public enum Kind: Equatable, Sendable {
            /// "Would you vote for me?" — asked without raising anybody's term (thesis §9.6).
            case preVote(lastIndex: Index, lastTerm: Term)
            case preVoteResponse(granted: Bool)
            /// A vote request. `leadershipTransfer` marks a campaign started by TimeoutNow,
            /// which voters honour even while they still hear from the current leader.
            case vote(lastIndex: Index, lastTerm: Term, leadershipTransfer: Bool)
            case voteResponse(granted: Bool)
            /// AppendEntries.
            case append(Append)
            case appendResponse(AppendResponse)
            /// The leader's periodic "I am alive"; `readRound` confirms leadership for ReadIndex.
            case heartbeat(commit: Index, readRound: UInt64)
            case heartbeatResponse(readRound: UInt64)
            /// One bounded piece of an InstallSnapshot transfer.
            case snapshotChunk(SnapshotChunk)
            case snapshotResponse(SnapshotResponse)
            /// "Campaign now": the last step of a leadership transfer.
            case timeoutNow
            /// A follower asks the leader for a read index on behalf of its host.
            case readIndex(requestID: UInt64)
            /// The leader's answer; `index` is nil when it could not serve the read.
            case readIndexResponse(requestID: UInt64, index: Index?)
        }

        /// AppendEntries: entries after (`prevIndex`, `prevTerm`), and the leader's commit index.
        public struct Append: Equatable, Sendable {
            public var prevIndex: Index
            public var prevTerm: Term
            public var entries: [Entry]
            public var commit: Index

            public init(prevIndex: Index, prevTerm: Term, entries: [Entry], commit: Index) {
                self.prevIndex = prevIndex
                self.prevTerm = prevTerm
                self.entries = entries
                self.commit = commit
            }
        }

        /// The answer to AppendEntries.
        public enum AppendResponse: Equatable, Sendable {
            /// The follower's log matches the leader's up to `matchIndex`, durably.
            case accepted(matchIndex: Index)
            /// No entry matching (`rejectedIndex`, its term) in the follower's log. The hint is
            /// the last entry that may match: the largest index ≤ `rejectedIndex` whose term is
            /// at most the leader's term at `rejectedIndex`, and that entry's term, so the leader
            /// can skip a whole conflicting term per round trip rather than one entry.
            case rejected(rejectedIndex: Index, hintIndex: Index, hintTerm: Term)
        }

        /// One chunk of a snapshot. The leader's core leaves `data` empty: its host fills it
        /// with bytes `offset ..< offset + length` of the snapshot `meta` describes before sending.
        public struct SnapshotChunk: Equatable, Sendable {
            public var meta: SnapshotMeta
            public var offset: Int
            public var length: Int
            public var data: [UInt8]

            public init(meta: SnapshotMeta, offset: Int, length: Int, data: [UInt8] = []) {
                self.meta = meta
                self.offset = offset
                self.length = length
                self.data = data
            }

            /// True for the chunk that completes the snapshot.
            public var isLast: Bool { length >= meta.sizeBytes - offset }
        }

        /// The answer to a snapshot chunk.
        public struct SnapshotResponse: Equatable, Sendable {
            /// The index of the snapshot this answers for.
            public var snapshotIndex: Index
            /// Bytes received in order so far; the leader resumes from here.
            public var receivedBytes: Int
            /// Set once the follower holds the state up to `matchIndex` (the snapshot installed,
            /// or it already had those entries).
            public var matchIndex: Index?

            public init(snapshotIndex: Index, receivedBytes: Int, matchIndex: Index?) {
                self.snapshotIndex = snapshotIndex
                self.receivedBytes = receivedBytes
                self.matchIndex = matchIndex
            }
        }

        /// The largest term or index a peer may name; anything beyond is malformed (and could
        /// only overflow arithmetic).
        static let numberMax: UInt64 = UInt64.max / 4

        /// False for a message no correct peer could send: numbers out of range, negative
        /// sizes, a chunk outside its snapshot. Such messages are dropped unread.
        var isWellFormed: Bool {
            guard term <= Message.numberMax else { return false }
            func ok(_ n: UInt64) -> Bool { n <= Message.numberMax }
            switch kind {
            case let .preVote(index, t), let .vote(index, t, _):
                return ok(index) && ok(t)
            case let .append(a):
                return ok(a.prevIndex) && ok(a.prevTerm) && ok(a.commit) && a.entries.count < 1 << 30
                    && a.entries.allSatisfy { ok($0.index) && ok($0.term) }
            case let .appendResponse(.accepted(match)):
                return ok(match)
            case let .appendResponse(.rejected(index, hintIndex, hintTerm)):
                return ok(index) && ok(hintIndex) && ok(hintTerm)
            case let .heartbeat(commit, _):
                return ok(commit)
            case let .snapshotChunk(c):
                return ok(c.meta.index) && ok(c.meta.term) && c.meta.sizeBytes >= 0 && c.offset >= 0
                    && c.length >= 0 && c.offset <= c.meta.sizeBytes && c.length <= c.meta.sizeBytes - c.offset
                    && c.data.count == c.length
            case let .snapshotResponse(r):
                return ok(r.snapshotIndex) && r.receivedBytes >= 0 && (r.matchIndex.map(ok) ?? true)
            case let .readIndexResponse(_, index):
                return index.map(ok) ?? true
            case .preVoteResponse, .voteResponse, .heartbeatResponse, .timeoutNow, .readIndex:
                return true
            }
        }

        /// True for messages that promise something about the sender's stable storage
        /// (a vote cast, entries held); they are sent only once that storage is durable.
        var promisesDurability: Bool {
            switch kind {
            case .vote, .voteResponse, .appendResponse, .snapshotResponse: return true
            default: return false
            }
        }
    }
}
