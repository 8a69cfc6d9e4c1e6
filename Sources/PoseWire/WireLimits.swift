// Every limit of the wire protocol, in one place, with the relations between
// them checked at start-up. Decoders check a peer's numbers against these
// before allocating anything.
import CZstd

/// The protocol's constants: magic, version, header size.
public enum WireProtocol {
    /// The first four bytes of every HELLO and CHALLENGE payload, in every version: the
    /// little-endian u32 whose bytes on the wire read "PCLU".
    public static let magic: UInt32 = 0x554C_4350
    /// Bumped on any incompatible change. Peers must speak the same version.
    public static let version: UInt16 = 2
    /// `u32 length | u8 type | u8 flags | u32 crc32c` (docs/PROTOCOL.md).
    public static let headerByteCount = 10
    /// The bytes the length field counts besides the payload: type, flags, crc32c.
    public static let headerBytesAfterLength = 6
    /// Nonces of the challenge-response handshake.
    public static let nonceByteCount = 32
    /// HMAC-SHA256 proofs.
    public static let proofByteCount = 32
}

/// Limits on what a peer may make us allocate or process. Both ends should use the
/// same values (WELCOME carries the coordinator's frame limit to the worker).
public struct WireLimits: Equatable, Sendable {
    /// Largest value of a frame's length field (type + flags + crc + payload as sent),
    /// and largest payload after decompression.
    public var frameBytesMax: Int = 64 << 20
    /// Longest string field (names, reasons) in UTF-8 bytes.
    public var stringBytesMax: Int = 4096
    /// Longest STATUS JSON document.
    public var statusBytesMax: Int = 8 << 20
    /// Most windows (key frames) in one UNIT or RESULT.
    public var windowsPerUnitMax: Int = 64
    /// Most frames (T) in one window.
    public var framesPerWindowMax: Int = 15
    /// Most joints per person in a RESULT or a model geometry.
    public var jointsMax: Int = 64
    /// Largest crop width or height in pixels.
    public var cropSideMax: Int = 1024
    /// Largest uncompressed crops of one UNIT (windows x T x H x W x 3 bytes).
    public var unitRawBytesMax: Int = 56 << 20
    /// Largest weight bytes in one MODEL_CHUNK.
    public var modelChunkBytesMax: Int = 4 << 20
    /// Largest model file a worker will accept.
    public var modelBytesMax: UInt64 = 8 << 30

    public init() {}

    public static let `default` = WireLimits()

    /// Largest payload as sent, after the 10-byte header.
    public var payloadBytesMax: Int { frameBytesMax - WireProtocol.headerBytesAfterLength }

    /// Bytes of a UNIT payload besides its crops, at most (ids, geometry, encoding, counts).
    var unitOverheadBytesMax: Int { 128 + stringBytesMax }

    /// Checks every limit is positive and that the limits fit into each other: the largest
    /// UNIT, RESULT, MODEL_CHUNK and STATUS must each fit in one frame, and one window of the
    /// largest geometry must fit in one unit. Call it once at start-up.
    public func validate() throws {
        func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
            if !condition { throw WireError.invalidLimits(reason()) }
        }
        try require(frameBytesMax >= 4096, "frameBytesMax is \(frameBytesMax), at least 4096 is needed")
        try require(UInt64(frameBytesMax) <= UInt64(UInt32.max), "frameBytesMax is \(frameBytesMax), the u32 length field holds at most \(UInt32.max)")
        for (name, value) in [("stringBytesMax", stringBytesMax), ("statusBytesMax", statusBytesMax),
                              ("windowsPerUnitMax", windowsPerUnitMax), ("framesPerWindowMax", framesPerWindowMax),
                              ("jointsMax", jointsMax), ("cropSideMax", cropSideMax),
                              ("unitRawBytesMax", unitRawBytesMax), ("modelChunkBytesMax", modelChunkBytesMax)] {
            try require(value > 0, "\(name) is \(value), it must be positive")
        }
        try require(modelBytesMax > 0, "modelBytesMax must be positive")
        try require(stringBytesMax + 64 <= payloadBytesMax, "stringBytesMax (\(stringBytesMax)) does not fit in a frame (payload at most \(payloadBytesMax))")
        try require(statusBytesMax + 4 <= payloadBytesMax, "statusBytesMax (\(statusBytesMax)) does not fit in a frame (payload at most \(payloadBytesMax))")
        try require(modelChunkBytesMax + 128 <= payloadBytesMax, "modelChunkBytesMax (\(modelChunkBytesMax)) does not fit in a frame (payload at most \(payloadBytesMax))")
        let resultBytes = 128 + stringBytesMax + windowsPerUnitMax * jointsMax * 12
        try require(resultBytes <= payloadBytesMax, "a RESULT of windowsPerUnitMax (\(windowsPerUnitMax)) x jointsMax (\(jointsMax)) needs \(resultBytes) bytes, more than a frame's payload (\(payloadBytesMax))")
        // Compressed crops may be slightly larger than raw ones (incompressible noise).
        let unitBytes = Int(ZSTD_compressBound(unitRawBytesMax)) + unitOverheadBytesMax
        try require(unitBytes <= payloadBytesMax, "a UNIT of unitRawBytesMax (\(unitRawBytesMax)) bytes needs up to \(unitBytes) bytes compressed, more than a frame's payload (\(payloadBytesMax))")
        let (side, sideOverflow) = cropSideMax.multipliedReportingOverflow(by: cropSideMax)
        let windowBytes = side.multipliedReportingOverflow(by: 3 * framesPerWindowMax)
        try require(!sideOverflow && !windowBytes.overflow && windowBytes.partialValue <= unitRawBytesMax,
                    "one window of the largest geometry (\(framesPerWindowMax) x \(cropSideMax) x \(cropSideMax) x 3) does not fit in unitRawBytesMax (\(unitRawBytesMax))")
    }
}
