import RaftCore

/// Runs the commands of a scenario script (grammar: Scenario.swift) against a
/// `ManualCluster` and produces each command's output lines.
public struct ScenarioRunner {
    /// The cluster the script built (nil before its `cluster` command).
    public internal(set) var cluster: ManualCluster?
    var snapshotEveryEntries = 0
    /// Output of the command being run.
    var output: [String] = []
    /// `cluster.log` lines already reported.
    var logSeen = 0
    /// Last reported role and term of each running member.
    var roles: [Raft.NodeID: (role: Raft.Role, term: Raft.Term)] = [:]
    /// `cluster.readStates` already printed by `reads`, and already checked.
    var readsPrinted = 0
    var readsChecked = 0
    /// Reads asked by the script: (member, request id) → highest index committed when asked.
    var readsAsked: [ReadKey: Raft.Index] = [:]
    /// `cluster.checker.violations` already examined, and the distinct ones printed.
    var violationsSeen = 0
    var violationsPrinted: Set<String> = []

    struct ReadKey: Hashable {
        var node: Raft.NodeID
        var requestID: UInt64
    }

    /// Upper bound on the messages one `stabilize` delivers before giving up.
    public static let stabilizeDeliveriesMax = 10_000

    public init() {}

    /// Runs one command line and returns its output (never empty: `ok` when quiet).
    public mutating func run(_ command: String, line: Int) throws(ScenarioError) -> [String] {
        output = []
        var args = try ScenarioArguments(line: line, text: command)
        try execute(&args)
        noteEvents()
        checkNewReads()
        if output.isEmpty { output = ["ok"] }
        reportViolations()
        return output
    }

    // MARK: - Helpers shared by the commands

    /// The cluster, or an error if the script has not created one.
    mutating func requireCluster(_ args: ScenarioArguments) throws(ScenarioError) {
        guard cluster != nil else { throw args.fail("no cluster yet (start the script with `cluster 1 2 3`)") }
    }

    /// Checks that `id` is a member process of the cluster (running, unless `mayBeDown`).
    func requireMember(_ id: Raft.NodeID, _ args: ScenarioArguments, mayBeDown: Bool = false) throws(ScenarioError) {
        guard let host = cluster?.hosts[id] else { throw args.fail("no member \(id)") }
        if !mayBeDown && !host.isUp { throw args.fail("member \(id) is down") }
    }

    /// Reports what happened since the last call: new ManualCluster log lines (role changes
    /// excepted: this runner reports those itself, after every step) and role or term changes.
    mutating func noteEvents(logFirst: Bool = false) {
        guard let cluster else { return }
        if logFirst { reportLog(cluster) }
        for id in cluster.hosts.keys.sorted() {
            guard let node = cluster.hosts[id]?.node else { continue }
            let now = (role: node.role, term: node.term)
            if let was = roles[id], was.role == now.role && was.term == now.term { continue }
            roles[id] = now
            output.append("\(id) became \(now.role.rawValue) at term \(now.term)")
        }
        if !logFirst { reportLog(cluster) }
    }

    private mutating func reportLog(_ cluster: ManualCluster) {
        while logSeen < cluster.log.count {
            let line = cluster.log[logSeen]
            logSeen += 1
            if line.contains(" became ") { continue }
            output.append(line)
        }
    }

    /// Starts tracking members without reporting their current role.
    mutating func trackSilently() {
        guard let cluster else { return }
        for (id, host) in cluster.hosts {
            if let node = host.node, roles[id] == nil { roles[id] = (node.role, node.term) }
        }
        logSeen = cluster.log.count
    }

    /// Prints the violations the Checker found since the previous command, each distinct one
    /// only the first time (the Checker records a broken property again at every check).
    mutating func reportViolations() {
        guard let violations = cluster?.checker.violations, violationsSeen < violations.count else { return }
        for violation in violations[violationsSeen...] where violationsPrinted.insert(violation.description).inserted {
            output.append("violation: \(violation)")
        }
        violationsSeen = violations.count
    }

    /// Checks read states that arrived since the last call against the commit index recorded
    /// when the script asked (linearizability).
    mutating func checkNewReads() {
        guard cluster != nil else { return }
        while readsChecked < cluster!.readStates.count {
            let (node, state) = cluster!.readStates[readsChecked]
            readsChecked += 1
            if let index = state.index, let asked = readsAsked[ReadKey(node: node, requestID: state.requestID)] {
                cluster!.checker.checkRead(node, index: index, committedWhenAsked: asked)
            }
        }
    }

    /// Delivers the in-flight message at `position` alone, printing it and what it caused.
    ///
    /// ManualCluster only delivers by predicate, and equal messages (two identical heartbeat
    /// answers, say) may be in flight together; so the predicate selects by position, relying
    /// on `deliver(where:)` testing each message once, in order, when choosing and again when
    /// removing. The queue is compared before and after to prove exactly that one left.
    mutating func deliverOne(at position: Int, line: Int) throws(ScenarioError) {
        let before = cluster!.inFlight
        let count = before.count
        let message = before[position]
        let reachable = cluster!.hosts[message.to]?.isUp == true
        var calls = 0
        let delivered = cluster!.deliver(where: { _ in
            defer { calls += 1 }
            return calls % count == position
        })
        var rest = before
        rest.remove(at: position)
        guard delivered == [message], calls == 2 * count, Array(cluster!.inFlight.prefix(count - 1)) == rest else {
            throw ScenarioError(
                line: line, "internal: ManualCluster.deliver(where:) did not deliver exactly message \(position)")
        }
        if reachable { output.append(TraceFormat.message(message)) }
        noteEvents()
    }

    /// Drops the in-flight message at `position` alone (same technique as `deliverOne`).
    mutating func dropOne(at position: Int, line: Int) throws(ScenarioError) {
        let before = cluster!.inFlight
        let count = before.count
        var calls = 0
        let dropped = cluster!.drop(where: { _ in
            defer { calls += 1 }
            return calls % count == position
        })
        var rest = before
        rest.remove(at: position)
        guard dropped == [before[position]], calls == 2 * count, cluster!.inFlight == rest else {
            throw ScenarioError(
                line: line, "internal: ManualCluster.drop(where:) did not drop exactly message \(position)")
        }
        output.append("dropped \(TraceFormat.message(before[position]))")
    }

    /// A refusal, in a stable and readable form (`error: notLeader(leaderHint: 1)`).
    static func describe(_ error: any Error) -> String {
        if case .notLeader(let hint)? = error as? Raft.ProposalError {
            return "notLeader(leaderHint: \(hint.map(String.init) ?? "nil"))"
        }
        return String(describing: error)
    }
}
