// The trials of `shoal-bench failover`: for each scenario, wait for a healthy cluster, aim the
// writers at the members that survive, inject the fault at a recorded instant, watch for the
// new leader and the first acknowledged write sent after the fault, restore, catch up.
import Foundation

/// Knobs of the trials (from the command line).
struct TrialSettings {
    /// Baseline before each fault (visible in the timeline), in ns.
    var preFaultNs: UInt64 = 150_000_000
    /// Kept after the first acknowledged write, so the timeline shows the recovery, in ns.
    var settleNs: UInt64 = 60_000_000
    /// (d) the leader stays stopped at least this multiple of the base election timeout.
    var stopMultiple = 2.0
    /// Longest wait for a healthy, caught-up cluster, in seconds.
    var healthySeconds = 30.0
}

final class FailoverTrials {
    let system: FailoverSystem
    let pool: WriterPool
    let watcher: LeaderWatcher
    let settings: TrialSettings
    /// How often members are polled during a failover (the resolution of `newLeaderMs`).
    let fastPollNs: UInt64
    let slowPollNs: UInt64 = 10_000_000

    init(system: FailoverSystem, pool: WriterPool, watcher: LeaderWatcher, settings: TrialSettings, fastPollNs: UInt64) {
        self.system = system
        self.pool = pool
        self.watcher = watcher
        self.settings = settings
        self.fastPollNs = fastPollNs
    }

    private func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
    private func ms(from start: UInt64, to end: UInt64) -> Double { (Double(end) - Double(start)) / 1e6 }

    func waitHealthy() throws -> (leader: Int, term: UInt64) {
        watcher.setInterval(slowPollNs)
        return try waitUntilHealthy(system, watcher: watcher, seconds: settings.healthySeconds)
    }

    // MARK: One trial

