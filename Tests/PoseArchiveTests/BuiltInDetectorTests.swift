// The built-in detector in the pipeline: sampled detections linked and carried by the tracker,
// and a video with nobody in it (done, every frame written, no annotations).
import Foundation
import PoseCore
import PoseDetect
import PoseMedia
@testable import PoseArchive
import XCTest

final class BuiltInDetectorTests: XCTestCase {
    /// Detections on frames 0, 5, 10 of one walking person: one track; frames between are
    /// interpolated, the frames after the last detection hold its box until the next would be made.
    func testSampledDetectionsAreLinkedAndCarried() {
        let boxes = [0, 5, 10].map { f in
            Detection(frame: f, box: BoundingBox(x: 10 + Double(f) * 2, y: 20, width: 40, height: 100), score: 0.8 + Double(f) / 100, trackID: nil)
        }
        let other = Detection(frame: 5, box: BoundingBox(x: 300, y: 20, width: 40, height: 100), score: 0.9, trackID: nil)
        let result = Tracker.linkSampled(boxes + [other], every: 5, frameCount: 13, gapMax: 0, iouMin: 0.3)
        let walker = result.linked[0].trackID
        XCTAssertEqual(result.linked.filter { $0.trackID == walker }.count, 3, "gapMax counts detections, not frames")
        let carried = result.carried.filter { $0.trackID == walker }
        XCTAssertEqual(carried.map(\.detection.frame), [1, 2, 3, 4, 6, 7, 8, 9, 11, 12])
        let frame3 = carried.first { $0.detection.frame == 3 }!.detection
        XCTAssertEqual(frame3.box.x, 16, accuracy: 1e-12)
        XCTAssertEqual(frame3.score, 0.83, accuracy: 1e-12)
        XCTAssertEqual(carried.last!.detection.box, boxes[2].box)
        // The other person, seen once on frame 5, is held until frame 9.
        XCTAssertEqual(result.carried.filter { $0.trackID != walker }.map(\.detection.frame), [6, 7, 8, 9])
    }

    func testBuiltInPlanCountsCarriedWindowsAndMayBeEmpty() throws {
        let info = VideoInfo(width: 320, height: 240, frameCount: 11)
        let source = DetectorSource.builtIn(BuiltInDetector(hog: HOGParameters(upscale: 1), every: 5))
        let detections = [0, 5, 10].map { Detection(frame: $0, box: BoundingBox(x: 10, y: 20, width: 40, height: 100), score: 0.7, trackID: nil) }
        let plan = try VideoPlan(entry: testEntry, options: ArchiveOptions(archive: "/nowhere"), inputShape: testShape, info: info,
                                 detections: detections, source: source)
        XCTAssertEqual(plan.counts.detections, 3)
        XCTAssertEqual(plan.counts.carried, 8)
        XCTAssertEqual(plan.counts.windows, 11)
        XCTAssertEqual(plan.units.flatMap(\.windows).map(\.keyFrame), Array(0..<11))
        let empty = try VideoPlan(entry: testEntry, options: ArchiveOptions(archive: "/nowhere"), inputShape: testShape, info: info,
                                  detections: [], source: source)
        XCTAssertTrue(empty.units.isEmpty)
        // Boxes from a file with nobody in them are still an error (a wrong file is likelier).
        XCTAssertThrowsError(try VideoPlan(entry: testEntry, options: ArchiveOptions(archive: "/nowhere"), inputShape: testShape, info: info, detections: []))
    }

    /// A video without people and without a detection file: with --detector hog it is done, its
    /// file lists every frame and no annotation; without a detector it fails with a hint.
    func testVideoWithNobodyIsDoneWithEmptyAnnotations() throws {
        let root = try temporaryFolder(self)
        let folder = root + "/archive/street"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var image = RGBImage(width: 192, height: 160)
        for i in 0..<image.pixels.count { image.pixels[i] = UInt8(100 + (i / 3) % 7) }
        let jpeg = try JPEGCodec.encode(image, quality: 90)
        for f in 0..<6 { try Data(jpeg).write(to: URL(fileURLWithPath: folder + String(format: "/%06d.jpg", f))) }

        var options = ArchiveOptions(archive: root + "/archive")
        let failed = try ArchiveRunner(options: options, outDirectory: root + "/out0", estimator: CropHashEstimator()).run()
        XCTAssertEqual(failed.videos.first?.status, .failed)
        XCTAssertTrue(failed.videos.first?.reason?.contains("--detector hog") ?? false)

        options.detector = BuiltInDetector(hog: HOGParameters(upscale: 1), every: 2)
        let report = try ArchiveRunner(options: options, outDirectory: root + "/out", estimator: CropHashEstimator()).run()
        XCTAssertEqual(report.videos.count, 1)
        XCTAssertEqual(report.videos[0].status, .done)
        XCTAssertEqual(report.videos[0].counts.windows, 0)
        XCTAssertNotNil(report.videos[0].seconds["detect"])
        // Provenance names the built-in detector, its settings and coefficients, and no file.
        let detections = try XCTUnwrap(report.videos[0].detections)
        XCTAssertNil(detections.file)
        XCTAssertTrue(detections.detector?.contains("every 2 frames") ?? false, "\(detections)")
        XCTAssertTrue(detections.detector?.contains("coefficients SHA-256") ?? false, "\(detections)")
        let file = try PoseTrackFile.decode(Data(contentsOf: URL(fileURLWithPath: root + "/out/street.json")), path: "street.json")
        XCTAssertEqual(file.images.count, 6)
        XCTAssertTrue(file.annotations.isEmpty)
    }

    func testDetectorSourceDescribesItself() throws {
        let source = DetectorSource.builtIn(BuiltInDetector(every: 3))
        XCTAssertEqual(source.kind, .builtIn)
        XCTAssertEqual(source.coefficientsSHA256, HOGPeopleDetector.sha256)
        XCTAssertTrue(source.summary.contains("every 3 frames"))
        let decoded = try JSONDecoder().decode(DetectorSource.self, from: JSONEncoder().encode(source))
        XCTAssertEqual(decoded, source)
        XCTAssertEqual(DetectorSource.file(DetectionFile(path: "a.txt", format: .mot)).summary, "file a.txt (txt)")
    }
}
