// Plans (filtering, clipping, units), the crop stream against cropping each window directly,
// and the merge of results: order-independent bytes, first result wins, failed units absent.
import Foundation
import PoseCore
@testable import PoseArchive
@testable import PoseMedia
import XCTest

/// Frames made in memory: frame f is a pattern that depends on f, so a wrong frame shows.
final class PatternFrameSource: FrameSource {
    let info: VideoInfo
    var next = 0
    var failAt: Int?
    init(info: VideoInfo, failAt: Int? = nil) { self.info = info; self.failAt = failAt }
    static func frame(_ f: Int, info: VideoInfo) -> [UInt8] {
        (0..<info.frameBytes).map { UInt8(truncatingIfNeeded: ($0 / 3) &* 7 &+ f &* 31 &+ ($0 % 3) &* 80) }
    }
    func readFrame(into pixels: UnsafeMutableBufferPointer<UInt8>) throws -> Bool {
        guard next < info.frameCount else { return false }
        if next == failAt { throw MediaError(.truncated, path: "pattern", reason: "frame \(next) is damaged") }
        _ = Self.frame(next, info: info).withUnsafeBufferPointer { pixels.initialize(from: $0) }
        next += 1
        return true
    }
    func close() {}
}

final class PlanAndStreamTests: XCTestCase {
    let info = VideoInfo(width: 40, height: 30, frameCount: 12)

    func detections() -> [Detection] {
        var list: [Detection] = []
        for t in 0..<12 {
            list.append(Detection(frame: t, box: BoundingBox(x: 2 + Double(t), y: 3, width: 10, height: 20), score: 0.9, trackID: nil))
            if t >= 4 { list.append(Detection(frame: t, box: BoundingBox(x: 25, y: 5, width: 12, height: 22), score: 0.8, trackID: nil)) }
        }
        list.append(Detection(frame: 3, box: BoundingBox(x: 100, y: 100, width: 5, height: 5), score: 0.9, trackID: nil))  // outside
        list.append(Detection(frame: 3, box: BoundingBox(x: 1, y: 1, width: 5, height: 5), score: 0.1, trackID: nil))      // weak
        list.append(Detection(frame: 12, box: BoundingBox(x: 1, y: 1, width: 5, height: 5), score: 0.9, trackID: nil))     // no frame 12
        list.append(Detection(frame: 5, box: BoundingBox(x: -10, y: 20, width: 15, height: 30), score: 0.9, trackID: nil)) // clipped
        return list
    }

    func plan(unitSize: Int = 5) throws -> VideoPlan {
        try VideoPlan(entry: testEntry, options: ArchiveOptions(archive: "/", unitSize: unitSize), inputShape: testShape, info: info, detections: detections())
    }

    func testPlanFiltersClipsAndGroups() throws {
        let plan = try plan()
        XCTAssertEqual(plan.counts.detections, 24)
        XCTAssertEqual(plan.counts.belowThreshold, 1)
        XCTAssertEqual(plan.counts.emptyBoxes, 1)
        XCTAssertEqual(plan.counts.outOfRange, 1)
        XCTAssertEqual(plan.counts.windows, 21)
        XCTAssertEqual(plan.counts.tracks, 3)
        // Track 0: 12 key frames in units of 5, 5, 2; track 1: 8 in 5, 3; track 2: the clipped box.
        XCTAssertEqual(plan.units.map(\.windows.count).sorted(), [1, 2, 3, 5, 5, 5])
        XCTAssertEqual(plan.units.map(\.firstKeyFrame), plan.units.map(\.firstKeyFrame).sorted())
        let clipped = plan.units.flatMap(\.windows).first { $0.keyFrame == 5 && $0.box.x == 0 }
        XCTAssertEqual(clipped?.box, BoundingBox(x: 0, y: 20, width: 5, height: 10))
        XCTAssertEqual(plan.frames(ofKeyFrame: 0), [0, 0, 1])
        XCTAssertEqual(plan.frames(ofKeyFrame: 11), [10, 11, 11])
        // Only boxes outside the frame: a clear error for this video.
        let outside = [Detection(frame: 0, box: BoundingBox(x: 50, y: 50, width: 10, height: 10), score: 1, trackID: nil)]
        XCTAssertThrowsError(try VideoPlan(entry: testEntry, options: ArchiveOptions(archive: "/"), inputShape: testShape, info: info, detections: outside)) { error in
            XCTAssertEqual((error as? ArchiveError)?.kind, .noDetections)
            XCTAssertTrue("\(error)".contains("1 outside the 40x30 frame"), "\(error)")
        }
    }

