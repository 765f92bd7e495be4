import Transport

/// One request and its response, as it moves through a connection. Loop thread only.
///
/// Handlers answer through it exactly once: `respond` with a whole response, or
/// `startStream` then `send`/`endStream` (a watch). The connection writes exchanges strictly
/// in request order, so an answer that is ready early waits (in `output`) until the ones
/// before it are written. Whatever ends first wins: the answer, the request timeout (504),
/// or the connection going away. `onEnd` runs once at that moment, so work still in flight
/// (a forwarded request, a watch subscription) can stop; later answers are ignored.
final class APIExchange {
    enum State: Equatable {
        /// Dispatched; no answer yet (the request timeout runs).
        case waiting
        /// A stream's head is out; chunks may follow.
        case streaming
        /// The whole answer is in `output` (or written).
        case finished
        /// The connection went away first.
        case cancelled
        /// Switched protocols: the connection is to be joined to `upgradePeer`.
        case upgraded
    }

    let request: HTTPRequest
    /// When the request was dispatched (loop milliseconds).
    let startMilliseconds: UInt64
    /// When a `waiting` exchange times out (504), loop milliseconds.
    let deadlineMilliseconds: UInt64
    /// When a stream ends by itself (a watch's `timeoutSeconds`), loop milliseconds.
    var streamDeadlineMilliseconds: UInt64?
    private(set) var state: State = .waiting
    /// Answer bytes not yet handed to the connection, as written: a response's head and body
    /// stay separate arrays, so a large body (a list of 16 MB) is never copied on the loop.
    private(set) var output: [[UInt8]] = []
    /// The bytes in `output`.
    private(set) var outputBytes = 0
    /// The response status (0 until answered), for metrics.
    private(set) var status = 0
    /// Whether the answer is (or was) a stream.
    private(set) var streamed = false
    /// Close the connection once this answer is written.
    private(set) var closeAfter = false
    /// After `upgrade(to:)`: the stream the connection is joined to, until the connection takes it.
    private var upgradePeer: (any ByteStream)?
    /// Called once when the exchange ends for any reason.
    var onEnd: (() -> Void)?
    /// Told when `output` grows or the exchange finishes (the connection flushes).
    weak var connection: APIConnection?

    init(request: HTTPRequest, nowMilliseconds: UInt64, timeoutMilliseconds: Int) {
        self.request = request
        startMilliseconds = nowMilliseconds
        deadlineMilliseconds = nowMilliseconds + UInt64(max(0, timeoutMilliseconds))
    }

    /// True while a handler may still answer (`respond` or `startStream`).
    var isWaiting: Bool { state == .waiting }
    /// True while a stream may still `send`.
    var isStreaming: Bool { state == .streaming }
    /// Whether the connection stays open after this answer.
    var keepsAlive: Bool { request.keepAlive && !closeAfter }

    /// Answers with a whole response; ignored unless still waiting.
    func respond(_ response: HTTPResponse, closeConnection: Bool = false) {
        guard state == .waiting else { return }
        if closeConnection { closeAfter = true }
        status = response.status
        append(response.head(keepAlive: keepsAlive))
        append(response.body)
        end(.finished)
    }

    /// Sends a chunked response's head; `send` and `endStream` follow. Ignored unless waiting.
    func startStream(status: Int, headers: [(name: String, value: String)]) {
        guard state == .waiting else { return }
        self.status = status
        state = .streaming
        streamed = true
        var head = headers
        if !request.keepAlive { head.append(("Connection", "close")) }
        append(HTTPResponse.chunkedHead(status: status, headers: head))
        connection?.exchangeProduced(self)
    }

    /// Sends one chunk of a stream (nothing for empty bytes).
    func send(_ bytes: [UInt8]) {
        guard state == .streaming, !bytes.isEmpty else { return }
        append(HTTPResponse.chunk(bytes))
        connection?.exchangeProduced(self)
    }

    /// Ends a stream with the last chunk; `closeConnection` closes once it is written.
    func endStream(closeConnection: Bool = false) {
        guard state == .streaming else { return }
        if closeConnection { closeAfter = true }
        append(HTTPResponse.chunk([]))
        end(.finished)
    }

    /// Switches protocols: once the answers before this one are written, the connection is
    /// joined to `peer` byte for byte (the peer answers the upgrade request itself). The
    /// request must be an upgrade request; when the exchange has already ended, `peer` is
    /// aborted.
    func upgrade(to peer: any ByteStream) {
        guard state == .waiting, request.upgrade else { return peer.abort(nil) }
        status = 101
        streamed = true
        upgradePeer = peer
        end(.upgraded)
    }

    /// The stream an upgraded exchange is joined to; the connection takes it once.
    func takeUpgradePeer() -> (any ByteStream)? {
        defer { upgradePeer = nil }
        return upgradePeer
    }

    /// Bytes this exchange holds that the client has not read: its own buffer, plus the
    /// connection's unsent bytes once it is the one being written.
    var bufferedBytes: Int {
        outputBytes + (connection?.isHead(self) == true ? connection?.pendingWriteBytes ?? 0 : 0)
    }

    /// Hands the buffered bytes over to the connection.
    func takeOutput() -> [[UInt8]] {
        defer {
            output = []
            outputBytes = 0
        }
        return output
    }

    /// Small pieces (a response's head and a short body, a watch's chunks) are joined into one
    /// array, so they leave in one TLS record and one write; larger ones stay as they are.
    private func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        outputBytes += bytes.count
        if let last = output.indices.last, output[last].count + bytes.count <= Self.joinedBytesMax {
            output[last].append(contentsOf: bytes)
        } else {
            output.append(bytes)
        }
    }

    /// The largest piece of output built by joining smaller ones, in bytes.
    static let joinedBytesMax = 64 << 10

    /// The connection is gone: no answer will be written.
    func cancel() {
        takeUpgradePeer()?.abort(nil)
        guard state == .waiting || state == .streaming else { return }
        output = []
        outputBytes = 0
        end(.cancelled)
    }

    private func end(_ final: State) {
        state = final
        let hook = onEnd
        onEnd = nil
        hook?()
        connection?.exchangeProduced(self)
    }
}
