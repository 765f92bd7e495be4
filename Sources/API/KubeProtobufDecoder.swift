import JSON
import Store

/// Decodes protobuf messages shape by shape from `StructSchema`s into JSON (see
/// `KubeProtobuf` for the rules). One decoder reads one body; nested objects in
/// `RawExtension`s (magic-prefixed envelopes) are read by the same decoder, sharing its
/// budget of values and its depth.
struct KubeProtobufDecoder {
    typealias Field = KubeProtobufReader.Field

    let bytes: [UInt8]
    /// Values still allowed (see `KubeProtobuf.decodedValuesMax`).
    private var valuesLeft: Int
    private let valuesMax: Int
    let depthMax: Int

    init(bytes: [UInt8], valuesMax: Int, depthMax: Int) {
        self.bytes = bytes
        self.valuesLeft = valuesMax
        self.valuesMax = valuesMax
        self.depthMax = depthMax
    }

    // MARK: Envelope

    /// `k8s\0` + `runtime.Unknown` in `range`: the object it carries, at JSON level `depth`.
    mutating func envelope(_ range: Range<Int>, depth: Int) throws(KubeProtobufError) -> JSONValue {
        let magic = KubeProtobuf.magic
        guard range.count >= magic.count, bytes[range.lowerBound..<(range.lowerBound + magic.count)].elementsEqual(magic) else {
            throw .missingMagic
        }
        var reader = KubeProtobufReader(bytes, (range.lowerBound + magic.count)..<range.upperBound)
        var apiVersion = ""
        var kind = ""
        var raw = range.upperBound..<range.upperBound
        var contentEncoding = ""
        var contentType = ""
        while let field = try reader.next() {
            switch field.number {
            case 1:
                try expect(field, .lengthDelimited)
                var typeMeta = KubeProtobufReader(bytes, field.range)
                while let member = try typeMeta.next() {
                    switch member.number {
                    case 1: apiVersion = try string(member)
                    case 2: kind = try string(member)
                    default: continue
                    }
                }
            case 2:
                try expect(field, .lengthDelimited)
                raw = field.range
            case 3: contentEncoding = try string(field)
            case 4: contentType = try string(field)
            default: continue
            }
        }
        guard contentEncoding.isEmpty else { throw KubeProtobufError(.unsupportedContentEncoding(contentEncoding)) }
        let schema = try KubeProtobuf.schema(apiVersion: apiVersion, kind: kind)
        switch contentType {
        case "", KubeProtobuf.contentType:
            let object = try message(schema, raw, depth: depth, typeMeta: (apiVersion, kind))
            return .object(object)
        case "application/json":
            // An envelope may wrap JSON (client-go never sends one, but the format allows it).
            return try json(raw, depth: depth)
        default:
            throw KubeProtobufError(.unsupportedContentType(contentType))
        }
    }

    // MARK: Messages

    /// The message in `range` as a JSON object, fields in the schema's order. `typeMeta`
    /// fills `apiVersion` and `kind` of top-level objects.
    mutating func message(_ schema: StructSchema, _ range: Range<Int>, depth: Int,
                          typeMeta: (apiVersion: String, kind: String)? = nil) throws(KubeProtobufError) -> JSONObject {
        guard depth <= depthMax else { throw KubeProtobufError(.nestingTooDeep(limitLevels: depthMax)) }
        try spend(1)
        var found: [Int: [Field]] = [:]
        var reader = KubeProtobufReader(bytes, range)
        while let field = try reader.next() {
            // Unknown numbers are skipped (a newer client's fields), as Go skips them.
            guard schema.field(number: field.number) != nil else { continue }
            found[field.number, default: []].append(field)
        }
        var object = JSONObject()
        var typeMetaWritten = (apiVersion: false, kind: false)
        for field in schema.fields {
            guard let number = field.number else {
                if let typeMeta, field.name == "apiVersion" {
                    object["apiVersion"] = .string(typeMeta.apiVersion)
                    typeMetaWritten.apiVersion = true
                } else if let typeMeta, field.name == "kind" {
                    object["kind"] = .string(typeMeta.kind)
                    typeMetaWritten.kind = true
                }
                continue
            }
            let shape = field.shape()
            var value: JSONValue?
            do {
                value = try self.field(shape, found[number] ?? [], depth: depth + 1)
                // Go writes a zero time or an empty RawExtension as null: the field is absent.
                if value == .null { value = nil }
                switch field.presence {
                case .always:
                    if value == nil { value = try zero(shape, depth: depth + 1) }
                case .omitEmpty:
                    if let present = value, Self.isEmpty(present, shape) { value = nil }
                case .optional:
                    break
                }
            } catch {
                throw error.within(field.name)
            }
            if let value { object[field.name] = value }
        }
        if let typeMeta, !(typeMetaWritten.apiVersion && typeMetaWritten.kind) {
            // A schema without TypeMeta fields (none of shoal's kinds): put them first anyway.
            var pairs: [(String, JSONValue)] = []
            if !typeMetaWritten.kind { pairs.append(("kind", .string(typeMeta.kind))) }
            if !typeMetaWritten.apiVersion { pairs.append(("apiVersion", .string(typeMeta.apiVersion))) }
            for (key, value) in object { pairs.append((key, value)) }
            object = JSONObject(pairs)
        }
        return object
    }

