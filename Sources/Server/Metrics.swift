import API
import RaftCore
import RaftStorage
import Transport

/// Counters the member keeps for `/metrics`.
struct MetricsState {
    var proposals: UInt64 = 0
    var appliedEntries: UInt64 = 0
    var leaderElectionsWon: UInt64 = 0
    var termChanges: UInt64 = 0
    var messagesDropped: UInt64 = 0
    var malformedMessages: UInt64 = 0
    var refusedPeers: UInt64 = 0
    /// Writes admitted here that found the store moved before they applied (admitted again).
    var staleAdmissions: UInt64 = 0
    var peerConnections: UInt64 = 0
    var snapshots: UInt64 = 0
    var walSyncs = 0
    /// Writes this member handed to the leader (as a follower).
    var writesForwarded: UInt64 = 0
    /// Writes followers handed to this member that it appended (as leader).
    var forwardedWritesAppended: UInt64 = 0
    /// Forwarded writes whose clients heard "may have been applied" (504).
    var forwardsIndeterminate: UInt64 = 0
    /// Gaps between ticks of at least `Member.stalledTickMultiple` ticks, and the longest.
    var loopStalls: UInt64 = 0
    var loopStallMillisecondsMax: UInt64 = 0
}

extension Member {
    /// Prometheus text exposition format, version 0.0.4: the member's own families, then the
    /// API server's (`shoal_api_*`, TLS included).
    public func metricsText() -> String {
        var out = MetricsText()
        let status = node?.status
        func gauge(_ name: String, _ help: String, _ value: UInt64) { out.gauge(name, help: help, value: Double(value)) }
        func counter(_ name: String, _ help: String, _ value: UInt64) { out.counter(name, help: help, value: Double(value)) }
        gauge("shoal_raft_term", "Current Raft term.", status?.term ?? 0)
        gauge("shoal_raft_is_leader", "1 if this member leads.", status?.role == .leader ? 1 : 0)
        gauge("shoal_raft_leader_known", "1 if a leader is known.", (status?.leader ?? 0) != 0 ? 1 : 0)
        gauge("shoal_raft_commit_index", "Highest committed log index.", status?.commit ?? 0)
        gauge("shoal_raft_applied_index", "Highest applied log index.", status?.applied ?? 0)
        gauge("shoal_raft_last_index", "Last log index.", status?.lastIndex ?? 0)
        gauge("shoal_raft_snapshot_index", "Index of the newest snapshot.", status?.snapshotIndex ?? 0)
        counter("shoal_raft_proposals_total", "Writes proposed by this member as leader.", metrics.proposals)
        counter("shoal_writes_forwarded_total", "Writes this member handed to the leader as a follower.", metrics.writesForwarded)
        counter("shoal_forwarded_writes_appended_total", "Writes from followers this member appended as leader.",
                metrics.forwardedWritesAppended)
        counter("shoal_writes_forwarded_indeterminate_total", "Forwarded writes answered 504 (the leader was lost before answering).",
                metrics.forwardsIndeterminate)
        counter("shoal_loop_stalls_total", "Times the event loop ran its tick at least 5 ticks late (blocked or starved).",
                metrics.loopStalls)
        out.gauge("shoal_loop_stall_max_seconds", help: "The longest such stall.", value: Double(metrics.loopStallMillisecondsMax) / 1000)
        counter("shoal_raft_applied_entries_total", "Log entries applied.", metrics.appliedEntries)
        counter("shoal_raft_elections_won_total", "Elections this member won.", metrics.leaderElectionsWon)
        counter("shoal_raft_term_changes_total", "Terms this member moved through.", metrics.termChanges)
        counter("shoal_raft_snapshots_total", "Snapshots this member took.", metrics.snapshots)
        counter("shoal_peer_messages_dropped_total", "Messages dropped by a full or absent peer connection.", metrics.messagesDropped)
        counter("shoal_peer_malformed_messages_total", "Malformed messages from authenticated peers.", metrics.malformedMessages)
        counter("shoal_peer_refused_total", "Peers refused (changed data directory).", metrics.refusedPeers)
        counter("shoal_store_stale_admissions_total",
                "Writes admitted on this member that were admitted again because the store moved before they applied.",
                metrics.staleAdmissions)
        if let worker {
            let wal = worker.syncLatencyHistogram
            out.histogram("shoal_wal_sync_seconds", help: "Duration of WAL commits (write and fdatasync).",
                          MetricsHistogram(upperBounds: GroupCommitWorker.syncLatencyBucketsSeconds,
                                           cumulativeCounts: wal.cumulativeCounts, sum: wal.sumSeconds, count: wal.count))
        }
        if let transport {
            var rtt: [(labels: [(String, String)], value: Double)] = []
            var connected: [(labels: [(String, String)], value: Double)] = []
            for (id, stats) in transport.stats.sorted(by: { $0.key < $1.key }) {
                let label = [("peer", name(of: id))]
                connected.append((label, stats.connected ? 1 : 0))
                if let ns = stats.lastRoundTripNanoseconds { rtt.append((label, Double(ns) / 1e9)) }
            }
            out.gauge("shoal_peer_connected", help: "1 if the connection to the peer is up.", samples: connected)
            out.gauge("shoal_peer_round_trip_seconds", help: "Last measured round-trip time to the peer.", samples: rtt)
            counter("shoal_peer_handshakes_failed_total",
                    "Peer connections that closed before authenticating (a wrong token, garbage, timeouts, failed dials).",
                    transport.failedHandshakes)
            counter("shoal_peer_handshakes_refused_total",
                    "Authenticated peer handshakes refused (unknown member, a second connection, too many pending).",
                    transport.refusedHandshakes)
        }
        if services.nft != nil {
            counter("shoal_proxy_syncs_total", "nftables transactions the service proxy applied.", services.syncs)
            counter("shoal_proxy_sync_failures_total", "Service proxy syncs nftables refused (each followed by a whole-table write).", services.failures)
            out.histogram("shoal_proxy_sync_delay_seconds", help: "From a Service or EndpointSlice change applied on this member to its rules live in the kernel.",
                          services.syncDelay)
        }
        gauge("shoal_store_objects", "Objects in the replicated store.", UInt64(store.count))
        gauge("shoal_store_revision", "The store's revision (last applied index).", store.revision)
        if let api {
            api.writeMetrics(into: &out)
            api.tls?.writeMetrics(into: &out)
        }
        return out.text
    }
}
