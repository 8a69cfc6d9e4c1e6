// The rasteriser's shapes measured on black frames, the overlay's rules (stable colours, score
// as opacity, unannotated joints skipped), frame grouping, ranges and the contact sheet layout.
import XCTest
import PoseCore
import PoseMedia
@testable import PoseRender

final class RenderTests: XCTestCase {
    func black(_ w: Int = 64, _ h: Int = 48) -> Canvas { Canvas(RGBImage(width: w, height: h)) }

    func red(_ c: Canvas, _ x: Int, _ y: Int) -> Int { Int(c.image.pixels[(y * c.width + x) * 3]) }

    /// Ink: the sum of red over the frame / 255, i.e. covered pixels.
    func ink(_ c: Canvas) -> Double { stride(from: 0, to: c.image.pixels.count, by: 3).reduce(0.0) { $0 + Double(c.image.pixels[$1]) } / 255 }

    func testBlendMixesByOpacityAndClipsOutsideTheFrame() {
        var c = black()
        c.blend(x: 3, y: 4, .white, opacity: 0.5)
        XCTAssertEqual(red(c, 3, 4), 128)
        c.blend(x: 3, y: 4, .white, opacity: 2)
        XCTAssertEqual(red(c, 3, 4), 255)
        c.blend(x: -1, y: 0, .white, opacity: 1)
        c.blend(x: 64, y: 0, .white, opacity: 1)
        XCTAssertEqual(ink(c), 1, "only the pixel inside was touched")
    }

    func testLineHasItsThicknessAndLengthAndNothingBeyond() {
        var c = black()
        c.line(from: (10, 20), to: (50, 20), thickness: 3, .white)
        XCTAssertEqual(red(c, 30, 20), 255, "on the line")
        XCTAssertEqual(red(c, 30, 19), 255, "inside the 3 px width (rows 18.5...21.5)")
        XCTAssertEqual(red(c, 30, 21), 128, "half covered: the edge ramp")
        XCTAssertEqual(red(c, 30, 23), 0, "beyond it")
        XCTAssertEqual(red(c, 55, 20), 0, "beyond the round end")
        // Area of a 3 px wide capsule of length 40: 40 * 3 + pi * 1.5^2, within the edge ramp.
        XCTAssertEqual(ink(c), 40 * 3 + Double.pi * 2.25, accuracy: 6)
    }

    func testDiscAreaIsPiRSquaredAndOpacityScalesIt() {
        var c = black()
        c.disc(centre: (32, 24), radius: 10, .white)
        XCTAssertEqual(ink(c), Double.pi * 100, accuracy: 3)
        var faint = black()
        faint.disc(centre: (32, 24), radius: 10, .white, opacity: 0.25)
        XCTAssertEqual(ink(faint), ink(c) / 4, accuracy: 3)
    }

    func testRectangleOutlineLeavesTheInsideAlone() {
        var c = black()
        c.stroke(x: 10, y: 10, width: 30, height: 20, thickness: 2, .white)
        XCTAssertEqual(red(c, 10, 20), 255)
        XCTAssertEqual(red(c, 25, 20), 0, "inside stays black")
        XCTAssertEqual(red(c, 25, 10), 255)
        XCTAssertEqual(ink(c), 2 * (30 + 20) * 2, accuracy: 8)
    }

    func testFontDrawsGlyphsAndUnknownCharactersAsQuestionMarks() {
        var c = black()
        c.text("1", x: 0, y: 0, scale: 2, .white)
        // "1": 1 + 2 + 1 + 1 + 1 + 1 + 3 = 10 font pixels, 4 pixels each at scale 2.
        XCTAssertEqual(ink(c), 40)
        XCTAssertEqual(BitmapFont.glyph("a"), BitmapFont.glyph("A"))
        XCTAssertEqual(BitmapFont.glyph("\u{1F600}"), BitmapFont.glyph("?"))
        XCTAssertEqual(BitmapFont.width(of: "12", scale: 3), 33)
    }

