// Bad input is a typed error naming the file and the field, never a crash or a silent number;
// and the report formats (table, JSON) carry what they promise.
import XCTest
import Foundation
import PoseCore
@testable import PoseEval

final class EvalErrorTests: XCTestCase {
    typealias F = Fixture

    func pair(truth: PoseTrackFile? = nil, prediction: PoseTrackFile? = nil) throws -> Fixture.Folders {
        let folders = try Fixture.Folders()
        try folders.write(truth ?? F.file(frames: 2, [F.truth(0, track: 1, 100, 50)]), to: folders.truth)
        try folders.write(prediction ?? F.file(frames: 2, [F.prediction(0, track: 1, 100, 50)]), to: folders.prediction)
        return folders
    }

    func assertFormatError(_ folders: Fixture.Folders, in folder: String, mentions parts: [String],
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try folders.evaluate(), file: file, line: line) { error in
            guard let error = error as? PoseTrackFormatError else {
                return XCTFail("expected PoseTrackFormatError, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(error.path, folder + "/000001_mpii_test.json", file: file, line: line)
            for part in parts { XCTAssertTrue(error.reason.contains(part), "\(error) lacks \(part)", file: file, line: line) }
        }
    }

    func testMissingPredictionFile() throws {
        let folders = try pair()
        try FileManager.default.removeItem(atPath: folders.prediction + "/000001_mpii_test.json")
        XCTAssertThrowsError(try folders.evaluate()) { error in
            XCTAssertEqual(error as? EvalError, .missingPrediction(groundTruth: folders.truth + "/000001_mpii_test.json",
                                                                    expected: folders.prediction + "/000001_mpii_test.json"))
            XCTAssertTrue("\(error)".contains("missing prediction file"))
        }
    }

    func testDifferentFrameCount() throws {
        let folders = try pair(prediction: F.file(frames: 3, []))
        XCTAssertThrowsError(try folders.evaluate()) { error in
            XCTAssertEqual(error as? EvalError, .frameCountMismatch(prediction: folders.prediction + "/000001_mpii_test.json", predictionFrames: 3,
                                                                     groundTruth: folders.truth + "/000001_mpii_test.json", groundTruthFrames: 2))
        }
    }

    func testNoGroundTruthFilesAndNotADirectory() throws {
        let folders = try Fixture.Folders()
        try folders.write(text: "{}", to: folders.truth, name: ".hidden.json")   // glob skips hidden files
        try folders.write(text: "{}", to: folders.truth, name: "notes.txt")
        XCTAssertThrowsError(try folders.evaluate()) { XCTAssertEqual($0 as? EvalError, .noGroundTruthFiles(directory: folders.truth)) }
        XCTAssertThrowsError(try EvalDataset.evaluate(truthDirectory: folders.root + "/nope", predictionDirectory: folders.prediction)) {
            XCTAssertEqual($0 as? EvalError, .notADirectory(folders.root + "/nope"))
        }
    }

    func testNotJSONAndMissingFields() throws {
        let folders = try pair()
        try folders.write(text: "{\"images\": [", to: folders.prediction)
        XCTAssertThrowsError(try folders.evaluate()) { XCTAssertTrue($0 is PoseTrackFormatError, "\($0)") }
        try folders.write(text: "{\"images\": [], \"annotations\": []}", to: folders.prediction)
        assertFormatError(folders, in: folders.prediction, mentions: ["categories"])
    }

    func testFieldsPosevalIgnoresAreNotChecked() throws {
        // is_labeled as a number, a category without id, nframes as text: poseval reads none of them.
        let folders = try pair()
        let image = #"{"file_name": "images/val/000001_mpii_test/000000.jpg", "id": 10000010000, "is_labeled": 1, "nframes": "2"}"#
        let image2 = #"{"file_name": "images/val/000001_mpii_test/000001.jpg", "id": 10000010001, "is_labeled": 0}"#
        let keypoints = F.keypoints(100, 50, v: 0.9).map { String($0) }.joined(separator: ",")
        let scores = Array(repeating: "0.9", count: 17).joined(separator: ",")
        let person = #"{"image_id": 10000010000, "track_id": 1.0, "keypoints": [\#(keypoints)], "scores": [\#(scores)], "score": null}"#
        let names = PoseTrackJoints.names.map { "\"" + $0 + "\"" }.joined(separator: ",")
        let category = #"{"name": "person", "keypoints": [\#(names)]}"#
        try folders.write(text: #"{"images": [\#(image), \#(image2)], "annotations": [\#(person)], "categories": [\#(category)]}"#,
                          to: folders.prediction)
        XCTAssertEqual(try folders.evaluate().total, 100)
        // A missing keypoints list is named.
        try folders.write(text: #"{"images": [\#(image), \#(image2)], "annotations": [{"image_id": 10000010000, "track_id": 1}], "categories": [\#(category)]}"#,
                          to: folders.prediction)
        assertFormatError(folders, in: folders.prediction, mentions: ["annotations[0].keypoints: missing"])
    }

    func testWrongKeypointCount() throws {
        var annotation = F.prediction(0, track: 1, 100, 50)
        annotation.keypoints?.removeLast()
        let folders = try pair(prediction: F.file(frames: 2, [annotation]))
        assertFormatError(folders, in: folders.prediction, mentions: ["annotations[0].keypoints", "expected 51", "got 50"])
    }

    func testScoresShorterThanKeypoints() throws {
        var annotation = F.prediction(0, track: 1, 100, 50)
        annotation.scores = [0.5, 0.5]
        let folders = try pair(prediction: F.file(frames: 2, [annotation]))
        assertFormatError(folders, in: folders.prediction, mentions: ["annotations[0].scores"])
    }

    func testCategoryWithoutAnEvaluatedJoint() throws {
        var names = PoseTrackJoints.names
        names[2] = "crown"
        var file = F.file(frames: 2, [])
        file.categories = [PoseTrackCategory(id: 1, name: "person", keypoints: names, skeleton: nil)]
        let folders = try pair(prediction: file)
        assertFormatError(folders, in: folders.prediction, mentions: ["categories[0].keypoints", "head_top"])
        file.categories = [.person, .person]
        try folders.write(file, to: folders.prediction)
        assertFormatError(folders, in: folders.prediction, mentions: ["categories", "exactly 1"])
    }

    func testFileNameThatPosevalCannotParse() throws {
        var file = F.file(frames: 2, [])
        file.images[1].fileName = "frames/video7/1.jpg"
        let folders = try pair(prediction: file)
        assertFormatError(folders, in: folders.prediction, mentions: ["images[1].file_name", "frames/video7/1.jpg"])
    }

    func testTrackIDs() throws {
        let twice = F.file(frames: 2, [F.prediction(1, track: 4, 100, 50), F.prediction(1, track: 4, 300, 50)])
        let folders = try pair(prediction: twice)
        assertFormatError(folders, in: folders.prediction, mentions: ["annotations[1].track_id", "twice", "frame 1"])
        try folders.write(F.file(frames: 2, [F.prediction(0, track: 10_000, 100, 50)]), to: folders.prediction)
        assertFormatError(folders, in: folders.prediction, mentions: ["annotations[0].track_id", "below 10000"])
        var missing = F.truth(0, track: 1, 100, 50)
        missing.trackID = nil
        try folders.write(F.file(frames: 2, [missing]), to: folders.truth)
        try folders.write(F.file(frames: 2, []), to: folders.prediction)
        assertFormatError(folders, in: folders.truth, mentions: ["annotations[0].track_id", "missing"])
    }

    func testMissingHeadBoxWhenItIsNeeded() throws {
        var truth = F.truth(0, track: 1, 100, 50)
        truth.bboxHead = nil
        // Without a prediction in that frame poseval never asks for the head size.
        let quiet = try pair(truth: F.file(frames: 2, [truth]), prediction: F.file(frames: 2, [F.prediction(1, track: 1, 100, 50)]))
        XCTAssertEqual(try quiet.evaluate().joints[0].groundTruthJoints, 1)
        let folders = try pair(truth: F.file(frames: 2, [truth]))
        XCTAssertThrowsError(try folders.evaluate()) { error in
            XCTAssertEqual(error as? EvalError, .missingHeadBox(path: folders.truth + "/000001_mpii_test.json", frame: 0, person: 0))
        }
    }

    func testShortBoxAndTwoPointIgnoreRegion() throws {
        var truth = F.truth(0, track: 1, 100, 50)
        truth.bboxHead = [1, 2, 3]
        let folders = try pair(truth: F.file(frames: 2, [truth]))
        assertFormatError(folders, in: folders.truth, mentions: ["annotations[0].bbox_head"])
        // On a frame without people poseval never builds the polygon: no error.
        let unused = F.file(frames: 2, [F.truth(0, track: 1, 100, 50)], ignore: [1: ([[1, 2]], [[1, 2]])])
        try folders.write(unused, to: folders.truth)
        XCTAssertEqual(try folders.evaluate().total, 100)
        let region = F.file(frames: 2, [F.truth(0, track: 1, 100, 50)], ignore: [0: ([[1, 2]], [[1, 2]])])
        try folders.write(region, to: folders.truth)
        assertFormatError(folders, in: folders.truth, mentions: ["images[0].ignore_regions", "at least 3 points"])
    }

    func testTableAndJSONReport() throws {
        let summary = try F.evaluate(frames: 1,
                                     truth: [F.truth(0, track: 1, 100, 50, keypoints: F.keypoints(100, 50, drop: [F.leftWrist]))],
                                     predictions: [F.prediction(0, track: 1, 100, 50)])
        let table = EvalReport.table(summary)
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[1].split(separator: " ").map(String.init), ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean"])
        XCTAssertEqual(lines[2].split(separator: " ").map(String.init), ["100.0", "100.0", "100.0", "nan", "100.0", "100.0", "100.0", "100.0"])
        XCTAssertTrue(lines.contains { $0.hasPrefix("left_wrist") && $0.contains("nan") })

        let object = try JSONSerialization.jsonObject(with: Data(EvalReport.json(summary))) as! [String: Any]
        XCTAssertEqual(object["total"] as? Double, 100)
        let groups = object["groups"] as! [String: Any]
        XCTAssertEqual(Set(groups.keys), ["head", "shoulder", "elbow", "wrist", "hip", "knee", "ankle"])
        XCTAssertTrue(groups["wrist"] is NSNull)
        let joints = object["joints"] as! [[String: Any]]
        XCTAssertEqual(joints.map { $0["name"] as! String }, EvalJoints.names)
        XCTAssertTrue(joints[11]["ap"] is NSNull)
        XCTAssertEqual(joints[11]["predicted_joints"] as? Int, 1)
        XCTAssertEqual(joints[0]["gt_joints"] as? Int, 1)
        XCTAssertEqual(joints[0]["true_positives"] as? Int, 1)
        let counts = object["counts"] as! [String: Int]
        XCTAssertEqual(counts, ["videos": 1, "frames": 1, "evaluated_frames": 1, "gt_people": 1, "predicted_people": 1])
    }
}
