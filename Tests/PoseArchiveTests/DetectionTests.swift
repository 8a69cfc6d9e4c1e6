// The three detection formats, and each kind of malformed file giving an error that says where.
import Foundation
import PoseCore
@testable import PoseArchive
import PoseMedia
import XCTest

final class DetectionTests: XCTestCase {
    func testCOCOResultsFrameConventions() throws {
        let text = """
        [{"image_id": 3, "bbox": [1, 2, 30, 40], "score": 0.9},
         {"image_id": 10000070005, "bbox": [5, 6, 7, 8], "score": 0.5, "track_id": 4},
         {"file_name": "images/val/x/000012.jpg", "bbox": [0, 0, 10, 10], "score": 0.3, "category_id": 1},
         {"image_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9, "category_id": 2}]
        """
        let detections = try DetectionReader.parseCOCO(Data(text.utf8), path: "a.dets.json").detections
        XCTAssertEqual(detections.map(\.frame), [3, 5, 12], "frame index, PoseTrack image id, file name; non-person dropped")
        XCTAssertEqual(detections[1].trackID, 4)
        XCTAssertNil(detections[0].trackID)
        XCTAssertEqual(detections[0].box, BoundingBox(x: 1, y: 2, width: 30, height: 40))
    }

    func testCOCOWrongShapeSaysWhere() {
        for (text, expected) in [("{\"bbox\": [1,2,3,4]}", "list"), ("[{\"image_id\": 1, \"bbox\": [1,2,3], \"score\": 1}]", "[0].bbox"),
                                 ("[{\"image_id\": 1, \"bbox\": [1,2,3,4]}]", "score"), ("[{\"bbox\": [1,2,3,4], \"score\": 1}]", "image_id"),
                                 ("not json", "a.dets.json")] {
            XCTAssertThrowsError(try DetectionReader.parseCOCO(Data(text.utf8), path: "a.dets.json"), text) { error in
                XCTAssertEqual((error as? ArchiveError)?.kind, .malformedDetections)
                XCTAssertTrue("\(error)".contains(expected), "\(error) should mention \(expected)")
            }
        }
    }

    func testMOTParsingAndShortLine() throws {
        let text = "# comment\n1,-1,10,20,30,40,0.9,-1,-1,-1\n\n2,5,11,21,31,41,0.8\n"
        let detections = try DetectionReader.parseMOT(Data(text.utf8), path: "a.txt").detections
        XCTAssertEqual(detections, [
            Detection(frame: 0, box: BoundingBox(x: 10, y: 20, width: 30, height: 40), score: 0.9, trackID: nil),
            Detection(frame: 1, box: BoundingBox(x: 11, y: 21, width: 31, height: 41), score: 0.8, trackID: 5),
        ])
        XCTAssertThrowsError(try DetectionReader.parseMOT(Data("1,-1,10,20,30,40,0.9\n2,1,3,4\n".utf8), path: "a.txt")) { error in
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
            XCTAssertTrue("\(error)".contains("got 4"), "\(error)")
        }
        XCTAssertThrowsError(try DetectionReader.parseMOT(Data("0,1,1,1,1,1,1\n".utf8), path: "a.txt")) { error in
            XCTAssertTrue("\(error)".contains("1-based"), "\(error)")
        }
        XCTAssertThrowsError(try DetectionReader.parseMOT(Data("1,1,x,1,1,1,1\n".utf8), path: "a.txt"))
        XCTAssertThrowsError(try DetectionReader.parseMOT(Data("1,1,nan,1,1,1,1\n".utf8), path: "a.txt"))
    }

    func testPoseTrackDetections() throws {
        let file = PoseTrackFile(images: [PoseTrackImage(fileName: "a/000000.jpg", id: 100), PoseTrackImage(fileName: "a/000001.jpg", id: 101)],
                                 annotations: [PoseTrackAnnotation(imageID: 101, trackID: 3, bbox: [1, 2, 3, 4], score: 0.7),
                                               PoseTrackAnnotation(imageID: 100, trackID: 2, keypoints: [])])
        let detections = try DetectionReader.parsePoseTrack(Data(file.encoded()), path: "a.json").detections
        XCTAssertEqual(detections, [Detection(frame: 1, box: BoundingBox(x: 1, y: 2, width: 3, height: 4), score: 0.7, trackID: 3)])
        let orphan = PoseTrackFile(images: [PoseTrackImage(fileName: "a", id: 1)], annotations: [PoseTrackAnnotation(imageID: 9, bbox: [1, 2, 3, 4])])
        XCTAssertThrowsError(try DetectionReader.parsePoseTrack(Data(orphan.encoded()), path: "a.json")) { error in
            XCTAssertTrue("\(error)".contains("image_id 9"), "\(error)")
        }
        XCTAssertThrowsError(try DetectionReader.parsePoseTrack(Data("[1,2]".utf8), path: "a.json"))
    }

