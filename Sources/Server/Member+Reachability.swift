import Transport

// The member's side of PeerReachability: its peers' silences, as its own links see them,
// into the set of hosts its service proxy sets aside.

extension Member {
    /// Each tick; looks every `PeerReachability.checkIntervalMilliseconds`. A change makes
    /// the proxy rebuild its model (a host lost or back is rare; the rebuild runs on a helper
    /// thread, and only the ports whose endpoints changed reach the kernel).
    func checkPeerReachability() {
        guard services.nft != nil, let transport, services.reachability.due(nowNanoseconds: host.monotonicNanoseconds) else { return }
        var silences: [String: UInt64] = [:]
        for id in peerAddresses.keys {
            if let silence = transport.silenceMilliseconds(of: id) { silences[name(of: id)] = silence }
        }
        let unreachable = PeerReachability.unreachable(silences: silences)
        let before = services.reachability.unreachable
        guard unreachable != before else { return }
        for name in unreachable.subtracting(before).sorted() {
            Log.warn("service proxy: nothing from \(name) for over \(PeerReachability.silenceMillisecondsMax) ms; its endpoints take traffic only when no other can")
        }
        for name in before.subtracting(unreachable).sorted() {
            Log.info("service proxy: \(name) is heard again; its endpoints take traffic")
        }
        services.reachability.unreachable = unreachable
        services.rebuild = true
    }
}
