// The three detection formats, and each kind of malformed file giving an error that says where.
import Foundation
import PoseCore
@testable import PoseArchive
import XCTest

final class DetectionTests: XCTestCase {
    func testCOCOResultsFrameConventions() throws {
        let text = """
        [{"image_id": 3, "bbox": [1, 2, 30, 40], "score": 0.9},
         {"image_id": 10000070005, "bbox": [5, 6, 7, 8], "score": 0.5, "track_id": 4},
         {"file_name": "images/val/x/000012.jpg", "bbox": [0, 0, 10, 10], "score": 0.3, "category_id": 1},
         {"image_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9, "category_id": 2}]
        """
        let detections = try DetectionReader.parseCOCO(Data(text.utf8), path: "a.dets.json")
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
        let detections = try DetectionReader.parseMOT(Data(text.utf8), path: "a.txt")
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
        let detections = try DetectionReader.parsePoseTrack(Data(file.encoded()), path: "a.json")
        XCTAssertEqual(detections, [Detection(frame: 1, box: BoundingBox(x: 1, y: 2, width: 3, height: 4), score: 0.7, trackID: 3)])
        let orphan = PoseTrackFile(images: [PoseTrackImage(fileName: "a", id: 1)], annotations: [PoseTrackAnnotation(imageID: 9, bbox: [1, 2, 3, 4])])
        XCTAssertThrowsError(try DetectionReader.parsePoseTrack(Data(orphan.encoded()), path: "a.json")) { error in
            XCTAssertTrue("\(error)".contains("image_id 9"), "\(error)")
        }
        XCTAssertThrowsError(try DetectionReader.parsePoseTrack(Data("[1,2]".utf8), path: "a.json"))
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
        try write("x", to: root + "/images/c.mkv")
        XCTAssertThrowsError(try ArchiveScanner.scan(ArchiveOptions(archive: root))) { error in
            XCTAssertEqual((error as? ArchiveError)?.kind, .duplicateName)
        }
    }
}
