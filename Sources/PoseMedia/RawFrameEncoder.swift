// Encoders fed raw RGB24 frames on an `ffmpeg` child's standard input: the mp4 writer
// (VideoFileWriter, FFmpeg.swift) and PNG frames or single PNG images (posecoord render).
import Foundation

/// One `ffmpeg` process reading `width` x `height` RGB24 frames from a pipe.
final class RawFrameEncoder {
    let path: String
    let width: Int
    let height: Int
    private let child: Subprocess

    /// `path` names the output in errors; `outputArguments` end with the output itself.
    init(path: String, width: Int, height: Int, inputArguments: [String] = [], outputArguments: [String]) throws {
        self.path = path; self.width = width; self.height = height
        _ = ignoreBrokenPipe
        child = try Subprocess(program: "ffmpeg", arguments: [
            "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)",
        ] + inputArguments + ["-i", "-"] + outputArguments, withInput: true, pathForErrors: path)
    }

    func write(_ image: RGBImage) throws {
        precondition(image.width == width && image.height == height, "frame \(image.width)x\(image.height) for a \(width)x\(height) output")
        let ok = image.pixels.withUnsafeBytes { child.write($0) }
        guard ok else {
            child.closeInput()
            let status = child.wait()
            throw MediaError(.subprocessFailed, path: path, reason: "ffmpeg stopped taking frames (exit \(status)): \(child.errorTail.text())")
        }
    }

    /// Ends the stream and waits for the output.
    func finish() throws {
        child.closeInput()
        let status = child.wait()
        guard status == 0 else {
            throw MediaError(.subprocessFailed, path: path, reason: "ffmpeg failed with exit \(status): \(child.errorTail.text())")
        }
    }
}

/// PNG files from raw frames: a numbered sequence (`pattern` with one `%06d`, numbered from
/// `startNumber`) or, for a plain path, one image. ffmpeg's PNG encoder with -bitexact: the
/// same pixels give the same bytes.
public final class PNGSequenceWriter {
    private let encoder: RawFrameEncoder

    public init(pattern: String, width: Int, height: Int, startNumber: Int = 0) throws {
        let sequence = pattern.contains("%")
        encoder = try RawFrameEncoder(path: pattern, width: width, height: height, outputArguments: [
            "-f", "image2", "-start_number", String(startNumber), "-update", sequence ? "0" : "1",
            "-c:v", "png", "-pix_fmt", "rgb24", "-bitexact", "-map_metadata", "-1", pattern,
        ])
    }

    public func write(_ image: RGBImage) throws { try encoder.write(image) }

    /// Ends the stream and waits for the files.
    public func finish() throws { try encoder.finish() }
}
