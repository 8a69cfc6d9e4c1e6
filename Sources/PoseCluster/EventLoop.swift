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
    /// Whether to poll for reading now (a listener out of descriptors pauses).
    var wantsRead: Bool { get }
    /// Whether the source has bytes waiting to go out (adds POLLOUT).
    var wantsWrite: Bool { get }
    func readable()
    func writable()
}

extension LoopSource {
    public var wantsRead: Bool { true }
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
    /// Bytes one read may take. Every connection of the loop reads into this one buffer (the
    /// loop is one thread), so an idle connection holds no read buffer of its own: 1,000 idle
    /// sockets used to hold 256 KiB each.
    public static let readBufferBytes = 256 * 1024
    /// The shared read buffer; its bytes are valid only during an `onBytes` call.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: EventLoop.readBufferBytes, alignment: 16)

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
        readBuffer.deallocate()
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
                var events = source.wantsRead ? Int16(POLLIN) : 0
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

/// A listening socket on a loop: accepts every pending connection and hands it on. Out of
/// descriptors (EMFILE, ENFILE) it sheds one pending connection with a spare descriptor (the peer
/// sees a close, not a hang), stops polling for `descriptorBackoffMs`, and logs once per
/// `errorLogIntervalMs` with a count, instead of spinning on an accept that cannot succeed.
public final class Listener: LoopSource {
    public static let descriptorBackoffMs: UInt64 = 250
    public static let errorLogIntervalMs: UInt64 = 5_000

    public let socket: Socket
    private let onAccept: (Socket) -> Void
    private let onError: (String) -> Void
    private let clock: any Clock
    private var pausedUntilMs: UInt64 = 0
    /// Kept open to be closed when descriptors run out, so one pending connection can be accepted and shed.
    private var spare: Int32 = -1
    private var errorsSinceLog = 0
    private var lastLogMs: UInt64?
    /// Accept errors so far (tests and status read it).
    public private(set) var acceptErrors = 0

    public init(socket: Socket, clock: any Clock = MonotonicClock(), onAccept: @escaping (Socket) -> Void,
                onError: @escaping (String) -> Void) {
        self.socket = socket; self.clock = clock; self.onAccept = onAccept; self.onError = onError
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    deinit { if spare >= 0 { close(spare) } }

    public var fd: Int32 { socket.fd }
    public var wantsRead: Bool { clock.nowMs >= pausedUntilMs }
    public var wantsWrite: Bool { false }
    public func writable() {}

    public func readable() {
        // Bounded: one poll round accepts at most this many, so a flood cannot starve the rest.
        for _ in 0..<64 {
            do {
                guard let client = try socket.accept() else { return }
                onAccept(client)
            } catch let error as SocketError {
                acceptErrors += 1
                if error.code == EMFILE || error.code == ENFILE { shedOne() }
                report(error)
                return
            } catch {
                return
            }
        }
    }

    private func shedOne() {
        let now = clock.nowMs
        pausedUntilMs = now + Listener.descriptorBackoffMs
        guard spare >= 0 else { return }
        close(spare)
        spare = -1
        if let client = try? socket.accept() { client.close() }
        spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    private func report(_ error: SocketError) {
        let now = clock.nowMs
        errorsSinceLog += 1
        if let last = lastLogMs, now - last < Listener.errorLogIntervalMs { return }
        lastLogMs = now
        var line = "\(error)"
        if errorsSinceLog > 1 { line += " (\(errorsSinceLog) times since the last report)" }
        if error.code == EMFILE || error.code == ENFILE {
            line += "; out of descriptors: accepts pause \(Listener.descriptorBackoffMs) ms at a time and one waiting connection is closed each time. Raise LimitNOFILE (ulimit -n) or lower --max-connections"
        }
        errorsSinceLog = 0
        onError(line)
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
    /// Bytes just read; they live in the loop's shared buffer and are valid only during the call.
    public var onBytes: (UnsafeRawBufferPointer) -> Void = { _ in }
    public var onClose: (String) -> Void = { _ in }
    /// Called after a write leaves fewer than `sendQueueLowBytes` queued (for streaming large replies).
    public var onSendQueueLow: (() -> Void)?
    public var sendQueueLowBytes = 4 << 20
    private var inLowCallback = false
    /// After the queue drains, close (for HTTP responses and REJECT frames).
    private var closeWhenFlushed: String?
    public private(set) var bytesReceived: UInt64 = 0
    public private(set) var bytesSent: UInt64 = 0
    /// Most bytes one read takes (at most the loop's shared buffer).
    private let readChunkBytes: Int

    public init(socket: Socket, loop: EventLoop, outboundBytesMax: Int, readChunkBytes: Int = EventLoop.readBufferBytes) {
        self.socket = socket; self.fd = socket.fd; self.loop = loop; self.outboundBytesMax = outboundBytesMax
        self.readChunkBytes = min(readChunkBytes, EventLoop.readBufferBytes)
    }

    public var peer: String { socket.peer }
    public var wantsWrite: Bool { !outbound.isEmpty }

    public func readable() {
        // Bounded per round, so one fast peer cannot starve the others.
        for _ in 0..<8 {
            guard !isClosed else { return }
            let result: Socket.ReadResult
            let buffer = UnsafeMutableRawBufferPointer(rebasing: loop.readBuffer[0..<readChunkBytes])
            do {
                result = try socket.read(into: buffer)
            } catch {
                close(reason: "\(error)")
                return
            }
            switch result {
            case .bytes(let count):
                bytesReceived += UInt64(count)
                onBytes(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if count < readChunkBytes { return }
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
