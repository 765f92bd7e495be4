import Foundation
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// Nice value of background threads that do bulk work (snapshots): the kernel then gives the
/// event loop, whose late heartbeats would start elections, nearly all of a busy CPU
/// (weight 1024 against 15), while the bulk work still always progresses.
let bulkWorkNiceValue: Int32 = 19

/// Runs blocking work (an HTTP call to another member, a snapshot) on its own thread and
/// hands the result to `finish` on the loop thread, which owns all state. `bulk` work runs
/// at `bulkWorkNiceValue`.
func inBackground<T: Sendable>(on loop: EventLoop, bulk: Bool = false, _ work: @escaping @Sendable () -> T,
                               then finish: @escaping (T) -> Void) {
    let onLoop = LoopConfined(finish)
    let thread = Thread {
        #if os(Linux)
        // Per-thread on Linux (NPTL): PRIO_PROCESS with id 0 sets the calling thread's nice value only.
        if bulk, setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, bulkWorkNiceValue) != 0 {
            Log.warn("could not lower the priority of a background thread (errno \(errno))")
        }
        #endif
        let result = work()
        loop.post { onLoop.value(result) }
    }
    thread.name = "shoal-background"
    thread.start()
}

/// A value created on the loop thread and only ever used there, carried through another
/// thread untouched (which is why the unchecked Sendable is sound).
struct LoopConfined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A large value to be freed on another thread: `free()` drops it there, whichever thread
/// lets go of the holder last. Handed over once, never read (hence the unchecked Sendable).
final class DroppedValue<Value>: @unchecked Sendable {
    private var value: Value?
    init(_ value: Value) { self.value = value }
    func free() { value = nil }
}
