// Hungarian assignment against brute force, and the tracker on crossing, gaps and given ids.
import PoseCore
@testable import PoseArchive
import XCTest

final class TrackingTests: XCTestCase {
    func testHungarianIsOptimal() {
        var rng = SplitMix64(seed: 3)
        for trial in 0..<300 {
            let rows = rng.int(1...5), columns = rng.int(rows...6)
            // Integer costs make ties common: the cost must still be optimal.
            let costs = (0..<rows * columns).map { _ in Double(rng.int(0...4)) }
            let assignment = Hungarian.assign(costs: costs, rows: rows, columns: columns)
            XCTAssertEqual(Set(assignment).count, rows, "trial \(trial): columns used once")
            let total = assignment.enumerated().reduce(0.0) { $0 + costs[$1.offset * columns + $1.element] }
            XCTAssertEqual(total, Hungarian.bruteForceCost(costs: costs, rows: rows, columns: columns), accuracy: 1e-9, "trial \(trial)")
            // More rows than columns: every column is used once, some rows get -1.
            let transposed = (0..<columns * rows).map { costs[($0 % rows) * columns + $0 / rows] }
            let wide = Hungarian.assign(costs: transposed, rows: columns, columns: rows)
            XCTAssertEqual(wide.filter { $0 >= 0 }.count, rows)
        }
        XCTAssertEqual(Hungarian.assign(costs: [], rows: 0, columns: 3), [])
        XCTAssertEqual(Hungarian.assign(costs: [], rows: 2, columns: 0), [-1, -1])
    }

    func box(_ x: Double) -> BoundingBox { BoundingBox(x: x, y: 10, width: 20, height: 50) }

    func testTrackerFollowsPeopleThroughAGap() {
        var detections: [Detection] = []
        for t in 0..<20 where t != 8 && t != 9 && t != 10 {
            // Two people walking apart, listed in a different order every frame.
            let pair = [Detection(frame: t, box: box(50 - Double(t)), score: 0.9, trackID: nil),
                        Detection(frame: t, box: box(100 + Double(t)), score: 0.9, trackID: nil)]
            detections += t % 2 == 0 ? pair : pair.reversed()
        }
        let tracked = Tracker.link(detections, gapMax: 5, iouMin: 0.3)
        XCTAssertEqual(Set(tracked.map(\.trackID)), [0, 1], "one track each, across a 3-frame gap")
        for item in tracked {
            XCTAssertEqual(item.trackID, item.detection.box.x < 75 ? 0 : 1)
        }
        // A gap longer than gapMax starts new tracks.
        let broken = Tracker.link(detections, gapMax: 2, iouMin: 0.3)
        XCTAssertEqual(Set(broken.map(\.trackID)).count, 4)
        XCTAssertEqual(Tracker.link(detections, gapMax: 5, iouMin: 0.3), tracked, "deterministic")
    }

    func testGivenIdsAreKeptAndNewOnesDoNotCollide() {
        let detections = [
            Detection(frame: 0, box: box(0), score: 1, trackID: 7),
            Detection(frame: 0, box: box(0), score: 1, trackID: 7),   // repeated in its frame: tracked instead
            Detection(frame: 0, box: box(200), score: 1, trackID: nil),
            Detection(frame: 1, box: box(201), score: 1, trackID: nil),
        ]
        let tracked = Tracker.link(detections, gapMax: 1, iouMin: 0.3)
        XCTAssertEqual(tracked[0].trackID, 7)
        XCTAssertEqual(tracked[1].trackID, 8)
        XCTAssertEqual(tracked[2].trackID, 9)
        XCTAssertEqual(tracked[3].trackID, 9)
    }
}
