import Foundation
import XCTest

@testable import Transport

final class EventLoopTests: XCTestCase {
    /// Work posted from many threads all runs, on the loop thread, in each thread's order.
    func testPostFromManyThreadsRunsEverythingOnTheLoopInOrder() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let threads = 8
        let postsPerThread = 2_000
        let seen = Unchecked([[Int]](repeating: [], count: threads))
        let offLoop = Unchecked(0)
        let loop = harness.loop
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            Thread {
                for index in 0..<postsPerThread {
                    XCTAssertTrue(loop.post {
                        if !loop.isOnLoopThread { offLoop.value += 1 }
                        seen.value[thread].append(index)
                    })
                }
                group.leave()
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + LoopHarness.waitSecondsMax), .success)
        harness.waitUntil("all posts ran") { seen.value.allSatisfy { $0.count == postsPerThread } }
        harness.sync {
            XCTAssertEqual(offLoop.value, 0)
            for list in seen.value { XCTAssertEqual(list, Array(0..<postsPerThread)) }
        }
    }

    /// The test thread is not the loop thread once the loop runs; the loop thread is.
    func testLoopThreadIdentity() {
        let harness = LoopHarness()
        defer { harness.stop() }
        XCTAssertEqual(harness.sync { harness.loop.isOnLoopThread }, true)
        XCTAssertFalse(harness.loop.isOnLoopThread)
    }

    /// stop() from another thread: work posted before it still runs, run() returns, and
    /// later posts are refused.
    func testStopRunsPendingWorkThenRefusesPosts() {
        let loop = EventLoop()
        let ran = Unchecked(0)
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<100 { loop.post { ran.value += 1 } }
        loop.stop()  // before run(): run() must still return
        Thread {
            loop.run()
            finished.signal()
        }.start()
        XCTAssertEqual(finished.wait(timeout: .now() + LoopHarness.waitSecondsMax), .success)
        XCTAssertEqual(ran.value, 100)
        XCTAssertFalse(loop.post {})
    }

    /// Shutting the loop down closes what is still open, and each connection's onClose runs
    /// exactly once.
    func testShutdownClosesOpenHandles() throws {
        let harness = LoopHarness()
        let closes = Unchecked(0)
        let fired = Unchecked(0)
        let accepted = Unchecked(false)
        let port = try XCTUnwrap(harness.sync { () -> UInt16? in
            let timer = LoopTimer(loop: harness.loop)
            timer.start(afterMilliseconds: 1, repeatMilliseconds: 1) { fired.value += 1 }
            let server = try? TCPServer(loop: harness.loop, host: "127.0.0.1", port: 0)
            server?.onConnection = { connection in
                connection.onClose = { _ in closes.value += 1 }
                connection.onData = { _ in }
                accepted.value = true
            }
            return server?.boundPort
        } ?? nil)
        let connected = Unchecked(false)
        harness.sync {
            TCPConnection.connect(loop: harness.loop, host: "127.0.0.1", port: port, timeoutMilliseconds: 5_000) { result in
                guard case .success(let connection) = result else { return XCTFail("connect failed: \(result)") }
                connection.onClose = { _ in closes.value += 1 }
                connection.onData = { _ in }
                connected.value = true
            }
        }
        harness.waitUntil("connected and the server side accepted") { connected.value && accepted.value }
        harness.waitUntil("timer fired") { fired.value > 3 }
        harness.stop()
        XCTAssertEqual(closes.value, 2)
    }

    func testMonotonicClockDoesNotGoBackwards() {
        var previous = MonotonicClock.nowNanoseconds
        for _ in 0..<1000 {
            let now = MonotonicClock.nowNanoseconds
            XCTAssertGreaterThanOrEqual(now, previous)
            previous = now
        }
    }

    func testUVErrorNamesTheCall() {
        XCTAssertThrowsError(try uvCheck("uv_example", UVError.connectionRefused)) { error in
            let error = error as? UVError
            XCTAssertEqual(error?.call, "uv_example")
            XCTAssertEqual(error?.code, UVError.connectionRefused)
            XCTAssertEqual(error?.name, "ECONNREFUSED")
            XCTAssertTrue(error?.description.contains("uv_example") ?? false)
        }
        XCTAssertNoThrow(try uvCheck("uv_example", 0))
        XCTAssertNoThrow(try uvCheck("uv_example", 7))
    }
}