    /// Issue 8 point 7: every number is checked when read. A score of 1e308 used to make the
    /// whole video compute and then fail at write time; now it is clamped and counted.
    func testDetectionValuesAreCheckedWhenRead() throws {
        let text = """
        [{"image_id": 0, "bbox": [1, 2, 30, 40], "score": 1e308},
         {"image_id": 1, "bbox": [1e308, 2, 30, 40], "score": 0.9},
         {"image_id": 2, "bbox": [1, 2, -5, 40], "score": 0.9},
         {"image_id": 3, "bbox": [1, 2, 30, 40], "score": -0.5},
         {"image_id": 4, "bbox": [1, 2, 30, 40], "score": 0.5}]
        """
        let set = try DetectionReader.parseCOCO(Data(text.utf8), path: "a.dets.json")
        XCTAssertEqual(set.detections.map(\.frame), [0, 3, 4])
        XCTAssertEqual(set.detections.map(\.score), [1, 0, 0.5], "scores clamped into [0, 1]")
        XCTAssertEqual(set.invalidBoxes, 2)
        XCTAssertEqual(set.scoresClamped, 2)
        XCTAssertTrue(set.warnings.contains { $0.contains("line 2 ([1])") && $0.contains("dropped") }, "\(set.warnings)")
        XCTAssertTrue(set.warnings.contains { $0.contains("line 1 ([0])") && $0.contains("clamped") }, "\(set.warnings)")
        // The same rule for MOT and PoseTrack detections.
        let mot = try DetectionReader.parseMOT(Data("1,-1,1e300,1,5,5,0.9\n2,-1,1,1,5,5,7\n".utf8), path: "a.txt")
        XCTAssertEqual(mot.invalidBoxes, 1)
        XCTAssertEqual(mot.scoresClamped, 1)
        XCTAssertEqual(mot.detections.map(\.score), [1])
        XCTAssertTrue(mot.warnings.first?.contains("line 1") ?? false, "\(mot.warnings)")
        // The counts reach the plan, and so the job report.
        let plan = try VideoPlan(entry: testEntry, options: ArchiveOptions(archive: "/"), inputShape: testShape,
                                 info: VideoInfo(width: 64, height: 64, frameCount: 5), detections: set)
        XCTAssertEqual(plan.counts.invalidBoxes, 2)
        XCTAssertEqual(plan.counts.scoresClamped, 2)
        XCTAssertEqual(plan.warnings, set.warnings)
    }

