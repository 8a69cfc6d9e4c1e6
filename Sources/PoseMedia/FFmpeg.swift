// Video files through ffmpeg/ffprobe subprocesses: the exact frame count and size from
// ffprobe, raw RGB24 frames streamed through a pipe one at a time (never the whole video in
// memory), and the writer the synthetic archive uses to make mp4 files.
import Foundation

/// What a frame source holds.
public struct VideoInfo: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var frameCount: Int
    public init(width: Int, height: Int, frameCount: Int) {
        self.width = width; self.height = height; self.frameCount = frameCount
    }
    public var frameBytes: Int { width * height * 3 }
}

public enum VideoProbe {
    /// Frame count (packets of the first video stream, counted) and size of a video file.
    public static func probe(_ path: String) throws -> VideoInfo {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw MediaError(.unreadable, path: path, reason: "cannot open the file")
        }
        let child = try Subprocess(program: "ffprobe", arguments: [
            "-v", "error", "-select_streams", "v:0", "-count_packets",
            "-show_entries", "stream=width,height,nb_read_packets,nb_frames", "-of", "default=noprint_wrappers=1", path,
        ], pathForErrors: path)
        let text = String(decoding: child.readAll(), as: UTF8.self)
        let status = child.wait()
        guard status == 0 else {
            let reason = child.errorTail.text()
            throw MediaError(.probeFailed, path: path, reason: "ffprobe cannot read it (exit \(status)): \(reason.isEmpty ? "no message" : reason)")
        }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, fields[String(parts[0])] == nil { fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        guard let width = fields["width"].flatMap({ Int($0) }), let height = fields["height"].flatMap({ Int($0) }),
              let count = fields["nb_read_packets"].flatMap({ Int($0) }) else {
            throw MediaError(.probeFailed, path: path, reason: "no video stream (ffprobe said \"\(text.trimmingCharacters(in: .whitespacesAndNewlines))\")")
        }
        // A container that announces more frames than it holds was cut short (a partial download).
        if let announced = fields["nb_frames"].flatMap({ Int($0) }), announced > count {
            throw MediaError(.truncated, path: path, reason: "truncated: the container announces \(announced) frames but only \(count) are present")
        }
        try JPEGCodec.checkSize(width, height, path: path)
        guard width * height * 3 <= MediaLimits.frameBytesMax else {
            throw MediaError(.limitExceeded, path: path, reason: "a \(width)x\(height) frame exceeds frameBytesMax \(MediaLimits.frameBytesMax)")
        }
        guard count > 0 else { throw MediaError(.probeFailed, path: path, reason: "the video stream has no frames") }
        guard count <= MediaLimits.frameCountMax else {
            throw MediaError(.limitExceeded, path: path, reason: "\(count) frames exceed frameCountMax \(MediaLimits.frameCountMax)")
        }
        return VideoInfo(width: width, height: height, frameCount: count)
    }
}

/// Something that yields a video's frames in order, one at a time.
public protocol FrameSource: AnyObject {
    var info: VideoInfo { get }
    /// Fills `pixels` (`info.frameBytes` bytes) with the next frame; false after the last one.
    /// Throws when the source ends early or a frame is damaged.
    func readFrame(into pixels: UnsafeMutableBufferPointer<UInt8>) throws -> Bool
    /// Stops reading (kills a decoder that is still running).
    func close()
}

/// Frames of a video file decoded by an `ffmpeg` child to raw RGB24 on a pipe.
public final class VideoFileFrameSource: FrameSource {
    public let info: VideoInfo
    public let path: String
    private var child: Subprocess?
    private var framesRead = 0

    /// Probes the file; the decoder starts on the first `readFrame`.
    public init(path: String, info: VideoInfo? = nil) throws {
        self.path = path
        self.info = try info ?? VideoProbe.probe(path)
    }

