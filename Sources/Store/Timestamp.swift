/// RFC 3339 timestamps in the one form Kubernetes writes for `metav1.Time`:
/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds). The store never reads a clock: the proposing
/// leader formats its clock's reading with `format(unixSeconds:)` and puts the text in the
/// command; every member checks it with `isValid`.
public enum Timestamp {
    /// `unixSeconds` (seconds since 1970-01-01T00:00:00Z) as `YYYY-MM-DDTHH:MM:SSZ`.
    /// Years outside 0...9999 are clamped to that range's ends.
    public static func format(unixSeconds: Int64) -> String {
        let minSeconds: Int64 = -62_167_219_200  // 0000-01-01T00:00:00Z
        let maxSeconds: Int64 = 253_402_300_799  // 9999-12-31T23:59:59Z
        let seconds = min(max(unixSeconds, minSeconds), maxSeconds)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        return digits(year, 4) + "-" + digits(month, 2) + "-" + digits(day, 2) + "T"
            + digits(secondOfDay / 3600, 2) + ":" + digits(secondOfDay / 60 % 60, 2) + ":" + digits(secondOfDay % 60, 2) + "Z"
    }

    /// Whether `text` is `YYYY-MM-DDTHH:MM:SSZ` naming a real calendar date (leap years
    /// included) and a time of day (second 60 allowed for a leap second).
    public static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count == 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "Z") else { return false }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(b[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return false }
        guard (1...12).contains(month), hour <= 23, minute <= 59, second <= 60 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day >= 1 && day <= monthDays[Int(month) - 1]
    }

    /// Howard Hinnant's civil_from_days: the proleptic Gregorian date `days` after 1970-01-01.
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func digits(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
