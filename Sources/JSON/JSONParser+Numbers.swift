/// Numbers: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` and nothing else (no
/// `+1`, `.5`, `1.`, `01`, hex, `NaN` or `Infinity`). An integer token that fits Int64 is
/// kept exact as `.int`; any other token becomes the nearest Double, or an error when that
/// would be infinite.
extension JSONParser {
    /// Exact powers of ten that a Double holds without rounding: 10^0 through 10^22.
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
    /// Largest integer every smaller integer of which a Double represents exactly: 2^53.
    static let exactIntegerMax: UInt64 = 1 << 53
    /// Exponent digits beyond this magnitude only say "zero" or "infinite"; clamping the
    /// accumulated exponent here keeps it from overflowing on `1e99999999999999999999`.
    static let exponentClamp = 100_000

    /// Reads the number starting at `offset` (a `-` or a digit).
    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = offset
        var index = offset
        let end = input.count
        let negative = input[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var digits = SignificantDigits()

        guard index < end else { throw JSONError(.unexpectedEnd, at: index) }
        let first = input[index]
        if first == UInt8(ascii: "0") {
            index += 1
            if index < end && Self.isDigit(input[index]) { throw JSONError(.leadingZero, at: start) }
        } else if Self.isDigit(first) {
            while index < end, Self.isDigit(input[index]) {
                digits.take(input[index] &- UInt8(ascii: "0"), inFraction: false)
                index += 1
            }
        } else {
            throw JSONError(.unexpectedCharacter(first), at: index)
        }

        var isInteger = true
        if index < end && input[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try expectDigit(at: index)
            while index < end, Self.isDigit(input[index]) {
                digits.take(input[index] &- UInt8(ascii: "0"), inFraction: true)
                index += 1
            }
        }

        var decimalExponent = digits.exponentAdjustment
        if index < end && (input[index] == UInt8(ascii: "e") || input[index] == UInt8(ascii: "E")) {
            isInteger = false
            index += 1
            var exponentNegative = false
            if index < end && (input[index] == UInt8(ascii: "+") || input[index] == UInt8(ascii: "-")) {
                exponentNegative = input[index] == UInt8(ascii: "-")
                index += 1
            }
            try expectDigit(at: index)
            var exponent = 0
            while index < end, Self.isDigit(input[index]) {
                exponent = min(exponent * 10 + Int(input[index] &- UInt8(ascii: "0")), Self.exponentClamp)
                index += 1
            }
            decimalExponent += exponentNegative ? -exponent : exponent
        }

        guard index - start <= limits.numberSizeMaxBytes else {
            throw JSONError(.numberTooLong(limitBytes: limits.numberSizeMaxBytes), at: start)
        }
        offset = index

        let significand = digits.significand
        if isInteger && !digits.droppedIntegerDigits {
            // At most 19 digits: exact in UInt64; Int64 holds -2^63 ... 2^63 - 1.
            if !negative && significand <= UInt64(Int64.max) { return .int(Int64(significand)) }
            if negative && significand <= UInt64(Int64.max) + 1 { return .int(Int64(bitPattern: 0 &- significand)) }
        }
        if !digits.inexact {
            if significand == 0 { return .double(negative ? -0.0 : 0.0) }
            // Clinger's fast path: an exact significand times or divided by an exact power
            // of ten is one IEEE operation, hence correctly rounded.
            if significand <= Self.exactIntegerMax && abs(decimalExponent) <= 22 {
                var magnitude = Double(significand)
                if decimalExponent >= 0 {
                    magnitude *= Self.exactPowersOfTen[decimalExponent]
                } else {
                    magnitude /= Self.exactPowersOfTen[-decimalExponent]
                }
                return .double(negative ? -magnitude : magnitude)
            }
        }

        // Everything else: the standard library's correctly rounded conversion (strtod in
        // the C locale) over a token whose grammar is already checked.
        let token = String(decoding: UnsafeBufferPointer(rebasing: input[start..<index]), as: UTF8.self)
        guard let converted = Double(token) else {
            preconditionFailure("JSON number token \(token) rejected by Double(String)")
        }
        guard converted.isFinite else { throw JSONError(.numberOutOfRange, at: start) }
        return .double(converted)
    }

    /// Requires a digit at `index` (after `.`, `e`, `e+` or `e-`).
    private func expectDigit(at index: Int) throws(JSONError) {
        guard index < input.count else { throw JSONError(.unexpectedEnd, at: index) }
        guard Self.isDigit(input[index]) else { throw JSONError(.digitExpected, at: index) }
    }

    /// The first 19 significant digits of a number (they always fit UInt64) and what the
    /// rest changed: the power of ten to scale by, and whether a nonzero digit was lost.
    struct SignificantDigits {
        var significand: UInt64 = 0
        var count = 0
        /// Power of ten the significand must be scaled by: +1 per dropped integer digit,
        /// -1 per fraction digit kept.
        var exponentAdjustment = 0
        /// A nonzero digit did not fit: the significand alone is not the exact value.
        var inexact = false
        /// The integer part has more than 19 digits, so it cannot be an Int64.
        var droppedIntegerDigits = false

        @inline(__always)
        mutating func take(_ digit: UInt8, inFraction: Bool) {
            if count < 19 {
                if significand != 0 || digit != 0 {
                    significand = significand * 10 + UInt64(digit)
                    count += 1
                }
                if inFraction { exponentAdjustment -= 1 }
            } else {
                if !inFraction {
                    exponentAdjustment += 1
                    droppedIntegerDigits = true
                }
                if digit != 0 { inexact = true }
            }
        }
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}
