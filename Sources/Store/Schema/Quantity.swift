import JSON

/// A resource amount as Kubernetes writes it: "500m" CPUs, "128Mi" bytes, "1e3", "2".
///
/// Parsed into an exact decimal (`mantissa` × 10^`exponent`) and kept in Kubernetes'
/// canonical spelling, so "0.5" is stored as "500m" and "1024Mi" as "1Gi", and two spellings
/// of one amount compare equal. Precision stops at 10^-9 (nano): finer amounts round up, as
/// Kubernetes rounds them. Amounts beyond what 64 bits hold (about 9.2e18 units) are refused
/// rather than approximated.
public struct Quantity: WireValue, Hashable, Comparable, CustomStringConvertible {
    /// The suffix family the amount was written in; the canonical form keeps it.
    public enum Format: Sendable, Hashable {
        /// Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024).
        case binarySI
        /// n, u, m, "", k, M, G, T, P, E (powers of 1000).
        case decimalSI
        /// e<N> or E<N> (powers of 10).
        case decimalExponent
    }

    /// The amount is `mantissa` × 10^`exponent`, with no trailing zeros in the mantissa.
    public let mantissa: Int64
    public let exponent: Int
    public let format: Format
    /// The canonical spelling.
    public let description: String

    /// Longest quantity text accepted, in bytes.
    static let textLengthMax = 64

    /// Parses Kubernetes' quantity syntax; nil when `text` is not one.
    public init?(_ text: String) {
        guard let (m, e, f) = Self.parse(text) else { return nil }
        self.init(mantissa: m, exponent: e, format: f)
    }

    /// An exact amount of whole units (decimal spelling).
    public init(units: Int64) { self.init(mantissa: units, exponent: 0, format: .decimalSI) }

    /// An amount of thousandths of a unit ("250m").
    public init(milliUnits: Int64) { self.init(mantissa: milliUnits, exponent: -3, format: .decimalSI) }

    private init(mantissa: Int64, exponent: Int, format: Format) {
        var m = mantissa
        var e = exponent
        while m != 0 && m % 10 == 0 { m /= 10; e += 1 }
        if m == 0 { e = 0 }
        self.mantissa = m
        self.exponent = e
        self.format = format
        description = Self.canonical(mantissa: m, exponent: e, format: format)
    }

    /// The amount in thousandths, rounded up (CPU in millicores); nil when it does not fit.
    public var milliValue: Int64? { scaled(to: -3) }
    /// The amount in whole units, rounded up (memory in bytes); nil when it does not fit.
    public var value: Int64? { scaled(to: 0) }
    /// Whether the amount is below zero.
    public var isNegative: Bool { mantissa < 0 }

    /// The amount in units of 10^`scale`, rounded up (towards positive infinity).
    public func scaled(to scale: Int) -> Int64? {
        if exponent >= scale {
            var result = mantissa
            for _ in 0..<(exponent - scale) {
                let (product, overflow) = result.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                result = product
            }
            return result
        }
        var divisor: Int64 = 1
        for _ in 0..<(scale - exponent) {
            let (product, overflow) = divisor.multipliedReportingOverflow(by: 10)
            if overflow { return mantissa > 0 ? 1 : 0 }
            divisor = product
        }
        let quotient = mantissa / divisor
        return mantissa % divisor > 0 ? quotient + 1 : quotient
    }

    public static func < (a: Quantity, b: Quantity) -> Bool {
        let scale = min(a.exponent, b.exponent)
        if let x = a.scaled(to: scale), let y = b.scaled(to: scale) { return x < y }
        return Double(a.mantissa) * pow10(a.exponent) < Double(b.mantissa) * pow10(b.exponent)
    }

