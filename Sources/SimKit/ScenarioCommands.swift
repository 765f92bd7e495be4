import RaftCore

// The commands of a scenario script; the grammar is documented in Scenario.swift.

extension ScenarioRunner {
    mutating func execute(_ args: inout ScenarioArguments) throws(ScenarioError) {
        switch args.command {
        case "cluster": try newCluster(&args)
        case "add-process": try addProcess(&args)
        case "campaign": try campaign(&args)
        case "tick": try tick(&args)
        case "tick-all": try tickAll(&args)
        case "propose": try propose(&args)
        case "propose-change": try proposeChange(&args)
        case "transfer": try transfer(&args)
        case "read-index": try readIndex(&args)
        case "deliver": try deliver(&args)
        case "stabilize": try stabilize(&args)
        case "isolate", "cut", "heal": try network(&args)
        case "crash", "restart": try crashOrRestart(&args)
        case "stall-disk", "sync-disk": try disk(&args)
        case "status", "log", "membership", "in-flight", "reads": try inspect(&args)
        default: throw args.fail("unknown command")
        }
    }

    // MARK: Cluster and members

    private mutating func newCluster(_ args: inout ScenarioArguments) throws(ScenarioError) {
        let voters = try args.nodes(from: 0)
        guard !voters.isEmpty, Set(voters).count == voters.count else { throw args.fail("give distinct voter ids") }
        let preVote = try args.bool("prevote", default: true)
        let checkQuorum = try args.bool("checkquorum", default: true)
        let election = try args.int("election", default: 10, min: 2)
        let heartbeat = try args.int("heartbeat", default: 1, min: 1)
        guard heartbeat < election else { throw args.fail("heartbeat must be below election") }
        let snapshotEvery = try args.int("snapshot-every", default: 0)
        let chunk = try args.int("chunk", default: 0, min: 0)
        let inflight = try args.int("inflight", default: 0, min: 0)
        let appendBytes = try args.int("append-bytes", default: 0, min: 0)
        let faultyName = args.option("faulty")
        let faulty = faultyName.flatMap(Raft.FaultyRule.init(rawValue:))
        if let faultyName, faulty == nil {
            let known = Raft.FaultyRule.allCases.map(\.rawValue).joined(separator: ", ")
            throw args.fail("unknown faulty rule '\(faultyName)' (known: \(known))")
        }
        try args.finish(maxPositional: voters.count)
        cluster = ManualCluster(voters: voters, snapshotEveryEntries: snapshotEvery) { config in
            config.preVote = preVote
            config.checkQuorum = checkQuorum
            config.electionTimeoutTicks = election
            config.heartbeatIntervalTicks = heartbeat
            if chunk > 0 { config.snapshotChunkBytesMax = chunk }
            if inflight > 0 { config.inflightAppendsMax = inflight }
            if appendBytes > 0 { config.appendBytesMax = appendBytes }
            config.faultyRule = faulty
        }
        snapshotEveryEntries = snapshotEvery
        roles = [:]
        readsPrinted = 0
        readsChecked = 0
        readsAsked = [:]
        violationsSeen = 0
        violationsPrinted = []
        trackSilently()
    }

    private mutating func addProcess(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        try args.finish(maxPositional: 1)
        guard cluster!.hosts[id] == nil else { throw args.fail("member \(id) exists already") }
        cluster!.add(id, state: .joining, snapshotEveryEntries: snapshotEveryEntries)
        trackSilently()
    }

    // MARK: Driving members

    private mutating func campaign(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        try args.finish(maxPositional: 1)
        try requireMember(id, args)
        cluster!.with(id) { $0.campaign() }
    }

    /// `n` as a second positional argument or as `n=`.
    private mutating func count(_ args: inout ScenarioArguments, at index: Int) throws(ScenarioError) -> Int {
        if index < args.positional.count {
            guard args.option("n") == nil else { throw args.fail("give the count once") }
            let word = args.positional[index]
            guard let n = Int(word), n >= 1 else { throw args.fail("bad count '\(word)'") }
            return n
        }
        return try args.int("n", default: 1, min: 1)
    }

    private mutating func tick(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        let n = try count(&args, at: 1)
        try args.finish(maxPositional: 2)
        try requireMember(id, args)
        for _ in 0..<n {
            cluster!.tick(id)
            noteEvents()
        }
    }

    private mutating func tickAll(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let n = try count(&args, at: 0)
        try args.finish(maxPositional: 1)
        for _ in 0..<n {
            for id in cluster!.hosts.keys.sorted() where cluster!.hosts[id]!.isUp {
                cluster!.tick(id)
                noteEvents()
            }
        }
    }

