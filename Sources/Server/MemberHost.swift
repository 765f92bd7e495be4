import RaftCore
import RaftStorage
import Transport

// The seams between a member and the world it runs in. In production (`LoopMemberHost`) that
// is the libuv loop, threads, POSIX files and TCP; in the simulator (SimKit's
// `MemberSimulation`) virtual time, a seeded network that drops and delays, and a disk that
// loses what was not synced. Everything the member decides is the same code in both.

/// The world around one member: its clocks, where blocking work goes, its WAL writer, its
/// peer network and its ticks. Every callback it makes runs on the member's loop.
public protocol MemberHost: AnyObject {
    /// Monotonic time in nanoseconds (timeouts, deadlines, stall detection).
    var monotonicNanoseconds: UInt64 { get }
    /// Wall-clock seconds since the Unix epoch (timestamps in objects).
    var unixSeconds: Int64 { get }
    /// Wall-clock microseconds since the Unix epoch (lease renewals).
    var unixMicroseconds: Int64 { get }
    /// A seed for the member's own randomness (Raft's election jitter, object uids).
    func randomSeed() -> UInt64
    /// Runs `work` away from the loop (a thread; in the simulator, later and in order), then
    /// `then` on the loop with its result. `bulk` work yields the processor to the loop.
    func background<T: Sendable>(bulk: Bool, _ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void)
    /// Runs `body` on the loop once, `milliseconds` from now.
    func after(milliseconds: UInt64, _ body: @escaping () -> Void)
    /// Starts the member's clock: `tick` every `tickMilliseconds`, and `endOfIteration` once
    /// after each turn of the loop in which anything ran (where scheduled pumps happen).
    func startTicking(tickMilliseconds: Int, tick: @escaping () -> Void, endOfIteration: @escaping () -> Void)
    /// The writer that makes the member's WAL durable; `onDurable` runs on the loop.
    func makeWALWriter(wal: WriteAheadLog, onDurable: @escaping (_ tokens: [UInt64], _ error: StorageError?) -> Void) -> WALWriter
    /// The member's connections to its peers (listening on `listenHost:listenPort`).
    func makePeerNetwork(localID: UInt64, listenHost: String, listenPort: UInt16, clusterSecret: [UInt8],
                         helloContext: [UInt8], handlers: PeerTransport.Handlers) throws -> PeerNetwork
    /// Stops ticking and everything the host runs for the member (the loop returns).
    func stop()
}

/// Where a member's persistence goes: each Ready's batch, made durable in submission order.
public protocol WALWriter: AnyObject {
    func submit(_ batch: GroupCommitWorker.Batch)
    /// Drops WAL segments a durable snapshot at `index` covers.
    func compact(through index: Raft.Index)
    /// Finishes what is queued; nothing completes afterwards.
    func stop()
    var statistics: (syncs: Int, batches: Int) { get }
    var syncLatencyHistogram: GroupCommitWorker.LatencyHistogram { get }
}

extension GroupCommitWorker: WALWriter {}

/// A member's authenticated connections to the other members.
public protocol PeerNetwork: AnyObject {
    /// Queues `payload` for `peer`; false when it cannot be sent (no connection, queue full).
    func send(to peer: UInt64, _ payload: [UInt8]) -> Bool
    /// Sends what is queued now instead of at the end of the loop's turn.
    func flushQueued()
    func setPeer(_ id: UInt64, host: String, port: UInt16)
    func removePeer(_ id: UInt64)
    func isConnected(_ id: UInt64) -> Bool
    /// Milliseconds since anything last arrived from `peer`; nil when nothing ever did.
    func silenceMilliseconds(of peer: UInt64) -> UInt64?
    /// What the peer said in its handshake (its incarnation and cluster version).
    func remoteContext(of id: UInt64) -> [UInt8]?
    /// What this member says in its handshakes.
    var helloContext: [UInt8] { get set }
    var stats: [UInt64: PeerTransport.PeerStats] { get }
    var failedHandshakes: UInt64 { get }
    var refusedHandshakes: UInt64 { get }
    func close()
}

extension PeerTransport: PeerNetwork {}

/// Production: one libuv loop; the WAL and blocking work on threads; TCP peers.
public final class LoopMemberHost: MemberHost {
    public let loop: EventLoop
    private var tickTimer: LoopTimer?
    private var iterationCheck: LoopCheck?

    public init(loop: EventLoop) { self.loop = loop }

    /// Every member pings every other this often: followers hear from each other only
    /// through pings, and each member's service proxy stops sending to a host it has not heard
    /// from for `PeerReachability.silenceMillisecondsMax` (a few pings missed), well before the
    /// leader declares the host lost (docs/proxy.md). A ping is a 30-byte frame.
    public static let peerPingIntervalMilliseconds = 100

    public var monotonicNanoseconds: UInt64 { MonotonicClock.nowNanoseconds }
    public var unixSeconds: Int64 { WallClock.now().seconds }
    public var unixMicroseconds: Int64 {
        let (seconds, nanoseconds) = WallClock.now()
        return seconds * 1_000_000 + nanoseconds / 1_000
    }

    public func randomSeed() -> UInt64 {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }

    public func background<T: Sendable>(bulk: Bool, _ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void) {
        inBackground(on: loop, bulk: bulk, work, then: then)
    }

    public func after(milliseconds: UInt64, _ body: @escaping () -> Void) {
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: Int(milliseconds), repeatMilliseconds: 0) {
            body()
            timer.close()  // the closure held the timer until it fired
        }
    }

    public func startTicking(tickMilliseconds: Int, tick: @escaping () -> Void, endOfIteration: @escaping () -> Void) {
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: tickMilliseconds, repeatMilliseconds: tickMilliseconds, tick)
        tickTimer = timer
        let check = LoopCheck(loop: loop)
        check.start(endOfIteration)
        iterationCheck = check
    }

    public func makeWALWriter(wal: WriteAheadLog, onDurable: @escaping ([UInt64], StorageError?) -> Void) -> WALWriter {
        let onLoop = LoopConfined(onDurable)
        return GroupCommitWorker(wal: wal) { [loop] tokens, error in
            loop.post { onLoop.value(tokens, error) }
        }
    }

    public func makePeerNetwork(localID: UInt64, listenHost: String, listenPort: UInt16, clusterSecret: [UInt8],
                                helloContext: [UInt8], handlers: PeerTransport.Handlers) throws -> PeerNetwork {
        var configuration = PeerTransport.Configuration()
        configuration.pingIntervalMilliseconds = Self.peerPingIntervalMilliseconds
        let transport = try PeerTransport(loop: loop, localID: localID, listenHost: listenHost, listenPort: listenPort,
                                          clusterSecret: clusterSecret, helloContext: helloContext, configuration: configuration)
        transport.handlers = handlers
        return transport
    }

    public func stop() {
        tickTimer?.stop()
        iterationCheck?.close()
        loop.stop()
    }
}
