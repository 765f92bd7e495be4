// The watchers' side of `shoal-bench api`: a few threads, each reading many watch streams
// with one poll(2). One thread per watcher (100 of them) made the kernel's fair scheduler share
// the two processors among 100 runnable threads and the members' three loop threads, which
// starved the members (hundreds of loop stalls, elections) and measured the load generator
// instead of shoal; a handful of poll threads wake once for many ready streams.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns a chunked HTTP body, fed in pieces as it arrives, into its lines (watch events).
struct ChunkedLineDecoder {
    private enum State { case size, data(Int), dataEnd(Int), finished }
    private var state = State.size
    private var size = 0
    private var inExtension = false
    private var partial: [UInt8] = []
    /// Set when the body ended (the zero-size chunk) or its framing was malformed.
    private(set) var ended: String?

    /// Feeds bytes; calls `onLine` with each complete line (without its newline).
    mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ onLine: (UnsafeBufferPointer<UInt8>) -> Void) {
        var i = 0
        while i < bytes.count {
            switch state {
            case .finished:
                return
            case .size:
                let byte = bytes[i]
                i += 1
                switch byte {
                case UInt8(ascii: "\n"):
                    if size == 0 {
                        state = .finished
                        ended = "the server ended the watch"
                    } else {
                        state = .data(size)
                    }
                    size = 0
                    inExtension = false
                case UInt8(ascii: "\r"):
                    break
                case UInt8(ascii: ";"):
                    inExtension = true
                default:
                    if inExtension { break }
                    guard let digit = BenchSocket.hexValue(byte), size < 1 << 40 else {
                        state = .finished
                        ended = "malformed chunk size"
                        return
                    }
                    size = size * 16 + digit
                }
            case .data(let remaining):
                let take = min(remaining, bytes.count - i)
                lines(UnsafeBufferPointer(rebasing: bytes[i..<(i + take)]), onLine)
                i += take
                state = remaining == take ? .dataEnd(2) : .data(remaining - take)
            case .dataEnd(let left):
                i += 1
                state = left == 1 ? .size : .dataEnd(left - 1)
            }
        }
    }

    private mutating func lines(_ data: UnsafeBufferPointer<UInt8>, _ onLine: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard let base = data.baseAddress else { return }
        var start = 0
        while start < data.count {
            guard let p = memchr(base + start, 10, data.count - start) else {
                partial.append(contentsOf: UnsafeBufferPointer(rebasing: data[start...]))
                return
            }
            let end = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
            if partial.isEmpty {
                onLine(UnsafeBufferPointer(rebasing: data[start..<end]))
            } else {
                partial.append(contentsOf: UnsafeBufferPointer(rebasing: data[start..<end]))
                partial.withUnsafeBufferPointer { onLine($0) }
                partial.removeAll(keepingCapacity: true)
            }
            start = end + 1
        }
    }
}

/// One watch stream read by a `WatchReaderThread`.
final class WatchStreamState: @unchecked Sendable {
    let connection: HTTPSConnection
    let log: WatcherLog
    var decoder = ChunkedLineDecoder()
    var newest: UInt64 = 0
    var done = false

    init(connection: HTTPSConnection, log: WatcherLog) {
        self.connection = connection
        self.log = log
    }

    /// Handles decrypted body bytes that arrived at `arrived` (monotonic ns).
    func consume(_ bytes: UnsafeBufferPointer<UInt8>, arrived: UInt64) {
        log.bytes += bytes.count
        let log = self.log
        var newest = self.newest
        decoder.feed(bytes) { line in WatchPhase.record(line, arrived, log, &newest) }
        self.newest = newest
        if let ended = decoder.ended {
            log.error = log.error ?? ended
            done = true
        }
    }
}

/// Reads its streams (one `poll` over all of them) until each has seen what `stop` waits for.
enum WatchReaderThread {
    static func run(_ streams: [WatchStreamState], stop: StopSignal) {
        var fds = streams.map { pollfd(fd: $0.connection.fileDescriptor, events: Int16(POLLIN), revents: 0) }
        while true {
            if streams.allSatisfy({ $0.done || stop.shouldStop(seen: $0.newest) }) { return }
            let ready = poll(&fds, nfds_t(fds.count), 50)
            if ready < 0 {
                if errno == EINTR { continue }
                preconditionFailure("poll: \(String(cString: strerror(errno)))")
            }
            if ready == 0 { continue }
            for k in fds.indices where fds[k].revents != 0 {
                let stream = streams[k]
                let outcome = stream.connection.readAvailable { bytes, arrived in stream.consume(bytes, arrived: arrived) }
                if case .closed(let why) = outcome {
                    stream.log.error = stream.log.error ?? why
                    stream.done = true
                }
                if stream.done { fds[k].fd = -1 }  // poll ignores negative descriptors
            }
        }
    }
}