    /// Prints the entry a successful proposal appended, or the refusal.
    private mutating func reportProposal(_ id: Raft.NodeID, _ result: Result<Raft.Index, any Error>) {
        switch result {
        case .success(let index):
            for entry in cluster!.node(id).entries(from: index, through: index) {
                output.append("\(id) appended \(TraceFormat.entry(entry))")
            }
            noteEvents()
        case .failure(let error):
            output.append("error: \(ScenarioRunner.describe(error))")
        }
    }

    private mutating func propose(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        try requireMember(id, args)
        let text = args.positional.dropFirst().joined(separator: " ")
        guard !text.isEmpty else { throw args.fail("nothing to propose") }
        try args.finish(maxPositional: args.positional.count)
        let result = cluster!.with(id) { node -> Result<Raft.Index, any Error> in
            do { return .success(try node.propose(Array(text.utf8))) } catch { return .failure(error) }
        }
        reportProposal(id, result)
    }

    private mutating func proposeChange(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        guard args.positional.count == 3 else {
            throw args.fail("usage: propose-change 1 add-learner|promote|remove 4")
        }
        let kind: Raft.MembershipChange.Kind
        switch args.positional[1] {
        case "add-learner": kind = .addLearner
        case "promote": kind = .promote
        case "remove": kind = .remove
        default: throw args.fail("unknown change '\(args.positional[1])' (add-learner, promote, remove)")
        }
        let target = try args.node(at: 2)
        try args.finish(maxPositional: 3)
        try requireMember(id, args)
        let change = Raft.MembershipChange(kind, node: target)
        let result = cluster!.with(id) { node -> Result<Raft.Index, any Error> in
            do { return .success(try node.proposeMembershipChange(change)) } catch { return .failure(error) }
        }
        reportProposal(id, result)
    }

    private mutating func transfer(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        let target = try args.node(at: 1)
        try args.finish(maxPositional: 2)
        try requireMember(id, args)
        let error = cluster!.with(id) { node -> (any Error)? in
            do { try node.transferLeadership(to: target) } catch { return error }
            return nil
        }
        if let error { output.append("error: \(ScenarioRunner.describe(error))") }
    }

    private mutating func readIndex(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        guard let req = args.option("req"), let requestID = UInt64(req) else { throw args.fail("needs req=<number>") }
        try args.finish(maxPositional: 1)
        try requireMember(id, args)
        readsAsked[ReadKey(node: id, requestID: requestID)] = cluster!.checker.committedIndex
        let error = cluster!.with(id) { node -> (any Error)? in
            do { try node.readIndex(requestID: requestID) } catch { return error }
            return nil
        }
        if let error { output.append("error: \(ScenarioRunner.describe(error))") }
    }

    // MARK: Network

    /// Parses `1->2`, `*->2`, `1->*` (nil stands for any member).
    private func link(_ word: String, _ args: ScenarioArguments)
        throws(ScenarioError) -> (from: Raft.NodeID?, to: Raft.NodeID?)? {
        guard let arrow = word.firstRange(of: "->") else { return nil }
        let from = String(word[..<arrow.lowerBound])
        let to = String(word[arrow.upperBound...])
        return (from == "*" ? nil : try args.node(from), to == "*" ? nil : try args.node(to))
    }

    private static let kindNames: Set<String> = [
        "PreVote", "PreVoteResp", "Vote", "VoteResp", "App", "AppResp", "Heartbeat", "HeartbeatResp",
        "Snap", "SnapResp", "TimeoutNow", "ReadIndex", "ReadIndexResp",
    ]

    private mutating func deliver(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        var from: Raft.NodeID?
        var to: Raft.NodeID?
        var drop = false
        for word in args.positional {
            if word == "drop" {
                drop = true
            } else if let l = try link(word, args) {
                (from, to) = l
            } else {
                throw args.fail("unexpected argument '\(word)' (want 1->2, kind=..., n=..., drop)")
            }
        }
        var kinds: Set<String>?
        if let list = args.option("kind") {
            let names = Set(list.split(separator: ",").map(String.init))
            if let bad = names.first(where: { !Self.kindNames.contains($0) }) {
                let known = Self.kindNames.sorted().joined(separator: " ")
                throw args.fail("unknown message kind '\(bad)' (known: \(known))")
            }
            kinds = names
        }
        let limit = try args.int("n", default: Int.max, min: 1)
        try args.finish(maxPositional: args.positional.count)
        func matches(_ m: Raft.Message) -> Bool {
            if let from, m.from != from { return false }
            if let to, m.to != to { return false }
            if let kinds {
                let name = TraceFormat.kind(m.kind).prefix { $0 != " " }
                if !kinds.contains(String(name)) { return false }
            }
            return true
        }
        // Choose now: messages caused by these deliveries are not part of this command.
        var chosen = 0
        var position = 0
        let total = cluster!.inFlight.count
        var examined = 0
        while examined < total && chosen < limit {
            examined += 1
            guard matches(cluster!.inFlight[position]) else {
                position += 1
                continue
            }
            chosen += 1
            if drop {
                try dropOne(at: position, line: args.line)
            } else {
                try deliverOne(at: position, line: args.line)  // new messages go to the end
            }
        }
        if chosen == 0 { output.append("no matching message in flight") }
    }

