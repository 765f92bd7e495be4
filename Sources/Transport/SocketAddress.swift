import CLibUV

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 socket address (a `sockaddr_storage`), as libuv's bind and connect take it.
struct SocketAddress: CustomStringConvertible {
    private(set) var storage = sockaddr_storage()

    /// Parses a numeric address ("10.0.0.1", "::1"); nil when `host` is not one.
    init?(numericHost host: String, port: UInt16) {
        let parsed: Bool = withUnsafeMutableBytes(of: &storage) { raw in
            let v4 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            if (try? uvCheck("uv_ip4_addr", uv_ip4_addr(host, Int32(port), v4))) != nil { return true }
            let v6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
            return (try? uvCheck("uv_ip6_addr", uv_ip6_addr(host, Int32(port), v6))) != nil
        }
        if !parsed { return nil }
    }

    /// Copies the first `length` bytes of a `sockaddr` (IPv4 or IPv6 only).
    init?(copying address: UnsafePointer<sockaddr>) {
        let family = Int32(address.pointee.sa_family)
        let length: Int
        switch family {
        case AF_INET: length = MemoryLayout<sockaddr_in>.size
        case AF_INET6: length = MemoryLayout<sockaddr_in6>.size
        default: return nil
        }
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.baseAddress!.copyMemory(from: address, byteCount: length)
        }
    }

    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>) throws(UVError) -> Result) throws(UVError) -> Result {
        var copy = storage
        return try withUnsafeBytes(of: &copy) { raw throws(UVError) in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self))
        }
    }

    var port: UInt16 {
        var copy = storage
        return withUnsafeBytes(of: &copy) { raw in
            let base = raw.baseAddress!
            switch Int32(storage.ss_family) {
            case AF_INET: return UInt16(bigEndian: base.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port)
            case AF_INET6: return UInt16(bigEndian: base.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port)
            default: return 0
            }
        }
    }

    /// "10.0.0.1:7000" or "[::1]:7000".
    var description: String {
        var name = [CChar](repeating: 0, count: 64)
        let ok: Bool = (try? withSockaddr { address throws(UVError) in
            try uvCheck("uv_ip_name", uv_ip_name(address, &name, name.count))
        }) != nil
        let host = ok ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        return Int32(storage.ss_family) == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Name resolution through libuv's thread pool (`uv_getaddrinfo`), so a host name never
/// blocks the loop thread. Numeric addresses resolve without a request.
enum AddressResolver {
    /// Resolves `host` to its first IPv4/IPv6 address. The completion runs on the loop
    /// thread, later (never before this returns).
    static func resolve(loop: EventLoop, host: String, port: UInt16,
                        completion: @escaping (Result<SocketAddress, UVError>) -> Void) {
        let request = UVHandle.allocate(uv_getaddrinfo_t.self)
        let context = ResolveContext(completion: completion, port: port)
        // The one retain of a resolve request's context; released in `resolved`.
        request.pointee.data = Unmanaged.passRetained(context).toOpaque()
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        do {
            try uvCheck("uv_getaddrinfo", uv_getaddrinfo(loop.uvLoop, request, resolved, host, nil, &hints))
        } catch {
            Unmanaged<ResolveContext>.fromOpaque(request.pointee.data!).release()
            UVHandle.deallocateUninitialized(request)
            // Deliver later, as promised, through a zero-delay timer.
            let timer = LoopTimer(loop: loop)
            timer.start(afterMilliseconds: 0) {
                timer.close()
                completion(.failure(error))
            }
            if !timer.isActive { completion(.failure(error)) }  // loop shutting down
        }
    }

    /// Resolves synchronously (for binding at startup, where blocking briefly is fine).
    static func resolveNow(loop: EventLoop, host: String, port: UInt16) throws(UVError) -> SocketAddress {
        if let address = SocketAddress(numericHost: host, port: port) { return address }
        var request = uv_getaddrinfo_t()
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        try uvCheck("uv_getaddrinfo", uv_getaddrinfo(loop.uvLoop, &request, nil, host, nil, &hints))
        defer { uv_freeaddrinfo(request.addrinfo) }
        return try firstAddress(request.addrinfo, port: port)
    }

    fileprivate static func firstAddress(_ list: UnsafeMutablePointer<addrinfo>?, port: UInt16) throws(UVError) -> SocketAddress {
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr, var found = SocketAddress(copying: address) {
                found.setPort(port)
                return found
            }
            entry = current.pointee.ai_next
        }
        throw UVError(call: "uv_getaddrinfo", code: UV_EAI_NONAME.rawValue)
    }
}

private final class ResolveContext {
    let completion: (Result<SocketAddress, UVError>) -> Void
    let port: UInt16
    init(completion: @escaping (Result<SocketAddress, UVError>) -> Void, port: UInt16) {
        self.completion = completion
        self.port = port
    }
}

private func resolved(_ request: UnsafeMutablePointer<uv_getaddrinfo_t>?, _ status: Int32,
                      _ list: UnsafeMutablePointer<addrinfo>?) {
    guard let request else { return }
    let context = Unmanaged<ResolveContext>.fromOpaque(request.pointee.data!).takeRetainedValue()
    UVHandle.deallocateUninitialized(request)
    defer { if let list { uv_freeaddrinfo(list) } }
    let result: Result<SocketAddress, UVError>
    if let error = UVError.status("uv_getaddrinfo", status) {
        result = .failure(error)
    } else {
        do {
            result = .success(try AddressResolver.firstAddress(list, port: context.port))
        } catch {
            result = .failure(error)
        }
    }
    context.completion(result)
}

extension SocketAddress {
    fileprivate mutating func setPort(_ port: UInt16) {
        withUnsafeMutableBytes(of: &storage) { raw in
            let base = raw.baseAddress!
            switch Int32(base.assumingMemoryBound(to: sockaddr.self).pointee.sa_family) {
            case AF_INET: base.assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port = port.bigEndian
            case AF_INET6: base.assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port = port.bigEndian
            default: break
            }
        }
    }
}