    /// The value of one field from its occurrences (nil when it has none).
    private mutating func field(_ shape: WireShape, _ occurrences: [Field], depth: Int) throws(KubeProtobufError) -> JSONValue? {
        guard let last = occurrences.last else { return nil }
        switch shape {
        case .array(let element):
            return .array(try elements(element, occurrences, depth: depth))
        case .map(let valueShape):
            return .object(try entries(valueShape, occurrences, depth: depth))
        default:
            return try single(shape, last, depth: depth)
        }
    }

    /// The elements of a repeated field; packed scalars (one length-delimited run) and
    /// unpacked ones (one occurrence each) are both accepted, even mixed.
    private mutating func elements(_ element: WireShape, _ occurrences: [Field], depth: Int) throws(KubeProtobufError) -> [JSONValue] {
        try spend(1)
        guard depth <= depthMax else { throw KubeProtobufError(.nestingTooDeep(limitLevels: depthMax)) }
        var result: [JSONValue] = []
        for occurrence in occurrences {
            if occurrence.wireType == .lengthDelimited, let scalarType = Self.packedWireType(element) {
                var packed = KubeProtobufReader(bytes, occurrence.range)
                while !packed.isAtEnd {
                    let position = packed.position
                    let bits: UInt64
                    if scalarType == .varint {
                        bits = try packed.varint()
                    } else {
                        bits = try packed.fixed(8)
                    }
                    let item = Field(number: occurrence.number, wireType: scalarType, bits: bits, range: position..<position,
                                     offset: position)
                    do { result.append(try single(element, item, depth: depth + 1)) } catch { throw error.within("[\(result.count)]") }
                }
            } else {
                do { result.append(try single(element, occurrence, depth: depth + 1)) } catch { throw error.within("[\(result.count)]") }
            }
        }
        return result
    }

    /// A map field: repeated entry messages { 1: key, 2: value }; a repeated key keeps the
    /// last value, as Go does. Keys come out in byte order, as Go's JSON writes maps.
    private mutating func entries(_ valueShape: WireShape, _ occurrences: [Field], depth: Int) throws(KubeProtobufError) -> JSONObject {
        try spend(1)
        guard depth <= depthMax else { throw KubeProtobufError(.nestingTooDeep(limitLevels: depthMax)) }
        var map = JSONObject()
        for occurrence in occurrences {
            try expect(occurrence, .lengthDelimited)
            var entry = KubeProtobufReader(bytes, occurrence.range)
            var key = ""
            var valueField: Field?
            while let member = try entry.next() {
                switch member.number {
                case 1: key = try string(member)
                case 2: valueField = member
                default: continue
                }
            }
            let value: JSONValue
            do {
                if let valueField {
                    value = try single(valueShape, valueField, depth: depth + 1)
                } else {
                    value = try zero(valueShape, depth: depth + 1) ?? .null
                }
            } catch {
                throw error.within("[\(key)]")
            }
            map[key] = value
        }
        let sorted = map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return JSONObject(sorted.map { ($0, map[$0]!) })
    }

    /// One value of `shape` from one field occurrence (a list element, a map value, or a
    /// non-repeated field); JSON null for a zero time or an empty RawExtension.
    private mutating func single(_ shape: WireShape, _ field: Field, depth: Int) throws(KubeProtobufError) -> JSONValue {
        try spend(1)
        switch shape {
        case .string:
            return .string(try string(field))
        case .int32:
            try expect(field, .varint)
            // A negative int32 is sent sign-extended to 64 bits (a 10-byte varint).
            return .int(Int64(Int32(truncatingIfNeeded: field.bits)))
        case .int64:
            try expect(field, .varint)
            return .int(Int64(bitPattern: field.bits))
        case .bool:
            try expect(field, .varint)
            return .bool(field.bits != 0)
        case .double:
            try expect(field, .fixed64)
            let value = Double(bitPattern: field.bits)
            guard value.isFinite else { throw KubeProtobufError(.invalidValue("a number must be finite"), offset: field.offset) }
            if let exact = Int64(exactly: value) { return .int(exact) }
            return .double(value)
        case .bytes:
            try expect(field, .lengthDelimited)
            return .string(Base64Bytes.encode(Array(bytes[field.range])))
        case .intOrString:
            try expect(field, .lengthDelimited)
            return try KubeProtobufValues.intOrString(self, field)
        case .quantity:
            try expect(field, .lengthDelimited)
            return try KubeProtobufValues.quantity(self, field)
        case .time(let micro):
            try expect(field, .lengthDelimited)
            return try KubeProtobufValues.time(self, field, micro: micro)
        case .duration:
            try expect(field, .lengthDelimited)
            return try KubeProtobufValues.duration(self, field)
        case .freeform:
            try expect(field, .lengthDelimited)
            return try rawExtension(field, depth: depth)
        case .object(let schema):
            try expect(field, .lengthDelimited)
            return .object(try message(schema(), field.range, depth: depth))
        case .array(let element):
            // A list inside a list or a map travels in a wrapper message { 1: repeated items }.
            try expect(field, .lengthDelimited)
            var wrapper = KubeProtobufReader(bytes, field.range)
            var items: [Field] = []
            while let member = try wrapper.next() {
                if member.number == 1 { items.append(member) }
            }
            return .array(try elements(element, items, depth: depth))
        case .map:
            throw KubeProtobufError(.invalidValue("a map inside a list or map has no protobuf form"), offset: field.offset)
        }
    }

