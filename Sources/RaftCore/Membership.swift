extension Raft {
    /// The members of the cluster: voters decide elections and commitment, learners only
    /// receive the log (for example while a new member catches up).
    public struct Membership: Equatable, Sendable {
        /// Voting members, sorted, unique.
        public private(set) var voters: [NodeID]
        /// Non-voting members, sorted, unique, disjoint from `voters`.
        public private(set) var learners: [NodeID]

        /// A membership with the given voters and learners (duplicates removed).
        public init(voters: [NodeID], learners: [NodeID] = []) {
            self.voters = Array(Set(voters)).sorted()
            self.learners = Array(Set(learners)).sorted()
            precondition(!self.voters.contains(Raft.noNode) && !self.learners.contains(Raft.noNode),
                         "node id 0 is reserved for 'none'")
            precondition(Set(self.voters).isDisjoint(with: self.learners),
                         "a member cannot be both voter and learner: \(self.voters) \(self.learners)")
        }

        /// Validates a membership decoded from untrusted bytes (a peer's entry, a file).
        public init(validatingVoters voters: [NodeID], learners: [NodeID]) throws(MembershipError) {
            let voterSet = Set(voters)
            let learnerSet = Set(learners)
            guard voterSet.count == voters.count, learnerSet.count == learners.count,
                  !voterSet.contains(Raft.noNode), !learnerSet.contains(Raft.noNode),
                  voterSet.isDisjoint(with: learnerSet) else { throw .malformed }
            self.init(voters: voters, learners: learners)
        }

        /// The empty membership of a member that has not joined any cluster yet.
        public static let empty = Membership(voters: [])

        /// Voters needed for a decision (a strict majority).
        public var quorum: Int { voters.count / 2 + 1 }
        /// Every member, voters first.
        public var all: [NodeID] { voters + learners }
        /// The number of members.
        public var count: Int { voters.count + learners.count }

        public func isVoter(_ id: NodeID) -> Bool { voters.contains(id) }
        public func isLearner(_ id: NodeID) -> Bool { learners.contains(id) }
        public func contains(_ id: NodeID) -> Bool { isVoter(id) || isLearner(id) }

        /// The membership after `change`, or why the change is not allowed.
        ///
        /// Each change moves at most one voter, which is what makes single-server changes safe:
        /// any majority of the old voters and any majority of the new ones share a member.
        public func applying(_ change: MembershipChange) throws(MembershipError) -> Membership {
            let node = change.node
            guard node != Raft.noNode else { throw .invalidNode }
            switch change.kind {
            case .bootstrap:
                throw .notProposable
            case .addLearner:
                guard !contains(node) else { throw .alreadyMember(node) }
                return Membership(voters: voters, learners: learners + [node])
            case .promote:
                guard isLearner(node) else { throw .notALearner(node) }
                return Membership(voters: voters + [node], learners: learners.filter { $0 != node })
            case .remove:
                guard contains(node) else { throw .notAMember(node) }
                if isVoter(node) && voters.count == 1 { throw .lastVoter(node) }
                return Membership(voters: voters.filter { $0 != node }, learners: learners.filter { $0 != node })
            }
        }
    }

    /// A single-server membership change.
    public struct MembershipChange: Equatable, Sendable {
        public enum Kind: UInt8, Sendable {
            /// The founding membership, written identically into the log of every founding
            /// member (never proposed).
            case bootstrap = 0
            /// Add a new non-voting member that starts receiving the log.
            case addLearner = 1
            /// Turn a learner into a voter (do it once the learner has caught up).
            case promote = 2
            /// Remove a voter or a learner.
            case remove = 3
        }
        public var kind: Kind
        public var node: NodeID
        /// Opaque bytes for the host (for example the new member's address).
        public var context: [UInt8]

        public init(_ kind: Kind, node: NodeID, context: [UInt8] = []) {
            self.kind = kind
            self.node = node
            self.context = context
        }
    }

    /// Why a membership change cannot be applied to a membership.
    public enum MembershipError: Error, Equatable, Sendable {
        case invalidNode
        case alreadyMember(NodeID)
        case notALearner(NodeID)
        case notAMember(NodeID)
        case lastVoter(NodeID)
        case notProposable
        /// Decoded bytes describe an impossible membership (a member twice, or id 0).
        case malformed
    }
}
