import CLibUV

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The part of `EventLoop` other threads touch: a locked queue of posted work, the stop
/// request and the loop thread's identity, plus the `uv_async_t` that wakes the loop.
final class LoopWaker: UVHandleOwner, @unchecked Sendable {
    private let lock = Lock()
    private let uvLoop: UnsafeMutablePointer<uv_loop_t>
    private let async: UnsafeMutablePointer<uv_async_t>
    // Guarded by `lock`.
    private var queue: [@Sendable () -> Void] = []
    private var stopRequested = false
    private var closed = false
    private var thread: pthread_t

    init(uvLoop: UnsafeMutablePointer<uv_loop_t>) {
        self.uvLoop = uvLoop
        thread = pthread_self()
        async = UVHandle.allocate(uv_async_t.self)
        uvMust("uv_async_init", uv_async_init(uvLoop, async, loopWakerFired))
        UVHandle.attach(async, owner: self)
    }

    func bindThread() {
        lock.withLock { thread = pthread_self() }
    }

    var isOnBoundThread: Bool {
        let bound = lock.withLock { thread }
        return pthread_equal(bound, pthread_self()) != 0
    }

    var isStopRequested: Bool { lock.withLock { stopRequested } }

    func post(_ work: @escaping @Sendable () -> Void) -> Bool {
        lock.withLock {
            if closed { return false }
            queue.append(work)
            // Under the lock, so the handle cannot be closed between the check and the send.
            uvMust("uv_async_send", uv_async_send(async))
            return true
        }
    }

    func requestStop() {
        lock.withLock {
            stopRequested = true
            if !closed { uvMust("uv_async_send", uv_async_send(async)) }
        }
    }

    /// Refuses further posts and returns what is still queued (loop thread, shutdown).
    func closeQueue() -> [@Sendable () -> Void] {
        lock.withLock {
            closed = true
            defer { queue = [] }
            return queue
        }
    }

    /// Runs the queued work on the loop thread; stops the loop when asked to.
    fileprivate func drain() {
        let (work, stop) = lock.withLock { () -> ([@Sendable () -> Void], Bool) in
            defer { queue = [] }
            return (queue, stopRequested)
        }
        for item in work { item() }
        if stop { uv_stop(uvLoop) }
    }

    func closeForLoopShutdown() {
        UVHandle.close(async)
    }
}

private func loopWakerFired(_ handle: UnsafeMutablePointer<uv_async_t>?) {
    UVHandle.owner(of: handle, as: LoopWaker.self).drain()
}
