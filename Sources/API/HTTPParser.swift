import CHTTPParser

/// Incremental HTTP/1.1 parsing with Debian's libhttp-parser, of requests (the API server)
/// or responses (the CLI's client). Feed it the bytes of one connection as they arrive; it
/// yields complete messages, or an error status for input that is malformed or exceeds a
/// bound. Nothing a peer sends can make it crash or grow without limit.
public final class HTTPParser {
    public enum Kind: Sendable { case request, response }

    /// One complete message.
    public struct Message: Sendable {
        /// Requests: the method; responses: empty.
        public var method: String
        /// Requests: the target (path and query); responses: empty.
        public var target: String
        /// Responses: the status code; requests: 0.
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        public var keepAlive: Bool
        /// A request for a protocol upgrade (`Connection: Upgrade`), or a response switching
        /// protocols (101): the bytes after it are not HTTP (`upgradeRemainder`), so it is
        /// the last message parsed.
        public var upgrade = false
    }

    /// Bounds on one request (each named with its unit).
    public struct Limits: Sendable {
        /// Request line plus headers, in bytes.
        public var headerBytesMax = 64 << 10
        /// Number of header fields.
        public var headerCountMax = 100
        /// Body, in bytes.
        public var bodyBytesMax = 8 << 20

        public init() {}
    }

    /// Why parsing stopped: the status to answer with before closing the connection.
    public struct Failure: Error, Equatable, Sendable {
        /// The HTTP status to answer with (400, 408, 413, 431).
        public var status: Int
        /// What was wrong, for the `Status` message.
        public var reason: String

        /// A failure with its answer.
        public init(status: Int, reason: String) {
            self.status = status
            self.reason = reason
        }
    }

    private var parser = http_parser()
    private var settings = http_parser_settings()
    private let limits: Limits
    private var url: [UInt8] = []
    private var headerName: [UInt8] = []
    private var headerValue: [UInt8] = []
    private var lastWasValue = false
    private var headers: [(name: String, value: String)] = []
    private var body: [UInt8] = []
    private var headerBytes = 0
    /// Why parsing stopped, once it has (every later `feed` throws it).
    public private(set) var failure: Failure?
    private var completed: [Message] = []
    private let kind: Kind
    /// After a protocol upgrade message: the bytes that followed it in the same read (they
    /// belong to the new protocol; nothing more is parsed).
    public private(set) var upgradeRemainder: [UInt8]?
    /// When set, body bytes go here as they arrive instead of into `Message.body` (for
    /// streamed responses such as a watch); the body limit then does not apply.
    public var onBodyBytes: (([UInt8]) -> Void)?

    public init(_ kind: Kind, limits: Limits = Limits()) {
        self.kind = kind
        self.limits = limits
        http_parser_init(&parser, kind == .request ? HTTP_REQUEST : HTTP_RESPONSE)
        http_parser_settings_init(&settings)
        settings.on_url = { p, at, length in
            HTTPParser.from(p).append(&HTTPParser.from(p).url, at, length, countAsHeader: true)
        }
        settings.on_header_field = { p, at, length in
            let me = HTTPParser.from(p)
            if me.lastWasValue { if let code = me.finishHeader() { return code } }
            me.lastWasValue = false
            return me.append(&me.headerName, at, length, countAsHeader: true)
        }
        settings.on_header_value = { p, at, length in
            let me = HTTPParser.from(p)
            me.lastWasValue = true
            return me.append(&me.headerValue, at, length, countAsHeader: true)
        }
        settings.on_headers_complete = { p in
            let me = HTTPParser.from(p)
            if me.lastWasValue { if let code = me.finishHeader() { return code } }
            me.lastWasValue = false
            if let length = p?.pointee.content_length, length != UInt64.max, length > UInt64(me.limits.bodyBytesMax) {
                me.failure = Failure(status: 413, reason: "request body exceeds \(me.limits.bodyBytesMax) bytes")
                return -1  // (1 and 2 mean "no body" to this callback, not "error")
            }
            return 0
        }
        settings.on_body = { p, at, length in
            let me = HTTPParser.from(p)
            if let stream = me.onBodyBytes {
                guard let at, length > 0 else { return 0 }
                stream(at.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) })
                return 0
            }
            return me.append(&me.body, at, length, countAsHeader: false)
        }
        settings.on_message_complete = { p in
            HTTPParser.from(p).finishMessage(p!)
            return 0
        }
    }

    /// Feeds bytes; returns the messages completed by them. After a failure, every call
    /// throws it again (the connection must answer and close).
    public func feed(_ bytes: [UInt8]) throws(Failure) -> [Message] {
        if let failure { throw failure }
        if bytes.isEmpty { return [] }
        let context = Unmanaged.passUnretained(self).toOpaque()
        shoal_http_set_context(&parser, context)
        let consumed = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { chars in
                http_parser_execute(&parser, &settings, chars, buffer.count)
            }
        }
        if failure == nil {
            let code = shoal_http_errno(&parser)
            if code == 0, shoal_http_is_upgrade(&parser) != 0, !completed.isEmpty {
                // A request's handler decides whether to switch protocols (a response with
                // 101 has switched); what follows is not HTTP, so parsing ends here.
                completed[completed.count - 1].upgrade = true
                completed[completed.count - 1].keepAlive = false
                upgradeRemainder = Array(bytes[min(consumed, bytes.count)...])
                failure = Failure(status: 400, reason: "bytes after a protocol upgrade are not HTTP")
            } else if code != 0 || consumed != bytes.count || shoal_http_is_upgrade(&parser) != 0 {
                let name = code != 0 ? http_errno_name(http_errno(rawValue: code)).map { String(cString: $0) } ?? "parse error"
                    : consumed != bytes.count ? "parse error" : "protocol upgrade"
                failure = Failure(status: 400, reason: "malformed HTTP request (\(name))")
            }
        }
        let done = completed
        completed = []
        if let failure, done.isEmpty { throw failure }
        return done
    }

    /// For a response whose end is the connection's end (no length, not chunked).
    public func finish() throws(Failure) -> [Message] {
        if let failure { throw failure }
        withUnsafeMutablePointer(to: &parser) { p in
            shoal_http_set_context(p, Unmanaged.passUnretained(self).toOpaque())
            _ = http_parser_execute(p, &settings, nil, 0)
        }
        let done = completed
        completed = []
        return done
    }

    private static func from(_ p: UnsafeMutablePointer<http_parser>?) -> HTTPParser {
        Unmanaged<HTTPParser>.fromOpaque(shoal_http_context(p!)!).takeUnretainedValue()
    }

    private func append(_ target: inout [UInt8], _ at: UnsafePointer<CChar>?, _ length: Int, countAsHeader: Bool) -> Int32 {
        if countAsHeader {
            headerBytes += length
            if headerBytes > limits.headerBytesMax {
                failure = Failure(status: 431, reason: "request headers exceed \(limits.headerBytesMax) bytes")
                return 1
            }
        } else if target.count + length > limits.bodyBytesMax {
            failure = Failure(status: 413, reason: "request body exceeds \(limits.bodyBytesMax) bytes")
            return 1
        }
        guard let at, length > 0 else { return 0 }
        at.withMemoryRebound(to: UInt8.self, capacity: length) { target.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
        return 0
    }

    private func finishHeader() -> Int32? {
        if headers.count >= limits.headerCountMax {
            failure = Failure(status: 431, reason: "more than \(limits.headerCountMax) header fields")
            return 1
        }
        headers.append((String(decoding: headerName, as: UTF8.self).lowercased(), String(decoding: headerValue, as: UTF8.self)))
        headerName = []
        headerValue = []
        return nil
    }

    private func finishMessage(_ p: UnsafeMutablePointer<http_parser>) {
        let method = kind == .request ? String(cString: http_method_str(http_method(rawValue: shoal_http_method(p)))) : ""
        completed.append(Message(method: method, target: String(decoding: url, as: UTF8.self),
                                 status: kind == .response ? Int(p.pointee.status_code) : 0,
                                 headers: headers, body: body, keepAlive: http_should_keep_alive(p) != 0))
        url = []
        headers = []
        body = []
        headerBytes = 0
        lastWasValue = false
    }
}

