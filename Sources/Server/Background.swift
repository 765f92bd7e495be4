import Foundation
import Transport

/// Runs blocking work (an HTTP call to another member, a snapshot) on its own thread and
/// hands the result to `finish` on the loop thread, which owns all state.
func inBackground<T: Sendable>(on loop: EventLoop, _ work: @escaping @Sendable () -> T,
                               then finish: @escaping (T) -> Void) {
    let onLoop = LoopConfined(finish)
    let thread = Thread {
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