    private mutating func stabilize(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        try args.finish(maxPositional: 0)
        var delivered = 0
        while !cluster!.inFlight.isEmpty {
            delivered += 1
            guard delivered <= Self.stabilizeDeliveriesMax else {
                throw args.fail("did not stabilize within \(Self.stabilizeDeliveriesMax) deliveries")
            }
            try deliverOne(at: 0, line: args.line)
        }
    }

    private mutating func network(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        switch args.command {
        case "isolate":
            let id = try args.node(at: 0)
            try args.finish(maxPositional: 1)
            try requireMember(id, args, mayBeDown: true)
            cluster!.isolate(id)
        case "cut":
            try args.finish(maxPositional: 1)
            guard let word = args.positional.first else { throw args.fail("usage: cut 1->2 or cut 1<->2") }
            let both = word.contains("<->")
            guard let l = try link(word.replacing("<->", with: "->"), args),
                  let from = l.from, let to = l.to, from != to else {
                throw args.fail("usage: cut 1->2 or cut 1<->2")
            }
            try requireMember(from, args, mayBeDown: true)
            try requireMember(to, args, mayBeDown: true)
            cluster!.cut(from, to)
            if both { cluster!.cut(to, from) }
        default:
            try args.finish(maxPositional: 0)
            cluster!.heal()
        }
    }

    // MARK: Failures

    private mutating func crashOrRestart(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        if args.command == "crash" {
            let survive = try args.int("survive", default: 0)
            try args.finish(maxPositional: 1)
            try requireMember(id, args)
            cluster!.crash(id, keepSomeUnsynced: survive > 0)
            noteEvents()
        } else {
            try args.finish(maxPositional: 1)
            try requireMember(id, args, mayBeDown: true)
            guard !cluster!.hosts[id]!.isUp else { throw args.fail("member \(id) is running") }
            cluster!.restart(id)
            noteEvents(logFirst: true)
        }
    }

    private mutating func disk(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let id = try args.node(at: 0)
        try args.finish(maxPositional: 1)
        try requireMember(id, args, mayBeDown: true)
        if args.command == "stall-disk" {
            cluster!.stalledDisks.insert(id)
        } else {
            cluster!.syncDisk(id)
        }
    }

    // MARK: Inspection

    private mutating func inspect(_ args: inout ScenarioArguments) throws(ScenarioError) {
        try requireCluster(args)
        let cluster = self.cluster!
        switch args.command {
        case "status":
            var ids = try args.nodes(from: 0)
            try args.finish(maxPositional: ids.count)
            if ids.isEmpty { ids = cluster.hosts.keys.sorted() }
            for id in ids {
                try requireMember(id, args, mayBeDown: true)
                output.append(cluster.hosts[id]!.isUp ? TraceFormat.status(cluster.status(id)) : "\(id): down")
            }
        case "log":
            let id = try args.node(at: 0)
            try args.finish(maxPositional: 1)
            try requireMember(id, args, mayBeDown: true)
            let host = cluster.hosts[id]!
            let snapshot: (index: Raft.Index, term: Raft.Term)
            let entries: [Raft.Entry]
            if let node = host.node {
                let status = node.status
                snapshot = (status.snapshotIndex, node.term(at: status.snapshotIndex) ?? 0)
                entries = node.entries(from: status.snapshotIndex + 1, through: status.lastIndex)
            } else {
                output.append("(down: its durable log)")
                snapshot = (0, 0)
                entries = host.durableLog() ?? []
            }
            if snapshot.index > 0 { output.append("snapshot \(snapshot.index)/\(snapshot.term)") }
            output += entries.map(TraceFormat.entry)
            if entries.isEmpty && snapshot.index == 0 { output.append("(empty)") }
        case "membership":
            let id = try args.node(at: 0)
            try args.finish(maxPositional: 1)
            try requireMember(id, args)
            output.append(TraceFormat.membership(cluster.status(id).membership))
        case "in-flight":
            try args.finish(maxPositional: 0)
            output += cluster.inFlight.map(TraceFormat.message)
            if cluster.inFlight.isEmpty { output.append("(none)") }
        default:  // reads
            try args.finish(maxPositional: 0)
            let states = cluster.readStates.dropFirst(readsPrinted)
            readsPrinted = cluster.readStates.count
            for (node, state) in states {
                output.append("\(node): req=\(state.requestID) index=\(state.index.map(String.init) ?? "none")")
            }
            if states.isEmpty { output.append("(none)") }
        }
    }
}
