// Hand-computed cases, end to end through files: the scenarios of ops/eval/make_cases.py,
// where the official kit was run on the same numbers (docs/EVAL.md).
import XCTest
import PoseCore
@testable import PoseEval

final class EvalCasesTests: XCTestCase {
    typealias F = Fixture

    func assertAP(_ summary: EvalSummary, _ expected: [Double], total: Double, file: StaticString = #filePath, line: UInt = #line) {
        for (joint, value) in expected.enumerated() {
            let got = summary.joints[joint].averagePrecision
            if value.isNaN {
                XCTAssertTrue(got.isNaN, "\(EvalJoints.names[joint]): expected NaN, got \(got)", file: file, line: line)
            } else {
                XCTAssertEqual(got, value, accuracy: 1e-9, "\(EvalJoints.names[joint])", file: file, line: line)
            }
        }
        XCTAssertEqual(summary.total, total, accuracy: 1e-9, "total", file: file, line: line)
    }

    func testPerfectPredictionsScore100() throws {
        let truth = (0..<3).flatMap { f in (0..<2).map { i in F.truth(f, track: i, 100 + 200 * Double(i), 50) } }
        let predictions = (0..<3).flatMap { f in (0..<2).map { i in F.prediction(f, track: i, 100 + 200 * Double(i), 50, score: 0.5 + 0.1 * Double(i)) } }
        let summary = try F.evaluate(frames: 3, truth: truth, predictions: predictions)
        assertAP(summary, F.all(100), total: 100)
        XCTAssertEqual(summary.groups, Array(repeating: 100, count: 7))
        XCTAssertEqual(summary.evaluatedFrames, 3)
        XCTAssertEqual(summary.joints[0].groundTruthJoints, 6)
        XCTAssertEqual(summary.joints[0].truePositives, 6)
    }

    func testJointShiftedJustUnderAndJustOverHalfAHeadSize() throws {
        // Head size 30 px: 14.99 px is a match, 15.01 px is not, exactly 15 px (9, 12) is (dist <= 0.5).
        let points = F.keypoints(100, 50, v: 0.9, shift: [F.leftWrist: (14.99, 0), F.rightWrist: (0, 15.01), F.leftElbow: (9, 12)])
        let summary = try F.evaluate(frames: 1, truth: [F.truth(0, track: 1, 100, 50)],
                                     predictions: [F.prediction(0, track: 1, 100, 50, keypoints: points)])
        var expected = F.all(100)
        expected[6] = 0                                    // right_wrist
        assertAP(summary, expected, total: 1400.0 / 15)
        XCTAssertEqual(summary.groups[3], 50)              // Wrist = (0 + 100) / 2
    }

    func testSwappedPeopleAndSwappedLowerBodies() throws {
        // Frame 0: predictions listed in the other order (all correct). Frame 1: each prediction has one
        // person's upper body (9 of 15 joints) and the other's lower body (6): it keeps the upper-body
        // person and its lower-body joints are false positives (0.8, under the frame-0 hits at 0.9).
        func swapped(_ upper: Double, _ lower: Double) -> [Double] {
            var points = F.keypoints(upper, 50, v: 0.8)
            let other = F.keypoints(lower, 50, v: 0.8)
            for k in 11..<17 { points[3 * k..<3 * k + 3] = other[3 * k..<3 * k + 3] }
            return points
        }
        let truth = (0..<2).flatMap { f in [F.truth(f, track: 1, 100, 50), F.truth(f, track: 2, 400, 50)] }
        let predictions = [
            F.prediction(0, track: 7, 400, 50), F.prediction(0, track: 8, 100, 50),
            F.prediction(1, track: 7, 0, 0, score: 0.8, keypoints: swapped(100, 400)),
            F.prediction(1, track: 8, 0, 0, score: 0.8, keypoints: swapped(400, 100)),
        ]
        let summary = try F.evaluate(frames: 2, truth: truth, predictions: predictions)
        var expected = F.all(100)
        for joint in 0..<6 { expected[joint] = 50 }        // hips, knees, ankles: 2 of 4 found, both ranked first
        assertAP(summary, expected, total: 80)
    }

    func testExtraFalsePositiveLowScoreKeeps100HighScoreHalves() throws {
        let truth = [F.truth(0, track: 1, 100, 50)]
        let low = try F.evaluate(frames: 1, truth: truth, predictions: [F.prediction(0, track: 1, 100, 50, score: 0.9),
                                                                         F.prediction(0, track: 2, 500, 300, score: 0.1)])
        assertAP(low, F.all(100), total: 100)
        let high = try F.evaluate(frames: 1, truth: truth, predictions: [F.prediction(0, track: 1, 100, 50, score: 0.9),
                                                                          F.prediction(0, track: 2, 500, 300, score: 0.95)])
        assertAP(high, F.all(50), total: 50)               // precision 0 then 1/2 at recall 1
        XCTAssertEqual(high.joints[0].precision, 50)
        XCTAssertEqual(high.joints[0].recall, 100)
    }

