import JSON

/// A point in time as Kubernetes' `metav1.Time` writes it: RFC 3339 in UTC, whole seconds
/// (`2026-12-04T23:33:26Z`). Any RFC 3339 time is accepted on input (an offset, a fraction)
/// and kept as the UTC second it names, rounded down, as Kubernetes does.
public struct MetaTime: WireValue, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var unixSeconds: Int64

    public init(unixSeconds: Int64) { self.unixSeconds = unixSeconds }

    /// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`); nil for anything else.
    public init?(parsing text: String) {
        guard let parsed = RFC3339.parse(text) else { return nil }
        unixSeconds = parsed.seconds
    }

    public static var wireShape: WireShape { .time(micro: false) }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> MetaTime? {
        guard case .string(let text) = json else {
            context.typeMismatch(json, expected: "an RFC 3339 time string")
            return nil
        }
        guard let time = MetaTime(parsing: text) else {
            context.badValue(json, "must be an RFC 3339 time (e.g. \"2006-01-02T15:04:05Z\")")
            return nil
        }
        return time
    }
    public var wireJSON: JSONValue { .string(description) }
    public var isWireEmpty: Bool { false }
    public var description: String { Timestamp.format(unixSeconds: unixSeconds) }
    public static func < (a: MetaTime, b: MetaTime) -> Bool { a.unixSeconds < b.unixSeconds }
}

/// A point in time with microseconds (`metav1.MicroTime`: `2026-12-04T23:33:26.123456Z`).
public struct MicroTime: WireValue, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var unixSeconds: Int64
    /// Microseconds within the second, 0...999_999.
    public var microseconds: Int32

    public init(unixSeconds: Int64, microseconds: Int32 = 0) {
        precondition((0..<1_000_000).contains(microseconds), "microseconds \(microseconds) outside a second")
        self.unixSeconds = unixSeconds
        self.microseconds = microseconds
    }

    public init?(parsing text: String) {
        guard let parsed = RFC3339.parse(text) else { return nil }
        unixSeconds = parsed.seconds
        microseconds = parsed.nanoseconds / 1000
    }

    public static var wireShape: WireShape { .time(micro: true) }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> MicroTime? {
        guard case .string(let text) = json else {
            context.typeMismatch(json, expected: "an RFC 3339 time string")
            return nil
        }
        guard let time = MicroTime(parsing: text) else {
            context.badValue(json, "must be an RFC 3339 time with microseconds (e.g. \"2006-01-02T15:04:05.000000Z\")")
            return nil
        }
        return time
    }
    public var wireJSON: JSONValue { .string(description) }
    public var isWireEmpty: Bool { false }
    public var description: String {
        let base = Timestamp.format(unixSeconds: unixSeconds)
        let digits = String(microseconds)
        return String(base.dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }
    public static func < (a: MicroTime, b: MicroTime) -> Bool {
        (a.unixSeconds, a.microseconds) < (b.unixSeconds, b.microseconds)
    }
}

/// RFC 3339 parsing without Foundation.
enum RFC3339 {
    /// Seconds since the epoch (UTC) and nanoseconds within the second, or nil.
    static func parse(_ text: String) -> (seconds: Int64, nanoseconds: Int32)? {
        let b = Array(text.utf8)
        guard b.count >= 20, b.count <= 40, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(b[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") { i += 1 }
            guard i > start, i - start <= 9, let fraction = number(start..<i) else { return nil }
            nanos = fraction
            for _ in 0..<(9 - (i - start)) { nanos *= 10 }
        }
        guard i < b.count else { return nil }
        var offsetSeconds: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"),
                  let hours = number((i + 1)..<(i + 3)), let minutes = number((i + 4)..<(i + 6)),
                  hours <= 23, minutes <= 59 else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let dateText = String(decoding: b[0..<10], as: UTF8.self) + "T00:00:00Z"
        guard Timestamp.isValid(dateText), hour <= 23, minute <= 59, second <= 60 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return (seconds, Int32(nanos))
    }

    /// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
