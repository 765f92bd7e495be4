/// Strings: escapes, surrogate pairs and UTF-8 validation. Raw bytes must be well-formed
/// UTF-8 (RFC 3629: no overlong forms, no encoded surrogates, nothing above U+10FFFF) and
/// `\u` escapes must form whole scalars, so every `String` the parser makes is exactly what
/// the document spelled; nothing is ever replaced with U+FFFD.
extension JSONParser {
    /// Reads a string whose opening quote is at `offset`; leaves `offset` after the closing
    /// quote. Strings without escapes (nearly all of them) are made straight from the input.
    /// With `interning`, a key without escapes comes from `keyCache` when it is there.
    mutating func parseString(interning: Bool = false) throws(JSONError) -> String {
        let opening = offset
        let start = offset + 1
        var index = start
        let end = input.count
        while index < end {
            index = skipPlainASCII(from: index)
            guard index < end else { break }
            let byte = input[index]
            if byte >= 0x80 {
                index = try validateUTF8Scalar(at: index)
            } else if byte == UInt8(ascii: "\"") {
                try checkStringSize(index - start, stringAt: opening)
                offset = index + 1
                let bytes = UnsafeBufferPointer(rebasing: input[start..<index])
                if interning && bytes.count > Self.inlineStringMaxBytes { return internedKey(bytes) }
                return String(decoding: bytes, as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                return try parseEscapedString(opening: opening, firstEscape: index)
            } else if byte < 0x20 {
                throw JSONError(.controlCharacterInString(byte), at: index)
            } else {
                index += 1
            }
        }
        throw JSONError(.unexpectedEnd, at: end)
    }

    /// The first index at or after `index` holding a quote, a backslash, a control
    /// character or a byte >= 0x80, or where fewer than eight bytes remain. It reads eight
    /// bytes at a time (SWAR: the "has a zero byte" and "has a byte less than n" tricks on
    /// one 64-bit word), which pays for itself on values like images and timestamps.
    @inline(__always)
    func skipPlainASCII(from index: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        var index = index
        guard let base = input.baseAddress else { return index }
        while index + 8 <= input.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let quotes = word ^ (ones &* 0x22)
            let backslashes = word ^ (ones &* 0x5C)
            let special = ((quotes &- ones) & ~quotes) | ((backslashes &- ones) & ~backslashes) | (word &- ones &* 0x20) | word
            let found = special & highBits
            // Borrows only flag bytes above a real hit, so the lowest flag is exact.
            if found != 0 { return index + found.trailingZeroBitCount / 8 }
            index += 8
        }
        return index
    }

