// The Swift HOG detector against OpenCV's detectMultiScale on 20 real frames of vtest.avi
// (fixtures made by ops/hog/make_fixtures.py), and its parts on their own.
import Foundation
import PoseCore
import PoseMedia
import XCTest
@testable import PoseDetect

final class HOGTests: XCTestCase {
    struct Fixture: Decodable {
        struct Parameters: Decodable {
            var window_stride: Int, scale_step: Double, hit_threshold: Double, group_threshold: Int, upscale: Double
        }
        struct Frame: Decodable { var file: String; var frame: Int; var boxes: [[Double]] }
        var opencv: String
        var parameters: Parameters
        var frames: [Frame]
    }

    static var fixtureFolder: String { Bundle.module.resourcePath! + "/Fixtures/hog" }

    func loadFixture() throws -> Fixture {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixtureFolder + "/opencv_boxes.json"))
        return try JSONDecoder().decode(Fixture.self, from: data)
    }

    /// Same boxes as OpenCV: each OpenCV box matched one to one by a Swift box at IoU >= 0.9, and
    /// the same number of boxes within 5%.
    func testMatchesOpenCVOnRealFrames() throws {
        let fixture = try loadFixture()
        XCTAssertEqual(fixture.frames.count, 20)
        let p = fixture.parameters
        let detector = HOGDetector(parameters: HOGParameters(windowStride: p.window_stride, scaleStep: p.scale_step, hitThreshold: p.hit_threshold,
                                                             groupThreshold: p.group_threshold, upscale: p.upscale), threads: 2)
        var openCVCount = 0, swiftCount = 0, matched = 0, identical = 0
        var worstMargin = 0.0
        for frame in fixture.frames {
            let image = try JPEGCodec.decodeFile(Self.fixtureFolder + "/" + frame.file)
            let found = detector.detect(image)
            let expected = frame.boxes.map { PixelRect(x: Int($0[0]), y: Int($0[1]), width: Int($0[2]), height: Int($0[3])) }
            openCVCount += expected.count
            swiftCount += found.count
            var free = Array(found.indices)
            for (e, box) in expected.enumerated() {
                guard let best = free.max(by: { found[$0].rect.iou(box) < found[$1].rect.iou(box) }), found[best].rect.iou(box) >= 0.9 else {
                    print("frame \(frame.frame): OpenCV box \(box) (weight \(frame.boxes[e][4])) unmatched; Swift found \(found.map(\.rect))")
                    continue
                }
                matched += 1
                if found[best].rect == box { identical += 1 }
                worstMargin = max(worstMargin, abs(found[best].margin - frame.boxes[e][4]))
                free.removeAll { $0 == best }
            }
            // Boxes in original pixels are the enlarged ones scaled back.
            for item in found {
                XCTAssertEqual(item.box.x, Double(item.rect.x) / p.upscale, accuracy: 1e-9)
                XCTAssertEqual(item.box.height, Double(item.rect.height) / p.upscale, accuracy: 1e-9)
            }
        }
        print("HOG vs OpenCV \(fixture.opencv): \(openCVCount) OpenCV boxes, \(swiftCount) Swift boxes, \(matched) matched at IoU >= 0.9, \(identical) identical, largest weight difference \(worstMargin)")
        XCTAssertGreaterThan(openCVCount, 40, "the fixture should hold enough people to mean something")
        XCTAssertGreaterThanOrEqual(Double(matched), 0.95 * Double(openCVCount))
        XCTAssertLessThanOrEqual(abs(Double(swiftCount - openCVCount)), 0.05 * Double(openCVCount))
    }

    /// A frame with no people (flat, then smooth noise-free gradient): no boxes.
    func testEmptySceneHasNoPeople() {
        let detector = HOGDetector(parameters: HOGParameters(upscale: 1))
        XCTAssertTrue(detector.detect(RGBImage(width: 320, height: 240, pixels: [UInt8](repeating: 128, count: 320 * 240 * 3))).isEmpty)
        var ramp = RGBImage(width: 320, height: 240)
        for y in 0..<240 { for x in 0..<320 { for c in 0..<3 { ramp.pixels[(y * 320 + x) * 3 + c] = UInt8((x + y) / 3) } } }
        XCTAssertTrue(detector.detect(ramp).isEmpty)
    }

    func testCoefficientsAreOpenCVsDefaultPeopleDetector() {
        let detector = HOGPeopleDetector.shared
        XCTAssertEqual(detector.weights.count, 3780)
        XCTAssertTrue(detector.weights.allSatisfy(\.isFinite))
        // OpenCV's default people detector's bias (the 3,781st value).
        XCTAssertEqual(detector.bias, -6.6657915, accuracy: 1e-6)
    }

    /// fastAtan2 is accurate to about 0.3 degrees and covers [0, 2 pi).
    func testFastAtan2() {
        var rng = SplitMix64(seed: 3)
        var worst: Float = 0
        for _ in 0..<10_000 {
            let x = Float(rng.uniform() * 2 - 1) * 16, y = Float(rng.uniform() * 2 - 1) * 16
            var exact = atan2(y, x)
            if exact < 0 { exact += 2 * .pi }
            let fast = HOGGradients.fastAtan2Radians(y: y, x: x)
            XCTAssertGreaterThanOrEqual(fast, 0)
            XCTAssertLessThan(fast, 2 * .pi + 1e-5)
            var difference = abs(fast - exact)
            difference = min(difference, 2 * .pi - difference)
            worst = max(worst, difference)
        }
        XCTAssertLessThan(worst * 180 / .pi, 0.3)
    }

    /// The fixed-point resize: an exact 2x enlargement keeps every source pixel's neighbourhood
    /// mean; a same-size resize is the identity; values stay between their neighbours.
    func testBilinearResize() {
        var rng = SplitMix64(seed: 9)
        let source = RGBImage(width: 13, height: 7, pixels: (0..<13 * 7 * 3).map { _ in UInt8(rng.uniform() * 255) })
        XCTAssertEqual(BilinearResize.resize(source, width: 13, height: 7), source)
        let big = BilinearResize.resize(source, width: 26, height: 14, inverseScale: 2)
        // Output (1, 1) sits at source (0.25, 0.25): weights 3/4 and 1/4 each way.
        for c in 0..<3 {
            let p = { (x: Int, y: Int) in Int(source.pixels[(y * 13 + x) * 3 + c]) }
            let h0 = p(0, 0) * 192 + p(1, 0) * 64, h1 = p(0, 1) * 192 + p(1, 1) * 64
            XCTAssertEqual(Int(big.pixels[(1 * 26 + 1) * 3 + c]), (h0 * 192 + h1 * 64 + 32768) >> 16)
            // Corner (0, 0) is the edge pixel.
            XCTAssertEqual(big.pixels[c], source.pixels[c])
        }
    }

    func testGroupingMergesSimilarBoxesAndDropsLoneOnes() {
        let cluster = [PixelRect(x: 100, y: 50, width: 64, height: 128), PixelRect(x: 104, y: 52, width: 64, height: 128),
                       PixelRect(x: 98, y: 46, width: 67, height: 134), PixelRect(x: 102, y: 50, width: 64, height: 128)]
        let lone = [PixelRect(x: 300, y: 50, width: 64, height: 128), PixelRect(x: 302, y: 52, width: 64, height: 128)]
        let result = RectangleGrouping.group(cluster + lone, scores: [0.5, 1.5, 0.2, 0.9, 3, 3], threshold: 2, eps: 0.2)
        XCTAssertEqual(result.count, 1)
        XCTAssertEqual(result[0].rect, PixelRect(x: 101, y: 50, width: 65, height: 130)) // means 101, 49.5 -> 50 (even), 64.75, 129.5 -> 130
        XCTAssertEqual(result[0].score, 1.5)
    }

    func testParametersAreChecked() {
        XCTAssertNil(HOGParameters().problem)
        XCTAssertNotNil(HOGParameters(windowStride: 4).problem)
        XCTAssertNotNil(HOGParameters(scaleStep: 1).problem)
        XCTAssertNotNil(HOGParameters(upscale: 10).problem)
        XCTAssertNotNil(HOGParameters(groupThreshold: -1).problem)
    }
}
