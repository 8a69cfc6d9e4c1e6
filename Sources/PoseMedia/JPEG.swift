// JPEG frames through libjpeg-turbo: decoding frame folders (PoseTrack's layout) and
// encoding the synthetic archive's frames.
import CTurboJPEG
import Foundation

public enum JPEGCodec {
    /// Width and height from the header, without decoding the pixels.
    public static func size(of data: [UInt8], path: String) throws -> (width: Int, height: Int) {
        guard let handle = tjInitDecompress() else { throw MediaError(.badImage, path: path, reason: "libjpeg-turbo could not start a decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let status = data.withUnsafeBufferPointer { buffer in
            tjDecompressHeader3(handle, buffer.baseAddress, UInt(buffer.count), &width, &height, &subsampling, &colorspace)
        }
        guard status == 0 else { throw MediaError(.badImage, path: path, reason: "not a JPEG image: \(errorText(handle))") }
        try checkSize(Int(width), Int(height), path: path)
        return (Int(width), Int(height))
    }

    /// Decodes a JPEG to RGB. A damaged stream is an error (warnings such as a premature end
    /// of data count as damage: a frame with grey garbage is worse than a failed video).
    public static func decode(_ data: [UInt8], path: String) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw MediaError(.badImage, path: path, reason: "libjpeg-turbo could not start a decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let headerStatus = data.withUnsafeBufferPointer { buffer in
            tjDecompressHeader3(handle, buffer.baseAddress, UInt(buffer.count), &width, &height, &subsampling, &colorspace)
        }
        guard headerStatus == 0 else { throw MediaError(.badImage, path: path, reason: "not a JPEG image: \(errorText(handle))") }
        try checkSize(Int(width), Int(height), path: path)
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let status = data.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                tjDecompress2(handle, source.baseAddress, UInt(source.count), target.baseAddress,
                              width, 0, height, Int32(TJPF_RGB.rawValue), Int32(TJFLAG_ACCURATEDCT))
            }
        }
        guard status == 0 else { throw MediaError(.badImage, path: path, reason: "damaged JPEG data: \(errorText(handle))") }
        return RGBImage(width: Int(width), height: Int(height), pixels: pixels)
    }

    /// Reads and decodes a JPEG file.
    public static func decodeFile(_ path: String) throws -> RGBImage {
        try decode(readFile(path), path: path)
    }

    /// Encodes RGB pixels as a baseline JPEG (4:2:0). Deterministic for the same input.
    public static func encode(_ image: RGBImage, quality: Int = 90, path: String = "<memory>") throws -> [UInt8] {
        guard let handle = tjInitCompress() else { throw MediaError(.badImage, path: path, reason: "libjpeg-turbo could not start an encoder") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { source in
            tjCompress2(handle, source.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &output, &size, Int32(TJSAMP_420.rawValue), Int32(quality), Int32(TJFLAG_ACCURATEDCT))
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else { throw MediaError(.badImage, path: path, reason: "JPEG encoding failed: \(errorText(handle))") }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    /// Reads a whole (JPEG-sized) file.
    public static func readFile(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MediaError(.unreadable, path: path, reason: "cannot open the file")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: MediaLimits.jpegFileBytesMax + 1) ?? Data() } catch {
            throw MediaError(.unreadable, path: path, reason: "cannot read the file: \(error)")
        }
        guard data.count <= MediaLimits.jpegFileBytesMax else {
            throw MediaError(.limitExceeded, path: path, reason: "larger than \(MediaLimits.jpegFileBytesMax) bytes")
        }
        return [UInt8](data)
    }

    static func checkSize(_ width: Int, _ height: Int, path: String) throws {
        guard width > 0, height > 0, width <= MediaLimits.frameSideMax, height <= MediaLimits.frameSideMax else {
            throw MediaError(.limitExceeded, path: path, reason: "frame size \(width)x\(height) outside 1...\(MediaLimits.frameSideMax)")
        }
    }

    private static func errorText(_ handle: tjhandle) -> String {
        String(cString: tjGetErrorStr2(handle))
    }
}