    /// The rest of a string from its first backslash on, decoded into `scratch`.
    private mutating func parseEscapedString(opening: Int, firstEscape: Int) throws(JSONError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[(opening + 1)..<firstEscape]))
        var index = firstEscape
        var runStart = index
        let end = input.count
        while index < end {
            let byte = input[index]
            if byte >= 0x80 {
                index = try validateUTF8Scalar(at: index)
            } else if byte == UInt8(ascii: "\"") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index]))
                try checkStringSize(scratch.count, stringAt: opening)
                offset = index + 1
                return String(decoding: scratch, as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index]))
                index = try appendUnescaped(at: index)
                runStart = index
            } else if byte < 0x20 {
                throw JSONError(.controlCharacterInString(byte), at: index)
            } else {
                index += 1
            }
        }
        throw JSONError(.unexpectedEnd, at: end)
    }

    /// Longest string Swift stores inline, without an allocation, in UTF-8 bytes (x86-64 and
    /// arm64); keys up to this size gain nothing from interning.
    static let inlineStringMaxBytes = 15
    /// Most distinct keys `keyCache` holds: a List repeats a few dozen keys thousands of
    /// times; past this bound keys are simply not cached.
    static let keyCacheEntriesMax = 1_024

    /// The String for a key's (valid UTF-8) bytes, shared with earlier occurrences of the
    /// same key, so a List of 5,000 pods keeps one copy of "creationTimestamp", not 5,000.
    private mutating func internedKey(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        // FNV-1a: cheap, and a collision only means a missed cache hit (bytes are compared).
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        if let cached = keyCache[hash] {
            let same = cached.utf8.withContiguousStorageIfAvailable { $0.elementsEqual(bytes) } ?? false
            if same { return cached }
            return String(decoding: bytes, as: UTF8.self)
        }
        let key = String(decoding: bytes, as: UTF8.self)
        if keyCache.count < Self.keyCacheEntriesMax { keyCache[hash] = key }
        return key
    }

    private func checkStringSize(_ sizeBytes: Int, stringAt opening: Int) throws(JSONError) {
        guard sizeBytes <= limits.stringSizeMaxBytes else {
            throw JSONError(.stringTooLong(limitBytes: limits.stringSizeMaxBytes), at: opening)
        }
    }

    /// Decodes the escape whose backslash is at `index` into `scratch`; returns the index
    /// after it (after both halves of a surrogate pair).
    private mutating func appendUnescaped(at index: Int) throws(JSONError) -> Int {
        guard index + 1 < input.count else { throw JSONError(.unexpectedEnd, at: input.count) }
        let escaped = input[index + 1]
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escaped)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hexQuad(at: index + 2)
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate must be followed at once by `\u` and a low surrogate.
                let next = index + 6
                guard next + 1 < input.count, input[next] == UInt8(ascii: "\\"), input[next + 1] == UInt8(ascii: "u")
                else { throw JSONError(.loneSurrogate(unit), at: index) }
                let low = try hexQuad(at: next + 2)
                guard (0xDC00...0xDFFF).contains(low) else { throw JSONError(.loneSurrogate(unit), at: index) }
                appendUTF8(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                return next + 6
            case 0xDC00...0xDFFF:
                throw JSONError(.loneSurrogate(unit), at: index)
            default:
                appendUTF8(UInt32(unit))
                return index + 6
            }
        default:
            throw JSONError(.invalidEscape(escaped), at: index)
        }
        return index + 2
    }

    /// The four hex digits at `index`, as a UTF-16 code unit.
    private func hexQuad(at index: Int) throws(JSONError) -> UInt16 {
        var unit: UInt16 = 0
        for position in index..<(index + 4) {
            guard position < input.count else { throw JSONError(.unexpectedEnd, at: input.count) }
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: throw JSONError(.invalidUnicodeEscape, at: position)
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    /// Appends `scalar` (never a surrogate: callers check) as UTF-8.
    private mutating func appendUTF8(_ scalar: UInt32) {
        precondition(scalar < 0xD800 || (scalar > 0xDFFF && scalar <= 0x10FFFF), "not a scalar: \(scalar)")
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Checks the multi-byte UTF-8 sequence whose lead byte (>= 0x80) is at `index` and
    /// returns the index after it. The ranges are RFC 3629's table: the second byte's range
    /// depends on the lead, which is what excludes overlong forms, surrogates (ED A0..BF)
    /// and scalars above U+10FFFF.
    @inline(__always)
    func validateUTF8Scalar(at index: Int) throws(JSONError) -> Int {
        let lead = input[index]
        let length: Int
        let secondLow: UInt8
        let secondHigh: UInt8
        switch lead {
        case 0xC2...0xDF: (length, secondLow, secondHigh) = (2, 0x80, 0xBF)
        case 0xE0: (length, secondLow, secondHigh) = (3, 0xA0, 0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, secondLow, secondHigh) = (3, 0x80, 0xBF)
        case 0xED: (length, secondLow, secondHigh) = (3, 0x80, 0x9F)
        case 0xF0: (length, secondLow, secondHigh) = (4, 0x90, 0xBF)
        case 0xF1...0xF3: (length, secondLow, secondHigh) = (4, 0x80, 0xBF)
        case 0xF4: (length, secondLow, secondHigh) = (4, 0x80, 0x8F)
        default: throw JSONError(.invalidUTF8, at: index)
        }
        guard index + length <= input.count else { throw JSONError(.invalidUTF8, at: index) }
        let second = input[index + 1]
        guard second >= secondLow && second <= secondHigh else { throw JSONError(.invalidUTF8, at: index) }
        var position = index + 2
        while position < index + length {
            guard input[position] & 0xC0 == 0x80 else { throw JSONError(.invalidUTF8, at: index) }
            position += 1
        }
        return index + length
    }
}
