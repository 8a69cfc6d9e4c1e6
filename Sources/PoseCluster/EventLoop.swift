// A poll(2) event loop on one thread: sockets that want reading/writing, repeating timers,
// and blocks handed over from other threads through a wake-up pipe. Everything registered
// with a loop is touched only on the loop's thread, so connection and scheduler state needs
// no locks; other threads talk to it only through `execute`.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Milliseconds from a monotonic origin; behind a protocol so tests and simulations can drive time.
public protocol Clock: Sendable {
    var nowMs: UInt64 { get }
}

/// CLOCK_MONOTONIC in milliseconds.
public struct MonotonicClock: Clock {
    public init() {}
    public var nowMs: UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}

/// Wall-clock seconds since 1970, for logs and the status page.
func wallSeconds() -> Double { Date().timeIntervalSince1970 }

/// Something the loop polls. Called on the loop thread only.
public protocol LoopSource: AnyObject {
    var fd: Int32 { get }
    /// Whether the source has bytes waiting to go out (adds POLLOUT).
    var wantsWrite: Bool { get }
    func readable()
    func writable()
}

public final class EventLoop: @unchecked Sendable {
    public let clock: any Clock
    private var sources: [Int32: LoopSource] = [:]
    private var timers: [(intervalMs: UInt64, dueMs: UInt64, body: () -> Void)] = []
    private let lock = NSLock()
    private var pending: [() -> Void] = []
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    private var stopping = false
    /// Upper bound of one poll wait, so timers fire on time even when they were added late.
    public static let pollWaitMaxMs: Int32 = 50

    public init(clock: any Clock = MonotonicClock()) {
        self.clock = clock
        var fds: [Int32] = [0, 0]
        let ok = pipe(&fds)
        precondition(ok == 0, "pipe failed: \(String(cString: strerror(errno)))")
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]; wakeWrite = fds[1]
    }

    deinit {
        close(wakeRead); close(wakeWrite)
    }

    public var nowMs: UInt64 { clock.nowMs }

    public func register(_ source: LoopSource) {
        precondition(sources[source.fd] == nil, "fd \(source.fd) registered twice")
        sources[source.fd] = source
    }

    public func unregister(fd: Int32) {
        sources[fd] = nil
    }

    /// Runs `body` every `intervalMs` on the loop thread (first run after one interval).
    public func every(_ intervalMs: Int, _ body: @escaping () -> Void) {
        let interval = UInt64(max(1, intervalMs))
        timers.append((interval, clock.nowMs + interval, body))
    }

    /// Runs `body` on the loop thread soon. Safe from any thread.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        lock.lock()
        pending.append(body)
        lock.unlock()
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    /// Ends `run()` after the current iteration. Safe from any thread.
    public func stop() {
        execute { [unowned self] in self.stopping = true }
    }

    /// Polls until `stop()`.
    public func run() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while !stopping {
            var fds: [pollfd] = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            fds.reserveCapacity(sources.count + 1)
            for (fd, source) in sources {
                var events = Int16(POLLIN)
                if source.wantsWrite { events |= Int16(POLLOUT) }
                fds.append(pollfd(fd: fd, events: events, revents: 0))
            }
            let now = clock.nowMs
            var waitMs = EventLoop.pollWaitMaxMs
            for timer in timers { waitMs = min(waitMs, Int32(clamping: timer.dueMs > now ? timer.dueMs - now : 0)) }
            let ready = poll(&fds, nfds_t(fds.count), waitMs)
            if ready < 0 && errno != EINTR {
                preconditionFailure("poll failed: \(String(cString: strerror(errno)))")
            }
            if ready > 0 {
                if fds[0].revents != 0 { while read(wakeRead, &buffer, buffer.count) > 0 {} }
                for entry in fds.dropFirst() where entry.revents != 0 {
                    // A handler earlier in this round may have closed and unregistered this fd.
                    guard let source = sources[entry.fd] else { continue }
                    let revents = Int32(entry.revents)
                    if revents & (Int32(POLLIN) | Int32(POLLHUP) | Int32(POLLERR)) != 0 { source.readable() }
                    if revents & Int32(POLLOUT) != 0, let still = sources[entry.fd], still === source { source.writable() }
                }
            }
            lock.lock()
            let work = pending
            pending.removeAll()
            lock.unlock()
            for body in work { body() }
            let after = clock.nowMs
            for index in timers.indices where timers[index].dueMs <= after {
                timers[index].dueMs = after + timers[index].intervalMs
                timers[index].body()
            }
        }
    }
}

/// A listening socket on a loop: accepts every pending connection and hands it on.
public final class Listener: LoopSource {
    public let socket: Socket
    private let onAccept: (Socket) -> Void
    private let onError: (SocketError) -> Void

    public init(socket: Socket, onAccept: @escaping (Socket) -> Void, onError: @escaping (SocketError) -> Void) {
        self.socket = socket; self.onAccept = onAccept; self.onError = onError
    }

