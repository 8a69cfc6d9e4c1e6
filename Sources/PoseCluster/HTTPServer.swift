// A tiny HTTP/1.1 server on the event loop for /metrics, /status and /: GET only, one
// request per connection, request size and time bounded, answered from the loop thread.
// Connections that have not sent a whole request are idle: they are closed after
// `requestTimeoutMs`, and the oldest one makes room when `connectionsMax` is reached, so a
// handful of silent sockets cannot lock the page out. Pages other than `HTTPAccess.openPaths`
// need `Authorization: Bearer <cluster token>` when the server has a token.
#if canImport(Glibc)
import Glibc
#endif
import PoseCrypto

/// Who may read which page.
public struct HTTPAccess: Sendable, Equatable {
    /// When set, every path outside `openPaths` needs `Authorization: Bearer <token>`.
    public var token: [UInt8]?
    public var openPaths: Set<String>

    public init(token: [UInt8]?, openPaths: Set<String>) { self.token = token; self.openPaths = openPaths }

    /// Everything open (a loopback address, or no token to check).
    public static let open = HTTPAccess(token: nil, openPaths: [])

    /// Whether a request for `path` with this Authorization header value may be answered.
    public func allows(path: String, authorization: String?) -> Bool {
        guard let token, !openPaths.contains(path) else { return true }
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return false }
        return constantTimeEquals(Array(String(authorization.dropFirst(7)).trimmingWhitespace().utf8), token)
    }
}

public struct HTTPResponse {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    /// More header lines, each ending in CRLF.
    public var extraHeaders: String
    public init(status: Int, contentType: String, body: [UInt8], extraHeaders: String = "") {
        self.status = status; self.contentType = contentType; self.body = body; self.extraHeaders = extraHeaders
    }
    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }
}

public final class HTTPServer {
    /// Largest request head accepted; status requests are one short line.
    public static let requestBytesMax = 8 * 1024
    /// A request must be complete this long after the connection opened (a status request is one
    /// short line: a client that takes longer is idle, and idle sockets must not lock others out).
    public static let requestTimeoutMs: UInt64 = 1_000
    /// How often idle connections are looked for.
    public static let expiryIntervalMs = 100
    /// Most HTTP connections open at once; at the cap the oldest idle one is closed for a new one.
    public static let connectionsMax = 64

    private let loop: EventLoop
    private let handler: (String) -> HTTPResponse
    private let log: (String) -> Void
    private let access: HTTPAccess
    private var open: [Int32: (connection: ByteConnection, openedMs: UInt64, answered: Bool)] = [:]
    public let listener: Listener
    /// Idle connections closed to make room or on timeout, and requests refused for want of the token.
    public private(set) var idleClosed = 0
    public private(set) var unauthorized = 0

    public init(endpoint: Endpoint, loop: EventLoop, access: HTTPAccess = .open, log: @escaping (String) -> Void,
                handler: @escaping (String) -> HTTPResponse) throws {
        self.loop = loop; self.handler = handler; self.log = log; self.access = access
        let socket = try Socket.listen(on: endpoint)
        var accept: (Socket) -> Void = { _ in }
        listener = Listener(socket: socket, clock: loop.clock, onAccept: { accept($0) }, onError: { log("http: \($0)") })
        accept = { [unowned self] in self.accept($0) }
        loop.register(listener)
        loop.every(HTTPServer.expiryIntervalMs) { [unowned self] in self.expire() }
    }

    public var port: UInt16 { listener.socket.localPort }

