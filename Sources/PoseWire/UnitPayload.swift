// How a UNIT's crops travel: raw, zstd, or a temporal delta then zstd. The T
// crops of one window share one affine and a mostly static background, so
// frame k minus frame k-1 (mod 256) is mostly zeros and compresses better.
// The coordinator picks per unit and says which in the UNIT.
import PoseCore

/// The encoding of a UNIT's crops. Numbers are never reused.
public enum PayloadEncoding: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The bytes as they are (windows x T x H x W x 3).
    case raw = 0
    /// One zstd frame of the raw bytes.
    case zstd = 1
    /// Within each window, frame k (k >= 1) replaced by its byte difference (mod 256)
    /// from frame k-1; then one zstd frame.
    case temporalDeltaZstd = 2

    public var description: String {
        switch self {
        case .raw: return "raw"
        case .zstd: return "zstd"
        case .temporalDeltaZstd: return "delta+zstd"
        }
    }
}

/// When to use the temporal delta.
public enum DeltaPolicy: Sendable, CustomStringConvertible {
    /// Compress the unit's first window both ways and encode the unit the way that came out
    /// smaller: about 1/8 more work than one way for 16-window units (docs/BENCHMARKS.md).
    case automatic
    /// Compress the whole unit both ways and keep the smaller (twice the work).
    case smallest
    case always
    case never

    public var description: String {
        switch self {
        case .automatic: return "automatic"
        case .smallest: return "smallest"
        case .always: return "delta+zstd"
        case .never: return "zstd"
        }
    }
}

/// The encoded crops of one unit.
public struct UnitPayload: Equatable, Sendable {
    public var encoding: PayloadEncoding
    /// Bytes after decoding: windows x T x H x W x 3.
    public var rawByteCount: UInt64
    public var bytes: [UInt8]

    public init(encoding: PayloadEncoding, rawByteCount: UInt64, bytes: [UInt8]) {
        self.encoding = encoding; self.rawByteCount = rawByteCount; self.bytes = bytes
    }

    /// Encodes `windows` windows of `shape` crops (`crops.count == windows * shape.windowBytes`).
    /// `level` is the zstd level (3 is zstd's default; 1 is faster).
    public static func encode(crops: [UInt8], windows: Int, shape: ModelInputShape, level: Int32 = 3,
                              delta: DeltaPolicy = .automatic) -> UnitPayload {
        precondition(crops.count == windows * shape.windowBytes,
                     "crops hold \(crops.count) bytes, \(windows) windows of \(shape) need \(windows * shape.windowBytes)")
        let rawCount = UInt64(crops.count)
        let useDelta: Bool
        switch delta {
        case .never: useDelta = false
        case .always: useDelta = shape.frames > 1
        case .smallest:
            let plain = UnitPayload(encoding: .zstd, rawByteCount: rawCount, bytes: Zstd.compress(crops, level: level))
            guard shape.frames > 1 else { return rawIfSmaller(plain, crops: crops) }
            let deltas = temporalDelta(crops, windows: windows, shape: shape)
            let candidate = UnitPayload(encoding: .temporalDeltaZstd, rawByteCount: rawCount, bytes: Zstd.compress(deltas, level: level))
            return rawIfSmaller(candidate.bytes.count < plain.bytes.count ? candidate : plain, crops: crops)
        case .automatic:
            guard shape.frames > 1, windows > 0 else { useDelta = false; break }
            let first = Array(crops[0..<shape.windowBytes])
            let plainSize = Zstd.compress(first, level: level).count
            let deltaSize = Zstd.compress(temporalDelta(first, windows: 1, shape: shape), level: level).count
            useDelta = deltaSize < plainSize
        }
        let best = useDelta
            ? UnitPayload(encoding: .temporalDeltaZstd, rawByteCount: rawCount,
                          bytes: Zstd.compress(temporalDelta(crops, windows: windows, shape: shape), level: level))
            : UnitPayload(encoding: .zstd, rawByteCount: rawCount, bytes: Zstd.compress(crops, level: level))
        return rawIfSmaller(best, crops: crops)
    }

    private static func rawIfSmaller(_ best: UnitPayload, crops: [UInt8]) -> UnitPayload {
        // Incompressible crops (noise) go raw rather than grow.
        if best.bytes.count >= crops.count { return UnitPayload(encoding: .raw, rawByteCount: best.rawByteCount, bytes: crops) }
        return best
    }

    /// The crops, `windows * shape.windowBytes` bytes. Throws when the payload does not decode
    /// to exactly that many bytes, or to more than `limits.unitRawBytesMax`.
    public func decode(windows: Int, shape: ModelInputShape, limits: WireLimits = .default) throws -> [UInt8] {
        let expected = UInt64(windows) * UInt64(shape.windowBytes)
        guard expected == rawByteCount else {
            throw WireError.invalidField(message: .unit, field: "rawByteCount", reason: "expected \(expected), got \(rawByteCount)")
        }
        guard expected <= UInt64(limits.unitRawBytesMax) else {
            throw WireError.limitExceeded(message: .unit, field: "rawByteCount", value: expected, max: UInt64(limits.unitRawBytesMax))
        }
        switch encoding {
        case .raw:
            guard UInt64(bytes.count) == expected else {
                throw WireError.invalidField(message: .unit, field: "crops", reason: "raw crops must be \(expected) bytes, got \(bytes.count)")
            }
            return bytes
        case .zstd:
            return try Zstd.decompress(bytes, what: "UNIT crops", max: limits.unitRawBytesMax, exactly: expected)
        case .temporalDeltaZstd:
            var crops = try Zstd.decompress(bytes, what: "UNIT crops", max: limits.unitRawBytesMax, exactly: expected)
            Self.undoTemporalDelta(&crops, windows: windows, shape: shape)
            return crops
        }
    }

    /// Frame k of each window minus frame k-1, mod 256 (frame 0 kept).
    static func temporalDelta(_ crops: [UInt8], windows: Int, shape: ModelInputShape) -> [UInt8] {
        let frameBytes = shape.height * shape.width * 3
        var out = crops
        crops.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                for window in 0..<windows {
                    let base = window * shape.windowBytes
                    for frame in 1..<max(shape.frames, 1) {
                        let current = base + frame * frameBytes, previous = current - frameBytes
                        for index in 0..<frameBytes {
                            destination[current + index] = source[current + index] &- source[previous + index]
                        }
                    }
                }
            }
        }
        return out
    }

    /// Inverse of `temporalDelta`, in place: a running sum over the frames of each window.
    static func undoTemporalDelta(_ crops: inout [UInt8], windows: Int, shape: ModelInputShape) {
        let frameBytes = shape.height * shape.width * 3
        crops.withUnsafeMutableBufferPointer { bytes in
            for window in 0..<windows {
                let base = window * shape.windowBytes
                for frame in 1..<max(shape.frames, 1) {
                    let current = base + frame * frameBytes, previous = current - frameBytes
                    for index in 0..<frameBytes {
                        bytes[current + index] = bytes[current + index] &+ bytes[previous + index]
                    }
                }
            }
        }
    }
}