    /// Issue 8 point 12: JSON errors say where (line, column, key path), with a nesting limit of
    /// their own, for the three inputs that used to give "The given data was not valid JSON".
    func testJSONErrorsSayWhere() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let cases: [(String, [String])] = [
            ("[{\"extra\": " + deep + "}]", ["line 1, column 74", "[0].extra", "nested deeper than 64"]),
            (deep, ["line 1, column 2", "expected an object, found a list"]),
            ("[{\"image_id\": 0, \"bbox\": [1, 2, 3, 4], \"score\": 1},\n {\"image_id\": 9223372036854775808, \"bbox\": [1, 2, 3, 4], \"score\": 1}]",
             ["line 2", "[1].image_id", "9223372036854775808", "not a frame number"]),
            ("[{\"image_id\": 0,\n  \"bbox\": [1, NaN, 3, 4], \"score\": 1}]", ["line 2, column 15", "[0].bbox[1]", "NaN and Infinity"]),
            ("[{\"image_id\": 0, \"bbox\": [1, 2, 3, 4], \"score\": -Infinity}]", ["[0].score", "NaN and Infinity"]),
            ("[{\"image_id\": 0, \"bbox\": [1, 2, 3, 4], \"score\": 1e400}]", ["[0].score", "too large"]),
            ("[{\"image_id\": 0, \"bbox\": [1, 2, 3, 4], \"score\": 1}\n\n{}]", ["line 3, column 1", "expected ',' or ']'"]),
            ("[{\"image_id\": 0, \"bbox\": [1, 2, 3, 4] \"score\": 1}]", ["column 39", "[0]", "expected ',' or '}'"]),
            ("[{\"image_id\": \"0\", \"bbox\": [1, 2, 3, 4], \"score\": 1}]", ["[0].image_id", "expected a number, found a string"]),
            ("[{\"image_id\": 0, \"bbox\": [1, 2, 3, 4], \"score\": 1}] x", ["column 53", "after the end"]),
            ("[{\"image_id\": 0, \"bbox\": {\"x\": 1}, \"score\": 1}]", ["[0].bbox", "expected a list, found an object"]),
        ]
        for (text, phrases) in cases {
            XCTAssertThrowsError(try DetectionReader.parseCOCO(Data(text.utf8), path: "a.dets.json"), String(text.prefix(60))) { error in
                XCTAssertEqual((error as? ArchiveError)?.kind, .malformedDetections)
                for phrase in phrases { XCTAssertTrue("\(error)".contains(phrase), "\(error) should mention \(phrase)") }
                XCTAssertFalse("\(error)".contains("Swift"), "\(error)")
            }
        }
        // PoseTrack files (detections and ground truth) get the same checks before decoding,
        // and decoding errors name the key and the kind of value in words.
        for (text, phrases) in [(deep, ["nested deeper than 64"]),
                                ("{\"images\": [], \"annotations\": [{\"image_id\": NaN}], \"categories\": []}", ["line 1, column 45", "NaN"]),
                                ("{\"images\": 5, \"annotations\": [], \"categories\": []}", ["images: expected a list"]),
                                ("{\"images\": [{\"file_name\": 3, \"id\": 1}], \"annotations\": [], \"categories\": []}", ["images[0].file_name: expected a string"]),
                                ("{\"images\": [{\"file_name\": \"a\", \"id\": 9223372036854775808}], \"annotations\": [], \"categories\": []}", ["line 1, column 38", "9223372036854775808 does not fit 64 bits"])] {
            XCTAssertThrowsError(try DetectionReader.parsePoseTrack(Data(text.utf8), path: "a.json")) { error in
                for phrase in phrases { XCTAssertTrue("\(error)".contains(phrase), "\(error) should mention \(phrase)") }
                XCTAssertFalse("\(error)".contains("Array<") || "\(error)".contains("Swift"), "no Swift type names: \(error)")
            }
        }
    }

    /// Issue 13: detections numbered from 1 are caught, not applied one frame late.
    func testOneBasedDetectionFileIsCaught() throws {
        // Frames 1...5 of a 5-frame video: a 0-based reading puts the last box past the end.
        let boxes = (1...5).map { "{\"image_id\": \($0), \"bbox\": [\($0), 2, 30, 40], \"score\": 0.9}" }
        let read = try DetectionReader.parseCOCO(Data(("[" + boxes.joined(separator: ",\n") + "]").utf8), path: "a.dets.json")
        XCTAssertTrue(read.frameNumbersChosen)
        let found = read.rebased(chosen: nil, frameCount: 5, firstFrameNumber: nil)
        XCTAssertEqual(found.detections.map(\.frame), [0, 1, 2, 3, 4])
        XCTAssertEqual(found.detections.map(\.box.x), [1, 2, 3, 4, 5], "box n belongs to frame n-1")
        XCTAssertTrue(found.warnings.contains { $0.contains("frames numbered from 1") }, "\(found.warnings)")
        // --frame-base 0 keeps them as written; the plan warns about the box outside the video.
        let forced = read.rebased(chosen: .zero, frameCount: 5, firstFrameNumber: nil)
        XCTAssertEqual(forced.detections.map(\.frame), [1, 2, 3, 4, 5])
        let plan = try VideoPlan(entry: testEntry, options: ArchiveOptions(archive: "/"), inputShape: testShape,
                                 info: VideoInfo(width: 64, height: 64, frameCount: 5), detections: forced)
        XCTAssertEqual(plan.counts.outOfRange, 1)
        XCTAssertTrue(plan.warnings.contains { $0.contains("outside the video") && $0.contains("--frame-base 1") }, "\(plan.warnings)")
        // A 0-based file is left alone, even when its first frames have no box.
        let zeroBased = try DetectionReader.parseCOCO(Data("[{\"image_id\": 2, \"bbox\": [1, 2, 3, 4], \"score\": 1}, {\"image_id\": 4, \"bbox\": [1, 2, 3, 4], \"score\": 1}]".utf8), path: "b")
        XCTAssertEqual(zeroBased.rebased(chosen: nil, frameCount: 5, firstFrameNumber: nil).detections.map(\.frame), [2, 4])
        // File names in a frame folder whose first file is 000001.jpg (ffmpeg's default numbering).
        let named = try DetectionReader.parseCOCO(Data("[{\"file_name\": \"x/000001.jpg\", \"bbox\": [1, 2, 3, 4], \"score\": 1}, {\"file_name\": \"x/000003.jpg\", \"bbox\": [1, 2, 3, 4], \"score\": 1}]".utf8), path: "c")
        XCTAssertEqual(named.rebased(chosen: nil, frameCount: 9, firstFrameNumber: 1).detections.map(\.frame), [0, 2])
        XCTAssertEqual(named.rebased(chosen: nil, frameCount: 9, firstFrameNumber: 0).detections.map(\.frame), [1, 3])
        // MOT and PoseTrack image ids fix their own numbering.
        let mot = try DetectionReader.parseMOT(Data("1,-1,1,1,5,5,0.9\n".utf8), path: "a.txt")
        XCTAssertEqual(mot.rebased(chosen: .one, frameCount: 9, firstFrameNumber: nil).detections.map(\.frame), [0])
    }

    /// Issue 13: category_id 0 everywhere (a detector counting classes from 0) says what was expected.
    func testCategoryZeroSaysWhatWasExpected() throws {
        let text = "[{\"image_id\": 0, \"bbox\": [1, 2, 3, 4], \"score\": 1, \"category_id\": 0}]"
        XCTAssertThrowsError(try DetectionReader.parseCOCO(Data(text.utf8), path: "a.dets.json")) { error in
            XCTAssertTrue("\(error)".contains("category_id 0; expected 1"), "\(error)")
        }
        let mixed = "[{\"image_id\": 0, \"bbox\": [1, 2, 3, 4], \"score\": 1, \"category_id\": 0}, {\"image_id\": 0, \"bbox\": [1, 2, 3, 4], \"score\": 1, \"category_id\": 1}]"
        let set = try DetectionReader.parseCOCO(Data(mixed.utf8), path: "a.dets.json")
        XCTAssertEqual(set.detections.count, 1)
        XCTAssertEqual(set.otherCategories, 1)
        XCTAssertTrue(set.warnings.contains { $0.contains("category_id 0") }, "\(set.warnings)")
    }

    func testScannerFindsVideosFoldersAndDetectionsInOrder() throws {
        let root = try temporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/images/val/b_frames", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/annotations", withIntermediateDirectories: true)
        try write("x", to: root + "/images/val/b_frames/000000.jpg")
        try write("[]", to: root + "/images/val/b_frames.txt")
        try write("x", to: root + "/c.mp4")
        try write("[]", to: root + "/c.json")
        try write("[]", to: root + "/c.dets.json")
        try write("x", to: root + "/a.webm")
        try write("x", to: root + "/annotations/z.mp4")  // ground truth folders are never inputs
        try write("x", to: root + "/notes.md")
        let entries = try ArchiveScanner.scan(ArchiveOptions(archive: root))
        XCTAssertEqual(entries.map(\.name), ["a", "b_frames", "c"])
        XCTAssertEqual(entries.map(\.kind), [.videoFile, .frameFolder, .videoFile])
        XCTAssertNil(entries[0].detectionFile)
        XCTAssertEqual(entries[0].detectionCandidates.count, 3)
        XCTAssertEqual(entries[1].detectionFile?.format, .mot)
        XCTAssertEqual(entries[2].detectionFile?.format, .cocoResults, "dets.json comes first")
        let chosen = try ArchiveScanner.scan(ArchiveOptions(archive: root, detectionFormat: .poseTrack))
        XCTAssertEqual(chosen[2].detectionFile?.path, root + "/c.json")
        // --detections DIR: looked up there by name, not next to the video.
        try FileManager.default.createDirectory(atPath: root + "/dets", withIntermediateDirectories: true)
        try write("[]", to: root + "/dets/a.json")
        let elsewhere = try ArchiveScanner.scan(ArchiveOptions(archive: root, detections: root + "/dets"))
        XCTAssertEqual(elsewhere[0].detectionFile, DetectionFile(path: root + "/dets/a.json", format: .poseTrack))
        XCTAssertNil(elsewhere[2].detectionFile, "files next to the video are not used when --detections is given")
        // Two videos of one name: both fail (outputs would collide), the others are still found.
        try write("x", to: root + "/images/c.mkv")
        let duplicated = try ArchiveScanner.scanArchive(ArchiveOptions(archive: root))
        XCTAssertEqual(duplicated.videos.map(\.name), ["a", "b_frames"])
        XCTAssertEqual(duplicated.failed.map(\.entry.path), [root + "/c.mp4", root + "/images/c.mkv"])
        XCTAssertTrue(duplicated.failed[0].reason.contains("same name \"c\" as \(root)/images/c.mkv"), duplicated.failed[0].reason)
    }

    /// Issue 8 point 8: a link to / is not followed into /proc, a link loop does not make every
    /// video a duplicate, and neither stops the scan.
    func testScanStaysInsideTheArchiveAndEntersEachFolderOnce() throws {
        let root = try temporaryFolder(self)
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/sub/deeper", withIntermediateDirectories: true)
        try write("x", to: root + "/a.mp4")
        try write("x", to: root + "/sub/b.mp4")
        try write("x", to: root + "/sub/deeper/c.mkv")
        try manager.createSymbolicLink(atPath: root + "/sub/root", withDestinationPath: "/")
        try manager.createSymbolicLink(atPath: root + "/sub/deeper/loop", withDestinationPath: "../..")
        try manager.createSymbolicLink(atPath: root + "/alias", withDestinationPath: root + "/sub/deeper")
        try manager.createSymbolicLink(atPath: root + "/gone.mp4", withDestinationPath: root + "/nowhere.mp4")
        let outside = try temporaryFolder(self)
        try write("x", to: outside + "/d.mp4")
        try manager.createSymbolicLink(atPath: root + "/linked.mp4", withDestinationPath: outside + "/d.mp4")

        let scan = try ArchiveScanner.scanArchive(ArchiveOptions(archive: root))
        XCTAssertEqual(scan.videos.map(\.name), ["a", "b", "c", "linked"], "links to files are followed, each video found once")
        XCTAssertEqual(scan.videos.first { $0.name == "c" }?.path, root + "/alias/c.mkv", "a link inside the archive is followed (first in name order)")
        XCTAssertTrue(scan.failed.isEmpty, "no duplicates from the loop: \(scan.failed.map(\.reason))")
        let reasons = Dictionary(uniqueKeysWithValues: scan.skipped.map { ($0.path, $0.reason) })
        XCTAssertTrue(reasons[root + "/sub/root"]?.contains("outside the archive (/)") ?? false, "\(scan.skipped)")
        XCTAssertTrue(reasons[root + "/sub/deeper"]?.contains("already scanned") ?? false, "\(scan.skipped)")
        XCTAssertTrue(reasons[root + "/gone.mp4"]?.contains("a link to nothing") ?? false, "\(scan.skipped)")
        XCTAssertEqual(reasons.count, 4, "and the loop back to the archive: \(scan.skipped)")
        XCTAssertTrue(reasons[root + "/alias/loop"]?.contains("already scanned") ?? false, "\(scan.skipped)")
    }

    /// Issue 12: an archive with no videos is refused with a reason, before the output folder is made.
    func testArchiveWithoutVideosIsRefused() throws {
        let root = try temporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/archive/annotations", withIntermediateDirectories: true)
        try write("x", to: root + "/archive/annotations/a.mp4")
        try write("[]", to: root + "/archive/a.dets.json")
        try FileManager.default.createSymbolicLink(atPath: root + "/archive/up", withDestinationPath: "/")
        let runner = ArchiveRunner(options: ArchiveOptions(archive: root + "/archive"), outDirectory: root + "/out", estimator: CropHashEstimator())
        XCTAssertThrowsError(try runner.run()) { error in
            XCTAssertEqual((error as? ArchiveError)?.kind, .noVideos)
            XCTAssertTrue("\(error)".contains("no videos found"), "\(error)")
            XCTAssertTrue("\(error)".contains("outside the archive"), "says what was set aside: \(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out"))
    }
}
