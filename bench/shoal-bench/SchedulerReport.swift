// The numbers of `shoal-bench scheduler`, from the watcher's timeline of every pod.
import Foundation

struct SchedulerResult: Codable {
    var pods: Int
    var bound: Int
    var running: Int
    /// From the first Deployment POST: the last Deployment answered, the last pod created,
    /// the last pod bound, the last pod reported Running (seconds).
    var deploymentsCreatedSeconds: Double
    var lastCreatedSeconds: Double
    var lastBoundSeconds: Double
    var lastRunningSeconds: Double
    /// Pods bound ÷ (last binding − first pod seen): the pipeline's rate once pods exist.
    var boundPerSecond: Double
    /// Pods created ÷ (last − first pod seen): the ReplicaSet controller's rate.
    var createdPerSecond: Double
    /// Per pod, from first seen (created) to seen bound, as one watcher sees them.
    var createToBind: LatencyStats
    /// Per pod, from bound to reported Running by its hollow node.
    var bindToRunning: LatencyStats
    /// Pods per node (members and hollow nodes that got any).
    var podsPerNodeMin: Int
    var podsPerNodeMax: Int
    var nodesUsed: Int
    /// The most pods of one Deployment on one node (100 replicas over 1,000 nodes: 1 is perfect spreading).
    var sameDeploymentOnOneNodeMax: Int
    /// CPU until every pod was bound, and until every pod was reported Running.
    var boundCPU: CPUShare
    var runningCPU: CPUShare
    /// The member that led when the phase began (h1 = 0).
    var leader: Int?
    var health: PhaseHealth
    var hollowFailures: [String: Int]
    var hollowFailureExamples: [String: String]
    var leaseRenewals: Int
    /// Raft entries the cluster applied during the phase (every write: pods, bindings,
    /// statuses, events, leases).
    var raftEntries: Int
    /// Objects in the namespace at the end, by kind.
    var writesByKind: [String: Int]?
    /// Bound pods by 100 ms since the first Deployment POST (the timeline).
    var boundPer100ms: [Int]

    init(pods timeline: [String: PodTimeline], expected: Int, startNs: UInt64, deploymentsCreatedNs: UInt64, boundCPU: CPUShare,
         runningCPU: CPUShare, leader: Int?, health: PhaseHealth, hollowFailures: [String: Int], hollowFailureExamples: [String: String],
         leaseRenewals: Int, raftEntries: Int, writesByKind: [String: Int]?) {
        func since(_ ns: UInt64) -> Double { ns > startNs ? Double(ns - startNs) / 1e9 : 0 }
        let all = Array(timeline.values)
        let bound = all.filter { $0.boundNs > 0 }
        let running = all.filter { $0.runningNs > 0 }
        pods = expected
        self.bound = bound.count
        self.running = running.count
        deploymentsCreatedSeconds = since(deploymentsCreatedNs)
        let firstSeen = all.map(\.seenNs).min() ?? startNs
        let lastSeen = all.map(\.seenNs).max() ?? startNs
        let lastBound = bound.map(\.boundNs).max() ?? startNs
        lastCreatedSeconds = since(lastSeen)
        lastBoundSeconds = since(lastBound)
        lastRunningSeconds = since(running.map(\.runningNs).max() ?? startNs)
        boundPerSecond = lastBound > firstSeen ? Double(bound.count) / (Double(lastBound - firstSeen) / 1e9) : 0
        createdPerSecond = lastSeen > firstSeen ? Double(all.count) / (Double(lastSeen - firstSeen) / 1e9) : 0
        createToBind = LatencyStats(nanoseconds: bound.map { Int64($0.boundNs) - Int64($0.seenNs) })
        bindToRunning = LatencyStats(nanoseconds: running.filter { $0.boundNs > 0 }.map { Int64($0.runningNs) - Int64($0.boundNs) })
        var perNode: [String: Int] = [:]
        var perDeploymentNode: [String: Int] = [:]
        for (name, pod) in timeline where pod.boundNs > 0 {
            perNode[pod.node, default: 0] += 1
            // Pod names are "<deployment>-<template hash>-<suffix>".
            let deployment = name.split(separator: "-").prefix(2).joined(separator: "-")
            perDeploymentNode[deployment + "/" + pod.node, default: 0] += 1
        }
        podsPerNodeMin = perNode.values.min() ?? 0
        podsPerNodeMax = perNode.values.max() ?? 0
        nodesUsed = perNode.count
        sameDeploymentOnOneNodeMax = perDeploymentNode.values.max() ?? 0
        self.boundCPU = boundCPU
        self.runningCPU = runningCPU
        self.leader = leader
        self.health = health
        self.hollowFailures = hollowFailures
        self.hollowFailureExamples = hollowFailureExamples
        self.leaseRenewals = leaseRenewals
        self.raftEntries = raftEntries
        self.writesByKind = writesByKind
        var buckets = [Int](repeating: 0, count: max(1, Int(lastBoundSeconds * 10) + 1))
        for pod in bound where pod.boundNs >= startNs { buckets[min(buckets.count - 1, Int((pod.boundNs - startNs) / 100_000_000))] += 1 }
        boundPer100ms = buckets
    }

    func table(hosts: Int) -> String {
        let leaderCPU = leader.map { boundCPU.members[$0] } ?? 0
        var rows: [[String]] = [
            ["pods bound", "\(grouped(Double(bound))) of \(grouped(Double(pods)))", ""],
            ["all bound, after the first Deployment POST", String(format: "%.2f s", lastBoundSeconds), "≤ 5 s"],
            ["pods bound per second (first pod created → last bound)", grouped(boundPerSecond), "≥ 2,000"],
            ["pods created per second (ReplicaSet controller)", grouped(createdPerSecond), ""],
            ["creation → binding p50 / p99 / max", "\(ms(createToBind.p50Ms)) / \(ms(createToBind.p99Ms)) / \(ms(createToBind.maxMs)) ms", ""],
            ["all reported Running (hollow kubelets)", String(format: "%.2f s", lastRunningSeconds), ""],
            ["binding → Running p99", "\(ms(bindToRunning.p99Ms)) ms", ""],
            ["leader CPU until all bound (h\((leader ?? 0) + 1))", percent(leaderCPU) + " of a processor", ""],
            ["all CPU until all bound", boundCPU.summary, ""],
            ["pods per node min / max; nodes used", "\(podsPerNodeMin) / \(podsPerNodeMax); \(nodesUsed)", ""],
            ["most pods of one Deployment on one node", String(sameDeploymentOnOneNodeMax), ""],
            ["elections; loop stalls", health.summary, ""],
            ["Raft entries applied (per pod)", "\(grouped(Double(raftEntries))) (\(String(format: "%.1f", Double(raftEntries) / Double(max(1, pods)))))", ""],
            ["objects at the end", (writesByKind ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), ""],
        ]
        if !hollowFailures.isEmpty { rows.append(["hollow node write failures", "\(hollowFailures)", ""]) }
        return TextTable(header: ["measure", "result", "goal"], rows: rows).render()
    }
}
