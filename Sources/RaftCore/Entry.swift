extension Raft {
    /// One slot of the replicated log.
    public struct Entry: Equatable, Sendable {
        /// The term of the leader that created the entry.
        public var term: Term
        /// The entry's position in the log (the first entry is 1).
        public var index: Index
        /// What the entry carries.
        public var payload: Payload

        public init(term: Term, index: Index, payload: Payload) {
            self.term = term
            self.index = index
            self.payload = payload
        }

        /// What a log entry carries.
        public enum Payload: Equatable, Sendable {
            /// The empty entry a new leader appends so that an entry of its own term commits
            /// (needed for commitment by counting, ReadIndex and safe membership changes).
            case noop
            /// An opaque command for the host's state machine.
            case command([UInt8])
            /// A membership change and the whole membership that results from it. It takes
            /// effect as soon as it is in a member's log, committed or not (Raft thesis §4.1).
            indirect case membership(MembershipChange, Membership)
        }

        /// Fixed per-entry overhead counted against byte budgets, in bytes (term, index, framing).
        public static let overheadBytes = 24

        /// The entry's size as counted against message and in-flight byte budgets.
        public var sizeBytes: Int {
            switch payload {
            case .noop: return Entry.overheadBytes
            case .command(let data): return Entry.overheadBytes + data.count
            case .membership(let change, let membership):
                return Entry.overheadBytes + change.context.count + 8 * membership.count + 16
            }
        }
    }
}
