// The pieces of the evaluator against values worked out by hand: polygon containment on and off
// the boundary, the tie order of the ranking, VOC AP, Python's name parsing, the greedy assignment.
import XCTest
import PoseCore
@testable import PoseEval

final class EvalUnitTests: XCTestCase {
    func testPolygonContainsOnlyStrictlyInteriorPoints() {
        let square = EvalPolygon(xs: [0, 4, 4, 0], ys: [0, 0, 4, 4])
        XCTAssertTrue(square.contains(x: 2, y: 2))
        XCTAssertTrue(square.contains(x: 0.001, y: 3.999))
        XCTAssertFalse(square.contains(x: 0, y: 2))        // on an edge
        XCTAssertFalse(square.contains(x: 2, y: 4))        // on the top edge
        XCTAssertFalse(square.contains(x: 4, y: 4))        // a vertex
        XCTAssertFalse(square.contains(x: 0, y: 0))        // the first vertex
        XCTAssertFalse(square.contains(x: 5, y: 2))
        XCTAssertFalse(square.contains(x: -1, y: 2))
        XCTAssertFalse(square.contains(x: .nan, y: 2))
        let triangle = EvalPolygon(xs: [0, 4, 4], ys: [0, 0, 4])
        XCTAssertTrue(triangle.contains(x: 3, y: 1))
        XCTAssertFalse(triangle.contains(x: 2, y: 2))      // on the hypotenuse
        XCTAssertFalse(triangle.contains(x: 1, y: 3))
        // A bow tie: shapely/GEOS answers with the crossing parity, as here.
        let bowTie = EvalPolygon(xs: [0, 4, 4, 0], ys: [0, 4, 0, 4])
        XCTAssertTrue(bowTie.contains(x: 1, y: 2))
        XCTAssertFalse(bowTie.contains(x: 2, y: 1))
        XCTAssertTrue(bowTie.contains(x: 3.5, y: 2))
        XCTAssertFalse(EvalPolygon(xs: [], ys: []).contains(x: 0, y: 0))
        XCTAssertFalse(EvalPolygon(xs: [0, 1, 2], ys: [0, 1, 2]).contains(x: 1, y: 1))   // degenerate
        XCTAssertEqual(EvalPolygon(xs: [0, 4, 4, 9], ys: [0, 0, 4]).vertexCount, 3)       // zip cuts
    }

    func testRankingIsDescendingWithLaterTiesFirst() {
        XCTAssertEqual(EvalAveragePrecision.ranking([0.5, 0.9, 0.5, 0.1, 0.5]), [1, 4, 2, 0, 3])
        XCTAssertEqual(EvalAveragePrecision.ranking([.nan, 0.2, 1]), [0, 2, 1])
        XCTAssertEqual(EvalAveragePrecision.ranking([]), [])
    }

    func testAveragePrecisionByHand() {
        // Ranked: hit, miss, hit, miss of 4 GT joints: precision 1, 1/2, 2/3, 1/2 at recall 1/4, 1/4, 1/2, 1/2.
        // Envelope from the right: 1, 2/3, 2/3, 1/2 -> AP = 1/4 x 1 + 1/4 x 2/3 = 5/12.
        let entries: [(score: Double, isMatch: Bool)] = [(0.9, true), (0.8, false), (0.7, true), (0.6, false)]
        let result = EvalAveragePrecision.evaluate(entries, groundTruthJoints: 4)
        XCTAssertEqual(result.averagePrecision, 500.0 / 12, accuracy: 1e-12)
        XCTAssertEqual(result.precision, 50)
        XCTAssertEqual(result.recall, 50)
        XCTAssertEqual(result.truePositives, 2)
        // The same entries in another input order give the same AP (ranking by score).
        let shuffled = [entries[2], entries[0], entries[3], entries[1]]
        XCTAssertEqual(EvalAveragePrecision.evaluate(shuffled, groundTruthJoints: 4).averagePrecision, 500.0 / 12, accuracy: 1e-12)
        // No predictions: 0 (poseval's initial value), even with no ground truth.
        XCTAssertEqual(EvalAveragePrecision.evaluate([], groundTruthJoints: 3).averagePrecision, 0)
        XCTAssertEqual(EvalAveragePrecision.evaluate([], groundTruthJoints: 0).averagePrecision, 0)
        // Predictions but no ground truth: recall 0/0, AP NaN.
        XCTAssertTrue(EvalAveragePrecision.evaluate([(0.5, false)], groundTruthJoints: 0).averagePrecision.isNaN)
        XCTAssertEqual(EvalAveragePrecision.meanIgnoringNaN([.nan, 10, 20]), 15)
        XCTAssertTrue(EvalAveragePrecision.meanIgnoringNaN([.nan]).isNaN)
        XCTAssertTrue(EvalAveragePrecision.mean([.nan, 1]).isNaN)
    }