/// Parses the requests of one server-side connection.
public final class HTTPRequestParser {
    public typealias Limits = HTTPParser.Limits
    public typealias Failure = HTTPParser.Failure
    private let parser: HTTPParser

    public init(limits: Limits = Limits()) { parser = HTTPParser(.request, limits: limits) }

    public func feed(_ bytes: [UInt8]) throws(Failure) -> [HTTPRequest] {
        try parser.feed(bytes).map { message in
            let (path, query) = splitTarget(message.target)
            var request = HTTPRequest(method: message.method, path: path, query: query, headers: message.headers,
                                      body: message.body, keepAlive: message.keepAlive, target: message.target)
            request.upgrade = message.upgrade
            return request
        }
    }

    /// The bytes after an upgrade request (see `HTTPParser.upgradeRemainder`).
    public var upgradeRemainder: [UInt8]? { parser.upgradeRemainder }

    /// The failure that stopped parsing, if any: `feed` returns the requests completed before
    /// it and throws it only on the next call, so a server checks here after each `feed`.
    public var failure: Failure? { parser.failure }
}

/// Splits a request target into its percent-decoded path and query parameters.
func splitTarget(_ target: String) -> (String, [String: String]) {
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    let path = percentDecode(String(parts[0]), plusIsSpace: false) ?? String(parts[0])
    var query: [String: String] = [:]
    if parts.count == 2 {
        for pair in parts[1].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(String(kv[0]), plusIsSpace: true) ?? String(kv[0])
            let value = kv.count == 2 ? (percentDecode(String(kv[1]), plusIsSpace: true) ?? String(kv[1])) : ""
            query[key] = value
        }
    }
    return (path, query)
}

/// Every value of a query parameter that may repeat (`command=sh&command=-c`), in order.
func queryValues(_ target: String, _ name: String) -> [String] {
    let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2 else { return [] }
    return parts[1].split(separator: "&").compactMap { pair in
        let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard (percentDecode(String(kv[0]), plusIsSpace: true) ?? String(kv[0])) == name else { return nil }
        return kv.count == 2 ? (percentDecode(String(kv[1]), plusIsSpace: true) ?? String(kv[1])) : ""
    }
}

/// Decodes %XX escapes (and `+` as space in queries); nil if an escape is malformed.
func percentDecode(_ text: String, plusIsSpace: Bool) -> String? {
    var out: [UInt8] = []
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        let b = bytes[i]
        if b == UInt8(ascii: "%") {
            guard i + 2 < bytes.count, let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) else { return nil }
            out.append(high << 4 | low)
            i += 3
        } else {
            out.append(plusIsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
            i += 1
        }
    }
    return String(validating: out, as: UTF8.self)
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}
