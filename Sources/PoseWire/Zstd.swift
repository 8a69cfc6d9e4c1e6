// zstd through libzstd, with the decompressed size checked against a limit
// before the output is allocated: a peer cannot make us allocate what it says.
import CZstd

enum Zstd {
    /// ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR (C macros Swift does not import).
    private static let contentSizeUnknown = UInt64.max
    private static let contentSizeError = UInt64.max - 1

    static func compress(_ source: UnsafeRawBufferPointer, level: Int32) -> [UInt8] {
        let bound = ZSTD_compressBound(source.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { destination in
            ZSTD_compress(destination.baseAddress, bound, source.baseAddress, source.count, level)
        }
        // Compressing into a buffer of ZSTD_compressBound bytes cannot fail but for memory.
        precondition(ZSTD_isError(written) == 0, "ZSTD_compress failed: \(String(cString: ZSTD_getErrorName(written)))")
        out.removeLast(bound - written)
        return out
    }

    static func compress(_ source: [UInt8], level: Int32) -> [UInt8] {
        source.withUnsafeBytes { compress($0, level: level) }
    }

    /// Decompresses one zstd frame. Its declared content size must be present, at most `max`,
    /// and equal to `exactly` when given; all checked before allocating.
    static func decompress(_ source: [UInt8], what: String, max: Int, exactly: UInt64? = nil) throws -> [UInt8] {
        let declared = source.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        if declared == contentSizeError {
            throw WireError.decompressionFailed(what: what, reason: "not a zstd frame")
        }
        if declared == contentSizeUnknown {
            throw WireError.decompressedTooLarge(what: what, declared: nil, max: max)
        }
        guard declared <= UInt64(max) else {
            throw WireError.decompressedTooLarge(what: what, declared: declared, max: max)
        }
        if let exactly, declared != exactly {
            throw WireError.decompressionFailed(what: what, reason: "declares \(declared) bytes, expected \(exactly)")
        }
        let capacity = Int(declared)
        var out = [UInt8](repeating: 0, count: capacity)
        let written = out.withUnsafeMutableBytes { destination in
            source.withUnsafeBytes { ZSTD_decompress(destination.baseAddress, capacity, $0.baseAddress, $0.count) }
        }
        if ZSTD_isError(written) != 0 {
            throw WireError.decompressionFailed(what: what, reason: String(cString: ZSTD_getErrorName(written)))
        }
        guard written == capacity else {
            throw WireError.decompressionFailed(what: what, reason: "declares \(declared) bytes, holds \(written)")
        }
        return out
    }
}
