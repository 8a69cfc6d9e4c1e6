// Tracking metrics (posecoord eval --track): the hand-computed cases of ops/eval/make_cases.py
// (tracking_cases), which the official kit was run on (docs/EVAL.md), and the motmetrics
// accumulator's rules one at a time.
import XCTest
import PoseCore
@testable import PoseEval

final class EvalTrackingTests: XCTestCase {
    typealias F = Fixture
    /// 5 px on every keypoint: 1/6 of the 30 px head size.
    static let five = Dictionary(uniqueKeysWithValues: (0..<17).map { ($0, (3.0, 4.0)) })

    func evaluate(frames: Int, truth: [PoseTrackAnnotation], predictions: [PoseTrackAnnotation]) throws -> EvalSummary {
        let folders = try F.Folders()
        try folders.write(F.file(frames: frames, truth), to: folders.truth)
        try folders.write(F.file(frames: frames, predictions), to: folders.prediction)
        return try EvalDataset.evaluate(truthDirectory: folders.truth, predictionDirectory: folders.prediction, tracking: true).summary
    }

    func assertTotals(_ summary: EvalSummary, mota: Double, motp: Double, precision: Double, recall: Double,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        let t = try XCTUnwrap(summary.tracking, file: file, line: line)
        for (name, got, want) in [("MOTA", t.total.mota, mota), ("MOTP", t.total.motp, motp),
                                  ("precision", t.total.precision, precision), ("recall", t.total.recall, recall)] {
            XCTAssertEqual(got, want, accuracy: 1e-9, name, file: file, line: line)
        }
        for joint in t.joints { XCTAssertEqual(joint, t.joints[0], "every joint behaves alike here", file: file, line: line) }
    }

    func testMOTPSumsRawRowsTooAndLastFrameIsLeftOut() throws {
        let truth = (0..<3).flatMap { f in (0..<2).map { i in F.truth(f, track: i + 1, 100 + 200 * Double(i), 50) } }
        let predictions = (0..<3).flatMap { f in
            (0..<2).map { i in F.prediction(f, track: 7 + i, 100 + 200 * Double(i), 50, keypoints: F.keypoints(100 + 200 * Double(i), 50, v: 0.9, shift: Self.five)) }
        }
        let summary = try evaluate(frames: 3, truth: truth, predictions: predictions)
        XCTAssertEqual(summary.tracking?.counts[0].objects, 4, "frames 0 and 1 only")
        XCTAssertEqual(summary.tracking?.counts[0].matches, 4)
        // D = 4 RAW + 4 MATCH rows of 1/6 head size.
        try assertTotals(summary, mota: 100, motp: 100 * (1 - 2.0 / 6), precision: 100, recall: 100)
    }

    func testSwappedIdentitiesAreTwoSwitchesWithTransferDistances() throws {
        let truth = (0..<4).flatMap { f in (0..<2).map { i in F.truth(f, track: i + 1, 100 + 200 * Double(i), 50) } }
        let predictions = (0..<4).flatMap { f in
            (0..<2).map { i in
                F.prediction(f, track: f < 2 ? 7 + i : 8 - i, 100 + 200 * Double(i), 50,
                             keypoints: F.keypoints(100 + 200 * Double(i), 50, v: 0.9, shift: Self.five))
            }
        }
        let summary = try evaluate(frames: 4, truth: truth, predictions: predictions)
        XCTAssertEqual(summary.tracking?.counts[3].switches, 2)
        try assertTotals(summary, mota: 100 * (1 - 2.0 / 6), motp: 100 * (1 - 14.0 / 36), precision: 100, recall: 100)
    }

    func testFrameWithoutPredictionsCountsPoseTrackPlaceholderMissAndFalsePositive() throws {
        let truth = (0..<3).map { F.truth($0, track: 1, 100, 50) }
        let predictions = [F.prediction(0, track: 5, 100, 50), F.prediction(0, track: 6, 500, 300, score: 0.5),
                           F.prediction(2, track: 5, 100, 50)]
        let summary = try evaluate(frames: 3, truth: truth, predictions: predictions)
        try assertTotals(summary, mota: -50, motp: 100, precision: 100.0 / 3, recall: 50)
        XCTAssertEqual(summary.total, 200.0 / 3, accuracy: 1e-9)
    }