    func testTrackColoursAreStableAndNeighboursDiffer() {
        XCTAssertEqual(PoseOverlay.colour(trackID: 7), PoseOverlay.colour(trackID: 7))
        let colours = (0..<20).map { PoseOverlay.colour(trackID: $0) }
        for i in 1..<20 {
            let a = colours[i - 1], b = colours[i]
            let distance = abs(Int(a.red) - Int(b.red)) + abs(Int(a.green) - Int(b.green)) + abs(Int(a.blue) - Int(b.blue))
            XCTAssertGreaterThan(distance, 100, "ids \(i - 1) and \(i)")
        }
    }

    /// One person with two joints, the nose at (100, 100) and head_bottom at (160, 100); the other
    /// 15 are (0, 0, 0), not annotated.
    func person(noseScore: Double, neckScore: Double) -> PoseTrackAnnotation {
        var keypoints = [Double](repeating: 0, count: 51)
        keypoints[0] = 100; keypoints[1] = 100; keypoints[2] = noseScore
        keypoints[3] = 160; keypoints[4] = 100; keypoints[5] = neckScore
        var scores = [Double](repeating: 0, count: 17)
        scores[0] = noseScore; scores[1] = neckScore
        return PoseTrackAnnotation(imageID: 0, trackID: 3, keypoints: keypoints, scores: scores)
    }

    func testJointScoresAreOpacityAndUnannotatedJointsAreSkipped() {
        // 480 x 480: a unit of 2 px, joint discs of radius 3.5 (white) and 2.5 (colour).
        var full = black(480, 480), half = black(480, 480), none = black(480, 480)
        PoseOverlay(skeleton: [[1, 2]]).draw([person(noseScore: 1, neckScore: 1)], on: &full)
        PoseOverlay(skeleton: []).draw([person(noseScore: 0.5, neckScore: 0.5)], on: &half)
        PoseOverlay(skeleton: [[1, 2]]).draw([person(noseScore: 1, neckScore: 0)], on: &none)
        let colour = PoseOverlay.colour(trackID: 3)
        func at(_ c: Canvas, _ x: Int, _ y: Int) -> [UInt8] { let i = (y * c.width + x) * 3; return Array(c.image.pixels[i..<i + 3]) }
        XCTAssertEqual(at(full, 100, 100), [colour.red, colour.green, colour.blue])
        // Half opacity: white at 0.5 (128), then the colour at 0.5 over it.
        XCTAssertEqual(at(half, 100, 100)[1], UInt8((64 + 0.5 * Double(colour.green)).rounded()))
        XCTAssertEqual(at(none, 160, 100), [0, 0, 0], "score 0: not drawn")
        XCTAssertEqual(at(none, 130, 100), [0, 0, 0], "nor its bone")
        XCTAssertEqual(at(full, 130, 100), [colour.red, colour.green, colour.blue], "the bone")
        // The 15 joints at (0, 0, 0) draw nothing at the origin.
        XCTAssertEqual(at(full, 0, 0), [0, 0, 0])
    }

    func testBoxAndIdLabelAreDrawnInTheTrackColour() {
        var c = black(96, 96)
        let annotation = PoseTrackAnnotation(imageID: 0, trackID: 12, keypoints: [Double](repeating: 0, count: 51),
                                             scores: [Double](repeating: 0, count: 17), bbox: [30, 40, 40, 40])
        PoseOverlay().draw([annotation], on: &c)
        let colour = PoseOverlay.colour(trackID: 12)
        // The 1 px right edge lies on the boundary x = 70: half in pixel 69, half in pixel 70.
        let edge = (60 * 96 + 69) * 3
        XCTAssertEqual(Double(c.image.pixels[edge + 1]) + Double(c.image.pixels[edge + 4]), 0.9 * Double(colour.green), accuracy: 2, "right edge")
        XCTAssertEqual(Array(c.image.pixels[(60 * 96 + 50) * 3..<(60 * 96 + 50) * 3 + 3]), [0, 0, 0], "inside")
        let tab = (30 * 96 + 30) * 3   // the label sits above the box
        XCTAssertNotEqual(Array(c.image.pixels[tab..<tab + 3]), [0, 0, 0])
    }

