import CLibUV

/// An object that owns libuv handles and receives their callbacks.
///
/// libuv calls back with a bare handle pointer; the handle's `data` field carries its owner.
/// `UVHandle` is the one place that field is set (a retain: an open handle keeps its owner
/// alive, so a callback can never reach a freed object) and cleared (the release, in the
/// close callback, right before the handle's memory is freed).
protocol UVHandleOwner: AnyObject {
    /// The loop is shutting down: close every handle you own (your ordinary close path).
    func closeForLoopShutdown()
    /// The handle's close callback ran; its memory is about to be freed. Called once per
    /// handle, on the loop thread, before the owner's retain is released.
    func handleDidClose(_ handle: UnsafeMutablePointer<uv_handle_t>)
}

extension UVHandleOwner {
    func handleDidClose(_ handle: UnsafeMutablePointer<uv_handle_t>) {}
}

/// Allocation, ownership and closing of libuv handles (`uv_timer_t`, `uv_tcp_t`, ...),
/// the same for every handle type.
///
/// Life of a handle: `allocate` (zeroed memory) → `uv_*_init` → `attach` (retains the
/// owner) → callbacks find the owner with `owner(of:)` → `close` (`uv_close`) → the close
/// callback notifies the owner, releases it and frees the memory. A handle whose init
/// failed was never known to libuv and is freed with `deallocateUninitialized`.
enum UVHandle {
    static func allocate<Handle>(_ type: Handle.Type) -> UnsafeMutablePointer<Handle> {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: MemoryLayout<Handle>.size, alignment: MemoryLayout<Handle>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Handle>.size)
        return raw.bindMemory(to: Handle.self, capacity: 1)
    }

    static func deallocateUninitialized<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        UnsafeMutableRawPointer(handle).deallocate()
    }

    /// The generic view every libuv handle type starts with.
    static func base<Handle>(_ handle: UnsafeMutablePointer<Handle>) -> UnsafeMutablePointer<uv_handle_t> {
        UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
    }

    /// Stores a retained reference to `owner` in the handle's `data` (the one retain).
    static func attach<Handle>(_ handle: UnsafeMutablePointer<Handle>, owner: UVHandleOwner) {
        let base = base(handle)
        precondition(base.pointee.data == nil, "libuv handle attached to an owner twice")
        base.pointee.data = Unmanaged<AnyObject>.passRetained(owner as AnyObject).toOpaque()
    }

    /// The owner stored by `attach`, for use inside a libuv callback.
    static func owner<Owner: AnyObject>(of handle: UnsafeMutableRawPointer?, as ownerType: Owner.Type) -> Owner {
        guard let handle, let data = handle.assumingMemoryBound(to: uv_handle_t.self).pointee.data else {
            preconditionFailure("libuv callback for a handle without an owner (\(Owner.self))")
        }
        let object = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue()
        guard let owner = object as? Owner else {
            preconditionFailure("libuv handle owned by \(type(of: object)), expected \(Owner.self)")
        }
        return owner
    }

    static func isClosing<Handle>(_ handle: UnsafeMutablePointer<Handle>) -> Bool {
        uv_is_closing(base(handle)) != 0
    }

    /// `uv_close` with the shared close callback; closing twice is a no-op.
    static func close<Handle>(_ handle: UnsafeMutablePointer<Handle>) {
        let base = base(handle)
        if uv_is_closing(base) != 0 { return }
        uv_close(base, uvHandleDidClose)
    }
}

/// The close callback of every handle: tell the owner, release it, free the memory.
private func uvHandleDidClose(_ handle: UnsafeMutablePointer<uv_handle_t>?) {
    guard let handle else { return }
    if let data = handle.pointee.data {
        handle.pointee.data = nil
        let owner = Unmanaged<AnyObject>.fromOpaque(data)
        (owner.takeUnretainedValue() as? UVHandleOwner)?.handleDidClose(handle)
        owner.release()
    }
    UnsafeMutableRawPointer(handle).deallocate()
}