    func testIgnoreRegionRemovesJointsOnBothSidesButNotOnItsBoundary() throws {
        // Region x 195...300: person B and a false positive inside it are removed; A's left wrist at
        // x = 195 is on the boundary and stays. In frame 1 only B is there, inside: the frame is still
        // evaluated and the prediction C outside (0.95) is a false positive. Every joint: C then A: 50.
        let region: ([[Double]], [[Double]]) = ([[195, 300, 300, 195]], [[0, 0, 400, 400]])
        let truth = [
            F.truth(0, track: 1, 100, 50, keypoints: F.keypoints(100, 50, override: [F.leftWrist: (195, 170, 1)])),
            F.truth(0, track: 2, 220, 100), F.truth(1, track: 2, 220, 100),
        ]
        let predictions = [
            F.prediction(0, track: 1, 100, 50, keypoints: F.keypoints(100, 50, v: 0.9, override: [F.leftWrist: (195, 170, 0.9)])),
            F.prediction(0, track: 2, 220, 100), F.prediction(0, track: 3, 230, 150, score: 0.99),
            F.prediction(1, track: 2, 220, 100), F.prediction(1, track: 5, 500, 50, score: 0.95),
        ]
        let summary = try F.evaluate(frames: 2, truth: truth, predictions: predictions, ignore: [0: region, 1: region])
        assertAP(summary, F.all(50), total: 50)
        XCTAssertEqual(summary.joints[11].groundTruthJoints, 1)   // left_wrist on the boundary kept
        XCTAssertEqual(summary.evaluatedFrames, 2)
        XCTAssertEqual(summary.groundTruthPeople, 1)
        XCTAssertEqual(summary.predictedPeople, 2)
    }

    func testFrameWithoutGroundTruthIsIgnored() throws {
        let summary = try F.evaluate(frames: 3, truth: [F.truth(0, track: 1, 100, 50), F.truth(2, track: 1, 100, 50)],
                                     predictions: [F.prediction(0, track: 1, 100, 50, score: 0.5),
                                                   F.prediction(1, track: 1, 300, 50, score: 0.99),
                                                   F.prediction(2, track: 1, 100, 50, score: 0.5)])
        assertAP(summary, F.all(100), total: 100)
        XCTAssertEqual(summary.frames, 3)
        XCTAssertEqual(summary.evaluatedFrames, 2)
    }

    func testPersonWithoutJointsStillMakesItsFrameEvaluated() throws {
        // Frame 1's only person has no annotated joint; the prediction there (0.99) ranks above two hits
        // (0.5): precision 0, 1/2, 2/3 at recall 0, 1/2, 1 -> AP 2/3.
        let truth = [F.truth(0, track: 1, 100, 50),
                     F.truth(1, track: 1, 100, 50, keypoints: F.keypoints(100, 50, drop: Set(0..<17))),
                     F.truth(2, track: 1, 100, 50)]
        let predictions = [F.prediction(0, track: 1, 100, 50, score: 0.5), F.prediction(1, track: 1, 100, 50, score: 0.99),
                           F.prediction(2, track: 1, 100, 50, score: 0.5)]
        let summary = try F.evaluate(frames: 3, truth: truth, predictions: predictions)
        assertAP(summary, F.all(200.0 / 3), total: 200.0 / 3)
        XCTAssertEqual(summary.evaluatedFrames, 3)
    }

    func testTiedScoresRankTheLaterEntryFirst() throws {
        let truth = [F.truth(0, track: 1, 100, 50)]
        let hitFirst = try F.evaluate(frames: 1, truth: truth, predictions: [F.prediction(0, track: 1, 100, 50, score: 0.5),
                                                                              F.prediction(0, track: 2, 500, 50, score: 0.5)])
        assertAP(hitFirst, F.all(50), total: 50)
        let missFirst = try F.evaluate(frames: 1, truth: truth, predictions: [F.prediction(0, track: 2, 500, 50, score: 0.5),
                                                                               F.prediction(0, track: 1, 100, 50, score: 0.5)])
        assertAP(missFirst, F.all(100), total: 100)
    }

    func testGreedyMatchingGivesEqualSharesToTheLowestIndex() throws {
        // Two identical people and two exact predictions: both prefer person 0, person 0 takes the first,
        // the second (0.7, ranked first) is a false positive and person 1 stays unmatched: AP 1/2 x 1/2.
        let summary = try F.evaluate(frames: 1, truth: [F.truth(0, track: 1, 100, 50), F.truth(0, track: 2, 100, 50)],
                                     predictions: [F.prediction(0, track: 1, 100, 50, score: 0.6),
                                                   F.prediction(0, track: 2, 100, 50, score: 0.7)])
        assertAP(summary, F.all(25), total: 25)
    }

