import Foundation
import Store
import Transport

/// Admits typed writes (`Store.admit`) on a thread of its own, in the order they arrive, and
/// hands each result back to the loop.
///
/// Admission (decode, defaults, validation, encode) was most of what a member's loop spent on
/// a create, and the loop is the one thread a member's Raft, store and API share: under a
/// steady stream of creates the loop was the bottleneck while the machine had processor time
/// to spare. Admission reads only an immutable view of the store (`Store.admissionView`), so
/// it can run elsewhere; a result from a view that has since moved is caught when the entry
/// applies (`AdmittedWrite`), and admitted again. One thread and one FIFO queue keep the
/// writes of one client in the order it sent them.
final class AdmissionWorker: @unchecked Sendable {
    /// Writes queued at most; beyond this the loop admits inline (back-pressure without loss).
    static let queuedMax = 4_096

    private struct Job {
        let view: Store
        let write: TypedWrite
        let finish: LoopConfined<(AdmittedWrite?) -> Void>
    }

    private let loop: EventLoop
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var stopping = false
    private var thread: Thread?

    init(loop: EventLoop) {
        self.loop = loop
        // The thread holds the worker until `stop()` lets `run()` return.
        let thread = Thread { self.run() }
        thread.name = "shoal-admission"
        self.thread = thread
        thread.start()
    }

    /// Queues `write` for admission against `view`; `finish` runs on the loop with the result.
    /// False (nothing queued) when the queue is full or the worker stopped.
    func submit(_ write: TypedWrite, view: Store, finish: @escaping (AdmittedWrite?) -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, queue.count - head < Self.queuedMax else { return false }
        queue.append(Job(view: view, write: write, finish: LoopConfined(finish)))
        condition.signal()
        return true
    }

    /// Stops after the queued jobs (their results are dropped if the loop is gone).
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while head == queue.count && !stopping { condition.wait() }
            if head == queue.count && stopping {
                condition.unlock()
                return
            }
            let job = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            condition.unlock()
            let admitted = job.view.admit(job.write)
            let finish = job.finish
            _ = loop.post { finish.value(admitted) }
        }
    }
}
