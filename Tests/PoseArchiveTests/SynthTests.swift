// The synthetic archive's drawing and people: shapes partly or wholly outside the frame are
// clipped (a moving box that leaves the frame once crashed synth), and people stay articulated.
import PoseCore
@testable import PoseArchive
import PoseMedia
import XCTest

final class SynthTests: XCTestCase {
    func testShapesOutsideTheFrameAreClipped() {
        var canvas = SynthCanvas(background: RGBImage(width: 16, height: 12))
        canvas.block(x0: 20, y0: 2, x1: 30, y1: 8, colour: (200, 0, 0), seed: 1)      // right of the frame
        canvas.block(x0: -30, y0: -9, x1: -20, y1: -1, colour: (200, 0, 0), seed: 1)   // above-left
        canvas.capsule((-50, -50), (-40, -45), radius: 3, colour: (0, 200, 0), stripes: 0, owner: 1)
        XCTAssertEqual(canvas.owner, [UInt8](repeating: 0, count: 16 * 12))
        canvas.block(x0: 14, y0: 10, x1: 40, y1: 40, colour: (200, 0, 0), seed: 1)     // the corner only
        XCTAssertEqual(canvas.owner.filter { $0 == SynthCanvas.objectOwner }.count, 4)
        canvas.capsule((8, 6), (8, 6.01), radius: 2.5, colour: (0, 200, 0), stripes: 0, owner: 3)
        XCTAssertEqual(canvas.owner[6 * 16 + 8], 3)
        XCTAssertGreaterThan(canvas.pixels[(6 * 16 + 8) * 3 + 1], 100)
    }

    func testPeopleHaveSeventeenPlausibleJoints() {
        var rng = SplitMix64(seed: 42)
        for motion in SynthPerson.Motion.allCases {
            let person = SynthPerson(random: &rng, width: 320, height: 240, frames: 30, motion: motion)
            for t in [0, 15, 29] {
                let joints = person.joints(at: t)
                XCTAssertEqual(joints.count, PoseTrackJoints.count)
                XCTAssertTrue(joints.allSatisfy { $0.x.isFinite && $0.y.isFinite })
                // Head above shoulders above hips above ankles (image y grows downwards).
                XCTAssertLessThan(joints[2].y, joints[1].y, "\(motion)")
                XCTAssertLessThan(joints[1].y, joints[5].y, "\(motion)")
                XCTAssertLessThan(joints[5].y, joints[11].y, "\(motion)")
                XCTAssertLessThan(joints[11].y, joints[15].y, "\(motion)")
                XCTAssertEqual(joints[15].y - joints[2].y, person.height, accuracy: person.height * 0.2, "\(motion): height")
            }
        }
    }
}
