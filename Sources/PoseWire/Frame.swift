// The frame: a fixed 10-byte header (big-endian length, type, flags, CRC32C)
// then the payload. Encoding whole frames, and the streaming sans-IO decoder
// that turns bytes in any chunking into messages.
import PoseCrypto

/// Flag bits of the frame header.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The payload is one zstd frame (with its content size) of the real payload.
    public static let zstd = FrameFlags(rawValue: 1 << 0)
    public static let known: FrameFlags = [.zstd]
}

/// Whether to compress a frame's payload.
public enum FrameCompression: Sendable, Equatable {
    case none
    /// zstd at `level` when the payload is at least `minimumBytes` and compressing shrinks it.
    case zstd(level: Int32, minimumBytes: Int)

    public static let standard = FrameCompression.zstd(level: 3, minimumBytes: 1024)
}

/// One frame off the wire: its type byte, flags, and payload (decompressed).
public struct Frame: Equatable, Sendable {
    public var type: UInt8
    public var flags: FrameFlags
    public var payload: [UInt8]

    public init(type: UInt8, flags: FrameFlags = [], payload: [UInt8]) {
        self.type = type; self.flags = flags; self.payload = payload
    }

    /// Header and payload, as sent. `payload` is sent as is (already compressed when
    /// `flags` says so). Throws when it does not fit `frameBytesMax`.
    public static func encode(type: UInt8, flags: FrameFlags, payload: [UInt8], limits: WireLimits = .default) throws -> [UInt8] {
        let length = UInt64(payload.count) + UInt64(WireProtocol.headerBytesAfterLength)
        guard length <= UInt64(limits.frameBytesMax), length <= UInt64(UInt32.max) else {
            throw WireError.frameTooLarge(length: length, max: limits.frameBytesMax)
        }
        var out = [UInt8]()
        out.reserveCapacity(WireProtocol.headerByteCount + payload.count)
        appendBigEndian(UInt32(length), to: &out)
        out.append(type)
        out.append(flags.rawValue)
        appendBigEndian(checksum(type: type, flags: flags.rawValue, payload: payload), to: &out)
        out.append(contentsOf: payload)
        return out
    }

    /// CRC32C over type, flags and payload as sent.
    static func checksum(type: UInt8, flags: UInt8, payload: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update([type, flags])
        crc.update(payload)
        return crc.value
    }

    static func checksum(type: UInt8, flags: UInt8, payload: [UInt8]) -> UInt32 {
        payload.withUnsafeBytes { checksum(type: type, flags: flags, payload: $0) }
    }
}

private func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes.append(UInt8(truncatingIfNeeded: value >> 24))
    bytes.append(UInt8(truncatingIfNeeded: value >> 16))
    bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    bytes.append(UInt8(truncatingIfNeeded: value))
}

extension WireMessage {
    /// The whole frame of this message, ready to write to a socket.
    ///
    ///     let bytes = try WireMessage.credit(Credit(units: 4)).encode()
    public func encode(limits: WireLimits = .default, compression: FrameCompression = .none) throws -> [UInt8] {
        let payload = try encodePayload(limits: limits)
        if case .zstd(let level, let minimumBytes) = compression, payload.count >= minimumBytes {
            let compressed = Zstd.compress(payload, level: level)
            if compressed.count < payload.count {
                return try Frame.encode(type: type.rawValue, flags: .zstd, payload: compressed, limits: limits)
            }
        }
        return try Frame.encode(type: type.rawValue, flags: [], payload: payload, limits: limits)
    }
}

/// Turns a byte stream into frames and messages, whatever the chunking: feed it what
/// the socket gave, then call `next()` until it answers nil (needs more bytes).
/// It never asks for more memory than the bytes fed plus one decompressed payload
/// of at most `frameBytesMax`. After an error it stays failed: close the connection.
///
///     var decoder = FrameDecoder(limits: limits)
///     decoder.feed(bytesFromSocket)
///     while let message = try decoder.next() { handle(message) }
public struct FrameDecoder: Sendable {
    public enum State: Equatable, Sendable {
        /// Waiting for a complete 10-byte header.
        case readingHeader
        /// Header checked; waiting for `length - 6` payload bytes.
        case readingPayload(length: UInt32, type: UInt8, flags: UInt8, checksum: UInt32)
        /// Bad input; every later call answers the same error.
        case failed(WireError)
    }

    /// One answer of the decoder.
    public enum Step: Equatable, Sendable {
        case needMoreBytes
        case frame(Frame)
        case invalid(WireError)
    }