    /// Runs one trial; throws only when the cluster cannot be brought back to health.
    func run(_ scenario: FailoverScenario, trial: Int) throws -> (TrialResult, Timeline) {
        let (leader, term) = try waitHealthy()
        let survivors = system.hosts.indices.filter { $0 != leader }
        let group = WriteGroup(scenario: scenario.rawValue, trial: trial)
        pool.setGroup(group)
        pool.setTargets(survivors)
        watcher.setInterval(fastPollNs)
        sleepNanoseconds(settings.preFaultNs)
        // The heir of a hand-over: the survivor that has applied the most.
        let views = watcher.views()
        let heir = survivors.max { (views[$0]?.applied ?? 0) < (views[$1]?.applied ?? 0) } ?? survivors[0]

        var handOver: HandOverCall?
        let cut = scenario == .cut ? try PrestagedCut(hosts: system.hosts, member: leader) : nil
        let t0: UInt64
        let faultDone: UInt64
        switch scenario {
        case .kill:
            t0 = monotonicNanoseconds()
            pool.watchForFirstAck(startedAfter: t0)
            try system.kill(leader)
            faultDone = monotonicNanoseconds()
        case .cut:
            t0 = cut!.fire()
            pool.watchForFirstAck(startedAfter: t0)
            faultDone = try cut!.waitApplied()
        case .stop:
            t0 = monotonicNanoseconds()
            pool.watchForFirstAck(startedAfter: t0)
            try system.pause(leader)
            faultDone = monotonicNanoseconds()
        case .handOver:
            t0 = monotonicNanoseconds()
            pool.watchForFirstAck(startedAfter: t0)
            handOver = HandOverCall(system: system, request: system.handOverRequest(leader: leader, heir: heir), member: leader)
            faultDone = monotonicNanoseconds()
        }

        // Wait for the new leader and the first acknowledged write sent after the fault.
        let waitNs = UInt64(max(10_000, 10 * system.timing.electionMaxMs)) * 1_000_000
        let deadline = t0 + waitNs
        var newLeader: (atNs: UInt64, member: Int, term: UInt64)?
        var ack: (startNs: UInt64, endNs: UInt64)?
        var resumedAt: UInt64?
        let stopAtLeast = t0 + UInt64(settings.stopMultiple * Double(system.timing.electionMs) * 1e6)
        while monotonicNanoseconds() < deadline {
            newLeader = newLeader ?? watcher.firstNewLeader(after: t0, old: leader, term: term)
            ack = ack ?? pool.firstAck()
            if scenario == .stop && resumedAt == nil && newLeader != nil && ack != nil && monotonicNanoseconds() >= stopAtLeast {
                try system.resume(leader)
                resumedAt = monotonicNanoseconds()
            }
            if newLeader != nil && ack != nil && (scenario != .stop || resumedAt != nil) { break }
            sleepNanoseconds(500_000)
        }
        var error: String?
        if newLeader == nil || ack == nil {
            error = "within \(waitNs / 1_000_000) ms: " + (newLeader == nil ? "no new leader" : "no acknowledged write")
        }
        if scenario == .stop && resumedAt == nil {
            try system.resume(leader)
            resumedAt = monotonicNanoseconds()
        }
        let windowEnd = max(ack?.endNs ?? monotonicNanoseconds(), resumedAt ?? 0) + settings.settleNs
        while monotonicNanoseconds() < windowEnd { sleepNanoseconds(1_000_000) }

        // (d) The old leader is back: probe it with writes and watch it for a while.
        var probes: OldLeaderProbe?
        if scenario == .stop {
            probes = OldLeaderProbe(system: system, member: leader, group: group, timeoutNs: pool.timeoutNs)
            let verifyNs = UInt64(max(300, 10 * system.timing.heartbeatMs)) * 1_000_000
            sleepNanoseconds(verifyNs)
            probes!.stop()
        }

        // Restore the old leader and let it catch up.
        let recoveryStart = monotonicNanoseconds()
        switch scenario {
        case .kill: try system.restart(leader)
        case .cut: try system.heal(leader)
        case .stop: break
        case .handOver:
            handOver!.wait(seconds: 20)
            if system.handOverRemovesMember { try system.restoreAfterHandOver(leader, leader: newLeader?.member ?? heir) }
        }
        let (healthyLeader, healthyTerm) = try waitHealthy()
        let recoveryMs = ms(from: recoveryStart, to: monotonicNanoseconds())

        // Every request that overlapped the window has ended (at the latest, its timeout).
        let windowStart = t0
        pool.waitForRequests(startedBefore: windowEnd)
        let inWindow = pool.records(overlapping: windowStart, windowEnd)
        var result = TrialResult(
            scenario: scenario.rawValue, trial: trial, oldLeader: system.hosts[leader].name, oldTerm: term,
            newLeader: newLeader.map { system.hosts[$0.member].name }, newTerm: newLeader?.term,
            faultActionMs: ms(from: t0, to: faultDone), newLeaderMs: newLeader.map { ms(from: t0, to: $0.atNs) },
            unavailableMs: ack.map { ms(from: t0, to: $0.endNs) },
            succeeded: inWindow.filter { $0.outcome == .success }.count,
            failed: inWindow.filter { $0.outcome == .failed }.count,
            indeterminate: inWindow.filter { $0.outcome == .indeterminate }.count,
            stoppedMs: resumedAt.map { ms(from: t0, to: $0) }, handOverAnswerMs: handOver?.answeredMs,
            electionsDuringRecovery: Int(healthyTerm) - Int(newLeader?.term ?? healthyTerm), recoveryMs: recoveryMs,
            stopCheck: nil, error: error ?? handOver?.problem)
        if scenario == .stop, let probes {
            result.stopCheck = try checkStop(group: group, oldLeader: leader, newLeader: newLeader, resumedAt: resumedAt!,
                                            probes: probes, readVia: healthyLeader, since: t0)
        }
        let points = pool.records(overlapping: t0 - settings.preFaultNs, windowEnd).map { record in
            TimelinePoint(startMs: ms(from: t0, to: record.startNs), latencyMs: ms(from: record.startNs, to: record.endNs),
                          outcome: record.outcome == .success ? "ok" : record.outcome == .failed ? "failed" : "indeterminate",
                          target: system.hosts[Int(record.target)].name)
        }
        let timeline = Timeline(scenario: scenario.rawValue, trial: trial, newLeaderMs: result.newLeaderMs,
                                unavailableMs: result.unavailableMs, resumedMs: result.stoppedMs, points: points)
        watcher.dropChanges(before: t0)
        return (result, timeline)
    }