    func testPosesAreGroupedByTheirImagesPositionAndStrayImageIDsAreErrors() throws {
        let images = (0..<3).map { PoseTrackImage(fileName: "v/\($0).jpg", id: 100 + $0) }
        let file = PoseTrackFile(images: images, annotations: [PoseTrackAnnotation(imageID: 102, trackID: 1),
                                                               PoseTrackAnnotation(imageID: 100, trackID: 2),
                                                               PoseTrackAnnotation(imageID: 102, trackID: 3)])
        let poses = try FramePoses(file: file, path: "p.json")
        XCTAssertEqual(poses.people.map { $0.map(\.trackID) }, [[2], [], [1, 3]])
        XCTAssertTrue(poses.people(inFrame: 7).isEmpty)
        let stray = PoseTrackFile(images: images, annotations: [PoseTrackAnnotation(imageID: 5)])
        XCTAssertThrowsError(try FramePoses(file: stray, path: "p.json")) { error in
            XCTAssertEqual("\(error)", "p.json: annotations[0].image_id 5 is not the id of any entry of images")
        }
    }

    func testFrameRanges() throws {
        XCTAssertEqual(try RenderVideo.range(nil, frameCount: 10), 0..<10)
        XCTAssertEqual(try RenderVideo.range("3:7", frameCount: 10), 3..<7)
        XCTAssertEqual(try RenderVideo.range(":4", frameCount: 10), 0..<4)
        XCTAssertEqual(try RenderVideo.range("8:", frameCount: 10), 8..<10)
        XCTAssertEqual(try RenderVideo.range("8:99", frameCount: 10), 8..<10)
        for bad in ["7:3", "x", "3", "12:14", "-1:2"] {
            XCTAssertThrowsError(try RenderVideo.range(bad, frameCount: 10), bad)
        }
    }

    func testContactSheetSamplesEvenlyAndFitsTiles() {
        XCTAssertEqual(ContactSheet.samples(count: 4, total: 100), [12, 37, 62, 87])
        XCTAssertEqual(ContactSheet.samples(count: 10, total: 3), [0, 1, 2])
        var sheet = ContactSheet(tiles: 5, frameWidth: 640, frameHeight: 480, tileWidth: 200)
        XCTAssertEqual(sheet.columns, 3)
        XCTAssertEqual(sheet.tileWidth, 160, "640 shrunk by 4")
        XCTAssertEqual(sheet.canvas.width, 3 * (160 + 4) + 4)
        XCTAssertEqual(sheet.canvas.height, 2 * (120 + 4) + 4)
        var white = Canvas(RGBImage(width: 640, height: 480))
        white.fill(x: 0, y: 0, width: 640, height: 480, .white)
        sheet.place(white.image, at: 4, label: "A #1")
        let inside = ((4 + 124 + 100) * sheet.canvas.width + 4 + 164 + 100) * 3   // row 1, column 1
        XCTAssertEqual(sheet.canvas.image.pixels[inside], 255)
        XCTAssertEqual(sheet.canvas.image.pixels[(2 * sheet.canvas.width + 2) * 3], 24, "background")
    }

    func testDownscaleAveragesBlocks() {
        let image = RGBImage(width: 3, height: 2, pixels: [0, 0, 0, 100, 100, 100, 50, 50, 50,
                                                         200, 200, 200, 100, 100, 100, 51, 51, 51])
        let small = image.downscaled(by: 2)
        XCTAssertEqual(small.width, 2)
        XCTAssertEqual(small.height, 1)
        XCTAssertEqual(small.pixels, [100, 100, 100, 51, 51, 51])
        XCTAssertEqual(RenderVideo.evenSized(image).width, 4)
        XCTAssertEqual(RenderVideo.evenSized(image).height, 2)
    }
}