    public let limits: WireLimits
    /// Most bytes compressed frames may still inflate to, checked against a frame's declared
    /// size before anything is allocated, and spent as frames are inflated. nil: no budget
    /// (only `frameBytesMax` per frame); 0: compressed frames are refused (a peer that has not
    /// authenticated). The owner tops it up to bound inflation per second.
    public var inflationBytesAllowed: Int?
    public private(set) var state: State = .readingHeader
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` before this index are consumed; compacted now and then.
    private var readIndex = 0

    public init(limits: WireLimits = .default) { self.limits = limits }

    /// Bytes received and not yet returned in a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if case .failed = state { return }
        buffer.append(contentsOf: bytes)
    }

    public mutating func feed(_ bytes: [UInt8]) {
        if case .failed = state { return }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, `needMoreBytes`, or `invalid`.
    public mutating func nextFrame() -> Step {
        while true {
            switch state {
            case .failed(let error):
                return .invalid(error)
            case .readingHeader:
                // The length is judged as soon as its 4 bytes are in, before waiting for more.
                guard bufferedByteCount >= 4 else { return .needMoreBytes }
                let length = readBigEndian(at: readIndex)
                if let error = headerError(length: length) { return fail(error) }
                guard bufferedByteCount >= WireProtocol.headerByteCount else { return .needMoreBytes }
                state = .readingPayload(length: length, type: buffer[readIndex + 4], flags: buffer[readIndex + 5],
                                        checksum: readBigEndian(at: readIndex + 6))
                readIndex += WireProtocol.headerByteCount
            case .readingPayload(let length, let type, let flags, let expected):
                let payloadCount = Int(length) - WireProtocol.headerBytesAfterLength
                guard bufferedByteCount >= payloadCount else { return .needMoreBytes }
                let start = readIndex
                let computed = buffer.withUnsafeBytes {
                    Frame.checksum(type: type, flags: flags, payload: UnsafeRawBufferPointer(rebasing: $0[start..<start + payloadCount]))
                }
                guard computed == expected else { return fail(.checksumMismatch(expected: expected, computed: computed)) }
                let frameFlags = FrameFlags(rawValue: flags)
                guard FrameFlags.known.isSuperset(of: frameFlags) else { return fail(.unknownFlags(flags)) }
                var payload = Array(buffer[start..<start + payloadCount])
                readIndex += payloadCount
                compact()
                state = .readingHeader
                if frameFlags.contains(.zstd) {
                    if inflationBytesAllowed == 0 { return fail(.compressionNotAllowed(type: type)) }
                    do {
                        let most = min(limits.frameBytesMax, inflationBytesAllowed ?? Int.max)
                        payload = try Zstd.decompress(payload, what: "frame payload (type \(type))", max: most)
                        if let allowed = inflationBytesAllowed { inflationBytesAllowed = allowed - payload.count }
                    } catch let error as WireError {
                        return fail(error)
                    } catch {
                        preconditionFailure("Zstd.decompress throws only WireError")
                    }
                }
                return .frame(Frame(type: type, flags: frameFlags, payload: payload))
            }
        }
    }

    /// The next complete message, nil when more bytes are needed; throws `WireError` on bad input.
    public mutating func next() throws -> WireMessage? {
        switch nextFrame() {
        case .needMoreBytes:
            return nil
        case .invalid(let error):
            throw error
        case .frame(let frame):
            do {
                return try WireMessage.decode(type: frame.type, payload: frame.payload, limits: limits)
            } catch let error as WireError {
                state = .failed(error)
                throw error
            }
        }
    }

    /// Checks the decoder's bookkeeping; tests call it after every step.
    public func invariants() {
        precondition(readIndex >= 0 && readIndex <= buffer.count, "FrameDecoder: read index \(readIndex) outside a buffer of \(buffer.count)")
        switch state {
        case .readingHeader:
            break
        case .readingPayload(let length, _, _, _):
            precondition(length >= UInt32(WireProtocol.headerBytesAfterLength) && UInt64(length) <= UInt64(limits.frameBytesMax),
                         "FrameDecoder: reading a payload of a length (\(length)) the header check should have refused")
        case .failed:
            precondition(buffer.isEmpty || readIndex <= buffer.count, "FrameDecoder: failed with a corrupt buffer")
        }
    }

    private mutating func fail(_ error: WireError) -> Step {
        state = .failed(error)
        buffer = []
        readIndex = 0
        return .invalid(error)
    }

    private func headerError(length: UInt32) -> WireError? {
        if UInt64(length) > UInt64(limits.frameBytesMax) {
            // A human pointing a browser or a TLS client at the cluster port deserves a clear word.
            let head = Array(buffer[readIndex..<readIndex + 4])
            for method in ["GET ", "POST", "HEAD", "PUT ", "OPTI", "DELE", "PATC", "CONN"] where head == Array(method.utf8) {
                return .foreignProtocol("HTTP")
            }
            if head[0] == 0x16, head[1] == 0x03 { return .foreignProtocol("TLS") }
            return .frameTooLarge(length: UInt64(length), max: limits.frameBytesMax)
        }
        if length < UInt32(WireProtocol.headerBytesAfterLength) { return .frameTooShort(length: length) }
        return nil
    }

    private func readBigEndian(at index: Int) -> UInt32 {
        UInt32(buffer[index]) << 24 | UInt32(buffer[index + 1]) << 16 | UInt32(buffer[index + 2]) << 8 | UInt32(buffer[index + 3])
    }

    /// Drops consumed bytes once they are most of the buffer, so a long stream of small
    /// frames costs linear time and memory stays near one frame.
    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            readIndex = 0
        } else if readIndex >= 64 << 10, readIndex * 2 >= buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}
