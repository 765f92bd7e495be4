import CLibUV

/// A libuv timer (`uv_timer_t`) on one loop. Loop thread only.
///
/// A started timer keeps itself alive (its handle retains it) until `close()`; the callback
/// is dropped when the handle is gone, which breaks any cycle through it. After `close()`,
/// or when created on a loop that is shutting down, `start` does nothing.
public final class LoopTimer: UVHandleOwner {
    public let loop: EventLoop
    private var handle: UnsafeMutablePointer<uv_timer_t>?
    private var callback: (() -> Void)?

    public init(loop: EventLoop) {
        loop.assertOnLoopThread("LoopTimer.init")
        self.loop = loop
        guard !loop.isShuttingDown else { return }
        let timer = UVHandle.allocate(uv_timer_t.self)
        uvMust("uv_timer_init", uv_timer_init(loop.uvLoop, timer))
        handle = timer
        UVHandle.attach(timer, owner: self)
    }

    /// Calls `callback` once after `afterMilliseconds`, then every `repeatMilliseconds` when
    /// that is above zero. Restarting replaces the previous schedule and callback.
    public func start(afterMilliseconds: some BinaryInteger, repeatMilliseconds: some BinaryInteger,
                      _ callback: @escaping () -> Void) {
        loop.assertOnLoopThread("LoopTimer.start")
        guard let handle, !UVHandle.isClosing(handle) else { return }
        self.callback = callback
        uvMust("uv_timer_start", uv_timer_start(
            handle, loopTimerFired, UInt64(clamping: afterMilliseconds), UInt64(clamping: repeatMilliseconds)))
    }

    /// Calls `callback` once after `afterMilliseconds`.
    public func start(afterMilliseconds: some BinaryInteger, _ callback: @escaping () -> Void) {
        start(afterMilliseconds: afterMilliseconds, repeatMilliseconds: 0, callback)
    }

    /// Stops the timer; it can be started again.
    public func stop() {
        loop.assertOnLoopThread("LoopTimer.stop")
        guard let handle, !UVHandle.isClosing(handle) else { return }
        uvMust("uv_timer_stop", uv_timer_stop(handle))
    }

    /// True while the timer is scheduled to fire.
    public var isActive: Bool {
        loop.assertOnLoopThread("LoopTimer.isActive")
        guard let handle, !UVHandle.isClosing(handle) else { return false }
        return uv_is_active(UVHandle.base(handle)) != 0
    }

    /// Stops the timer for good and releases its handle. Idempotent.
    public func close() {
        loop.assertOnLoopThread("LoopTimer.close")
        guard let handle else { return }
        callback = nil
        UVHandle.close(handle)
    }

    func closeForLoopShutdown() { close() }

    func handleDidClose(_ closed: UnsafeMutablePointer<uv_handle_t>) {
        handle = nil
        callback = nil
    }

    fileprivate func fire() {
        callback?()
    }
}

private func loopTimerFired(_ handle: UnsafeMutablePointer<uv_timer_t>?) {
    UVHandle.owner(of: handle, as: LoopTimer.self).fire()
}

/// Runs a callback once per loop iteration, right after libuv polled for I/O (`uv_check_t`):
/// the place to flush what the iteration's callbacks produced in one go (one write per
/// peer per iteration). Loop thread only.
public final class LoopCheck: UVHandleOwner {
    public let loop: EventLoop
    private var handle: UnsafeMutablePointer<uv_check_t>?
    private var callback: (() -> Void)?

    public init(loop: EventLoop) {
        loop.assertOnLoopThread("LoopCheck.init")
        self.loop = loop
        guard !loop.isShuttingDown else { return }
        let check = UVHandle.allocate(uv_check_t.self)
        uvMust("uv_check_init", uv_check_init(loop.uvLoop, check))
        handle = check
        UVHandle.attach(check, owner: self)
    }

    /// Calls `callback` at the end of every iteration until `stop()`.
    public func start(_ callback: @escaping () -> Void) {
        loop.assertOnLoopThread("LoopCheck.start")
        guard let handle, !UVHandle.isClosing(handle) else { return }
        self.callback = callback
        uvMust("uv_check_start", uv_check_start(handle, loopCheckFired))
    }

    public func stop() {
        loop.assertOnLoopThread("LoopCheck.stop")
        guard let handle, !UVHandle.isClosing(handle) else { return }
        uvMust("uv_check_stop", uv_check_stop(handle))
    }

    /// Idempotent.
    public func close() {
        loop.assertOnLoopThread("LoopCheck.close")
        guard let handle else { return }
        callback = nil
        UVHandle.close(handle)
    }

    func closeForLoopShutdown() { close() }

    func handleDidClose(_ closed: UnsafeMutablePointer<uv_handle_t>) {
        handle = nil
        callback = nil
    }

    fileprivate func fire() {
        callback?()
    }
}

private func loopCheckFired(_ handle: UnsafeMutablePointer<uv_check_t>?) {
    UVHandle.owner(of: handle, as: LoopCheck.self).fire()
}
