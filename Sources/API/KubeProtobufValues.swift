import JSON
import Store

/// The small wrapper messages Kubernetes uses for its scalar types, read into their JSON
/// forms (see `KubeProtobuf`).
enum KubeProtobufValues {
    typealias Field = KubeProtobufReader.Field

    /// Earliest and latest seconds Go's JSON writes for a `metav1.Time` (years 0 to 9999;
    /// Go refuses to encode anything else).
    static let timeSecondsRange: ClosedRange<Int64> = -62_167_219_200...253_402_300_799
    static let nanosecondsPerSecond: Int64 = 1_000_000_000

    /// `intstr.IntOrString` { 1: type (0 int, 1 string), 2: intVal, 3: strVal }.
    static func intOrString(_ decoder: KubeProtobufDecoder, _ field: Field) throws(KubeProtobufError) -> JSONValue {
        var reader = KubeProtobufReader(decoder.bytes, field.range)
        var type: UInt64 = 0
        var intValue: Int32 = 0
        var stringValue = ""
        while let member = try reader.next() {
            switch member.number {
            case 1:
                try decoder.expect(member, .varint)
                type = member.bits
            case 2:
                try decoder.expect(member, .varint)
                intValue = Int32(truncatingIfNeeded: member.bits)
            case 3:
                stringValue = try decoder.string(member)
            default:
                continue
            }
        }
        switch type {
        case 0: return .int(Int64(intValue))
        case 1: return .string(stringValue)
        default:
            throw KubeProtobufError(.invalidValue("an IntOrString's type must be 0 (int) or 1 (string), not \(type)"),
                                    offset: field.offset)
        }
    }

    /// `resource.Quantity` { 1: string }; an empty one is Go's zero Quantity, "0".
    static func quantity(_ decoder: KubeProtobufDecoder, _ field: Field) throws(KubeProtobufError) -> JSONValue {
        var reader = KubeProtobufReader(decoder.bytes, field.range)
        var text = ""
        while let member = try reader.next() {
            if member.number == 1 { text = try decoder.string(member) }
        }
        return .string(text.isEmpty ? "0" : text)
    }

    /// `metav1.Time` / `metav1.MicroTime` as a Timestamp { 1: seconds, 2: nanos }. An empty
    /// message is the zero time, which Go writes as null. `Time` drops the nanoseconds (Go's
    /// unmarshalling does); `MicroTime` keeps microseconds.
    static func time(_ decoder: KubeProtobufDecoder, _ field: Field, micro: Bool) throws(KubeProtobufError) -> JSONValue {
        if field.range.isEmpty { return .null }
        var reader = KubeProtobufReader(decoder.bytes, field.range)
        var seconds: Int64 = 0
        var nanos: Int64 = 0
        while let member = try reader.next() {
            switch member.number {
            case 1:
                try decoder.expect(member, .varint)
                seconds = Int64(bitPattern: member.bits)
            case 2:
                try decoder.expect(member, .varint)
                nanos = Int64(Int32(truncatingIfNeeded: member.bits))
            default:
                continue
            }
        }
        guard timeSecondsRange.contains(seconds) else {
            throw KubeProtobufError(.invalidValue("a time must fall in the years 0 to 9999"), offset: field.offset)
        }
        guard micro else { return .string(MetaTime(unixSeconds: seconds).description) }
        guard nanos >= 0, nanos < nanosecondsPerSecond else {
            throw KubeProtobufError(.invalidValue("a time's nanoseconds must be within 0...999999999"), offset: field.offset)
        }
        return .string(MicroTime(unixSeconds: seconds, microseconds: Int32(nanos / 1000)).description)
    }

    /// `metav1.Duration` { 1: nanoseconds } as Go's `time.Duration.String()` writes it.
    static func duration(_ decoder: KubeProtobufDecoder, _ field: Field) throws(KubeProtobufError) -> JSONValue {
        var reader = KubeProtobufReader(decoder.bytes, field.range)
        var nanoseconds: Int64 = 0
        while let member = try reader.next() {
            if member.number == 1 {
                try decoder.expect(member, .varint)
                nanoseconds = Int64(bitPattern: member.bits)
            }
        }
        return .string(goDuration(nanoseconds))
    }

    /// Go's `time.Duration.String()`: "0s", "1.5µs", "300ms", "2m3.5s", "1h0m0s".
    static func goDuration(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let total = nanoseconds.magnitude
        let second = UInt64(nanosecondsPerSecond)
        if total < second {
            // Below a second Go picks the largest unit that keeps an integer part.
            if total < 1_000 { return sign + decimal(total, places: 0) + "ns" }
            if total < 1_000_000 { return sign + decimal(total, places: 3) + "µs" }
            return sign + decimal(total, places: 6) + "ms"
        }
        let wholeSeconds = total / second
        var text = decimal(wholeSeconds % 60 * second + total % second, places: 9) + "s"
        let minutes = wholeSeconds / 60
        if minutes > 0 {
            text = String(minutes % 60) + "m" + text
            let hours = minutes / 60
            if hours > 0 { text = String(hours) + "h" + text }
        }
        return sign + text
    }

    /// `value` / 10^`places` in decimal, without trailing zeros in the fraction (and without
    /// the point when the fraction is zero).
    static func decimal(_ value: UInt64, places: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<places { scale *= 10 }
        let integer = String(value / scale)
        var fraction = value % scale
        guard fraction > 0 else { return integer }
        var digits = places
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return integer + "." + String(repeating: "0", count: digits - text.count) + text
    }
}
