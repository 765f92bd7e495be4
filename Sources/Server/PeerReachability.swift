// Which hosts a member's service proxy should stop sending to before the leader has said
// anything. The leader calls a member's node NotReady after `NodeLifecycle.graceMilliseconds`
// of silence and only then are its endpoints taken out, through Raft; when the leader itself
// is the one lost, an election comes first. Meanwhile every request a proxy sends to a pod on
// the lost host times out. So each member also watches its own links: every member pings
// every other (`LoopMemberHost.peerPingIntervalMilliseconds`), and a peer silent for longer
// than `silenceMillisecondsMax` has its endpoints set aside by this member's proxy until it
// is heard again (ProxyModel: they still take traffic when no other endpoint can). Nothing is
// written to the cluster: a wrong guess costs one host a few hundred milliseconds of
// unbalanced traffic, never a pod.

struct PeerReachability: Equatable {
    /// A peer silent this long (milliseconds; four pings missed) counts as unreachable.
    static let silenceMillisecondsMax: UInt64 = 400
    /// How often the silences are looked at, in milliseconds.
    static let checkIntervalMilliseconds: UInt64 = 50
    /// A check this long after the previous one (milliseconds) means this member's own loop
    /// was blocked or starved: what its peers sent meanwhile is still unread, so their
    /// silences are not believed until the next check, after the loop has read.
    static let stalledCheckGapMilliseconds: UInt64 = 200

    /// The node names set aside now.
    var unreachable: Set<String> = []
    var checkedAtNanoseconds: UInt64 = 0

    /// The peers (by node name) silent beyond `silenceMillisecondsMax`. Peers never heard
    /// from are not in `silences` and count as reachable: the leader's node lifecycle decides
    /// about hosts that never came up.
    static func unreachable(silences: [String: UInt64]) -> Set<String> {
        Set(silences.filter { $0.value > silenceMillisecondsMax }.keys)
    }

    /// Whether a check at `nowNanoseconds` should look at the silences: false when it is not
    /// due yet, or is the first ever or the first after a stall. Records the check's time.
    mutating func due(nowNanoseconds: UInt64) -> Bool {
        let gapMilliseconds = (nowNanoseconds &- checkedAtNanoseconds) / 1_000_000
        guard gapMilliseconds >= Self.checkIntervalMilliseconds else { return false }
        let first = checkedAtNanoseconds == 0
        checkedAtNanoseconds = nowNanoseconds
        return !first && gapMilliseconds <= Self.stalledCheckGapMilliseconds
    }
}