    // MARK: (d) checks

    private func checkStop(group: WriteGroup, oldLeader: Int, newLeader: (atNs: UInt64, member: Int, term: UInt64)?,
                           resumedAt: UInt64, probes: OldLeaderProbe, readVia member: Int, since: UInt64) throws -> StopCheck {
        let readStart = monotonicNanoseconds()
        let present = try system.readKeys(scenario: group.scenario, trial: group.trial, via: member)
        // Acknowledged before the read began: a linearizable read must see it.
        var acknowledged = Set<String>()
        for record in pool.records(overlapping: since - settings.preFaultNs, readStart)
        where record.outcome == .success && record.endNs < readStart && pool.group(at: record.group) == group {
            acknowledged.insert(group.key(writer: Int(record.writer), sequence: Int(record.sequence)))
        }
        for record in probes.records where record.outcome == .success {
            acknowledged.insert(group.key(writer: Int(record.writer), sequence: Int(record.sequence)))
        }
        var violations: [String] = []
        var staleLeaderMs: Double?
        var maxTerm = newLeader?.term ?? 0
        if let newLeader {
            var lastTerm: [Int: UInt64] = [:]
            for change in watcher.changes(since: newLeader.atNs) {
                let name = system.hosts[change.member].name
                let view = change.view
                if let previous = lastTerm[change.member], view.term < previous {
                    violations.append("\(name)'s term went back from \(previous) to \(view.term)")
                }
                lastTerm[change.member] = view.term
                if change.member != oldLeader { maxTerm = max(maxTerm, view.term) }
                if view.leads && change.member != newLeader.member && view.term == newLeader.term {
                    violations.append("\(name) also led at term \(view.term)")
                }
                if view.leads && change.member == oldLeader && view.term > newLeader.term {
                    violations.append("the old leader \(name) won leadership back at term \(view.term)")
                }
                if change.member != oldLeader && !view.leads && view.leader == oldLeader && view.term >= newLeader.term {
                    violations.append("\(name) followed the old leader again at term \(view.term)")
                }
                if change.member == oldLeader && view.atNs >= resumedAt && staleLeaderMs == nil
                    && (!view.leads || view.term >= newLeader.term) {
                    staleLeaderMs = ms(from: resumedAt, to: view.atNs)
                }
            }
        }
        let probeRecords = probes.records
        return StopCheck(acknowledged: acknowledged.count, lost: acknowledged.subtracting(present).count,
                         probesAcknowledged: probeRecords.filter { $0.outcome == .success }.count,
                         probesFailed: probeRecords.filter { $0.outcome == .failed }.count,
                         probesIndeterminate: probeRecords.filter { $0.outcome == .indeterminate }.count,
                         staleLeaderMs: staleLeaderMs, electionsAfterResume: Int(maxTerm) - Int(newLeader?.term ?? maxTerm),
                         violations: violations)
    }
}

/// Waits until every member answers, all follow one leader at one term, (shoal) the leader
/// counts every host as a voter, and every member has applied what the leader had committed
/// when that first held. Returns the leader and its term.
func waitUntilHealthy(_ system: FailoverSystem, watcher: LeaderWatcher, seconds: Double) throws -> (leader: Int, term: UInt64) {
    let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
    var target: UInt64?
    var last = ""
    func describe(_ views: [MemberView?]) -> String {
        views.enumerated().map { index, view in
            guard let view else { return "\(system.hosts[index].name): no answer" }
            return "\(system.hosts[index].name): \(view.leads ? "leader" : "follower of \(view.leader.map { system.hosts[$0].name } ?? "-")") term \(view.term) applied \(view.applied) commit \(view.commit)"
                + (view.voters.map { " voters \($0)" } ?? "")
        }.joined(separator: "; ")
    }
    while monotonicNanoseconds() < deadline {
        let views = watcher.views()
        let leaders = views.indices.filter { views[$0]?.leads == true }
        if views.allSatisfy({ $0 != nil }), leaders.count == 1 {
            let leader = leaders[0]
            let lead = views[leader]!
            let agree = views.allSatisfy { $0!.term == lead.term && ($0!.leads || $0!.leader == leader) }
            let voters = lead.voters.map { $0 == system.hosts.count } ?? true
            if agree && voters {
                if target == nil { target = lead.commit }
                if views.allSatisfy({ $0!.applied >= target! }) { return (leader, lead.term) }
                last = "catching up to \(target!): applied " + views.map { String($0!.applied) }.joined(separator: ", ")
            } else {
                last = "members disagree or not all voters: " + describe(views)
            }
        } else {
            last = describe(views)
        }
        sleepNanoseconds(5_000_000)
    }
    throw BenchFailure("\(system.label): cluster not healthy within \(seconds) s (\(last))")
}

