import CLibUV

#if canImport(Glibc)
import Glibc
#endif

/// A bound UDP socket (`uv_udp_t`) on a loop, for request/answer protocols such as DNS.
/// Loop thread only. Each datagram read is handed to `onDatagram` with its sender; answers
/// go out with `send`, which never queues (a datagram the kernel cannot take now is dropped,
/// as the network may drop any datagram). Stays open until `close()`.
public final class UDPSocket: UVHandleOwner {
    /// The largest datagram read, in bytes (a UDP payload cannot be larger).
    public static let datagramBytesMax = 65_536

    public let loop: EventLoop
    public let boundPort: UInt16
    /// Receives each datagram and its sender (an opaque address `send` takes back).
    public var onDatagram: (([UInt8], UDPPeer) -> Void)?
    /// Datagrams `send` dropped because the kernel would not take them at once.
    public private(set) var droppedSends = 0

    private var handle: UnsafeMutablePointer<uv_udp_t>?
    /// The one receive buffer: libuv asks for it before each read, and a read is handed on
    /// before the next one starts.
    fileprivate let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: UDPSocket.datagramBytesMax)

    /// Binds `host:port` (a numeric address; port 0 picks one) and starts reading.
    public init(loop: EventLoop, host: String, port: UInt16) throws(UVError) {
        loop.assertOnLoopThread("UDPSocket.init")
        self.loop = loop
        guard let address = SocketAddress(numericHost: host, port: port) else {
            buffer.deallocate()
            throw UVError(call: "uv_ip4_addr", code: UVError.invalidArgument)
        }
        let udp = UVHandle.allocate(uv_udp_t.self)
        do {
            try uvCheck("uv_udp_init", uv_udp_init(loop.uvLoop, udp))
        } catch {
            UVHandle.deallocateUninitialized(udp)
            buffer.deallocate()
            throw error
        }
        var bound: UInt16 = 0
        do {
            try address.withSockaddr { sockaddr throws(UVError) in
                try uvCheck("uv_udp_bind", uv_udp_bind(udp, sockaddr, 0))
            }
            var storage = sockaddr_storage()
            var length = Int32(MemoryLayout<sockaddr_storage>.size)
            try withUnsafeMutableBytes(of: &storage) { raw throws(UVError) in
                let name = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
                try uvCheck("uv_udp_getsockname", uv_udp_getsockname(udp, name, &length))
                bound = SocketAddress(copying: name)?.port ?? 0
            }
            try uvCheck("uv_udp_recv_start", uv_udp_recv_start(udp, udpAllocate, udpReceived))
        } catch {
            UVHandle.close(udp)
            buffer.deallocate()
            throw error
        }
        boundPort = bound
        handle = udp
        UVHandle.attach(udp, owner: self)
    }

    deinit { buffer.deallocate() }

    /// Sends one datagram to `peer` now, or drops it (counted) if the kernel cannot take it.
    public func send(_ bytes: [UInt8], to peer: UDPPeer) {
        guard let handle, !UVHandle.isClosing(handle) else { return }
        let sent: Int32 = bytes.withUnsafeBytes { raw in
            var buf = uv_buf_init(UnsafeMutablePointer(mutating: raw.baseAddress?.assumingMemoryBound(to: CChar.self)), UInt32(raw.count))
            return (try? peer.address.withSockaddr { address throws(UVError) in uv_udp_try_send(handle, &buf, 1, address) }) ?? -1
        }
        if sent < 0 { droppedSends += 1 }
    }

    public func close() {
        loop.assertOnLoopThread("UDPSocket.close")
        guard let handle else { return }
        onDatagram = nil
        uv_udp_recv_stop(handle)
        UVHandle.close(handle)
    }

    func closeForLoopShutdown() { close() }

    func handleDidClose(_ closed: UnsafeMutablePointer<uv_handle_t>) {
        handle = nil
    }

    fileprivate func received(_ count: Int, from address: UnsafePointer<sockaddr>?) {
        guard count > 0, let address, let peer = SocketAddress(copying: address) else { return }
        let bytes = Array(UnsafeRawBufferPointer(start: buffer, count: count).bindMemory(to: UInt8.self))
        onDatagram?(bytes, UDPPeer(address: peer))
    }
}

/// Where a datagram came from (and where its answer goes).
public struct UDPPeer: CustomStringConvertible {
    let address: SocketAddress
    public var description: String { address.description }

    /// A numeric `host:port`, for sending to a server (nil when `host` is not an address).
    public init?(host: String, port: UInt16) {
        guard let address = SocketAddress(numericHost: host, port: port) else { return nil }
        self.address = address
    }

    init(address: SocketAddress) { self.address = address }
}

private func udpAllocate(_ handle: UnsafeMutablePointer<uv_handle_t>?, _ suggested: Int, _ buf: UnsafeMutablePointer<uv_buf_t>?) {
    let socket = UVHandle.owner(of: handle, as: UDPSocket.self)
    buf?.pointee = uv_buf_init(socket.buffer, UInt32(UDPSocket.datagramBytesMax))
}

private func udpReceived(_ handle: UnsafeMutablePointer<uv_udp_t>?, _ count: Int, _ buf: UnsafePointer<uv_buf_t>?,
                         _ address: UnsafePointer<sockaddr>?, _ flags: UInt32) {
    guard let handle else { return }
    // A read error on an unconnected UDP socket (an ICMP error for an earlier send) is not fatal.
    guard count > 0 else { return }
    UVHandle.owner(of: handle, as: UDPSocket.self).received(count, from: address)
}
