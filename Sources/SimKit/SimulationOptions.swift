import RaftCore

/// What one simulated run looks like. Defaults are what `swift test` and `shoal-sim` use.
public struct SimulationOptions: Sendable {
    /// Voters the cluster starts with.
    public var voters = 3
    /// Ticks of random faults before everything heals.
    public var faultTicks = 200
    /// After healing, the bound within which a leader must emerge and a proposal must be
    /// applied by every member (liveness).
    public var livenessTicksMax = 150
    /// Virtual time units per tick (message and disk delays are drawn in units).
    public var unitsPerTick: UInt64 = 10
    public var electionTimeoutTicks = 10
    public var heartbeatIntervalTicks = 2
    /// Members snapshot and compact every this many applied entries.
    public var snapshotEveryEntries = 30
    /// Small chunks, so snapshot transfers take several messages.
    public var snapshotChunkBytes = 128
    /// Small appends, so a leader's backlog travels in several messages (Figure 8 needs an
    /// older term's entries to arrive without the new leader's own).
    public var appendBytesMax = 64
    /// Disk syncs that fail, per million (each failure stops the member until a restart).
    public var syncFailuresPerMillion: UInt64 = 3000
    /// Voters the membership nemesis keeps between (inclusive).
    public var votersMin = 1
    public var votersMax = 5
    /// A deliberately broken rule (the mutation check).
    public var faultyRule: Raft.FaultyRule?
    /// Print every event as it happens.
    public var traceAll = false
    /// Events kept for the report of a failing run.
    public var traceTailEvents = 80

    public init() {}
}

/// What a run found.
public struct SimulationReport: Sendable {
    public var seed: UInt64
    public var violations: [Checker.Violation]
    /// The last events before the end (or the first violation).
    public var traceTail: [String]
    public var ticks: Int
    public var committedEntries: Raft.Index
    public var leadersElected: Int
    public var crashes: Int
    public var partitions: Int
    public var membershipChanges: Int
    public var transfers: Int
    public var readsServed: Int
    public var messagesDelivered: Int
    public var storageFailures: Int = 0

    public var passed: Bool { violations.isEmpty }
}