    func testAnnolistGroundTruthDropsPeopleWithoutPointsAfterCountingTheirFrame() throws {
        func rect(_ ox: Double, track: Int) -> String {
            var points: [String] = []
            for (k, point) in F.body.enumerated() {
                guard let point, F.jointOfKeypoint[k] >= 0 else { continue }
                points.append(#"{"id": [\#(F.jointOfKeypoint[k])], "x": [\#(ox + point.0)], "y": [\#(50 + point.1)], "is_visible": [1]}"#)
            }
            return #"{"track_id": [\#(track)], "x1": [\#(ox)], "y1": [50], "x2": [\#(ox + 30)], "y2": [90], "annopoints": [{"point": [\#(points.joined(separator: ","))]}]}"#
        }
        let annolist = #"{"annolist": ["#
            + #"{"image": [{"name": "a/1.jpg"}], "annorect": [\#(rect(100, track: 1))]},"#
            + #"{"image": [{"name": "a/2.jpg"}], "annorect": [{"track_id": [9], "x1": [0], "y1": [0], "x2": [30], "y2": [40]}]},"#
            + #"{"image": [{"name": "a/3.jpg"}], "annorect": [\#(rect(100, track: 1))]}]}"#
        let folders = try F.Folders()
        try folders.write(text: annolist, to: folders.truth)
        try folders.write(F.file(frames: 3, [F.prediction(0, track: 5, 100, 50), F.prediction(1, track: 5, 100, 50, score: 0.8),
                                             F.prediction(2, track: 5, 100, 50)]), to: folders.prediction)
        let summary = try EvalDataset.evaluate(truthDirectory: folders.truth, predictionDirectory: folders.prediction, tracking: true).summary
        XCTAssertEqual(summary.evaluatedFrames, 3)
        XCTAssertEqual(summary.groundTruthPeople, 2)
        XCTAssertEqual(summary.total, 100, accuracy: 1e-9)
        try assertTotals(summary, mota: 0, motp: 100, precision: 50, recall: 50)
    }

    func testAnnolistWithoutTrackIDsScoresAPButRefusesTracking() throws {
        let annolist = #"{"annolist": [{"annorect": [{"x1": [0], "y1": [0], "x2": [30], "y2": [40], "annopoints": [{"point": [{"id": [0], "x": [5], "y": [5]}]}]}]}]}"#
        let folders = try F.Folders()
        try folders.write(text: annolist, to: folders.truth)
        try folders.write(text: annolist, to: folders.prediction)
        let summary = try EvalDataset.evaluate(truthDirectory: folders.truth, predictionDirectory: folders.prediction).summary
        XCTAssertEqual(summary.joints[0].averagePrecision, 100, accuracy: 1e-9, "the point matches; its missing score ranks it at -9999")
        XCTAssertEqual(summary.joints[1].averagePrecision, 0, "no prediction of that joint")
        XCTAssertThrowsError(try EvalDataset.evaluate(truthDirectory: folders.truth, predictionDirectory: folders.prediction, tracking: true)) { error in
            XCTAssertTrue("\(error)".contains("annolist[0].annorect[0] has no track_id"), "\(error)")
        }
    }

    // The accumulator's rules, frame by frame (motmetrics MOTAccumulator.update).

    func testEarlierCorrespondenceWinsOverACheaperPair() {
        var accumulator = EvalTrackAccumulator()
        accumulator.update(EvalTrackFrame(objects: [1], hypotheses: [10], distances: [0.3]))
        // Hypothesis 11 is closer, but 1-10 may still match: step 1 keeps it, no switch.
        accumulator.update(EvalTrackFrame(objects: [1], hypotheses: [11, 10], distances: [0.0, 0.4]))
        XCTAssertEqual(accumulator.counts.matches, 2)
        XCTAssertEqual(accumulator.counts.switches, 0)
        XCTAssertEqual(accumulator.counts.falsePositives, 1)
        // D: RAW 0.3 + MATCH 0.3, then RAW 0.0 + 0.4 and MATCH 0.4.
        XCTAssertEqual(accumulator.counts.distanceSum, 1.4, accuracy: 1e-12)
    }

    func testAssignmentMatchesAsManyPairsAsPossibleBeforeMinimisingDistance() {
        // Cheapest single pair is 0-0 (0.0), but 0-1 and 1-0 match both objects.
        let pairs = EvalTrackAccumulator.assignment([0.0, 0.2, 0.1, .nan], rows: 2, columns: 2)
        XCTAssertEqual(pairs.map { [$0.0, $0.1] }, [[0, 1], [1, 0]])
        XCTAssertTrue(EvalTrackAccumulator.assignment([.nan, .nan], rows: 1, columns: 2).isEmpty)
    }

    func testSwitchToANewHypothesisAddsAscendAndMigrateDistances() {
        var accumulator = EvalTrackAccumulator()
        accumulator.update(EvalTrackFrame(objects: [1], hypotheses: [10], distances: [0.1]))
        // Object 1 moves to a never-seen hypothesis: SWITCH + ASCEND.
        accumulator.update(EvalTrackFrame(objects: [1], hypotheses: [20], distances: [0.2]))
        XCTAssertEqual(accumulator.counts.switches, 1)
        XCTAssertEqual(accumulator.counts.distanceSum, 0.1 + 0.1 + 0.2 * 3, accuracy: 1e-12)
        // A new object takes hypothesis 20 (owned by 1): TRANSFER + MIGRATE, a plain MATCH for itself.
        accumulator.update(EvalTrackFrame(objects: [2], hypotheses: [20], distances: [0.25]))
        XCTAssertEqual(accumulator.counts.matches, 2)
        XCTAssertEqual(accumulator.counts.distanceSum, 0.8 + 0.25 * 4, accuracy: 1e-12)
        accumulator.update(.placeholder)
        XCTAssertEqual(accumulator.counts.misses, 1)
        XCTAssertEqual(accumulator.counts.falsePositives, 1)
        XCTAssertEqual(accumulator.counts.objects, 4)
    }

    func testMetricsFormulasAndNaN() {
        var counts = EvalTrackCounts()
        XCTAssertTrue(EvalTracking.metrics(counts).mota.isNaN, "no object: MOTA NaN")
        XCTAssertEqual(EvalTracking.metrics(counts).motp, 0, "no detection: MOTP 0")
        XCTAssertTrue(EvalTracking.metrics(counts).precision.isNaN)
        counts.matches = 3; counts.switches = 1; counts.misses = 1; counts.falsePositives = 2; counts.distanceSum = 1
        let m = EvalTracking.metrics(counts)
        XCTAssertEqual(m.mota, 100 * (1 - 4.0 / 5), accuracy: 1e-12)
        XCTAssertEqual(m.motp, 100 * (1 - 1.0 / 4), accuracy: 1e-12)
        XCTAssertEqual(m.precision, 100 * 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m.recall, 100 * 4.0 / 5, accuracy: 1e-12)
    }
}
