#if canImport(Glibc)
import Glibc
#endif

/// Line-oriented logging to standard error: `2026-11-27T15:32:12.123Z info  message`.
/// Thread-safe (one write(2) per line).
public enum Log {
    public enum Level: String, Sendable { case debug, info, warn, error }

    /// Messages below this level are dropped (set once at start-up).
    nonisolated(unsafe) public static var minimum: Level = .info
    /// Drops every message (the simulator, whose members fail disks on purpose).
    nonisolated(unsafe) public static var muted = false

    public static func debug(_ message: @autoclosure () -> String) { write(.debug, message()) }
    public static func info(_ message: @autoclosure () -> String) { write(.info, message()) }
    public static func warn(_ message: @autoclosure () -> String) { write(.warn, message()) }
    public static func error(_ message: @autoclosure () -> String) { write(.error, message()) }

    private static func write(_ level: Level, _ message: String) {
        guard !muted, rank(level) >= rank(minimum) else { return }
        let line = "\(WallClock.iso8601Milliseconds()) \(level.rawValue.padding(5)) \(message)\n"
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    private static func rank(_ level: Level) -> Int {
        switch level {
        case .debug: return 0
        case .info: return 1
        case .warn: return 2
        case .error: return 3
        }
    }
}

/// The wall clock, for timestamps humans and Kubernetes objects read (never for timeouts:
/// those use the loop's monotonic time).
public enum WallClock {
    /// Seconds and nanoseconds since the Unix epoch.
    public static func now() -> (seconds: Int64, nanoseconds: Int64) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int64(ts.tv_sec), Int64(ts.tv_nsec))
    }

    /// `2026-11-27T15:32:12.123Z`.
    public static func iso8601Milliseconds() -> String {
        let (seconds, nanoseconds) = now()
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let millis = Int(nanoseconds / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
