import RaftCore

/// The fault and workload generator: once per tick it may propose commands, ask for reads,
/// crash or restart members, cut and heal links, degrade the network, change membership and
/// move leadership. Probabilities are per tick, in percent (or per mille where noted).
enum Nemesis {
    static let proposePercent: UInt64 = 60
    static let readPercent: UInt64 = 10
    static let crashPerMille: UInt64 = 12
    static let partitionPerMille: UInt64 = 12
    static let healPercent: UInt64 = 4
    static let networkChangePercent: UInt64 = 2
    static let membershipPerMille: UInt64 = 20
    static let transferPerMille: UInt64 = 10
    /// Chance that a newly elected leader crashes within a few ticks.
    static let crashNewLeaderPercent: UInt64 = 10
    /// Crashed members come back after this many ticks at most.
    static let downTicksMax: UInt64 = 30

    static func act(on sim: inout Simulation) {
        if sim.random.below(100) < proposePercent { propose(&sim) }
        if sim.random.below(100) < readPercent { read(&sim) }
        if sim.random.below(1000) < crashPerMille { crash(&sim) }
        if sim.random.below(1000) < partitionPerMille { partition(&sim) }
        if !sim.network.cut.isEmpty && sim.random.below(100) < healPercent {
            sim.network.cut = []
            sim.note("heal links")
        }
        if sim.random.below(100) < networkChangePercent {
            let drop = sim.random.chance(1, in: 2) ? 0 : sim.random.below(20)
            let duplicate = sim.random.chance(1, in: 2) ? 0 : sim.random.below(10)
            sim.network.dropPercent = drop
            sim.network.duplicatePercent = duplicate
            sim.note("network drop=\(drop)% duplicate=\(duplicate)%")
        }
        if sim.random.below(1000) < membershipPerMille { changeMembership(&sim) }
        if sim.random.below(1000) < transferPerMille { transfer(&sim) }
    }

    /// Running processes, members or not (removed members keep running: they must not
    /// disturb the cluster).
    static func runningMembers(_ sim: Simulation) -> [Raft.NodeID] {
        sim.hosts.keys.sorted().filter { sim.hosts[$0]!.isUp }
    }

    static func pick<T>(_ items: [T], _ sim: inout Simulation) -> T? {
        items.isEmpty ? nil : items[Int(sim.random.below(UInt64(items.count)))]
    }

    static func propose(_ sim: inout Simulation) {
        guard let leader = sim.currentLeader else { return }
        let count = 1 + Int(sim.random.below(3))
        var batch: [[UInt8]] = []
        for _ in 0..<count {
            sim.nextCommand += 1
            batch.append(Array("c\(sim.nextCommand)".utf8))
        }
        if (try? sim.hosts[leader]!.withNode({ try $0.propose(batch: batch) })) != nil {
            sim.process(leader)
        }
    }

    static func read(_ sim: inout Simulation) {
        guard let id = pick(runningMembers(sim), &sim) else { return }
        sim.nextReadID += 1
        let requestID = sim.nextReadID
        let asked = sim.checker.committedIndex
        let started: Bool? = sim.hosts[id]!.withNode { node in
            do { try node.readIndex(requestID: requestID); return true } catch { return false }
        }
        guard started == true else { return }
        sim.hosts[id]!.readsAsked[requestID] = asked
        sim.process(id)
    }

    static func crash(_ sim: inout Simulation) {
        // Leaders half of the time: leader crashes are where elections, lost appends and
        // un-replicated entries of old terms come from.
        let leaderFirst = sim.random.chance(1, in: 2) ? sim.currentLeader : nil
        guard let id = leaderFirst ?? pick(runningMembers(sim), &sim) else { return }
        crash(id, &sim)
    }

