// Polls every member's status API (one thread and one keep-alive connection per member) and
// records each change of role, term or leader with its monotonic time: how `shoal-bench
// failover` sees when a new leader appears and whether an old one comes back.
import Foundation

/// A member's view that differed from its previous one.
struct LeadershipChange {
    var member: Int
    var view: MemberView
}

final class LeaderWatcher: @unchecked Sendable {
    /// How long one status request may take before the member counts as not answering.
    static let pollTimeoutNs: UInt64 = 100_000_000

    let system: FailoverSystem
    private let lock = NSLock()
    private var intervalNs: UInt64
    private var running = true
    private var latest: [MemberView?]
    private var changes: [LeadershipChange] = []
    private var finished = 0
    private var polls = 0

    init(system: FailoverSystem, intervalNs: UInt64) {
        self.system = system
        self.intervalNs = intervalNs
        latest = Array(repeating: nil, count: system.hosts.count)
    }

    func start() {
        for member in system.hosts.indices {
            let thread = Thread { [self] in poll(member) }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
        let deadline = monotonicNanoseconds() + Self.pollTimeoutNs + 1_000_000_000
        while monotonicNanoseconds() < deadline {
            lock.lock()
            let done = finished == system.hosts.count
            lock.unlock()
            if done { return }
            sleepNanoseconds(2_000_000)
        }
    }

    /// Polls every `ns` from now on (per member).
    func setInterval(_ ns: UInt64) {
        lock.lock(); defer { lock.unlock() }
        intervalNs = ns
    }

    /// The latest answer of each member (nil: its last poll failed).
    func views() -> [MemberView?] {
        lock.lock(); defer { lock.unlock() }
        return latest
    }

    /// Changes recorded at or after `ns`, oldest first.
    func changes(since ns: UInt64) -> [LeadershipChange] {
        lock.lock(); defer { lock.unlock() }
        guard let first = changes.firstIndex(where: { $0.view.atNs >= ns }) else { return [] }
        return Array(changes[first...])
    }

    /// Forgets changes older than `ns`.
    func dropChanges(before ns: UInt64) {
        lock.lock(); defer { lock.unlock() }
        changes.removeAll { $0.view.atNs < ns }
    }

    /// Status polls answered so far.
    var pollCount: Int { lock.lock(); defer { lock.unlock() }; return polls }

    /// The first moment after `ns` at which a member other than `old` said it leads at a
    /// term above `term`: (time, member, term).
    func firstNewLeader(after ns: UInt64, old: Int, term: UInt64) -> (atNs: UInt64, member: Int, term: UInt64)? {
        lock.lock(); defer { lock.unlock() }
        for change in changes where change.view.atNs >= ns && change.member != old && change.view.leads && change.view.term > term {
            return (change.view.atNs, change.member, change.view.term)
        }
        return nil
    }

    private func poll(_ member: Int) {
        let host = system.hosts[member]
        let client = KeepAliveHTTPClient(host: host.address, port: system.apiPort)
        let request = system.statusRequest(member: member)
        defer {
            lock.lock()
            finished += 1
            lock.unlock()
        }
        var previous: MemberView?
        while true {
            lock.lock()
            let interval = intervalNs
            let go = running
            lock.unlock()
            guard go else { return }
            let started = monotonicNanoseconds()
            var view: MemberView?
            if case .response(200, let body) = client.exchange(head: request.head, body: request.body,
                                                              deadline: started + Self.pollTimeoutNs) {
                view = system.parseStatus(body, member: member, atNs: monotonicNanoseconds())
            }
            lock.lock()
            latest[member] = view
            if let view {
                polls += 1
                if previous == nil || !previous!.sameLeadership(view) {
                    changes.append(LeadershipChange(member: member, view: view))
                }
                previous = view
            }
            lock.unlock()
            let elapsed = monotonicNanoseconds() - started
            if elapsed < interval { sleepNanoseconds(interval - elapsed) }
            else if view == nil { sleepNanoseconds(1_000_000) }
        }
    }
}
