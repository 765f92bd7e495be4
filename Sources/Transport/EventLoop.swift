import CLibUV

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libuv loop (`uv_loop_t`) and the thread that owns it (design principle 8).
///
/// Every object bound to a loop (`LoopTimer`, `TCPServer`, `TCPConnection`, `PeerTransport`)
/// asserts that it is used on the loop thread. The loop thread is the thread that created the
/// loop until `run()` starts, and from then on the thread that called `run()`: set things up,
/// then hand the loop to its thread; from other threads, only `post` and `stop`.
///
/// Life: `init` → `run()` (blocks until `stop()`) → on its way out `run()` closes every handle
/// still open (their `onClose` callbacks run), runs work posted before the stop, and closes
/// the libuv loop. A loop runs once; objects created after `stop()` are born closed.
public final class EventLoop: @unchecked Sendable {
    /// Size of the buffer libuv reads into (shared by every connection of the loop: libuv
    /// calls the allocation and read callbacks back to back on the loop thread).
    public static let readBufferBytes = 64 * 1024
    /// Rounds of close-and-drain during shutdown before a handle that keeps reopening
    /// itself is treated as a bug.
    static let shutdownRoundsMax = 1000

    let uvLoop: UnsafeMutablePointer<uv_loop_t>
    let readBuffer: UnsafeMutableRawBufferPointer
    private let waker: LoopWaker
    private var hasRun = false
    private var isFinished = false
    /// True from the moment `run()` starts tearing down: no new handles, no reconnects.
    public private(set) var isShuttingDown = false

    public init() {
        uvLoop = UVHandle.allocate(uv_loop_t.self)
        uvMust("uv_loop_init", uv_loop_init(uvLoop))
        readBuffer = .allocate(byteCount: Self.readBufferBytes, alignment: 16)
        waker = LoopWaker(uvLoop: uvLoop)
    }

    deinit {
        if !isFinished {
            // Never run (or run() never returned, which cannot reach deinit): close what is
            // left, i.e. the waker, on whichever thread drops the last reference.
            waker.bindThread()
            finish()
        }
        readBuffer.deallocate()
        UVHandle.deallocateUninitialized(uvLoop)
    }

    // MARK: Running

    /// Runs the loop on the calling thread until `stop()`; then closes every handle still
    /// open and returns. Call once.
    public func run() {
        waker.bindThread()
        precondition(!hasRun, "EventLoop.run() called twice: a loop runs once")
        hasRun = true
        // The waker is an active, referenced handle, so uv_run only returns after uv_stop
        // (which the waker calls once stop() was requested).
        while !waker.isStopRequested {
            uv_run(uvLoop, UV_RUN_DEFAULT)
        }
        finish()
    }

    /// Asks the loop to stop. Thread-safe; work posted before the stop still runs.
    public func stop() {
        waker.requestStop()
    }

    /// Runs `work` on the loop thread during a later loop iteration. Thread-safe: this is how
    /// other threads (the WAL's group commit, process spawners) hand completions back.
    /// Returns false (and drops `work`) once the loop has shut down.
    @discardableResult
    public func post(_ work: @escaping @Sendable () -> Void) -> Bool {
        waker.post(work)
    }

    private func finish() {
        for work in waker.closeQueue() { work() }
        isShuttingDown = true
        var rounds = 0
        while true {
            uv_walk(uvLoop, closeForShutdown, nil)
            uv_run(uvLoop, UV_RUN_ONCE)
            if uv_loop_close(uvLoop) == 0 { break }
            rounds += 1
            precondition(rounds < Self.shutdownRoundsMax,
                         "EventLoop shutdown: handles still open after \(rounds) rounds of closing")
        }
        isFinished = true
    }

    // MARK: Thread confinement

    /// True when called on the thread that owns the loop.
    public var isOnLoopThread: Bool { waker.isOnBoundThread }

    /// Crashes (also in release builds) when called off the loop thread.
    public func assertOnLoopThread(
        _ context: @autoclosure () -> String = "", file: StaticString = #file, line: UInt = #line
    ) {
        if isOnLoopThread { return }
        let detail = context()
        preconditionFailure("used off its event loop's thread" + (detail.isEmpty ? "" : ": \(detail)"),
                            file: file, line: line)
    }

    // MARK: Time

    /// The loop's cached time in milliseconds (`uv_now`): updated once per iteration, the
    /// clock timers run on. Loop thread only.
    public var nowMilliseconds: UInt64 {
        assertOnLoopThread("EventLoop.nowMilliseconds")
        return uv_now(uvLoop)
    }

    /// Refreshes the cached time (`uv_update_time`) after a long synchronous stretch.
    public func updateTime() {
        assertOnLoopThread("EventLoop.updateTime")
        uv_update_time(uvLoop)
    }
}

/// The monotonic high-resolution clock (`uv_hrtime`), for metrics and round-trip times.
/// Not for protocol decisions: RaftCore counts ticks.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point; never goes backwards. Any thread.
    public static var nowNanoseconds: UInt64 { uv_hrtime() }
}

private func closeForShutdown(_ handle: UnsafeMutablePointer<uv_handle_t>?, _ argument: UnsafeMutableRawPointer?) {
    guard let handle, uv_is_closing(handle) == 0 else { return }
    guard let data = handle.pointee.data else {
        preconditionFailure("EventLoop shutdown: an open libuv handle without an owner")
    }
    let owner = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue()
    guard let owner = owner as? UVHandleOwner else {
        preconditionFailure("EventLoop shutdown: handle owned by \(type(of: owner)), not a UVHandleOwner")
    }
    owner.closeForLoopShutdown()
    precondition(uv_is_closing(handle) != 0, "EventLoop shutdown: \(type(of: owner)) left a handle open")
}
