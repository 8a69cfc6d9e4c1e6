// Errors of reading and writing frames: each names the file (or program) and says what went
// wrong in a sentence, so a video that fails is reported without stopping the archive.

/// A frame source or sink that could not do its job.
public struct MediaError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The file is missing or cannot be opened.
        case unreadable
        /// ffprobe/ffmpeg could not make sense of the file.
        case probeFailed
        /// Fewer frames came out than the file announced, or a frame was cut short.
        case truncated
        /// A JPEG could not be decoded (or encoded).
        case badImage
        /// Frames of one video do not all have the same size.
        case sizeMismatch
        /// A subprocess could not be started or ended with an error.
        case subprocessFailed
        /// A limit (frame size, frame count) was exceeded.
        case limitExceeded
    }

    public let kind: Kind
    public let path: String
    public let reason: String

    public init(_ kind: Kind, path: String, reason: String) {
        self.kind = kind; self.path = path; self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Limits on what a frame source accepts, so a hostile file cannot make us allocate what it says.
public enum MediaLimits {
    /// Largest frame side in pixels (8K is 7680).
    public static let frameSideMax = 16_384
    /// Largest frame in bytes (RGB24).
    public static let frameBytesMax = 512 << 20
    /// Most frames in one video (a day at 60 fps).
    public static let frameCountMax = 60 * 60 * 24 * 60
    /// Bytes of a subprocess's standard error kept for an error message.
    public static let stderrTailBytesMax = 4096
    /// Largest JPEG file read into memory.
    public static let jpegFileBytesMax = 256 << 20
}
