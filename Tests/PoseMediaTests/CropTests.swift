// The crop: parity with the Python reference's fixture, the fast kernel against the plain
// reference on adversarial geometries, uint8 rounding, and the map back from heatmap pixels.
import Foundation
import PoseCore
@testable import PoseMedia
import SafeTensors
import XCTest

final class CropTests: XCTestCase {
    func fixturePath(_ name: String) throws -> String {
        let path = Bundle.module.bundlePath + "/Fixtures/" + name
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("fixture \(name) is missing") }
        return path
    }

    func testCropMatchesPythonReferenceFixture() throws {
        let file = try SafeTensorsFile(contentsOfFile: fixturePath("crop.safetensors"))
        let imageInfo = try file.info("image"), cropInfo = try file.info("crops")
        XCTAssertEqual(imageInfo.shape.count, 3)
        let (frameHeight, frameWidth) = (imageInfo.shape[0], imageInfo.shape[1])
        let (count, height, width) = (cropInfo.shape[0], cropInfo.shape[1], cropInfo.shape[2])
        let image = RGBImage(width: frameWidth, height: frameHeight, pixels: try file.uint8s("image"))
        let boxes = try file.doubles("boxes")
        let expected = try file.floats("crops")
        XCTAssertEqual(boxes.count, count * 4)
        var worstFast = 0.0, worstReference = 0.0
        for n in 0..<count {
            let box = BoundingBox(x: boxes[n * 4], y: boxes[n * 4 + 1], width: boxes[n * 4 + 2], height: boxes[n * 4 + 3])
            let geometry = CropGeometry(box: box, inputWidth: width, inputHeight: height)
            let sampler = CropSampler(geometry: geometry, width: width, height: height, frameWidth: frameWidth, frameHeight: frameHeight)
            var fast = [Float](repeating: -1, count: width * height * 3)
            image.pixels.withUnsafeBufferPointer { frame in fast.withUnsafeMutableBufferPointer { sampler.cropFloat(frame: frame, into: $0) } }
            let reference = CropReference.crop(image: image, geometry: geometry, width: width, height: height)
            let slice = expected[(n * width * height * 3)..<((n + 1) * width * height * 3)]
            for (i, value) in slice.enumerated() {
                worstFast = max(worstFast, abs(Double(fast[i]) - Double(value)) / 255)
                worstReference = max(worstReference, abs(reference[i] - Double(value)) / 255)
            }
        }
        XCTAssertLessThan(worstFast, 1e-4, "fast crop vs Python reference, /255 scale")
        XCTAssertLessThan(worstReference, 1e-6, "Swift reference crop vs Python reference, /255 scale")
        // The fixture must exercise the black border, or it proves little.
        XCTAssertTrue(expected.contains(0), "fixture has no out-of-image pixels")
    }

    func testFastCropMatchesReferenceOnAdversarialGeometries() {
        var rng = SplitMix64(seed: 11)
        let frameWidth = 37, frameHeight = 29
        let pixels = (0..<frameWidth * frameHeight * 3).map { _ in UInt8(rng.next() % 256) }
        let image = RGBImage(width: frameWidth, height: frameHeight, pixels: pixels)
        var geometries = [
            CropGeometry(centerX: -500, centerY: -500, scaleWidth: 10, scaleHeight: 13),      // far outside
            CropGeometry(centerX: 0, centerY: 0, scaleWidth: 20, scaleHeight: 26),            // on the corner
            CropGeometry(centerX: 18.5, centerY: 14.5, scaleWidth: 0.5, scaleHeight: 0.7),    // a sub-pixel box
            CropGeometry(centerX: 18, centerY: 14, scaleWidth: 1e6, scaleHeight: 1.3e6),       // huge
            CropGeometry(centerX: Double(frameWidth), centerY: Double(frameHeight), scaleWidth: 9, scaleHeight: 12),
        ]
        for _ in 0..<40 {
            let w = rng.uniform(0.5, 80)
            geometries.append(CropGeometry(centerX: rng.uniform(-20, 60), centerY: rng.uniform(-20, 50), scaleWidth: w, scaleHeight: w * rng.uniform(0.5, 2)))
        }
        let width = 12, height = 16
        for geometry in geometries {
            let sampler = CropSampler(geometry: geometry, width: width, height: height, frameWidth: frameWidth, frameHeight: frameHeight)
            var fast = [Float](repeating: -1, count: width * height * 3)
            var bytes = [UInt8](repeating: 0, count: width * height * 3)
            pixels.withUnsafeBufferPointer { frame in
                fast.withUnsafeMutableBufferPointer { sampler.cropFloat(frame: frame, into: $0) }
                bytes.withUnsafeMutableBufferPointer { sampler.crop(frame: frame, into: $0) }
            }
            let reference = CropReference.crop(image: image, geometry: geometry, width: width, height: height)
            for i in reference.indices {
                XCTAssertEqual(Double(fast[i]), reference[i], accuracy: 2e-3, "geometry \(geometry) at \(i)")
                XCTAssertLessThanOrEqual(abs(Double(bytes[i]) - reference[i]), 0.5 + 2e-3, "uint8 rounding at \(i)")
            }
        }
    }

    func testFarOutsideIsBlackAndInsideIdentityIsExact() {
        // A crop whose pixel grid lands on the frame's grid reproduces the frame exactly.
        let frameWidth = 24, frameHeight = 32
        let pixels = (0..<frameWidth * frameHeight * 3).map { UInt8(($0 * 37) % 251) }
        let identity = CropGeometry(centerX: 12, centerY: 16, scaleWidth: 24, scaleHeight: 32)
        let sampler = CropSampler(geometry: identity, width: 24, height: 32, frameWidth: frameWidth, frameHeight: frameHeight)
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { frame in out.withUnsafeMutableBufferPointer { sampler.crop(frame: frame, into: $0) } }
        XCTAssertEqual(out, pixels)
        let outside = CropSampler(geometry: CropGeometry(centerX: 1e9, centerY: -1e9, scaleWidth: 5, scaleHeight: 5),
                                  width: 4, height: 4, frameWidth: frameWidth, frameHeight: frameHeight)
        var black = [UInt8](repeating: 7, count: 48)
        pixels.withUnsafeBufferPointer { frame in black.withUnsafeMutableBufferPointer { outside.crop(frame: frame, into: $0) } }
        XCTAssertEqual(black, [UInt8](repeating: 0, count: 48))
    }

    func testHeatmapMapBackRoundTrips() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<200 {
            let box = BoundingBox(x: rng.uniform(-50, 500), y: rng.uniform(-50, 400), width: rng.uniform(1, 300), height: rng.uniform(1, 300))
            let geometry = CropGeometry(box: box, inputWidth: 96, inputHeight: 128)
            let x = rng.uniform(-100, 800), y = rng.uniform(-100, 600)
            let heatmap = geometry.cropPoint(x: x, y: y, width: 24, height: 32)
            let back = geometry.imagePoint(heatmapX: heatmap.u, heatmapY: heatmap.v, heatmapWidth: 24, heatmapHeight: 32)
            XCTAssertEqual(back.x, x, accuracy: 1e-9 * max(1, abs(x)))
            XCTAssertEqual(back.y, y, accuracy: 1e-9 * max(1, abs(y)))
            // The crop pixel and the heatmap pixel of one image point differ by the factor 4.
            let crop = geometry.cropPoint(x: x, y: y, width: 96, height: 128)
            XCTAssertEqual(crop.u, heatmap.u * 4, accuracy: 1e-6)
            XCTAssertEqual(crop.v, heatmap.v * 4, accuracy: 1e-6)
        }
    }
}
