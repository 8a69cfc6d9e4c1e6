// The whole pipeline in-process: a tiny synthetic archive (mp4 and JPEG layouts) annotated by
// the runner with a crop-dependent fake model, twice, with byte-identical files; and an archive
// of bad inputs where each bad video fails with its reason and the good one is done.
import Foundation
import PoseCore
@testable import PoseArchive
import PoseMedia
import XCTest

final class EndToEndTests: XCTestCase {
    func testSynthThenRunTwiceGivesIdenticalPoseTrackFiles() throws {
        let root = try temporaryFolder(self)
        let options = SynthOptions(videos: 2, frames: 8, people: 2, width: 96, height: 64, format: .mp4, seed: 4)
        let names = try SyntheticArchive.make(options, out: root + "/archive")
        XCTAssertEqual(names, ["000001_mpii_test", "000002_mpii_test"])
        // Ground truth is in the official shape: every frame listed, ears unlabelled, head boxes.
        let truth = try PoseTrackFile.decode(Data(contentsOf: URL(fileURLWithPath: root + "/archive/annotations/000001_mpii_test.json")), path: "gt")
        XCTAssertEqual(truth.images.count, 8)
        XCTAssertFalse(truth.annotations.isEmpty)
        for annotation in truth.annotations {
            let k = annotation.keypoints!
            XCTAssertEqual(Array(k[9..<15]), [0, 0, 0, 0, 0, 0], "ears are (0,0,0)")
            XCTAssertEqual(annotation.bboxHead?.count, 4)
        }
        // Synthesis is deterministic.
        try SyntheticArchive.make(options, out: root + "/again")
        for suffix in [".mp4", ".dets.json", ".txt", ".json"] {
            XCTAssertEqual(FileManager.default.contents(atPath: root + "/archive/000002_mpii_test" + suffix),
                           FileManager.default.contents(atPath: root + "/again/000002_mpii_test" + suffix), suffix)
        }

        let archive = ArchiveOptions(archive: root + "/archive", unitSize: 4)
        let first = try ArchiveRunner(options: archive, outDirectory: root + "/out1", estimator: CropHashEstimator()).run()
        XCTAssertTrue(first.succeeded, first.summary)
        XCTAssertEqual(first.videos.map(\.status), [.done, .done])
        let second = try ArchiveRunner(options: archive, outDirectory: root + "/out2", estimator: CropHashEstimator()).run()
        XCTAssertTrue(second.succeeded)
        for name in names {
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(root)/out1/\(name).json"))
            let b = try Data(contentsOf: URL(fileURLWithPath: "\(root)/out2/\(name).json"))
            XCTAssertEqual(a, b, "\(name): byte-identical across runs")
            let file = try PoseTrackFile.decode(a, path: name)
            XCTAssertEqual(file.images.map(\.id), truth.images.map(\.id).map { $0 - (name == names[0] ? 0 : -10_000) })
            XCTAssertEqual(file.categories, [.person])
            XCTAssertFalse(file.annotations.isEmpty)
            // track_id unique per frame, below 10000, as poseval requires.
            var seen = Set<[Int]>()
            for annotation in file.annotations {
                XCTAssertTrue(seen.insert([annotation.imageID, annotation.trackID!]).inserted)
                XCTAssertLessThan(annotation.trackID!, 10_000)
            }
        }
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: JobReport.path(in: root + "/out1")))) as! [String: Any]
        XCTAssertEqual((report["videos"] as! [[String: Any]]).map { $0["status"] as! String }, ["done", "done"])

        // The JPEG layout gives the same plans (same detections) and a file for each video.
        try SyntheticArchive.make(SynthOptions(videos: 1, frames: 5, people: 1, width: 64, height: 48, format: .jpeg, seed: 1), out: root + "/jpeg")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/jpeg/images/val/000001_mpii_test/000004.jpg"))
        let jpeg = try ArchiveRunner(options: ArchiveOptions(archive: root + "/jpeg"), outDirectory: root + "/out3", estimator: CropHashEstimator()).run()
        XCTAssertEqual(jpeg.videos.map(\.status), [.done], jpeg.summary)
    }

    func testBadInputsFailOnlyTheirVideo() throws {
        let root = try temporaryFolder(self)
        let archive = root + "/archive"
        try SyntheticArchive.make(SynthOptions(videos: 1, frames: 6, people: 1, width: 64, height: 48, format: .mp4, seed: 2), out: archive)
        let good = archive + "/000001_mpii_test"
        let manager = FileManager.default
        func copyVideo(_ name: String, detections: String, suffix: String) throws {
            try manager.copyItem(atPath: good + ".mp4", toPath: "\(archive)/\(name).mp4")
            try write(detections, to: "\(archive)/\(name)\(suffix)")
        }
        // Truncated mp4.
        let video = try Data(contentsOf: URL(fileURLWithPath: good + ".mp4"))
        try video.prefix(video.count / 3).write(to: URL(fileURLWithPath: archive + "/truncated.mp4"))
        try manager.copyItem(atPath: good + ".dets.json", toPath: archive + "/truncated.dets.json")
        // Detection JSON of the wrong shape, a MOT line with too few fields, only a box outside the frame.
        try copyVideo("wrongshape", detections: "{\"detections\": []}", suffix: ".dets.json")
        try copyVideo("shortline", detections: "1,-1,1,1,20,20,0.9\n2,-1,1,1\n", suffix: ".txt")
        try copyVideo("outside", detections: "1,-1,500,500,20,20,0.9\n", suffix: ".txt")
        try manager.copyItem(atPath: good + ".mp4", toPath: archive + "/nodetections.mp4")
        // A JPEG folder with one frame of garbage bytes.
        let frames = archive + "/garbled"
        try manager.createDirectory(atPath: frames, withIntermediateDirectories: true)
        let image = RGBImage(width: 32, height: 24, pixels: [UInt8](repeating: 90, count: 32 * 24 * 3))
        for i in 0..<3 { try Data(JPEGCodec.encode(image)).write(to: URL(fileURLWithPath: "\(frames)/00000\(i).jpg")) }
        var garbage = try JPEGCodec.encode(image)
        for i in 200..<garbage.count { garbage[i] = UInt8(truncatingIfNeeded: i &* 97) }
        try Data(garbage).write(to: URL(fileURLWithPath: "\(frames)/000003.jpg"))
        try write("1,-1,2,2,20,20,0.9\n4,-1,2,2,20,20,0.9\n", to: archive + "/garbled.txt")

        let report = try ArchiveRunner(options: ArchiveOptions(archive: archive), outDirectory: root + "/out", estimator: CropHashEstimator()).run()
        XCTAssertFalse(report.succeeded)
        let byName = Dictionary(uniqueKeysWithValues: report.videos.map { ($0.name, $0) })
        XCTAssertEqual(byName["000001_mpii_test"]?.status, .done)
        XCTAssertTrue(manager.fileExists(atPath: root + "/out/000001_mpii_test.json"))
        let expectations = [("truncated", "truncated.mp4"), ("wrongshape", "list"), ("shortline", "line 2"),
                            ("outside", "outside the 64x48 frame"), ("nodetections", "no detection file"), ("garbled", "000003.jpg")]
        for (name, phrase) in expectations {
            let video = try XCTUnwrap(byName[name], name)
            XCTAssertEqual(video.status, .failed, name)
            XCTAssertTrue(video.reason?.contains(phrase) ?? false, "\(name): \"\(video.reason ?? "")\" should mention \(phrase)")
            XCTAssertFalse(manager.fileExists(atPath: "\(root)/out/\(name).json"), "\(name): nothing written for a failed video")
        }
        XCTAssertTrue(report.summary.contains("1 of 7 videos done"), report.summary)
    }

    func testModelErrorFailsOnlyItsUnit() throws {
        let root = try temporaryFolder(self)
        try SyntheticArchive.make(SynthOptions(videos: 1, frames: 8, people: 2, width: 64, height: 48, format: .mp4, seed: 3), out: root + "/archive")
        let model = FailingSecondCall()
        let report = try ArchiveRunner(options: ArchiveOptions(archive: root + "/archive", unitSize: 2), outDirectory: root + "/out", estimator: model).run()
        let video = try XCTUnwrap(report.videos.first)
        XCTAssertEqual(video.status, .done)
        XCTAssertEqual(video.unitsFailed, 1)
        XCTAssertEqual(video.failedUnits.first?.reason.contains("out of memory"), true)
        XCTAssertFalse(report.succeeded, "a failed unit makes the run exit non-zero")
        let file = try PoseTrackFile.decode(Data(contentsOf: URL(fileURLWithPath: root + "/out/000001_mpii_test.json")), path: "out")
        XCTAssertEqual(file.annotations.count, video.counts.windows - model.failedWindows, "the failed unit's windows are absent")
    }

    /// Issue 8 point 3: a video named `_job` (or `_posecluster`) keeps its output; the report is in a
    /// folder no video output can be.
    func testVideosNamedLikeTheReportKeepTheirOutputs() throws {
        let root = try temporaryFolder(self)
        let archive = root + "/archive"
        try SyntheticArchive.make(SynthOptions(videos: 1, frames: 6, people: 1, width: 64, height: 48, format: .mp4, seed: 2), out: archive)
        let good = archive + "/000001_mpii_test"
        for name in ["_job", "_posecluster", "job"] {
            try FileManager.default.copyItem(atPath: good + ".mp4", toPath: "\(archive)/\(name).mp4")
            try FileManager.default.copyItem(atPath: good + ".dets.json", toPath: "\(archive)/\(name).dets.json")
        }
        let out = root + "/out"
        let report = try ArchiveRunner(options: ArchiveOptions(archive: archive), outDirectory: out, estimator: CropHashEstimator()).run()
        XCTAssertTrue(report.succeeded, report.summary)
        let expected = try Data(contentsOf: URL(fileURLWithPath: out + "/000001_mpii_test.json"))
        for name in ["_job", "_posecluster", "job"] {
            // Same frames and boxes as the original video: the same poses (image ids follow the name).
            let file = try PoseTrackFile.decode(Data(contentsOf: URL(fileURLWithPath: "\(out)/\(name).json")), path: name)
            XCTAssertEqual(file.annotations.map(\.keypoints), try PoseTrackFile.decode(expected, path: "original").annotations.map(\.keypoints), name)
        }
        let written = try JSONDecoder().decode(JobReport.self, from: Data(contentsOf: URL(fileURLWithPath: JobReport.path(in: out))))
        XCTAssertEqual(written.videos.map(\.name), ["000001_mpii_test", "_job", "_posecluster", "job"])
        XCTAssertEqual(JobReport.path(in: out), out + "/_posecluster/job.json")
    }

    /// Issue 8 point 7: one box with score 1e308 made the whole video compute, then fail at write
    /// time on an infinite value. Now the score is clamped when read, counted, and the video written.
    func testHugeScoreIsClampedAndTheVideoWritten() throws {
        let root = try temporaryFolder(self)
        let archive = root + "/archive"
        try SyntheticArchive.make(SynthOptions(videos: 1, frames: 6, people: 1, width: 64, height: 48, format: .mp4, seed: 2), out: archive)
        try FileManager.default.removeItem(atPath: archive + "/000001_mpii_test.dets.json")
        try write("[{\"image_id\": 1, \"bbox\": [4, 4, 30, 30], \"score\": 1e308}, {\"image_id\": 2, \"bbox\": [4, 4, 30, 30], \"score\": 0.9}]",
                  to: archive + "/000001_mpii_test.dets.json")
        let report = try ArchiveRunner(options: ArchiveOptions(archive: archive), outDirectory: root + "/out", estimator: CropHashEstimator()).run()
        let video = try XCTUnwrap(report.videos.first)
        XCTAssertEqual(video.status, .done, video.reason ?? "")
        XCTAssertEqual(video.counts.scoresClamped, 1)
        XCTAssertTrue(video.warnings.contains { $0.contains("clamped") }, "\(video.warnings)")
        let file = try PoseTrackFile.decode(Data(contentsOf: URL(fileURLWithPath: root + "/out/000001_mpii_test.json")), path: "out")
        XCTAssertEqual(file.annotations.count, 2)
        XCTAssertTrue(file.annotations.allSatisfy { ($0.score ?? -1) >= 0 && ($0.score ?? 2) <= 1 })
    }

    /// Issue 13: a rerun of `posecoord run` with the same fingerprint does no video twice; a
    /// changed output or another fingerprint is done again.
    func testResumedRunDoesNoWorkTwice() throws {
        let root = try temporaryFolder(self)
        try SyntheticArchive.make(SynthOptions(videos: 2, frames: 6, people: 1, width: 64, height: 48, format: .mp4, seed: 5), out: root + "/archive")
        let options = ArchiveOptions(archive: root + "/archive", unitSize: 4)
        let out = root + "/out"
        func run(_ fingerprint: String) throws -> (JobReport, Int) {
            let model = CountingEstimator()
            let runner = ArchiveRunner(options: options, outDirectory: out, estimator: model)
            runner.fingerprint = fingerprint
            let report = try runner.run()
            XCTAssertTrue(report.succeeded, report.summary)
            return (report, model.windows)
        }
        let (first, firstWindows) = try run("f1")
        XCTAssertEqual(first.resumed, 0)
        let windows = first.videos.map(\.counts.windows).reduce(0, +)
        XCTAssertEqual(firstWindows, windows)
        let names = first.videos.map(\.name)
        let bytes = try names.map { try Data(contentsOf: URL(fileURLWithPath: "\(out)/\($0).json")) }

        let (second, secondWindows) = try run("f1")
        XCTAssertEqual(secondWindows, 0, "nothing is estimated again")
        XCTAssertEqual(second.resumed, 2)
        XCTAssertEqual(second.videos.map(\.name), names)
        XCTAssertEqual(second.videos.map(\.counts), first.videos.map(\.counts), "the report keeps what the first run found")
        XCTAssertEqual(try names.map { try Data(contentsOf: URL(fileURLWithPath: "\(out)/\($0).json")) }, bytes)

        // A damaged output is done again, alone.
        try write("{}", to: "\(out)/\(names[1]).json")
        let (third, thirdWindows) = try run("f1")
        XCTAssertEqual(third.resumed, 1)
        XCTAssertEqual(thirdWindows, first.videos[1].counts.windows)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(names[1]).json")), bytes[1])

        // Another model or options: everything again.
        let (fourth, fourthWindows) = try run("f2")
        XCTAssertEqual(fourth.resumed, 0)
        XCTAssertEqual(fourthWindows, windows)
        XCTAssertNotEqual(try RunRecords.fingerprint(weightsPath: nil, options: options),
                          try RunRecords.fingerprint(weightsPath: nil, options: options, precision: "bf16"), "bf16 outputs are other bytes")
        XCTAssertNotEqual(try RunRecords.fingerprint(weightsPath: nil, options: options),
                          try RunRecords.fingerprint(weightsPath: nil, options: ArchiveOptions(archive: root + "/archive", unitSize: 4, frameBase: .one)))
    }

    func testOutputFolderMustNotBeTheArchive() throws {
        let root = try temporaryFolder(self)
        XCTAssertThrowsError(try ArchiveRunner(options: ArchiveOptions(archive: root), outDirectory: root + "/.", estimator: CropHashEstimator()).run())
    }
}

/// Fails its second call (a model error on one unit), answers like CropHashEstimator otherwise.
final class FailingSecondCall: PoseEstimator, @unchecked Sendable {
    let inner = CropHashEstimator()
    var calls = 0
    var failedWindows = 0
    var inputShape: ModelInputShape { inner.inputShape }
    func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
        calls += 1
        if calls == 2 {
            failedWindows = count
            throw ArchiveError(.badResult, path: "model", reason: "out of memory")
        }
        return try inner.estimate(crops: crops, count: count)
    }
}

/// Counts the windows it is asked to estimate, answering like CropHashEstimator.
final class CountingEstimator: PoseEstimator, @unchecked Sendable {
    let inner = CropHashEstimator()
    var windows = 0
    var inputShape: ModelInputShape { inner.inputShape }
    func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
        windows += count
        return try inner.estimate(crops: crops, count: count)
    }
}