    func testStreamCropsEveryWindowFromTheRightFrames() throws {
        let plan = try plan(unitSize: 4)
        let stream = UnitCropStream(plan: plan) { [info] _ in PatternFrameSource(info: info) }
        var emitted: [Int: [UInt8]] = [:]
        try stream.run { unit, crops in
            XCTAssertNil(emitted[unit], "unit \(unit) emitted twice")
            emitted[unit] = crops
        }
        XCTAssertEqual(Set(emitted.keys), Set(plan.units.indices))
        let frames = (0..<info.frameCount).map { PatternFrameSource.frame($0, info: info) }
        let cropBytes = testShape.width * testShape.height * 3
        for unit in plan.units {
            let crops = emitted[unit.index]!
            XCTAssertEqual(crops.count, unit.windows.count * testShape.windowBytes)
            for (w, window) in unit.windows.enumerated() {
                for (t, f) in plan.frames(ofKeyFrame: window.keyFrame).enumerated() {
                    let reference = CropReference.crop(image: RGBImage(width: info.width, height: info.height, pixels: frames[f]),
                                                       geometry: window.geometry, width: testShape.width, height: testShape.height)
                    let offset = w * testShape.windowBytes + t * cropBytes
                    for i in 0..<cropBytes {
                        XCTAssertLessThanOrEqual(abs(Double(crops[offset + i]) - reference[i]), 0.51, "unit \(unit.index) window \(w) frame \(t)")
                    }
                }
            }
        }
    }

    func testStreamOnVideosShorterThanAWindow() throws {
        for frames in [1, 2] {
            let short = VideoInfo(width: 40, height: 30, frameCount: frames)
            let boxes = (0..<frames).map { Detection(frame: $0, box: BoundingBox(x: 5, y: 5, width: 10, height: 20), score: 1, trackID: nil) }
            let plan = try VideoPlan(entry: testEntry, options: ArchiveOptions(archive: "/"), inputShape: testShape, info: short, detections: boxes)
            XCTAssertEqual(plan.frames(ofKeyFrame: frames - 1), frames == 1 ? [0, 0, 0] : [0, 1, 1])
            var emitted: [Int: [UInt8]] = [:]
            try UnitCropStream(plan: plan) { _ in PatternFrameSource(info: short) }.run { emitted[$0] = $1 }
            XCTAssertEqual(emitted.count, 1)
            // Window 0's three crops come from frames [0, 0, 1] (or [0, 0, 0]): the first two are equal.
            let cropBytes = testShape.width * testShape.height * 3
            let crops = emitted[0]!
            XCTAssertEqual(Array(crops[0..<cropBytes]), Array(crops[cropBytes..<2 * cropBytes]))
            XCTAssertEqual(crops[2 * cropBytes..<3 * cropBytes] == crops[0..<cropBytes], frames == 1)
        }
    }

