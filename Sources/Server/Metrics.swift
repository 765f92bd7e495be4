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
    /// Prometheus text exposition format, version 0.0.4.
    public func metricsText() -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name)\(labels.isEmpty ? "" : "{\(labels)}") \(value)\n" }
        }
        let status = node?.status
        metric("shoal_raft_term", "gauge", "Current Raft term.", [("", "\(status?.term ?? 0)")])
        metric("shoal_raft_is_leader", "gauge", "1 if this member leads.", [("", status?.role == .leader ? "1" : "0")])
        metric("shoal_raft_leader_known", "gauge", "1 if a leader is known.", [("", (status?.leader ?? 0) != 0 ? "1" : "0")])
        metric("shoal_raft_commit_index", "gauge", "Highest committed log index.", [("", "\(status?.commit ?? 0)")])
        metric("shoal_raft_applied_index", "gauge", "Highest applied log index.", [("", "\(status?.applied ?? 0)")])
        metric("shoal_raft_last_index", "gauge", "Last log index.", [("", "\(status?.lastIndex ?? 0)")])
        metric("shoal_raft_snapshot_index", "gauge", "Index of the newest snapshot.", [("", "\(status?.snapshotIndex ?? 0)")])
        metric("shoal_raft_proposals_total", "counter", "Writes proposed by this member as leader.", [("", "\(metrics.proposals)")])
        metric("shoal_writes_forwarded_total", "counter", "Writes this member handed to the leader as a follower.", [("", "\(metrics.writesForwarded)")])
        metric("shoal_forwarded_writes_appended_total", "counter", "Writes from followers this member appended as leader.",
               [("", "\(metrics.forwardedWritesAppended)")])
        metric("shoal_writes_forwarded_indeterminate_total", "counter", "Forwarded writes answered 504 (the leader was lost before answering).",
               [("", "\(metrics.forwardsIndeterminate)")])
        metric("shoal_loop_stalls_total", "counter", "Times the event loop ran its tick at least 5 ticks late (blocked or starved).",
               [("", "\(metrics.loopStalls)")])
        metric("shoal_loop_stall_max_seconds", "gauge", "The longest such stall.", [("", "\(Double(metrics.loopStallMillisecondsMax) / 1000)")])
        metric("shoal_raft_applied_entries_total", "counter", "Log entries applied.", [("", "\(metrics.appliedEntries)")])
        metric("shoal_raft_elections_won_total", "counter", "Elections this member won.", [("", "\(metrics.leaderElectionsWon)")])
        metric("shoal_raft_term_changes_total", "counter", "Terms this member moved through.", [("", "\(metrics.termChanges)")])
        metric("shoal_raft_snapshots_total", "counter", "Snapshots this member took.", [("", "\(metrics.snapshots)")])
        metric("shoal_peer_messages_dropped_total", "counter", "Messages dropped by a full or absent peer connection.", [("", "\(metrics.messagesDropped)")])
        metric("shoal_peer_malformed_messages_total", "counter", "Malformed messages from authenticated peers.", [("", "\(metrics.malformedMessages)")])
        metric("shoal_peer_refused_total", "counter", "Peers refused (changed data directory).", [("", "\(metrics.refusedPeers)")])
        metric("shoal_store_stale_admissions_total", "counter", "Writes admitted on this member that were admitted again because the store moved before they applied.",
               [("", "\(metrics.staleAdmissions)")])
        if let worker {
            let histogram = worker.syncLatencyHistogram
            out += "# HELP shoal_wal_sync_seconds Duration of WAL commits (write and fdatasync).\n# TYPE shoal_wal_sync_seconds histogram\n"
            for (i, bound) in GroupCommitWorker.syncLatencyBucketsSeconds.enumerated() {
                out += "shoal_wal_sync_seconds_bucket{le=\"\(bound)\"} \(histogram.cumulativeCounts[i])\n"
            }
            out += "shoal_wal_sync_seconds_bucket{le=\"+Inf\"} \(histogram.count)\n"
            out += "shoal_wal_sync_seconds_sum \(histogram.sumSeconds)\nshoal_wal_sync_seconds_count \(histogram.count)\n"
        }
        if let transport {
            var rtt: [(labels: String, value: String)] = []
            var connected: [(labels: String, value: String)] = []
            for (id, stats) in transport.stats.sorted(by: { $0.key < $1.key }) {
                let label = "peer=\"\(name(of: id))\""
                connected.append((label, stats.connected ? "1" : "0"))
                if let ns = stats.lastRoundTripNanoseconds { rtt.append((label, "\(Double(ns) / 1e9)")) }
            }
            metric("shoal_peer_connected", "gauge", "1 if the connection to the peer is up.", connected)
            metric("shoal_peer_round_trip_seconds", "gauge", "Last measured round-trip time to the peer.", rtt)
        }
        metric("shoal_store_objects", "gauge", "Objects in the replicated store.", [("", "\(store.count)")])
        metric("shoal_store_revision", "gauge", "The store's revision (last applied index).", [("", "\(store.revision)")])
        if let tls = api?.tls {
            var text = MetricsText()
            tls.writeMetrics(into: &text)
            out += text.text
        }
        return out
    }
}
