import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// Small helpers for the agent's worker threads.

/// Errors gathered from parallel calls (the kill step's stops).
final class AgentErrors: Sendable {
    private let errors = Mutex<[String]>([])
    func append(_ error: String) { errors.withLock { $0.append(error) } }
    var all: [String] { errors.withLock { $0 } }
}

/// Runs `body(0..<count)` on as many threads as there are items (a pod's containers stop
/// together, each with its whole grace period) and returns when all are done.
func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    guard count > 0 else { return }
    guard count > 1 else { return body(0) }
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread.detach {
            body(index)
            group.leave()
        }
    }
    group.wait()
}

/// Whole seconds of a monotonic clock.
func monotonicSeconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec)
}

/// A plain thread (not Swift concurrency's pool: the calls made on it block).
enum Thread {
    static func detach(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
            box.body()
            return nil
        }, box)
        precondition(created == 0, "pthread_create failed: \(created)")
        pthread_detach(thread)
    }
}
