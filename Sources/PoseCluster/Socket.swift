// Thin TCP layer on Glibc sockets: address parsing, listen/accept/connect, non-blocking
// reads and writes. Every OS error becomes a `SocketError` naming the call and the peer.
#if canImport(Glibc)
import Glibc
#endif

/// An OS-level socket failure with the call and the endpoint it concerned.
public struct SocketError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let endpoint: String
    public let code: Int32
    public init(_ operation: String, endpoint: String, code: Int32 = errno) {
        self.operation = operation; self.endpoint = endpoint; self.code = code
    }
    public var description: String { "\(operation) \(endpoint): \(String(cString: strerror(code)))" }
}

/// `HOST:PORT` as given on a command line (`127.0.0.1:7000`, `localhost:7000`, `0.0.0.0:7000`, `[::1]:7000`).
public struct Endpoint: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) { self.host = host; self.port = port }

    /// Parses `HOST:PORT`; the error says what was expected.
    public init(parsing text: String, option: String = "address") throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw EndpointError("\(option) must be HOST:PORT, got \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw EndpointError("\(option) must be HOST:PORT, got \"\(text)\" (no host)") }
        guard let port = UInt16(text[text.index(after: colon)...]) else {
            throw EndpointError("\(option) must be HOST:PORT with a port in 0...65535, got \"\(text)\"")
        }
        self.host = host; self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost).
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

public struct EndpointError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Owned file descriptor of a TCP socket. Closed exactly once, by `close()` or deinit.
public final class Socket: @unchecked Sendable {
    public private(set) var fd: Int32
    /// The other side, for messages ("127.0.0.1:53422").
    public let peer: String

    init(fd: Int32, peer: String) { self.fd = fd; self.peer = peer }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    public var isOpen: Bool { fd >= 0 }

    /// Resolves `endpoint` to socket addresses (numeric hosts and names through getaddrinfo).
    static func resolve(_ endpoint: Endpoint, passive: Bool) throws -> [(family: Int32, address: [UInt8])] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        if passive { hints.ai_flags = AI_PASSIVE }
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            throw EndpointError("cannot resolve \(endpoint.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var result: [(family: Int32, address: [UInt8])] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = info.pointee.ai_addr {
                let bytes = Array(UnsafeRawBufferPointer(start: address, count: Int(info.pointee.ai_addrlen)))
                result.append((info.pointee.ai_family, bytes))
            }
            cursor = info.pointee.ai_next
        }
        // IPv4 first: "localhost" should mean 127.0.0.1 for tests and firewalls alike.
        return result.sorted { $0.family == AF_INET && $1.family != AF_INET }
    }

    /// A non-blocking listening socket with SO_REUSEADDR. Port 0 picks a free port (see `localPort`).
    public static func listen(on endpoint: Endpoint, backlog: Int32 = 128) throws -> Socket {
        let candidates = try resolve(endpoint, passive: true)
        var lastError = SocketError("bind", endpoint: endpoint.description, code: EADDRNOTAVAIL)
        for candidate in candidates {
            let fd = Glibc.socket(candidate.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = SocketError("socket", endpoint: endpoint.description); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound = candidate.address.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
            }
            guard bound == 0 else { lastError = SocketError("bind", endpoint: endpoint.description); Glibc.close(fd); continue }
            guard Glibc.listen(fd, backlog) == 0 else {
                lastError = SocketError("listen", endpoint: endpoint.description); Glibc.close(fd); continue
            }
            let socket = Socket(fd: fd, peer: endpoint.description)
            try socket.setNonBlocking()
            return socket
        }
        throw lastError
    }

    /// The port a listening socket is bound to.
    public var localPort: UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return 0 }
        let family = storage.ss_family
        return withUnsafePointer(to: &storage) { pointer -> UInt16 in
            if family == sa_family_t(AF_INET) {
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
        }
    }

    /// Accepts one pending connection (non-blocking), or nil when none is waiting.
    public func accept() throws -> Socket? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.accept(fd, $0, &length)
            }
        }
        if client < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED { return nil }
            throw SocketError("accept", endpoint: peer)
        }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        let socket = Socket(fd: client, peer: Socket.describe(storage))
        try socket.setNonBlocking()
        socket.setNoDelay()
        return socket
    }

    static func describe(_ storage: sockaddr_storage) -> String {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = storage.ss_family
        return withUnsafePointer(to: &storage) { pointer -> String in
            if family == sa_family_t(AF_INET) {
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var inAddress = address.pointee.sin_addr
                    inet_ntop(AF_INET, &inAddress, &text, socklen_t(text.count))
                    return "\(Socket.string(text)):\(UInt16(bigEndian: address.pointee.sin_port))"
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                var inAddress = address.pointee.sin6_addr
                inet_ntop(AF_INET6, &inAddress, &text, socklen_t(text.count))
                return "[\(Socket.string(text))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
            }
        }
    }

    static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Connects with a deadline; the returned socket is non-blocking.
    public static func connect(to endpoint: Endpoint, timeoutMs: Int) throws -> Socket {
        let candidates = try resolve(endpoint, passive: false)
        var lastError = SocketError("connect", endpoint: endpoint.description, code: ECONNREFUSED)
        for candidate in candidates {
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            let fd = Glibc.socket(candidate.family, type, 0)
            guard fd >= 0 else { lastError = SocketError("socket", endpoint: endpoint.description); continue }
            let status = candidate.address.withUnsafeBytes {
                Glibc.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
            }
            if status != 0 && errno != EINPROGRESS {
                lastError = SocketError("connect", endpoint: endpoint.description); Glibc.close(fd); continue
            }
            if status != 0 {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&pfd, 1, Int32(timeoutMs))
                if ready <= 0 {
                    lastError = SocketError("connect", endpoint: endpoint.description, code: ready == 0 ? ETIMEDOUT : errno)
                    Glibc.close(fd); continue
                }
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
                if soError != 0 {
                    lastError = SocketError("connect", endpoint: endpoint.description, code: soError); Glibc.close(fd); continue
                }
            }
            let socket = Socket(fd: fd, peer: endpoint.description)
            socket.setNoDelay()
            return socket
        }
        throw lastError
    }

    func setNonBlocking() throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw SocketError("fcntl", endpoint: peer) }
    }

    func setNoDelay() {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Outcome of one non-blocking read.
    public enum ReadResult: Equatable { case bytes(Int), wouldBlock, closed }

    /// Reads into `buffer`; `.closed` on end of stream or reset.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> ReadResult {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            if errno == ECONNRESET { return .closed }
            throw SocketError("recv", endpoint: peer)
        }
    }

    /// Writes what the kernel takes now; returns the count (0 when it would block).
    public func write(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        while true {
            let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return 0 }
            throw SocketError("send", endpoint: peer)
        }
    }
}
