/// The namespace of the consensus core.
///
/// `RaftCore` is the Raft algorithm as a pure value (`RaftNode`): it never touches a socket,
/// a file or a clock. Time enters only through `RaftNode.tick()`, randomness only from the
/// seed in `Raft.Config`, and every effect leaves as data in a `Raft.Ready` batch that the
/// host carries out. docs/raft.md describes the interface and the ordering rules.
public enum Raft {
    /// A member's identity. `Raft.noNode` (zero) means "none".
    public typealias NodeID = UInt64
    /// An election term; terms only grow.
    public typealias Term = UInt64
    /// A position in the replicated log; the first entry has index 1.
    public typealias Index = UInt64

    /// The "nobody" node identifier (no vote cast, no leader known).
    public static let noNode: NodeID = 0
}