    func testAppendingLowerScoredEntriesNeverLowersAP() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let entries = (0..<40).map { _ in (score: Double.random(in: 0.2...1, using: &generator), isMatch: Bool.random(using: &generator)) }
            let before = EvalAveragePrecision.evaluate(entries, groundTruthJoints: 60).averagePrecision
            let after = EvalAveragePrecision.evaluate(entries + [(0.1, false), (0.05, true)], groundTruthJoints: 60).averagePrecision
            XCTAssertGreaterThanOrEqual(after, before)
        }
    }

    func testHeadSizeIsSixTenthsOfTheDiagonal() {
        XCTAssertEqual(EvalHeadBox(bboxHead: [10, 20, 30, 40]).headSize, 30)
        XCTAssertEqual(EvalHeadBox(bboxHead: [10, 20, -30, 40]).headSize, 30)
    }

    func testPythonNameParsing() {
        XCTAssertEqual(PythonPath.int("012834"), 12834)
        XCTAssertEqual(PythonPath.int(" -7 "), -7)
        XCTAssertEqual(PythonPath.int("1_000"), 1000)
        XCTAssertNil(PythonPath.int(""))
        XCTAssertNil(PythonPath.int("1__0"))
        XCTAssertNil(PythonPath.int("12a"))
        XCTAssertNil(PythonPath.int("_1"))
        XCTAssertEqual(PythonPath.dirname("images/val/012834_mpii_test/000000.jpg"), "images/val/012834_mpii_test")
        XCTAssertEqual(PythonPath.dirname("a//b"), "a")
        XCTAssertEqual(PythonPath.dirname("/x"), "/")
        XCTAssertEqual(PythonPath.dirname("x.jpg"), "")
        XCTAssertEqual(PythonPath.basename("a/b/c.jpg"), "c.jpg")
        XCTAssertEqual(try EvalVideo.videoID(fileName: "images/val/012834_mpii_test/000007.jpg", field: "f", path: "p"), "012834")
        XCTAssertEqual(try EvalVideo.videoID(fileName: "x/5_bonn/9999.png", field: "f", path: "p"), "5")
        for bad in ["images/val/012834_coco_test/000007.jpg", "images/val/mpii_012834/000007.jpg",
                    "images/val/012834_mpii_test/010000.jpg", "000007.jpg", "images/val/012834/000007.jpg"] {
            XCTAssertThrowsError(try EvalVideo.videoID(fileName: bad, field: "images[0].file_name", path: "p.json"), bad) { error in
                XCTAssertTrue("\(error)".contains("images[0].file_name"), "\(error)")
            }
        }
    }

    func testGreedyAssignmentDoesNotReassignTheLoser() throws {
        // GT 0 at the origin, GT 1 far away. Prediction 0 hits GT 0 fully; prediction 1 hits 10 joints of
        // GT 0 and 5 of GT 1: it prefers GT 0, loses it to prediction 0, and is NOT given GT 1.
        func person(_ points: [(Double, Double)]) -> EvalPerson {
            EvalPerson(trackID: 0, headBox: EvalHeadBox(bboxHead: [0, 0, 30, 40]),
                       points: points.enumerated().map { EvalPoint(joint: $0.offset, x: $0.element.0, y: $0.element.1, score: 0.5) })
        }
        let a = (0..<15).map { (Double($0) * 100, 0.0) }
        let b = (0..<15).map { (Double($0) * 100, 1000.0) }
        let mixed = (0..<15).map { $0 < 10 ? a[$0] : b[$0] }
        let result = try EvalMatching.entries(truth: [person(a), person(b)], predictions: [person(a), person(mixed)])
        XCTAssertEqual(result.groundTruthJoints, Array(repeating: 2, count: 15))
        for joint in 0..<15 {
            XCTAssertEqual(result.entries[joint].map(\.isMatch), [true, false], "joint \(joint)")
        }
    }

    func testIgnoreRegionsDropPeopleLeftWithoutPoints() {
        let inside = EvalPerson(trackID: 1, points: [EvalPoint(joint: 0, x: 1, y: 1)])
        let straddling = EvalPerson(trackID: 2, points: [EvalPoint(joint: 0, x: 1, y: 1), EvalPoint(joint: 1, x: 9, y: 9)])
        let empty = EvalPerson(trackID: 3, points: [])
        let region = EvalPolygon(xs: [0, 4, 4, 0], ys: [0, 0, 4, 4])
        let kept = EvalMatching.removingIgnored([inside, straddling, empty], regions: [region])
        XCTAssertEqual(kept.map(\.trackID), [2])
        XCTAssertEqual(kept[0].points.map(\.joint), [1])
        // Any polygon, even an empty one, drops people without points; no polygon keeps them.
        XCTAssertEqual(EvalMatching.removingIgnored([empty], regions: [EvalPolygon(xs: [], ys: [])]).count, 0)
        XCTAssertEqual(EvalMatching.removingIgnored([empty], regions: []).count, 1)
    }

    func testRepeatedCategoryNameUsesTheFirstPoint() throws {
        // 17 names where the "ears" slots repeat nose: the first nose point counts.
        var names = PoseTrackJoints.names
        names[3] = "nose"; names[4] = "nose"
        let category = PoseTrackCategory(id: 1, name: "person", keypoints: names, skeleton: nil)
        var keypoints = Fixture.keypoints(100, 50)
        keypoints[9...14] = [1, 2, 1, 3, 4, 1]
        let file = PoseTrackFile(images: Fixture.images(frames: 1),
                                 annotations: [PoseTrackAnnotation(imageID: Fixture.imageID(0), trackID: 1, keypoints: keypoints)],
                                 categories: [category])
        let video = try EvalVideo(file: file, path: "x.json", role: .prediction)
        let person = video.frames[0].people[0]
        let nose = person.points[person.jointIndex()[13]]
        XCTAssertEqual(nose.x, 115)
        XCTAssertEqual(person.points.filter { $0.joint == 13 }.count, 3)
        XCTAssertNil(nose.score)
        XCTAssertTrue(video.hasMissingScores)
    }

    func testOnlyTheFirstVideoOfAFileIsKept() throws {
        var images = Fixture.images(frames: 3)
        images[1].fileName = "images/val/000002_mpii_test/000001.jpg"
        let file = PoseTrackFile(images: images, annotations: [])
        let video = try EvalVideo(file: file, path: "x.json", role: .groundTruth)
        XCTAssertEqual(video.frames.count, 2)
        XCTAssertEqual(video.imagesOfOtherVideos, 1)
    }
}
