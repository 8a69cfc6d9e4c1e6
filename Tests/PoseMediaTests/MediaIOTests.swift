// Frame sources on real files: JPEG round trips and damage, ffmpeg writing, probing and
// streaming an mp4, and a truncated mp4 that must fail with a clear error.
import Foundation
import PoseCore
@testable import PoseMedia
import XCTest

final class MediaIOTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "posemedia-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func gradient(width: Int, height: Int, frame: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height { for x in 0..<width {
            let i = (y * width + x) * 3
            pixels[i] = UInt8((x * 4 + frame * 9) % 256); pixels[i + 1] = UInt8((y * 4) % 256); pixels[i + 2] = UInt8((frame * 40) % 256)
        } }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
        zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(a.count)
    }

    func testJPEGRoundTripAndDamage() throws {
        let image = gradient(width: 40, height: 30, frame: 1)
        let bytes = try JPEGCodec.encode(image, quality: 95)
        XCTAssertEqual(try JPEGCodec.size(of: bytes, path: "x").width, 40)
        let decoded = try JPEGCodec.decode(bytes, path: "x")
        XCTAssertEqual(decoded.width, 40); XCTAssertEqual(decoded.height, 30)
        XCTAssertLessThan(meanAbsoluteDifference(decoded.pixels, image.pixels), 4)
        XCTAssertEqual(try JPEGCodec.encode(image, quality: 95), bytes, "encoding is deterministic")

        XCTAssertThrowsError(try JPEGCodec.decode(Array("this is not a jpeg at all".utf8), path: "garbage.jpg")) { error in
            XCTAssertEqual((error as? MediaError)?.kind, .badImage)
            XCTAssertTrue("\(error)".contains("garbage.jpg"))
        }
        // A valid header followed by garbage instead of the scan.
        var damaged = bytes
        for i in (damaged.count / 2)..<damaged.count { damaged[i] = UInt8(truncatingIfNeeded: i &* 131) }
        XCTAssertThrowsError(try JPEGCodec.decode(Array(damaged.prefix(damaged.count * 2 / 3)), path: "cut.jpg"))
    }

    func testJPEGFolderSourceChecksSizes() throws {
        let frames = folder + "/frames"
        try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
        for i in 0..<3 {
            try Data(JPEGCodec.encode(gradient(width: 16, height: 12, frame: i))).write(to: URL(fileURLWithPath: frames + "/00000\(i).jpg"))
        }
        try Data(JPEGCodec.encode(gradient(width: 20, height: 12, frame: 3))).write(to: URL(fileURLWithPath: frames + "/000003.jpg"))
        let source = try JPEGFolderFrameSource(folder: frames)
        XCTAssertEqual(source.info, VideoInfo(width: 16, height: 12, frameCount: 4))
        var buffer = [UInt8](repeating: 0, count: source.info.frameBytes)
        for _ in 0..<3 { XCTAssertTrue(try buffer.withUnsafeMutableBufferPointer { try source.readFrame(into: $0) }) }
        XCTAssertThrowsError(try buffer.withUnsafeMutableBufferPointer { try source.readFrame(into: $0) }) { error in
            XCTAssertEqual((error as? MediaError)?.kind, .sizeMismatch)
        }
    }

    func testVideoWriteProbeAndStream() throws {
        let path = folder + "/clip.mp4"
        let writer = try VideoFileWriter(path: path, width: 32, height: 24)
        let written = (0..<7).map { gradient(width: 32, height: 24, frame: $0) }
        for frame in written { try writer.write(frame) }
        try writer.finish()
        let info = try VideoProbe.probe(path)
        XCTAssertEqual(info, VideoInfo(width: 32, height: 24, frameCount: 7))
        let source = try VideoFileFrameSource(path: path, info: info)
        var buffer = [UInt8](repeating: 0, count: info.frameBytes)
        for i in 0..<7 {
            XCTAssertTrue(try buffer.withUnsafeMutableBufferPointer { try source.readFrame(into: $0) })
            XCTAssertLessThan(meanAbsoluteDifference(buffer, written[i].pixels), 12, "frame \(i) decodes close to what was written")
        }
        XCTAssertFalse(try buffer.withUnsafeMutableBufferPointer { try source.readFrame(into: $0) })
    }

    func testTruncatedVideoFailsWithReason() throws {
        let path = folder + "/clip.mp4"
        let writer = try VideoFileWriter(path: path, width: 64, height: 48)
        for i in 0..<30 { try writer.write(gradient(width: 64, height: 48, frame: i)) }
        try writer.finish()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes = Array(bytes.prefix(bytes.count / 2))
        let cut = folder + "/cut.mp4"
        try Data(bytes).write(to: URL(fileURLWithPath: cut))
        do {
            let info = try VideoProbe.probe(cut)
            let source = try VideoFileFrameSource(path: cut, info: info)
            var buffer = [UInt8](repeating: 0, count: info.frameBytes)
            var frames = 0
            while try buffer.withUnsafeMutableBufferPointer({ try source.readFrame(into: $0) }) { frames += 1 }
            XCTFail("a truncated video decoded \(frames) of \(info.frameCount) frames without an error")
        } catch let error as MediaError {
            XCTAssertTrue(error.path.hasSuffix("cut.mp4"))
            XCTAssertFalse(error.reason.isEmpty)
        }
        XCTAssertThrowsError(try VideoProbe.probe(folder + "/missing.mp4")) { XCTAssertEqual(($0 as? MediaError)?.kind, .unreadable) }
    }
}
