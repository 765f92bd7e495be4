/// Why a Kubernetes protobuf request body could not be read. Every case is the client's
/// fault (answer 400 BadRequest with `description` as the message), except `unknownKind`
/// and `untypedKind`, which name a kind this server has no protobuf form for (still 400:
/// the body cannot be read as any object this server serves).
public struct KubeProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// The body does not start with the 4 bytes `k8s\0`.
        case missingMagic
        /// The input ended inside a tag, varint or fixed-width value.
        case truncated
        /// A varint longer than 10 bytes, or one whose value does not fit 64 bits.
        case malformedVarint
        /// A length-delimited field longer than what is left of its message.
        case lengthOutOfBounds
        /// Field number 0 or beyond 2^29 - 1.
        case invalidFieldNumber
        /// Groups (wire types 3, 4) or the undefined wire types 6 and 7.
        case unsupportedWireType(UInt8)
        /// A known field sent with a wire type its shape cannot have (the field's number and
        /// the wire type found).
        case wrongWireType(field: Int, found: UInt8)
        /// The envelope names no `apiVersion` or `kind`.
        case missingTypeMeta
        /// No registered kind (or subresource type) is served at this `apiVersion` and `kind`.
        case unknownKind(apiVersion: String, kind: String)
        /// The kind has no schema (shoal-internal untyped kinds), so it has no protobuf form.
        case untypedKind(String)
        /// The envelope's `contentEncoding` (e.g. gzip), which shoal does not undo.
        case unsupportedContentEncoding(String)
        /// The envelope's `contentType` is neither protobuf nor JSON.
        case unsupportedContentType(String)
        /// A string that is not valid UTF-8.
        case invalidUTF8
        /// A value its field cannot hold (the reason in words).
        case invalidValue(String)
        /// Messages nest deeper than the JSON nesting limit (the bound, in levels).
        case nestingTooDeep(limitLevels: Int)
        /// The body decodes to more JSON values than the bound (a small body of empty
        /// messages must not become a huge document).
        case tooManyValues(limit: Int)
    }

    /// What was wrong.
    public let reason: Reason
    /// Byte offset into the body where it was found (nil when not about one place).
    public let offset: Int?
    /// The JSON path of the field being decoded ("spec.template.spec.containers[0]"), empty
    /// at the top.
    public let path: String

    public init(_ reason: Reason, offset: Int? = nil, path: String = "") {
        self.reason = reason
        self.offset = offset
        self.path = path
    }

    static let missingMagic = KubeProtobufError(.missingMagic)
    static func truncated(offset: Int) -> KubeProtobufError { KubeProtobufError(.truncated, offset: offset) }
    static func malformedVarint(offset: Int) -> KubeProtobufError { KubeProtobufError(.malformedVarint, offset: offset) }
    static func lengthOutOfBounds(offset: Int) -> KubeProtobufError { KubeProtobufError(.lengthOutOfBounds, offset: offset) }
    static func invalidFieldNumber(offset: Int) -> KubeProtobufError { KubeProtobufError(.invalidFieldNumber, offset: offset) }
    static func unsupportedWireType(_ type: UInt8, offset: Int) -> KubeProtobufError {
        KubeProtobufError(.unsupportedWireType(type), offset: offset)
    }

    /// The same error inside `component` (a field name, or "[i]" / "[key]" for elements).
    func within(_ component: String) -> KubeProtobufError {
        let joined: String
        if path.isEmpty { joined = component }
        else if path.hasPrefix("[") { joined = component + path }
        else { joined = component + "." + path }
        return KubeProtobufError(reason, offset: offset, path: joined)
    }

    public var description: String {
        var text: String
        switch reason {
        case .missingMagic: text = "a protobuf body must start with the bytes k8s\\0"
        case .truncated: text = "the protobuf message ends early"
        case .malformedVarint: text = "a protobuf varint is longer than 10 bytes"
        case .lengthOutOfBounds: text = "a protobuf field's length runs past the end of its message"
        case .invalidFieldNumber: text = "a protobuf field number is 0 or too large"
        case .unsupportedWireType(let type): text = "protobuf wire type \(type) is not supported"
        case .wrongWireType(let field, let found): text = "protobuf field \(field) has the wrong wire type (\(found))"
        case .missingTypeMeta: text = "the protobuf envelope names no apiVersion and kind"
        case .unknownKind(let apiVersion, let kind):
            text = "no kind \(kind.isEmpty ? "\"\"" : kind) is served at apiVersion \(apiVersion.isEmpty ? "\"\"" : apiVersion)"
        case .untypedKind(let kind): text = "kind \(kind) has no protobuf form: send it as JSON"
        case .unsupportedContentEncoding(let encoding): text = "protobuf content encoding \"\(encoding)\" is not supported"
        case .unsupportedContentType(let type): text = "protobuf envelope content type \"\(type)\" is not supported"
        case .invalidUTF8: text = "a protobuf string is not valid UTF-8"
        case .invalidValue(let why): text = why
        case .nestingTooDeep(let limit): text = "protobuf messages nest deeper than \(limit) levels"
        case .tooManyValues(let limit): text = "the protobuf body decodes to more than \(limit) values"
        }
        if !path.isEmpty { text = "\(path): \(text)" }
        if let offset { text += " (at byte \(offset))" }
        return text
    }
}
