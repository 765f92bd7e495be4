import CLibUV

/// A `uv_write_t` and a private copy of the bytes it writes, in one allocation:
/// `[uv_write_t][byte count][bytes]`. The bytes must stay put until the write callback,
/// which is where the block is freed.
enum WriteRequest {
    private static let countOffset = (MemoryLayout<uv_write_t>.size + 15) & ~15
    private static let payloadOffset = countOffset + 16

    static func allocate(copying bytes: [UInt8]) -> UnsafeMutablePointer<uv_write_t> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: payloadOffset + bytes.count, alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: payloadOffset)
        raw.storeBytes(of: bytes.count, toByteOffset: countOffset, as: Int.self)
        bytes.withUnsafeBytes { source in
            (raw + payloadOffset).copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        return raw.bindMemory(to: uv_write_t.self, capacity: 1)
    }

    static func payload(_ request: UnsafeMutablePointer<uv_write_t>) -> UnsafeMutablePointer<CChar> {
        (UnsafeMutableRawPointer(request) + payloadOffset).assumingMemoryBound(to: CChar.self)
    }

    static func count(_ request: UnsafeMutablePointer<uv_write_t>) -> Int {
        UnsafeMutableRawPointer(request).load(fromByteOffset: countOffset, as: Int.self)
    }

    static func deallocate(_ request: UnsafeMutablePointer<uv_write_t>) {
        UnsafeMutableRawPointer(request).deallocate()
    }
}

// libuv callbacks of TCPConnection and TCPServer. Requests reach their connection through
// the handle they were issued on (`req->handle`), which stays open until their callback has
// run, so requests need no retain of their own.

func tcpConnected(_ request: UnsafeMutablePointer<uv_connect_t>?, _ status: Int32) {
    guard let request else { return }
    let stream = request.pointee.handle
    UVHandle.deallocateUninitialized(request)
    UVHandle.owner(of: stream, as: TCPConnection.self).connected(status: status)
}

func tcpAllocate(_ handle: UnsafeMutablePointer<uv_handle_t>?, _ suggested: Int,
                 _ buffer: UnsafeMutablePointer<uv_buf_t>?) {
    let connection = UVHandle.owner(of: handle, as: TCPConnection.self)
    let readBuffer = connection.loop.readBuffer
    buffer?.pointee = uv_buf_init(readBuffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                                  UInt32(readBuffer.count))
}

func tcpRead(_ stream: UnsafeMutablePointer<uv_stream_t>?, _ count: Int, _ buffer: UnsafePointer<uv_buf_t>?) {
    UVHandle.owner(of: stream, as: TCPConnection.self).didRead(count, buffer)
}

func tcpWritten(_ request: UnsafeMutablePointer<uv_write_t>?, _ status: Int32) {
    guard let request else { return }
    let stream = request.pointee.handle
    let count = WriteRequest.count(request)
    WriteRequest.deallocate(request)
    UVHandle.owner(of: stream, as: TCPConnection.self).didWrite(count, status: status)
}

func tcpServerConnection(_ server: UnsafeMutablePointer<uv_stream_t>?, _ status: Int32) {
    UVHandle.owner(of: server, as: TCPServer.self).accept(status: status)
}