    public var fd: Int32 { socket.fd }
    public var wantsWrite: Bool { false }
    public func writable() {}

    public func readable() {
        // Bounded: one poll round accepts at most this many, so a flood cannot starve the rest.
        for _ in 0..<64 {
            do {
                guard let client = try socket.accept() else { return }
                onAccept(client)
            } catch let error as SocketError {
                onError(error)
                return
            } catch {
                return
            }
        }
    }
}

/// Bytes in and out of one non-blocking socket on a loop, with a bound on what may wait to be sent.
/// Reading hands every chunk to `onBytes`; any error or end of stream closes it once, with a reason.
public final class ByteConnection: LoopSource {
    public let socket: Socket
    public let fd: Int32
    private let loop: EventLoop
    private var outbound: [[UInt8]] = []
    private var outboundOffset = 0
    public private(set) var outboundBytes = 0
    /// Most bytes allowed to wait in the send queue; beyond it the peer is not reading and is dropped.
    public let outboundBytesMax: Int
    public private(set) var isClosed = false
    public var onBytes: (ArraySlice<UInt8>) -> Void = { _ in }
    public var onClose: (String) -> Void = { _ in }
    /// Called after a write leaves fewer than `sendQueueLowBytes` queued (for streaming large replies).
    public var onSendQueueLow: (() -> Void)?
    public var sendQueueLowBytes = 4 << 20
    private var inLowCallback = false
    /// After the queue drains, close (for HTTP responses and REJECT frames).
    private var closeWhenFlushed: String?
    public private(set) var bytesReceived: UInt64 = 0
    public private(set) var bytesSent: UInt64 = 0
    private var readBuffer: [UInt8]

    public init(socket: Socket, loop: EventLoop, outboundBytesMax: Int, readChunkBytes: Int = 256 * 1024) {
        self.socket = socket; self.fd = socket.fd; self.loop = loop; self.outboundBytesMax = outboundBytesMax
        self.readBuffer = [UInt8](repeating: 0, count: readChunkBytes)
    }

    public var peer: String { socket.peer }
    public var wantsWrite: Bool { !outbound.isEmpty }

    public func readable() {
        // Bounded per round, so one fast peer cannot starve the others.
        for _ in 0..<8 {
            guard !isClosed else { return }
            let result: Socket.ReadResult
            do {
                result = try readBuffer.withUnsafeMutableBytes { try socket.read(into: $0) }
            } catch {
                close(reason: "\(error)")
                return
            }
            switch result {
            case .bytes(let count):
                bytesReceived += UInt64(count)
                onBytes(readBuffer[0..<count])
                if count < readBuffer.count { return }
            case .wouldBlock:
                return
            case .closed:
                close(reason: "peer closed the connection")
                return
            }
        }
    }

    /// Queues bytes; closes the connection if the peer lets too much pile up.
    public func send(_ bytes: [UInt8]) {
        guard !isClosed, !bytes.isEmpty else { return }
        if outboundBytes + bytes.count > outboundBytesMax {
            close(reason: "send queue over outboundBytesMax (\(outboundBytesMax) bytes): peer is not reading")
            return
        }
        outbound.append(bytes)
        outboundBytes += bytes.count
        writable()
    }

    public func writable() {
        while !isClosed, let first = outbound.first {
            let written: Int
            do {
                written = try first.withUnsafeBytes { raw in
                    try socket.write(UnsafeRawBufferPointer(rebasing: raw[outboundOffset...]))
                }
            } catch {
                close(reason: "\(error)")
                return
            }
            if written == 0 { return }
            bytesSent += UInt64(written)
            outboundOffset += written
            outboundBytes -= written
            if outboundOffset == first.count {
                outbound.removeFirst()
                outboundOffset = 0
            }
        }
        if outbound.isEmpty, let reason = closeWhenFlushed { close(reason: reason); return }
        // Not re-entered from a send() the callback makes: it loops itself until the queue is full.
        if !isClosed, !inLowCallback, outboundBytes < sendQueueLowBytes, let low = onSendQueueLow {
            inLowCallback = true
            low()
            inLowCallback = false
        }
    }

    /// Runs `onSendQueueLow` now (to start a stream), guarded like the calls from `writable()`.
    public func pumpSendQueue() {
        guard !isClosed, !inLowCallback, let low = onSendQueueLow else { return }
        inLowCallback = true
        low()
        inLowCallback = false
    }

    /// Closes once everything queued has been written.
    public func closeAfterFlush(reason: String) {
        closeWhenFlushed = reason
        if outbound.isEmpty { close(reason: reason) }
    }

    /// Closes now; `onClose` runs once.
    public func close(reason: String) {
        guard !isClosed else { return }
        isClosed = true
        loop.unregister(fd: fd)
        socket.close()
        outbound.removeAll()
        outboundBytes = 0
        onClose(reason)
    }
}
