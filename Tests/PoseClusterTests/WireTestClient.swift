// A hand-driven peer of the wire protocol for hostile-peer tests and the wire fuzzer: it does
// the handshake like a worker, then sends whatever a test wants (any message, raw bytes),
// reads what comes back with a time bound, and closes normally or with a reset (RST).
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PoseWire
@testable import PoseCluster

final class WireTestClient {
    let socket: Socket
    private var decoder = FrameDecoder()
    private(set) var welcome: Welcome?

    init(_ endpoint: Endpoint, timeoutMs: Int = 2_000) throws {
        socket = try Socket.connect(to: endpoint, timeoutMs: timeoutMs)
    }

    /// The accepted end of a connection (a fake coordinator in a test).
    init(accepted socket: Socket) {
        self.socket = socket
    }

    deinit { socket.close() }

    /// Writes all of `bytes` (bounded in time); false if the peer is gone.
    @discardableResult
    func sendRaw(_ bytes: [UInt8], timeoutMs: Int = 2_000) -> Bool {
        var offset = 0
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while offset < bytes.count, Date() < deadline, socket.isOpen {
            var pfd = pollfd(fd: socket.fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, 50)
            guard let written = try? bytes.withUnsafeBytes({ try socket.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) else {
                return false
            }
            offset += written
        }
        return offset == bytes.count
    }

    /// Sends `message`; false if it does not encode (some insane values the encoder refuses) or the peer is gone.
    @discardableResult
    func send(_ message: WireMessage) -> Bool {
        guard let frame = try? message.encode() else { return false }
        return sendRaw(frame)
    }

    enum Received: Equatable {
        case message(WireMessage)
        /// The peer closed (or reset) the connection.
        case closed
        /// Nothing within the time allowed.
        case timedOut
        /// Bytes that do not decode.
        case invalid(String)
    }

    /// The next message, waiting at most `timeoutMs`.
    func receive(timeoutMs: Int = 5_000) -> Received {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            do {
                if let message = try decoder.next() { return .message(message) }
            } catch {
                return .invalid("\(error)")
            }
            guard Date() < deadline, socket.isOpen else { return .timedOut }
            var pfd = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 50)
            switch (try? buffer.withUnsafeMutableBytes { try socket.read(into: $0) }) ?? .closed {
            case .bytes(let count): decoder.feed(Array(buffer[0..<count]))
            case .wouldBlock: continue
            case .closed: return .closed
            }
        }
    }

    /// The next message that is not a HEARTBEAT, or how the wait ended.
    func receiveSkippingHeartbeats(timeoutMs: Int = 5_000) -> Received {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while true {
            let left = Int(deadline.timeIntervalSinceNow * 1000)
            let next = receive(timeoutMs: max(0, left))
            if case .message(.heartbeat) = next, left > 0 { continue }
            return next
        }
    }

    /// HELLO, CHALLENGE, AUTH, WELCOME as a worker named `name`. Throws on anything else.
    func handshake(token: [UInt8]?, name: String = "test-client", role: PeerRole = .worker) throws {
        let nonce = [UInt8](repeating: 7, count: WireProtocol.nonceByteCount)
        send(.hello(Hello(role: role, name: name, threads: 1, cachedModel: nil, capabilities: .all, nonce: nonce)))
        guard case .message(.challenge(let challenge)) = receive() else { throw WireTestClientError("no CHALLENGE") }
        let proof = token.map {
            HandshakeProof.peer(token: $0, role: role, name: name, challengeNonce: challenge.nonce, helloNonce: nonce)
        } ?? HandshakeProof.none
        send(.auth(Auth(proof: proof)))
        let answer = receive()
        guard case .message(.welcome(let welcome)) = answer else { throw WireTestClientError("no WELCOME: \(answer)") }
        self.welcome = welcome
    }

    /// Waits for a UNIT (skipping heartbeats); nil if none comes in time.
    func nextUnit(timeoutMs: Int = 10_000) -> PoseWire.Unit? {
        if case .message(.unit(let unit)) = receiveSkippingHeartbeats(timeoutMs: timeoutMs) { return unit }
        return nil
    }

    /// Whether the peer closes the connection within `timeoutMs` (messages before the close are skipped).
    func waitClosed(timeoutMs: Int = 5_000) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            switch receive(timeoutMs: max(1, Int(deadline.timeIntervalSinceNow * 1000))) {
            case .closed, .invalid: return true
            case .timedOut: return false
            case .message: continue
            }
        }
        return false
    }

    /// Closes with a reset instead of a FIN (SO_LINGER 0), as a crashed or hostile peer may.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        socket.close()
    }

    func close() { socket.close() }
}

struct WireTestClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension WireTestClient {
    /// A frame of `type` whose zstd payload declares `inflatedBytes` (zeros): a decompression bomb.
    static func bomb(type: MessageType = .hello, inflatedBytes: Int) -> [UInt8] {
        let compressed = Zstd.compress([UInt8](repeating: 0, count: inflatedBytes), level: 19)
        return try! Frame.encode(type: type.rawValue, flags: .zstd, payload: compressed)
    }
}