    public static func == (a: Quantity, b: Quantity) -> Bool { a.mantissa == b.mantissa && a.exponent == b.exponent }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(mantissa)
        hasher.combine(exponent)
    }

    private static func pow10(_ e: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(e) { result *= 10 }
        return e < 0 ? 1 / result : result
    }

    // MARK: Wire

    public static var wireShape: WireShape { .quantity }
    public static func decode(_ json: JSONValue, _ context: inout DecodeContext) -> Quantity? {
        let text: String
        switch json {
        case .string(let s): text = s
        case .int(let i): text = String(i)
        case .double(let d): text = String(d)
        default:
            context.typeMismatch(json, expected: "a quantity (e.g. \"500m\", \"1Gi\")")
            return nil
        }
        guard let quantity = Quantity(text) else {
            context.badValue(json, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
            return nil
        }
        return quantity
    }
    public var wireJSON: JSONValue { .string(description) }
    public var isWireEmpty: Bool { false }

    // MARK: Parsing and canonical form

    private static let binarySuffixes: [(String, Int)] = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)]
    private static let decimalSuffixes: [(String, Int)] = [("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)]

    private static func parse(_ text: String) -> (Int64, Int, Format)? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= textLengthMax else { return nil }
        var i = 0
        var negative = false
        if bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        // Digits with at most one '.', at least one digit.
        var digits: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        while i < bytes.count {
            let b = bytes[i]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                digits.append(b - UInt8(ascii: "0"))
                if seenPoint { fractionDigits += 1 }
            } else if b == UInt8(ascii: ".") && !seenPoint {
                seenPoint = true
            } else {
                break
            }
            i += 1
        }
        guard !digits.isEmpty else { return nil }
        let suffix = String(decoding: bytes[i...], as: UTF8.self)
        var exponent = -fractionDigits
        var format = Format.decimalSI
        var binaryPower = 0
        if suffix.isEmpty {
        } else if let (_, power) = binarySuffixes.first(where: { $0.0 == suffix }) {
            format = .binarySI
            binaryPower = power
        } else if let (_, power) = decimalSuffixes.first(where: { $0.0 == suffix }) {
            exponent += power
        } else if let first = suffix.utf8.first, first == UInt8(ascii: "e") || first == UInt8(ascii: "E") {
            let rest = suffix.dropFirst()
            guard !rest.isEmpty, rest.count <= 4, let power = Int(rest),
                  rest.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" }) else { return nil }
            exponent += power
            format = .decimalExponent
        } else {
            return nil
        }
        // Drop leading zeros, then build the mantissa (at most 18 significant digits).
        while digits.count > 1 && digits[0] == 0 { digits.removeFirst() }
        while digits.count > 1 && digits.last == 0 { digits.removeLast(); exponent += 1 }
        guard digits.count <= 18 else { return nil }
        var mantissa: Int64 = 0
        for d in digits { mantissa = mantissa * 10 + Int64(d) }
        // Binary suffixes multiply by 2^power exactly.
        for _ in 0..<binaryPower {
            let (product, overflow) = mantissa.multipliedReportingOverflow(by: 2)
            if overflow { return nil }
            mantissa = product
        }
        // Round up below nano precision.
        if exponent < -9 {
            var divisor: Int64 = 1
            for _ in 0..<(-9 - exponent) {
                let (product, overflow) = divisor.multipliedReportingOverflow(by: 10)
                if overflow { divisor = Int64.max; break }
                divisor = product
            }
            mantissa = mantissa / divisor + (mantissa % divisor == 0 ? 0 : 1)
            exponent = -9
        }
        guard exponent <= 18 + 18 else { return nil }
        if negative { mantissa = -mantissa }
        return (mantissa, exponent, format)
    }

    private static func canonical(mantissa: Int64, exponent: Int, format: Format) -> String {
        if mantissa == 0 { return "0" }
        if format == .binarySI, exponent >= 0, let whole = Quantity.wholeValue(mantissa, exponent) {
            // The largest power of 1024 that divides the amount exactly.
            var value = whole
            var step = 0
            while step < binarySuffixes.count && value % 1024 == 0 {
                value /= 1024
                step += 1
            }
            if step > 0 || abs(whole) < 1024 {
                return String(value) + (step == 0 ? "" : binarySuffixes[step - 1].0)
            }
            return String(value)
        }
        // Decimal: the largest multiple of 3 not above the exponent (at least -9).
        var power = exponent >= 0 ? exponent / 3 * 3 : -((-exponent + 2) / 3 * 3)
        power = max(power, -9)
        var scaled = mantissa
        for _ in 0..<(exponent - power) {
            let (product, overflow) = scaled.multipliedReportingOverflow(by: 10)
            if overflow { return String(mantissa) + "e" + String(exponent) }
            scaled = product
        }
        if format == .decimalExponent { return power == 0 ? String(scaled) : String(scaled) + "e" + String(power) }
        if power > 18 {
            return String(scaled) + "e" + String(power)
        }
        let suffix = power == 0 ? "" : decimalSuffixes.first { $0.1 == power }!.0
        return String(scaled) + suffix
    }

    private static func wholeValue(_ mantissa: Int64, _ exponent: Int) -> Int64? {
        var value = mantissa
        for _ in 0..<exponent {
            let (product, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            value = product
        }
        return value
    }
}
