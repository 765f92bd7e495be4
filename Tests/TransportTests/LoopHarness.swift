import Foundation
import XCTest

@testable import Transport

/// Carries loop-confined values across the `@Sendable` boundary of `EventLoop.post`; the
/// test only touches them on the loop thread (or after the loop handed them back through a
/// semaphore).
final class Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs an `EventLoop` on a thread of its own for one test. Every wait is bounded: a test
/// fails with a message instead of hanging.
final class LoopHarness: @unchecked Sendable {
    static let waitSecondsMax = 15.0

    let loop = EventLoop()
    private let finished = DispatchSemaphore(value: 0)
    private var stopped = false

    init() {
        let loop = loop
        let finished = finished
        let thread = Thread {
            loop.run()
            finished.signal()
        }
        thread.name = "transport-test-loop"
        thread.start()
    }

    deinit {
        if !stopped { stop() }
    }

    /// Runs `body` on the loop thread and returns its result (nil after a timeout, which
    /// also fails the test).
    @discardableResult
    func sync<Result>(file: StaticString = #filePath, line: UInt = #line,
                      _ body: @escaping () -> Result) -> Result? {
        let box = Unchecked<Result?>(nil)
        let work = Unchecked(body)
        let done = DispatchSemaphore(value: 0)
        guard loop.post({
            box.value = work.value()
            done.signal()
        }) else {
            XCTFail("loop already stopped", file: file, line: line)
            return nil
        }
        if done.wait(timeout: .now() + Self.waitSecondsMax) == .timedOut {
            XCTFail("loop did not run posted work within \(Self.waitSecondsMax) s", file: file, line: line)
            return nil
        }
        return box.value
    }

    /// Polls `condition` on the loop thread until it holds; fails the test after the bound.
    @discardableResult
    func waitUntil(_ what: String, seconds: Double = LoopHarness.waitSecondsMax,
                   file: StaticString = #filePath, line: UInt = #line,
                   _ condition: @escaping () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if sync(file: file, line: line, condition) == true { return true }
            usleep(2_000)
        }
        XCTFail("timed out after \(seconds) s waiting for \(what)", file: file, line: line)
        return false
    }

    /// Lets the loop run for a while (for "nothing more happens" checks, always followed by
    /// a deterministic assertion, never a timing one).
    func idle(milliseconds: Int) {
        usleep(useconds_t(milliseconds * 1000))
        sync {}
    }

    /// Stops the loop and waits for `run()` to return.
    func stop(file: StaticString = #filePath, line: UInt = #line) {
        stopped = true
        loop.stop()
        if finished.wait(timeout: .now() + Self.waitSecondsMax) == .timedOut {
            XCTFail("loop did not stop within \(Self.waitSecondsMax) s", file: file, line: line)
        }
    }
}
