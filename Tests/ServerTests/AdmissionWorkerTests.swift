import Foundation
import JSON
import Store
import Transport
import XCTest

@testable import Server

/// The admission worker admits on its own thread, hands every result back on the loop, in
/// the order the writes came, and refuses work once stopped.
final class AdmissionWorkerTests: XCTestCase {
    static let waitSeconds = 15.0

    /// Values handed between the loop thread and the test thread (after a semaphore).
    final class Shared<Value>: @unchecked Sendable {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    func write(_ name: String, image: JSONValue = .string("nginx:1.27")) -> TypedWrite {
        let body: JSONValue = .object([
            "apiVersion": .string("v1"), "kind": .string("Pod"),
            "metadata": .object(["name": .string(name)]),
            "spec": .object(["containers": .array([.object(["name": .string("web"), "image": image])])]),
        ])
        return TypedWrite(verb: .create, kind: "Pod", apiVersion: "v1", namespace: "default", name: name, body: body,
                          fieldValidation: .strict, uid: "uid-\(name)", now: "2026-12-05T00:00:00Z")
    }

    func testResultsComeBackOnTheLoopInSubmissionOrder() throws {
        var store = Store()
        _ = store.apply(index: 1, .setClusterVersion(version: 2, now: "2026-12-05T00:00:00Z"))
        let view = store.admissionView
        // Every 10th pod has an image that is not a string: admission leaves it to the full path (nil).
        let writes = (0..<200).map { i in write("pod-\(i)", image: i % 10 == 7 ? .int(7) : .string("nginx:1.27")) }

        let loop = EventLoop()
        let loopDone = DispatchSemaphore(value: 0)
        let loopThread = Thread {
            loop.run()
            loopDone.signal()
        }
        loopThread.start()

        let results = Shared<[(name: String, admitted: Bool, onLoop: Bool)]>([])
        let allBack = DispatchSemaphore(value: 0)
        let worker = Shared<AdmissionWorker?>(nil)
        let submitted = Shared(0)
        XCTAssertTrue(loop.post {
            let admissionWorker = AdmissionWorker(loop: loop)
            worker.value = admissionWorker
            for write in writes {
                let accepted = admissionWorker.submit(write, view: view) { admitted in
                    results.value.append((write.name, admitted != nil, loop.isOnLoopThread))
                    if results.value.count == writes.count { allBack.signal() }
                }
                if accepted { submitted.value += 1 }
            }
        })
        XCTAssertEqual(allBack.wait(timeout: .now() + Self.waitSeconds), .success, "the worker did not answer every write")

        let stoppedRefuses = Shared<Bool?>(nil)
        let checked = DispatchSemaphore(value: 0)
        XCTAssertTrue(loop.post {
            worker.value?.stop()
            stoppedRefuses.value = worker.value?.submit(writes[0], view: view) { _ in } == false
            checked.signal()
        })
        XCTAssertEqual(checked.wait(timeout: .now() + Self.waitSeconds), .success)
        loop.stop()
        XCTAssertEqual(loopDone.wait(timeout: .now() + Self.waitSeconds), .success)

        XCTAssertEqual(submitted.value, writes.count)
        XCTAssertEqual(results.value.map(\.name), writes.map { $0.name }, "results must come back in submission order")
        XCTAssertTrue(results.value.allSatisfy(\.onLoop), "results must be handed back on the loop thread")
        for (i, result) in results.value.enumerated() {
            XCTAssertEqual(result.admitted, i % 10 != 7, "\(result.name)")
        }
        XCTAssertEqual(stoppedRefuses.value, true, "a stopped worker must refuse new writes")
    }
}
