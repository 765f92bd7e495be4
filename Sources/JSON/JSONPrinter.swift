/// Printing: compact bytes for the wire and the store, an indented string for people.
///
/// - Object keys come out in insertion order, so a document keeps the shape it came in.
/// - Strings escape `"`, `\` and the control characters U+0000-U+001F: `\b \f \n \r \t`
///   in their short form (RFC 8259 section 7 allows both; it keeps multi-line ConfigMap
///   values legible), the rest as `\u00XX`. Everything else, including non-ASCII, is
///   written as its UTF-8 bytes.
/// - `.int` prints its decimal digits. `.double` prints the shortest decimal that reads
///   back as the same Double (Swift's `description`); an integral Double keeps a `.0` or
///   an exponent (`5.0`, `1e+16`), so it parses back as `.double`, not `.int`.
/// - NaN and the infinities have no JSON form. They print as `null`, as JavaScript's
///   `JSON.stringify` does, so printing never fails; the parser never produces them.
/// - Printing recurses once per nesting level; values the parser made are at most
///   `JSONLimits.nestingDepthCeiling` deep.
extension JSONValue {
    /// The compact UTF-8 encoding, no whitespace: what goes on the wire and into the store.
    public func serialized() -> [UInt8] {
        var output: [UInt8] = []
        serialize(into: &output)
        return output
    }

    /// Appends the compact encoding to `output` (e.g. an HTTP response being built).
    public func serialize(into output: inout [UInt8]) {
        var printer = JSONPrinter(output: output, indentWidth: 0)
        output = []  // hand the buffer over, so appending to it does not copy it
        printer.write(self, level: 0)
        output = printer.output
    }

    /// An indented rendering like `kubectl get -o json`: `indent` spaces per level,
    /// `"key": value`, one member per line, `[]` and `{}` when empty, no final newline.
    public func prettyPrinted(indent: Int = 2) -> String {
        precondition(indent >= 1, "prettyPrinted(indent:) needs at least one space, got \(indent)")
        var printer = JSONPrinter(output: [], indentWidth: indent)
        printer.write(self, level: 0)
        return String(decoding: printer.output, as: UTF8.self)
    }

    /// The compact encoding as a string.
    public var jsonString: String { String(decoding: serialized(), as: UTF8.self) }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text, so test failures and logs show documents as documents.
    public var description: String { jsonString }
}

/// Writes values into a byte buffer; `indentWidth` 0 means compact.
struct JSONPrinter {
    var output: [UInt8]
    let indentWidth: Int

    mutating func write(_ value: JSONValue, level: Int) {
        switch value {
        case .null:
            appendASCII("null")
        case .bool(let flag):
            appendASCII(flag ? "true" : "false")
        case .int(let integer):
            writeInteger(integer)
        case .double(let number):
            if number.isFinite {
                output.append(contentsOf: number.description.utf8)
            } else {
                appendASCII("null")
            }
        case .string(let text):
            writeString(text)
        case .array(let elements):
            guard !elements.isEmpty else { return appendASCII("[]") }
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                newline(level: level + 1)
                write(element, level: level + 1)
            }
            newline(level: level)
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else { return appendASCII("{}") }
            output.append(UInt8(ascii: "{"))
            var first = true
            for member in object.members {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                newline(level: level + 1)
                writeString(member.key)
                output.append(UInt8(ascii: ":"))
                if indentWidth > 0 { output.append(UInt8(ascii: " ")) }
                write(member.value, level: level + 1)
            }
            newline(level: level)
            output.append(UInt8(ascii: "}"))
        }
    }

    private mutating func newline(level: Int) {
        guard indentWidth > 0 else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * indentWidth))
    }

    private mutating func appendASCII(_ text: StaticString) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Decimal digits, written backwards into reserved space (no String in between).
    private mutating func writeInteger(_ integer: Int64) {
        if integer < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = integer.magnitude
        var digitCount = 1
        var scan = magnitude / 10
        while scan > 0 {
            digitCount += 1
            scan /= 10
        }
        output.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digitCount))
        var position = output.count - 1
        repeat {
            output[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
    }

    private mutating func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        let wrote: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in writeEscaped(bytes) }
        if wrote == nil {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { writeEscaped($0) }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Copies runs of bytes that need no escape in one go, escaping the bytes between.
    private mutating func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            default:
                let hexDigits: StaticString = "0123456789abcdef"
                output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                output.append(hexDigits.utf8Start[Int(byte >> 4)])
                output.append(hexDigits.utf8Start[Int(byte & 0x0F)])
            }
            runStart = index + 1
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
    }
}