    func testStreamSkipsUnitsAndStopsEarly() throws {
        let plan = try plan(unitSize: 4)
        let late = Set(plan.units.filter { $0.lastKeyFrame >= 6 }.map(\.index))
        let source = PatternFrameSource(info: info)
        var emitted: [Int] = []
        try UnitCropStream(plan: plan) { _ in source }.run(skipping: late) { unit, _ in emitted.append(unit) }
        XCTAssertEqual(Set(emitted), Set(plan.units.indices).subtracting(late))
        let lastNeeded = plan.units.filter { !late.contains($0.index) }.map(\.lastKeyFrame).max()! + 1
        XCTAssertEqual(source.next, lastNeeded + 1, "decoding stopped after the last frame needed")
        var none: [Int] = []
        try UnitCropStream(plan: plan) { _ in XCTFail("no unit left: nothing to open"); return source }
            .run(skipping: Set(plan.units.indices)) { unit, _ in none.append(unit) }
        XCTAssertEqual(none, [])
    }

    func testStreamFailureKeepsUnitsAlreadyEmitted() throws {
        let plan = try plan(unitSize: 4)
        var emitted: [Int] = []
        XCTAssertThrowsError(try UnitCropStream(plan: plan) { [info] _ in PatternFrameSource(info: info, failAt: 7) }.run { unit, _ in emitted.append(unit) })
        XCTAssertFalse(emitted.isEmpty)
        for unit in emitted { XCTAssertLessThanOrEqual(plan.units[unit].lastKeyFrame + 1, 6) }
    }