/// The planned hand-over request, sent from its own thread so that the trial can watch the
/// cluster meanwhile (shoal's leave answers only once the member is removed).
final class HandOverCall: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private(set) var answeredMs: Double?
    private(set) var problem: String?

    init(system: FailoverSystem, request: BenchRequest, member: Int) {
        let thread = Thread { [self] in
            let client = KeepAliveHTTPClient(host: system.hosts[member].address, port: system.apiPort)
            let start = monotonicNanoseconds()
            let result = client.exchange(head: request.head, body: request.body, deadline: start + 20_000_000_000)
            lock.lock()
            switch result {
            case .response(200, _): answeredMs = Double(monotonicNanoseconds() - start) / 1e6
            case .response(let status, let body): problem = "hand-over answered \(status): \(String(decoding: body.prefix(200), as: UTF8.self))"
            case .notSent(let why), .lost(let why): problem = "hand-over: \(why)"
            }
            done = true
            lock.unlock()
        }
        thread.start()
    }

    /// Waits (bounded) for the answer.
    func wait(seconds: Double) {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while monotonicNanoseconds() < deadline {
            lock.lock()
            let finished = done
            lock.unlock()
            if finished { return }
            sleepNanoseconds(2_000_000)
        }
    }
}

/// Writes sent straight to the old leader after SIGCONT, one every 10 ms, on one connection:
/// if it accepted any while deposed, the read-back would miss it.
final class OldLeaderProbe: @unchecked Sendable {
    static let writer = 9_999
    private let lock = NSLock()
    private var running = true
    private var finished = false
    private var collected: [RequestRecord] = []

    var records: [RequestRecord] { lock.lock(); defer { lock.unlock() }; return collected }

    init(system: FailoverSystem, member: Int, group: WriteGroup, timeoutNs: UInt64) {
        let thread = Thread { [self] in
            let client = KeepAliveHTTPClient(host: system.hosts[member].address, port: system.apiPort)
            var sequence = 0
            while true {
                lock.lock()
                let go = running
                lock.unlock()
                if !go { break }
                sequence += 1
                let request = system.writeRequest(group: group, writer: Self.writer, sequence: sequence, value: "probe")
                let start = monotonicNanoseconds()
                let result = client.exchange(head: request.head, body: request.body, deadline: start + timeoutNs)
                let outcome: WriteOutcome
                switch result {
                case .response(let status, let body): outcome = system.classifyWrite(status: status, body: body)
                case .notSent: outcome = .failed
                case .lost: outcome = .indeterminate
                }
                lock.lock()
                collected.append(RequestRecord(startNs: start, endNs: monotonicNanoseconds(), sequence: UInt32(sequence),
                                               writer: UInt16(Self.writer), group: 0, outcome: outcome, target: UInt8(member)))
                lock.unlock()
                sleepNanoseconds(10_000_000)
            }
            lock.lock()
            finished = true
            lock.unlock()
        }
        thread.start()
    }

    /// Stops probing and waits for the request in flight (bounded by its timeout).
    func stop() {
        lock.lock()
        running = false
        lock.unlock()
        let deadline = monotonicNanoseconds() + 3_000_000_000
        while monotonicNanoseconds() < deadline {
            lock.lock()
            let done = finished
            lock.unlock()
            if done { return }
            sleepNanoseconds(2_000_000)
        }
    }
}