final class LoopTimerTests: XCTestCase {
    /// A one-shot timer fires once, never before its delay in loop time.
    func testOneShotFiresOnceAfterItsDelay() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let fires = Unchecked([UInt64]())
        let startedAt = Unchecked<UInt64>(0)
        harness.sync {
            let timer = LoopTimer(loop: harness.loop)
            startedAt.value = harness.loop.nowMilliseconds
            timer.start(afterMilliseconds: 30) {
                fires.value.append(harness.loop.nowMilliseconds)
                // A later timer proves the first one does not fire again.
                let later = LoopTimer(loop: harness.loop)
                later.start(afterMilliseconds: 60) {
                    fires.value.append(0)
                    later.close()
                    timer.close()
                }
            }
        }
        harness.waitUntil("both timers fired") { fires.value.count == 2 }
        harness.sync {
            XCTAssertGreaterThanOrEqual(fires.value[0] - startedAt.value, 30)
            XCTAssertEqual(fires.value[1], 0)
        }
    }

    /// A repeating timer fires until stopped; a timer due after the stop sees no more fires.
    func testRepeatingTimerStops() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let count = Unchecked(0)
        let countAtCheck = Unchecked<Int?>(nil)
        let timer = Unchecked<LoopTimer?>(nil)
        harness.sync {
            timer.value = LoopTimer(loop: harness.loop)
            timer.value!.start(afterMilliseconds: 1, repeatMilliseconds: 2) { count.value += 1 }
        }
        harness.waitUntil("five fires") { count.value >= 5 }
        harness.sync {
            timer.value!.stop()
            XCTAssertFalse(timer.value!.isActive)
            let stoppedAt = count.value
            let check = LoopTimer(loop: harness.loop)
            check.start(afterMilliseconds: 20) {
                countAtCheck.value = count.value
                XCTAssertEqual(count.value, stoppedAt)
                check.close()
            }
        }
        harness.waitUntil("check ran") { countAtCheck.value != nil }
        harness.sync {
            // Closed timers ignore start; close is idempotent.
            timer.value!.close()
            timer.value!.close()
            timer.value!.start(afterMilliseconds: 0) { count.value += 1000 }
        }
        harness.idle(milliseconds: 20)
        harness.sync { XCTAssertLessThan(count.value, 1000) }
    }

    /// Restarting replaces both the schedule and the callback.
    func testRestartReplacesCallback() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let calls = Unchecked([String]())
        harness.sync {
            let timer = LoopTimer(loop: harness.loop)
            timer.start(afterMilliseconds: 10_000) { calls.value.append("old") }
            timer.start(afterMilliseconds: 1) {
                calls.value.append("new")
                timer.close()
            }
        }
        harness.waitUntil("new callback ran") { calls.value == ["new"] }
    }

    /// A check handle runs once per loop iteration, after the iteration's callbacks.
    func testLoopCheckRunsAfterCallbacks() {
        let harness = LoopHarness()
        defer { harness.stop() }
        let events = Unchecked([String]())
        harness.sync {
            let check = LoopCheck(loop: harness.loop)
            check.start {
                if events.value.last == "timer" {
                    events.value.append("check")
                    check.close()
                }
            }
            let timer = LoopTimer(loop: harness.loop)
            timer.start(afterMilliseconds: 5) {
                events.value.append("timer")
                timer.close()
            }
        }
        harness.waitUntil("check after timer") { events.value == ["timer", "check"] }
    }
}