    func results(for plan: VideoPlan, order: [Int]) throws -> VideoResults {
        var results = VideoResults(plan: plan)
        let estimator = CropHashEstimator()
        for unit in order {
            let windows = plan.units[unit].windows.count
            let crops = [UInt8](repeating: UInt8(unit), count: windows * testShape.windowBytes)
            let keypoints = try crops.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: windows) }
            XCTAssertTrue(try results.accept(unitIndex: unit, keypoints: keypoints))
        }
        return results
    }

    func testResultsAreOrderIndependentAndFirstWins() throws {
        let plan = try plan()
        let forward = try results(for: plan, order: Array(plan.units.indices))
        var rng = SplitMix64(seed: 9)
        let shuffled = try results(for: plan, order: plan.units.indices.shuffled(using: &rng))
        XCTAssertTrue(forward.isComplete)
        XCTAssertEqual(try forward.encoded(), try shuffled.encoded())
        var again = forward
        let other = [WindowKeypoints](repeating: WindowKeypoints(values: [Float](repeating: 1, count: 51)), count: plan.units[0].windows.count)
        XCTAssertFalse(try again.accept(unitIndex: 0, keypoints: other), "a second result is dropped")
        XCTAssertEqual(again.duplicates, 1)
        XCTAssertEqual(try again.encoded(), try forward.encoded())

        let file = forward.poseTrackFile()
        XCTAssertEqual(file.images.count, 12)
        XCTAssertEqual(file.images[3].id, PoseTrackNaming.imageID(videoName: "000007_mpii_test", frame: 3))
        XCTAssertEqual(file.images[3].fileName, "images/val/000007_mpii_test/000003.jpg")
        XCTAssertEqual(file.images[3].videoID, "000007")
        XCTAssertEqual(file.annotations.count, 21)
        XCTAssertEqual(file.annotations.map(\.imageID), file.annotations.map(\.imageID).sorted())
        for annotation in file.annotations {
            XCTAssertEqual(annotation.keypoints?.count, 51)
            XCTAssertEqual(annotation.scores?.count, 17)
        }
        // COCO ids: 1-based positions (COCOeval reads id 0 as "unmatched"), unique in the file.
        XCTAssertEqual(file.annotations.map(\.id), (1...21).map { $0 })
        let text = String(decoding: try forward.encoded(), as: UTF8.self)
        XCTAssertTrue(text.contains("\"num_keypoints\":") && text.contains("\"area\":") && !text.contains("iscrowd"), "COCO result fields, no ground-truth ones")
    }

    func testLabelledKeypointsCountsPositiveThirdValues() {
        XCTAssertEqual(PoseTrackAnnotation.labelledKeypoints([1, 2, 0, 3, 4, 0.5, 0, 0, 2, 5, 5, -1]), 2)
    }

    func testResultsRejectBadResultsAndOmitFailedUnits() throws {
        let plan = try plan()
        var results = VideoResults(plan: plan)
        let windows = plan.units[1].windows.count
        XCTAssertThrowsError(try results.accept(unitIndex: 1, keypoints: []))
        XCTAssertThrowsError(try results.accept(unitIndex: 1, keypoints: [WindowKeypoints](repeating: WindowKeypoints(values: [1]), count: windows)))
        XCTAssertThrowsError(try results.accept(unitIndex: 1, keypoints: [WindowKeypoints](repeating: WindowKeypoints(values: [Float](repeating: .nan, count: 51)), count: windows)))
        XCTAssertThrowsError(try results.accept(unitIndex: 99, keypoints: []))
        XCTAssertTrue(results.fail(unitIndex: 1, reason: "worker crashed"))
        XCTAssertFalse(try results.accept(unitIndex: 1, keypoints: [WindowKeypoints](repeating: WindowKeypoints(values: [Float](repeating: 0, count: 51)), count: windows)))
        for unit in plan.units.indices where unit != 1 {
            let n = plan.units[unit].windows.count
            try results.accept(unitIndex: unit, keypoints: [WindowKeypoints](repeating: WindowKeypoints(values: [Float](repeating: 0.5, count: 51)), count: n))
        }
        XCTAssertTrue(results.isComplete)
        XCTAssertEqual(results.poseTrackFile().annotations.count, plan.counts.windows - windows)
        XCTAssertEqual(VideoReport.done(results).unitsFailed, 1)
    }

    func testKeypointsMapBackToImagePixels() throws {
        // A model that answers exactly where a known image point lands in the heatmap: the file
        // must give back the image point.
        let plan = try plan()
        var results = VideoResults(plan: plan)
        let target = (x: 17.25, y: 12.5)
        for unit in plan.units {
            let keypoints = unit.windows.map { window -> WindowKeypoints in
                let p = window.geometry.cropPoint(x: target.x, y: target.y, width: testShape.heatmapWidth, height: testShape.heatmapHeight)
                return WindowKeypoints(values: (0..<17).flatMap { j in [Float(p.u), Float(p.v), j < 9 ? 0.9 : 0.1] })
            }
            try results.accept(unitIndex: unit.index, keypoints: keypoints)
        }
        for annotation in results.poseTrackFile().annotations {
            let k = annotation.keypoints!
            XCTAssertEqual(k[0], target.x, accuracy: 2e-3)
            XCTAssertEqual(k[1], target.y, accuracy: 2e-3)
            XCTAssertEqual(k[2], 0.9, accuracy: 1e-6)
            // COCO's fields: every joint has a score above 0; the area is the box's.
            XCTAssertEqual(annotation.numKeypoints, 17)
            XCTAssertEqual(annotation.area!, annotation.bbox![2] * annotation.bbox![3], accuracy: 1e-3)
            let window = plan.units.flatMap(\.windows).first { PoseTrackNaming.imageID(videoName: testEntry.name, frame: $0.keyFrame) == annotation.imageID && $0.trackID == annotation.trackID }!
            // Person score: box score x mean of the joint scores above 0.2.
            XCTAssertEqual(annotation.score!, (window.boxScore * 0.9 * 1000).rounded() / 1000, accuracy: 1e-9)
        }
    }

    func testNamesOutsidePoseTrackPatternUseFrameIndices() throws {
        let entry = VideoEntry(name: "holiday clip", path: "/x/holiday clip.mp4", kind: .videoFile, detectionFile: nil)
        let plan = try VideoPlan(entry: entry, options: ArchiveOptions(archive: "/"), inputShape: testShape, info: info, detections: detections())
        let file = VideoResults(plan: plan).poseTrackFile()
        XCTAssertEqual(file.images.map(\.id), Array(0..<12))
        XCTAssertEqual(file.images[0].videoID, "holiday clip")
    }
}
