import Server

/// An unordered pair of members: a link between them.
struct SimLink: Hashable {
    let low: UInt64
    let high: UInt64
    init(_ a: UInt64, _ b: UInt64) {
        low = min(a, b)
        high = max(a, b)
    }
}

/// The simulated network: which links are up (a connection both sides accepted), which are
/// cut (packets vanish; the link stays up until its silence timeout, as with TCP), and the
/// last delivery time per direction (deliveries keep their order, as over one connection).
struct SimNetworkState {
    /// How often links are brought up or given up, in virtual milliseconds.
    static let maintenanceMilliseconds: UInt64 = 20

    var up: Set<SimLink> = []
    var cut: Set<SimLink> = []
    var cutSince: [SimLink: UInt64] = [:]
    /// Bumped each time a link comes up: deliveries of an older connection are lost.
    var epoch: [SimLink: UInt64] = [:]
    var lastDelivery: [SimLink: [UInt64: UInt64]] = [:]
}

extension MemberSimulation {
    func linkUp(_ a: UInt64, _ b: UInt64) -> Bool { network.up.contains(SimLink(a, b)) }

    /// Sends over the link if it is up: false when it is not (the sender counts a drop), true
    /// when sent — which over a cut link means lost.
    func send(from: UInt64, to: UInt64, _ payload: [UInt8]) -> Bool {
        let link = SimLink(from, to)
        guard network.up.contains(link), let target = members[to], target.isUp else { return false }
        if network.cut.contains(link) { return true }
        let delay = random.chance(1, in: 10) ? 5 + random.below(30) : 1 + random.below(3)
        let at = max(now + delay, network.lastDelivery[link]?[to] ?? 0)
        network.lastDelivery[link, default: [:]][to] = at
        let epoch = network.epoch[link] ?? 0
        schedule(to, run: target.run, after: at - now) { [unowned self] in
            guard self.network.up.contains(link), self.network.epoch[link] == epoch, !self.network.cut.contains(link) else { return }
            self.members[to]!.network?.noteHeard(from: from, now: self.now)
            self.members[to]!.network?.handlers.onMessage(from, payload)
        }
        return true
    }

    /// Brings up links between running members that are not cut (each side accepts the
    /// other's handshake, as the transport asks the member), and gives up links cut for
    /// longer than the silence timeout.
    func maintainLinks() {
        for (i, a) in ids.enumerated() {
            for b in ids[(i + 1)...] {
                let link = SimLink(a, b)
                if network.up.contains(link) {
                    if let since = network.cutSince[link], now >= since + options.silenceTimeoutMilliseconds { linkDown(link) }
                    continue
                }
                guard !network.cut.contains(link), let left = members[a], let right = members[b], left.isUp, right.isUp,
                      let leftNetwork = left.network, let rightNetwork = right.network else { continue }
                var accepted = true
                onMember(a, run: left.run) { accepted = accepted && leftNetwork.handlers.acceptPeer(b, rightNetwork.helloContext) }
                onMember(b, run: right.run) { accepted = accepted && rightNetwork.handlers.acceptPeer(a, leftNetwork.helloContext) }
                guard accepted else {
                    leftNetwork.noteRefused()
                    continue
                }
                network.up.insert(link)
                network.epoch[link, default: 0] += 1
                network.lastDelivery[link] = nil
                onMember(a, run: left.run) { leftNetwork.handlers.onPeerUp(b) }
                onMember(b, run: right.run) { rightNetwork.handlers.onPeerUp(a) }
            }
        }
    }

    /// The link's connection is gone: both sides hear so (if running).
    func linkDown(_ link: SimLink) {
        guard network.up.remove(link) != nil else { return }
        network.lastDelivery[link] = nil
        for (side, other) in [(link.low, link.high), (link.high, link.low)] {
            guard let member = members[side], member.isUp, let peers = member.network else { continue }
            onMember(side, run: member.run) { peers.handlers.onPeerDown(other) }
        }
    }

    /// A member dropped a peer from its set (it left the membership).
    func dropLink(_ a: UInt64, _ b: UInt64) {
        linkDown(SimLink(a, b))
    }

    func cut(_ link: SimLink) {
        guard network.cut.insert(link).inserted else { return }
        network.cutSince[link] = now
        report.cuts += 1
        note("cut \(members[link.low]!.address) – \(members[link.high]!.address)")
    }

    func heal(_ link: SimLink) {
        guard network.cut.remove(link) != nil else { return }
        network.cutSince[link] = nil
        note("heal \(members[link.low]!.address) – \(members[link.high]!.address)")
    }
}

/// The faults of a member simulation, decided once per tick from the seed.
enum SimNemesis {
    /// Per-tick chances, in permille.
    static let crashPermille: UInt64 = 4
    static let isolatePermille: UInt64 = 4
    static let cutLinkPermille: UInt64 = 4
    static let healPermille: UInt64 = 30

    static func act(on world: MemberSimulation) {
        let ids = world.ids
        let down = ids.filter { !world.members[$0]!.isUp }.count
        // Keep a majority running: the cluster must keep serving through single failures.
        if down < (ids.count - 1) / 2, world.random.below(1000) < crashPermille {
            let victim = pickLeaderOrAny(world)
            world.report.crashes += 1
            world.crash(victim, why: "nemesis")
        }
        if world.random.below(1000) < isolatePermille {
            let victim = pickLeaderOrAny(world)
            for other in ids where other != victim { world.cut(SimLink(victim, other)) }
        }
        if world.random.below(1000) < cutLinkPermille {
            let a = ids[Int(world.random.below(UInt64(ids.count)))]
            let b = ids[Int(world.random.below(UInt64(ids.count)))]
            if a != b { world.cut(SimLink(a, b)) }
        }
        if !world.network.cut.isEmpty, world.random.below(1000) < healPermille {
            let cuts = world.network.cut.sorted { ($0.low, $0.high) < ($1.low, $1.high) }
            world.heal(cuts[Int(world.random.below(UInt64(cuts.count)))])
        }
    }

    /// The leader half of the time (its loss is what tests hand-over), else anyone up.
    static func pickLeaderOrAny(_ world: MemberSimulation) -> UInt64 {
        let running = world.ids.filter { world.members[$0]!.isUp }
        if world.random.chance(1, in: 2), let leader = running.first(where: { world.members[$0]!.member!.isLeader }) { return leader }
        return running.isEmpty ? world.ids[0] : running[Int(world.random.below(UInt64(running.count)))]
    }
}
