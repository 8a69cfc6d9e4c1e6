// The typed errors of the wire codec: every one says which message and field,
// what was expected and what came. A WireError closes only the connection it
// came from; it never traps.

/// Bad bytes from a peer, or a message too large to send.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The length field is below the 6 bytes (type, flags, crc) every frame has.
    case frameTooShort(length: UInt32)
    /// The length field (or a payload to send) is above `frameBytesMax`.
    case frameTooLarge(length: UInt64, max: Int)
    /// The first bytes look like another protocol (HTTP, TLS), not a posecluster frame.
    case foreignProtocol(String)
    /// Flag bits this version does not define.
    case unknownFlags(UInt8)
    /// The CRC32C over type, flags and payload does not match the header's.
    case checksumMismatch(expected: UInt32, computed: UInt32)
    /// A message number this version does not define.
    case unknownMessageType(UInt8)
    /// A zstd payload declares (or would need) more bytes than allowed, or does not declare its size.
    case decompressedTooLarge(what: String, declared: UInt64?, max: Int)
    /// A compressed frame from a peer that may not send one now (before authentication).
    case compressionNotAllowed(type: UInt8)
    /// zstd refused the bytes, or they decompress to another size than declared.
    case decompressionFailed(what: String, reason: String)
    /// The payload ends before a field does.
    case truncated(message: MessageType, field: String, needed: Int, remaining: Int)
    /// Bytes left over after the last field.
    case trailingBytes(message: MessageType, count: Int)
    /// A count, length or size above its limit.
    case limitExceeded(message: MessageType, field: String, value: UInt64, max: UInt64)
    /// A field whose value is not allowed (bad UTF-8, zero windows, unknown encoding...).
    case invalidField(message: MessageType, field: String, reason: String)
    /// The first frame's magic is not "PCLU".
    case badMagic(got: UInt32)
    /// The peer speaks another protocol version.
    case versionMismatch(peer: UInt16, ours: UInt16)
    /// `WireLimits.validate()` found limits that do not fit together.
    case invalidLimits(String)

    public var description: String {
        switch self {
        case .frameTooShort(let length):
            return "frame length field is \(length), every frame has at least \(WireProtocol.headerBytesAfterLength) bytes after it"
        case .frameTooLarge(let length, let max):
            return "frame of \(length) bytes is larger than frameBytesMax (\(max))"
        case .foreignProtocol(let name):
            return "the peer speaks \(name), not the posecluster protocol (wrong port?)"
        case .unknownFlags(let flags):
            return "frame flags 0x\(String(flags, radix: 16)) set bits this version does not define"
        case .checksumMismatch(let expected, let computed):
            return "frame checksum mismatch: header says 0x\(String(expected, radix: 16)), bytes give 0x\(String(computed, radix: 16)) (corrupted in transit)"
        case .unknownMessageType(let type):
            return "unknown message type \(type)"
        case .decompressedTooLarge(let what, let declared, let max):
            if let declared { return "\(what) decompresses to \(declared) bytes, more than the limit (\(max))" }
            return "\(what) is zstd data that does not declare its decompressed size (limit \(max))"
        case .compressionNotAllowed(let type):
            return "a compressed frame (type \(type)) before the handshake is done; compression is allowed only after authentication"
        case .decompressionFailed(let what, let reason):
            return "\(what) could not be decompressed: \(reason)"
        case .truncated(let message, let field, let needed, let remaining):
            return "\(message) is truncated at field \(field): needs \(needed) bytes, \(remaining) left"
        case .trailingBytes(let message, let count):
            return "\(message) has \(count) unexpected bytes after its last field"
        case .limitExceeded(let message, let field, let value, let max):
            return "\(message) field \(field) is \(value), at most \(max) allowed"
        case .invalidField(let message, let field, let reason):
            return "\(message) field \(field): \(reason)"
        case .badMagic(let got):
            return "bad magic 0x\(String(got, radix: 16)) (expected 0x\(String(WireProtocol.magic, radix: 16)), \"PCLU\" on the wire): the peer is not a posecluster node"
        case .versionMismatch(let peer, let ours):
            return "protocol version mismatch: the peer speaks version \(peer), this build speaks version \(ours); run the same posecluster release on coordinator and workers"
        case .invalidLimits(let reason):
            return "invalid wire limits: \(reason)"
        }
    }
}

extension WireError {
    /// The REJECT code that tells the peer what kind of problem its bytes had, so a peer that
    /// cannot fix it by retrying (another version, not posecluster) can stop.
    public var rejectCode: RejectCode {
        switch self {
        case .badMagic, .foreignProtocol: return .badMagic
        case .versionMismatch: return .versionMismatch
        default: return .malformed
        }
    }
}