    func testMissingScoresRankLast() throws {
        let summary = try F.evaluate(frames: 1, truth: [F.truth(0, track: 1, 100, 50)],
                                     predictions: [F.prediction(0, track: 1, 100, 50, withScores: false),
                                                   F.prediction(0, track: 2, 500, 50, score: 0.1)])
        assertAP(summary, F.all(50), total: 50)
    }

    func testVisibilityZeroWithCoordinatesIsAnnotatedAndOriginWithScoreIsAPoint() throws {
        let truth = F.truth(0, track: 1, 100, 50, keypoints: F.keypoints(100, 50, override: [F.leftAnkle: (105, 260, 0)]))
        let prediction = F.prediction(0, track: 1, 0, 0, keypoints: F.keypoints(100, 50, v: 0.9, override: [F.rightAnkle: (0, 0, 0.9)]))
        let summary = try F.evaluate(frames: 1, truth: [truth], predictions: [prediction])
        var expected = F.all(100)
        expected[0] = 0                                    // right_ankle predicted at (0, 0): wrong
        assertAP(summary, expected, total: 1400.0 / 15)
        XCTAssertEqual(summary.joints[5].groundTruthJoints, 1)   // left_ankle with v = 0 counts
    }

    func testJointWithoutGroundTruthIsNaNAndLeftOutOfTheTotal() throws {
        let summary = try F.evaluate(frames: 1,
                                     truth: [F.truth(0, track: 1, 100, 50, keypoints: F.keypoints(100, 50, drop: [F.leftWrist, F.rightWrist]))],
                                     predictions: [F.prediction(0, track: 1, 0, 0, keypoints: F.keypoints(100, 50, v: 0.9, drop: [F.rightWrist]))])
        var expected = F.all(100)
        expected[11] = .nan                                // left_wrist: predicted, never annotated
        expected[6] = 0                                    // right_wrist: neither: 0, and counted
        assertAP(summary, expected, total: 1300.0 / 14)
        XCTAssertTrue(summary.groups[3].isNaN)             // Wrist = mean(0, NaN)
    }

    func testZeroHeadSizeMatchesNothing() throws {
        let summary = try F.evaluate(frames: 1, truth: [F.truth(0, track: 1, 100, 50, head: [100, 50, 0, 0])],
                                     predictions: [F.prediction(0, track: 1, 100, 50)])
        assertAP(summary, F.all(0), total: 0)
    }

    func testVideosArePooledAndMissingFramesOfPredictionsAreEmpty() throws {
        // Two videos; video 2's prediction has no people at all: its ground truth joints are misses.
        let folders = try Fixture.Folders()
        try folders.write(F.file(frames: 2, [F.truth(0, track: 1, 100, 50)]), to: folders.truth, name: "a.json")
        try folders.write(F.file(frames: 2, [F.prediction(0, track: 1, 100, 50)]), to: folders.prediction, name: "a.json")
        try folders.write(F.file(frames: 1, [F.truth(0, track: 1, 100, 50)]), to: folders.truth, name: "b.json")
        try folders.write(F.file(frames: 1, []), to: folders.prediction, name: "b.json")
        try folders.write(F.file(frames: 1, []), to: folders.prediction, name: "extra.json")  // no GT: ignored
        let summary = try folders.evaluate()
        XCTAssertEqual(summary.videos, 2)
        XCTAssertEqual(summary.frames, 3)
        assertAP(summary, F.all(50), total: 50)            // recall 1/2 at precision 1
    }

    func testResultDoesNotDependOnThreadCount() throws {
        // Six videos with tied scores across videos: the pooled order is the files' name order,
        // whatever finishes first.
        let folders = try Fixture.Folders()
        for v in 0..<6 {
            let truth = (0..<3).map { f in F.truth(f, track: 1, 100 + Double(v), 50) }
            let predictions = (0..<3).flatMap { f in
                [F.prediction(f, track: 1, 100 + Double(v) + Double(f * 7 + v), 50, score: 0.5),
                 F.prediction(f, track: 2, 600, 50, score: 0.5)]
            }
            try folders.write(F.file(frames: 3, truth), to: folders.truth, name: "v\(v).json")
            try folders.write(F.file(frames: 3, predictions), to: folders.prediction, name: "v\(v).json")
        }
        let one = try EvalDataset.evaluate(truthDirectory: folders.truth, predictionDirectory: folders.prediction, threads: 1)
        let four = try EvalDataset.evaluate(truthDirectory: folders.truth, predictionDirectory: folders.prediction, threads: 4)
        XCTAssertEqual(one.summary, four.summary)
        XCTAssertEqual(one.videos.map(\.name), ["v0", "v1", "v2", "v3", "v4", "v5"])
        XCTAssertEqual(four.videos.map(\.name), ["v0", "v1", "v2", "v3", "v4", "v5"])
        XCTAssertGreaterThan(one.summary.total, 0)
        XCTAssertLessThan(one.summary.total, 100)
    }
}