    private func accept(_ socket: Socket) {
        if open.count >= HTTPServer.connectionsMax {
            // Make room: the oldest connection still waiting for its request goes first.
            guard let oldest = open.values.filter({ !$0.answered }).min(by: { $0.openedMs < $1.openedMs }) else {
                log("http: refused \(socket.peer): connectionsMax (\(HTTPServer.connectionsMax)) reached, all answering")
                socket.close()
                return
            }
            idleClosed += 1
            oldest.connection.close(reason: "closed for a new connection: connectionsMax (\(HTTPServer.connectionsMax)) reached")
        }
        let connection = ByteConnection(socket: socket, loop: loop, outboundBytesMax: 64 * 1024 * 1024, readChunkBytes: 4096)
        var head: [UInt8] = []
        let fd = connection.fd
        connection.onClose = { [unowned self] _ in self.open[fd] = nil }
        connection.onBytes = { [unowned self, unowned connection] bytes in
            guard !connection.isClosed else { return }
            head.append(contentsOf: bytes)
            if head.count > HTTPServer.requestBytesMax {
                self.respond(connection, .text(431, "request head over \(HTTPServer.requestBytesMax) bytes\n"))
                return
            }
            guard let end = HTTPServer.headEnd(head) else { return }
            let line = String(decoding: head[..<end], as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
                self.respond(connection, .text(400, "bad request line\n"))
                return
            }
            guard parts[0] == "GET" || parts[0] == "HEAD" else {
                self.respond(connection, .text(405, "only GET\n"))
                return
            }
            let path = String(parts[1].split(separator: "?", maxSplits: 1).first ?? "/")
            guard self.access.allows(path: path, authorization: HTTPServer.header("authorization", in: head[..<end])) else {
                self.unauthorized += 1
                self.respond(connection, HTTPResponse(status: 401, contentType: "text/plain; charset=utf-8",
                                                      body: Array("\(path) needs the cluster token: Authorization: Bearer <token>\n".utf8),
                                                      extraHeaders: "WWW-Authenticate: Bearer realm=\"posecluster\"\r\n"))
                return
            }
            // The handler gets the query too (`/?page=2`) and splits it off itself.
            self.respond(connection, self.handler(String(parts[1])))
        }
        open[fd] = (connection, loop.nowMs, false)
        loop.register(connection)
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// The value of header `name` (lower case) in a request head, or nil.
    static func header(_ name: String, in head: ArraySlice<UInt8>) -> String? {
        for line in String(decoding: head, as: UTF8.self).split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == name else { continue }
            return String(line[line.index(after: colon)...]).trimmingWhitespace()
        }
        return nil
    }

    private func respond(_ connection: ByteConnection, _ response: HTTPResponse) {
        let reason = [200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
                      431: "Request Header Fields Too Large"][response.status] ?? "Status"
        let head = "HTTP/1.1 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\nConnection: close\r\nCache-Control: no-store\r\n\(response.extraHeaders)\r\n"
        open[connection.fd]?.answered = true
        connection.send(Array(head.utf8) + response.body)
        connection.closeAfterFlush(reason: "response sent")
    }

    private func expire() {
        let now = loop.nowMs
        for (_, entry) in open where !entry.answered && now - entry.openedMs > HTTPServer.requestTimeoutMs {
            idleClosed += 1
            entry.connection.close(reason: "request not complete within \(HTTPServer.requestTimeoutMs) ms")
        }
    }
}

/// A blocking GET for `posecoord status` and tests: returns status code and body.
public enum HTTPClient {
    /// Largest response read.
    public static let responseBytesMax = 16 * 1024 * 1024

    public static func get(_ endpoint: Endpoint, path: String, token: [UInt8]? = nil, timeoutMs: Int = 5_000) throws -> (status: Int, body: [UInt8]) {
        let socket = try Socket.connect(to: endpoint, timeoutMs: timeoutMs)
        defer { socket.close() }
        let authorization = token.map { "Authorization: Bearer \(String(decoding: $0, as: UTF8.self))\r\n" } ?? ""
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(endpoint)\r\n\(authorization)Connection: close\r\n\r\n".utf8)
        var offset = 0
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let deadline = MonotonicClock().nowMs + UInt64(timeoutMs)
        while true {
            let now = MonotonicClock().nowMs
            guard now < deadline else { throw SocketError("read", endpoint: endpoint.description, code: ETIMEDOUT) }
            var pfd = pollfd(fd: socket.fd, events: Int16(offset < request.count ? POLLOUT : POLLIN), revents: 0)
            _ = poll(&pfd, 1, Int32(deadline - now))
            if offset < request.count {
                offset += try request.withUnsafeBytes { try socket.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
                continue
            }
            let result = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) }
            switch result {
            case .bytes(let n):
                response.append(contentsOf: buffer[0..<n])
                guard response.count <= responseBytesMax else {
                    throw SocketError("read", endpoint: endpoint.description, code: EMSGSIZE)
                }
            case .wouldBlock: continue
            case .closed:
                guard let end = HTTPServer.headEnd(response) else {
                    throw SocketError("read", endpoint: endpoint.description, code: EPROTO)
                }
                let statusLine = String(decoding: response[..<end], as: UTF8.self).split(separator: " ")
                let status = statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0
                return (status, Array(response[(end + 4)...]))
            }
        }
    }
}