    /// A `RawExtension` { 1: raw }: a nested protobuf object (magic-prefixed) or JSON. An
    /// empty one is JSON null (how Go writes a RawExtension with no bytes).
    private mutating func rawExtension(_ field: Field, depth: Int) throws(KubeProtobufError) -> JSONValue {
        var reader = KubeProtobufReader(bytes, field.range)
        var raw = field.range.upperBound..<field.range.upperBound
        while let member = try reader.next() {
            if member.number == 1 {
                try expect(member, .lengthDelimited)
                raw = member.range
            }
        }
        if raw.isEmpty { return .null }
        let magic = KubeProtobuf.magic
        if raw.count >= magic.count && bytes[raw.lowerBound..<(raw.lowerBound + magic.count)].elementsEqual(magic) {
            return try envelope(raw, depth: depth)
        }
        return try json(raw, depth: depth)
    }

    /// JSON bytes in `range`, parsed within what is left of the nesting bound.
    private mutating func json(_ range: Range<Int>, depth: Int) throws(KubeProtobufError) -> JSONValue {
        let levelsLeft = depthMax - depth + 1
        guard levelsLeft >= 1 else { throw KubeProtobufError(.nestingTooDeep(limitLevels: depthMax)) }
        // Every JSON value takes at least one byte, so the size bounds what the document costs.
        try spend(max(1, range.count / 8))
        do {
            return try JSONValue.parse(Array(bytes[range]), limits: JSONLimits(nestingDepthMax: levelsLeft))
        } catch {
            if case .nestingTooDeep = error.reason { throw KubeProtobufError(.nestingTooDeep(limitLevels: depthMax)) }
            throw KubeProtobufError(.invalidValue("embedded JSON is invalid: \(error)"), offset: range.lowerBound + error.offsetBytes)
        }
    }

    // MARK: Zero values and emptiness

    /// What Go's JSON writes for a field that was not on the wire and is always written: the
    /// zero value of its shape, nil where that is JSON null (lists, maps, times, raw JSON).
    private mutating func zero(_ shape: WireShape, depth: Int) throws(KubeProtobufError) -> JSONValue? {
        switch shape {
        case .string, .bytes: return .string("")
        case .int32, .int64, .double, .intOrString: return .int(0)
        case .bool: return .bool(false)
        case .quantity: return .string("0")
        case .duration: return .string("0s")
        case .object(let schema):
            let empty = bytes.count..<bytes.count
            return .object(try message(schema(), empty, depth: depth))
        case .time, .freeform, .array, .map: return nil
        }
    }

    /// Whether an `.omitEmpty` field's value is what Go's omitempty (and shoal's
    /// `isWireEmpty`) leaves out. Structs, quantities and times are never empty; raw JSON
    /// only when null.
    static func isEmpty(_ value: JSONValue, _ shape: WireShape) -> Bool {
        switch shape {
        case .object, .quantity, .time: return false
        case .freeform: return value == .null
        default: break
        }
        switch value {
        case .null: return true
        case .string(let text): return text.isEmpty
        case .int(let number): return number == 0
        case .double(let number): return number == 0
        case .bool(let flag): return !flag
        case .array(let items): return items.isEmpty
        case .object(let members): return members.isEmpty
        }
    }

    // MARK: Leaves

    /// A length-delimited field as a UTF-8 string.
    func string(_ field: Field) throws(KubeProtobufError) -> String {
        try expect(field, .lengthDelimited)
        guard let text = String(validating: bytes[field.range], as: UTF8.self) else {
            throw KubeProtobufError(.invalidUTF8, offset: field.range.lowerBound)
        }
        return text
    }

    func expect(_ field: Field, _ wireType: KubeProtobufReader.WireType) throws(KubeProtobufError) {
        guard field.wireType == wireType else {
            throw KubeProtobufError(.wrongWireType(field: field.number, found: field.wireType.rawValue), offset: field.offset)
        }
    }

    /// The wire type of a packed element of `shape`, nil when it cannot be packed.
    private static func packedWireType(_ shape: WireShape) -> KubeProtobufReader.WireType? {
        switch shape {
        case .int32, .int64, .bool: return .varint
        case .double: return .fixed64
        default: return nil
        }
    }

    private mutating func spend(_ count: Int) throws(KubeProtobufError) {
        valuesLeft -= count
        guard valuesLeft >= 0 else { throw KubeProtobufError(.tooManyValues(limit: valuesMax)) }
    }
}