    public func readFrame(into pixels: UnsafeMutableBufferPointer<UInt8>) throws -> Bool {
        precondition(pixels.count == info.frameBytes, "readFrame: buffer of \(pixels.count) bytes for \(info.frameBytes)-byte frames")
        if framesRead == info.frameCount { close(); return false }
        if child == nil {
            _ = ignoreBrokenPipe
            child = try Subprocess(program: "ffmpeg", arguments: [
                "-nostdin", "-v", "error", "-noautorotate", "-i", path, "-map", "0:v:0",
                "-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
            ], pathForErrors: path)
        }
        let child = child!
        let got = child.readFully(into: UnsafeMutableRawBufferPointer(pixels))
        if got == pixels.count {
            framesRead += 1
            return true
        }
        let status = child.wait()
        let reason = child.errorTail.text()
        self.child = nil
        let detail = reason.isEmpty ? "" : " (ffmpeg: \(reason))"
        if got > 0 {
            throw MediaError(.truncated, path: path, reason: "frame \(framesRead) cut short after \(got) of \(pixels.count) bytes\(detail)")
        }
        if status != 0 {
            throw MediaError(.subprocessFailed, path: path, reason: "ffmpeg failed with exit \(status) after \(framesRead) of \(info.frameCount) frames\(detail)")
        }
        throw MediaError(.truncated, path: path, reason: "decoded \(framesRead) frames, ffprobe counted \(info.frameCount)\(detail)")
    }

    public func close() {
        child?.stop()
        child = nil
    }

    deinit { close() }
}

/// Frames of a folder of JPEG files, sorted by name (PoseTrack: `images/val/<video>/000000.jpg`).
public final class JPEGFolderFrameSource: FrameSource {
    public let info: VideoInfo
    public let files: [String]
    private var next = 0

    /// The JPEG files of `folder`, sorted by name.
    public static func frameFiles(in folder: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw MediaError(.unreadable, path: folder, reason: "cannot list the folder")
        }
        return names.filter { name in
            let lower = name.lowercased()
            return !name.hasPrefix(".") && (lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg"))
        }.sorted().map { folder + "/" + $0 }
    }

    /// Lists the frames and reads the first one's header for the size.
    public init(folder: String) throws {
        files = try Self.frameFiles(in: folder)
        guard let first = files.first else { throw MediaError(.unreadable, path: folder, reason: "no *.jpg or *.jpeg frames in the folder") }
        guard files.count <= MediaLimits.frameCountMax else {
            throw MediaError(.limitExceeded, path: folder, reason: "\(files.count) frames exceed frameCountMax \(MediaLimits.frameCountMax)")
        }
        let size = try JPEGCodec.size(of: JPEGCodec.readFile(first), path: first)
        info = VideoInfo(width: size.width, height: size.height, frameCount: files.count)
    }

    public func readFrame(into pixels: UnsafeMutableBufferPointer<UInt8>) throws -> Bool {
        precondition(pixels.count == info.frameBytes, "readFrame: buffer of \(pixels.count) bytes for \(info.frameBytes)-byte frames")
        guard next < files.count else { return false }
        let path = files[next]
        let image = try JPEGCodec.decodeFile(path)
        guard image.width == info.width, image.height == info.height else {
            throw MediaError(.sizeMismatch, path: path, reason: "frame is \(image.width)x\(image.height), the first frame is \(info.width)x\(info.height)")
        }
        _ = image.pixels.withUnsafeBufferPointer { pixels.initialize(from: $0) }
        next += 1
        return true
    }

    public func close() { next = files.count }
}

/// Writes an H.264 mp4 from raw RGB frames through an `ffmpeg` child (single-threaded x264,
/// so the same frames give the same file).
public final class VideoFileWriter {
    public var path: String { encoder.path }
    public var width: Int { encoder.width }
    public var height: Int { encoder.height }
    private let encoder: RawFrameEncoder

    public init(path: String, width: Int, height: Int, framesPerSecond: Int = 25) throws {
        precondition(width % 2 == 0 && height % 2 == 0, "yuv420p needs even sizes, got \(width)x\(height)")
        encoder = try RawFrameEncoder(path: path, width: width, height: height, inputArguments: ["-r", String(framesPerSecond)], outputArguments: [
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-threads", "1", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", "-bitexact", "-map_metadata", "-1", path,
        ])
    }

    public func write(_ image: RGBImage) throws { try encoder.write(image) }

    /// Ends the stream and waits for the file.
    public func finish() throws { try encoder.finish() }
}