    /// Crashes `id` (a random prefix of its unsynced writes may survive, the last torn) and
    /// schedules its restart.
    static func crash(_ id: Raft.NodeID, _ sim: inout Simulation) {
        sim.note("crash \(id)")
        sim.hosts[id]!.crash()
        sim.syncing.remove(id)
        sim.report.crashes += 1
        scheduleRestart(id, &sim)
    }

    static func scheduleRestart(_ id: Raft.NodeID, _ sim: inout Simulation) {
        let downUnits = (1 + sim.random.below(downTicksMax)) * sim.options.unitsPerTick
        sim.events.push(.restart(id), at: sim.now + downUnits)
    }

    static func partition(_ sim: inout Simulation) {
        let all = sim.hosts.keys.sorted()
        var cut = sim.network.cut
        switch sim.random.below(4) {
        case 0:  // isolate the leader
            guard let leader = sim.currentLeader else { return }
            for other in all where other != leader { cut.insert(.init(leader, other)); cut.insert(.init(other, leader)) }
            sim.note("isolate leader \(leader)")
        case 1:  // isolate anyone
            guard let victim = pick(all, &sim) else { return }
            for other in all where other != victim { cut.insert(.init(victim, other)); cut.insert(.init(other, victim)) }
            sim.note("isolate \(victim)")
        case 2:  // one direction only: a member that can send but not hear, or hear but not send
            guard let victim = pick(all, &sim) else { return }
            let outgoing = sim.random.chance(1, in: 2)
            for other in all where other != victim {
                cut.insert(outgoing ? .init(victim, other) : .init(other, victim))
            }
            sim.note("cut \(outgoing ? "outgoing" : "incoming") links of \(victim)")
        default:  // split in two sides
            var side: Set<Raft.NodeID> = []
            for id in all where sim.random.chance(1, in: 2) { side.insert(id) }
            for a in side { for b in all where !side.contains(b) { cut.insert(.init(a, b)); cut.insert(.init(b, a)) } }
            sim.note("split \(side.sorted()) from the rest")
        }
        sim.network.cut = cut
        sim.report.partitions += 1
    }

    static func changeMembership(_ sim: inout Simulation) {
        guard let leader = sim.currentLeader else { return }
        let membership = sim.hosts[leader]!.node!.membership
        var change: Raft.MembershipChange?
        let roll = sim.random.below(3)
        if roll == 0 && membership.learners.count < 2 && sim.hosts.count < 12 {
            // A new process joins as a learner (fresh id: ids are never reused).
            let id = sim.nextNodeID
            sim.nextNodeID += 1
            sim.addHost(id, state: .joining)
            change = .init(.addLearner, node: id)
        } else if roll == 1, membership.voters.count < sim.options.votersMax, let learner = pick(membership.learners, &sim) {
            change = .init(.promote, node: learner)
        } else if membership.voters.count > sim.options.votersMin || !membership.learners.isEmpty {
            var candidates = membership.learners
            if membership.voters.count > sim.options.votersMin { candidates += membership.voters }
            guard let victim = pick(candidates, &sim) else { return }
            change = .init(.remove, node: victim)
        }
        guard let change else { return }
        let result: Raft.Index?? = sim.hosts[leader]!.withNode { try? $0.proposeMembershipChange(change) }
        guard case .some(.some) = result else { return }
        sim.note("leader \(leader) proposes \(TraceFormat.payload(.membership(change, membership)))")
        sim.report.membershipChanges += 1
        sim.process(leader)
    }

    static func transfer(_ sim: inout Simulation) {
        guard let leader = sim.currentLeader else { return }
        let voters = sim.hosts[leader]!.node!.membership.voters.filter { $0 != leader }
        guard let target = pick(voters, &sim) else { return }
        let ok: Bool? = sim.hosts[leader]!.withNode { node in
            do { try node.transferLeadership(to: target); return true } catch { return false }
        }
        guard ok == true else { return }
        sim.note("leader \(leader) transfers to \(target)")
        sim.report.transfers += 1
        sim.process(leader)
    }
}
