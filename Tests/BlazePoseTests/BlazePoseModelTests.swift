// The BlazePose interpreter on the tiny test model: outputs bitwise independent of batch size and
// threads, a crop's result depends on that crop only, dead branches pruned, and every kind of bad
// model file refused with a sentence that names what is wrong. Also the joint layouts.
import Foundation
import PoseCore
import SafeTensors
import XCTest
@testable import BlazePose

func randomCrops(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    return (0..<(count * 256 * 256 * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

final class BlazePoseModelTests: XCTestCase {
    func testOutputsAreBitwiseIndependentOfBatchAndThreads() throws {
        let model = try BlazePoseModel(safetensors: TinyBlazePose.file())
        let crops = randomCrops(5, seed: 3)
        let windowBytes = BlazePoseEstimator.inputShape.windowBytes
        let whole = try crops.withUnsafeBufferPointer { try BlazePoseEstimator(model: model, threads: 1).estimate(crops: $0, count: 5) }
        XCTAssertEqual(whole.count, 5)
        XCTAssertNotEqual(whole[0], whole[1], "different crops give different keypoints")
        for threads in [1, 2, 3] {
            let estimator = BlazePoseEstimator(model: model, threads: threads)
            for index in 0..<5 {
                let one = try crops.withUnsafeBufferPointer {
                    try estimator.estimate(crops: UnsafeBufferPointer(rebasing: $0[(index * windowBytes)..<((index + 1) * windowBytes)]), count: 1)
                }
                XCTAssertEqual(one[0].values.map(\.bitPattern), whole[index].values.map(\.bitPattern), "crop \(index) alone, \(threads) threads")
            }
            let again = try crops.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: 5) }
            XCTAssertEqual(again.map { $0.values.map(\.bitPattern) }, whole.map { $0.values.map(\.bitPattern) }, "batch of 5, \(threads) threads")
        }
    }

    func testDeadBranchesArePrunedAndCanBeAskedFor() throws {
        let bytes = TinyBlazePose.file()
        let pose = try BlazePoseModel(safetensors: bytes)
        // 15 ops: the PAD folds into the conv that reads it, the segmentation conv is not run for poses.
        XCTAssertEqual(pose.keptOpCount, 13)
        XCTAssertFalse(pose.steps.contains { if case .pad = $0 { return true } else { return false } }, "the PAD is folded")
        let all = try BlazePoseModel(safetensors: bytes, outputs: ["landmarks", "pose_flag", "segmentation"])
        XCTAssertEqual(all.keptOpCount, 14)
        XCTAssertEqual(all.outputs["segmentation"]?.count, 128 * 128 * 4)
        // The pruned run computes the same landmarks.
        let images = randomCrops(1, seed: 4).map { Float($0) / 255 }
        XCTAssertEqual(pose.poses(images: images, count: 1, threads: 1), all.poses(images: images, count: 1, threads: 1))
    }

    func testPoseFlagIsAProbabilityAndScoresFollowIt() throws {
        let model = try BlazePoseModel(safetensors: TinyBlazePose.file())
        let output = model.poses(images: randomCrops(1, seed: 5).map { Float($0) / 255 }, count: 1, threads: 1)[0]
        XCTAssertEqual(output.landmarks.count, 39 * 5)
        XCTAssertTrue(output.poseFlag > 0 && output.poseFlag < 1)
        let keypoints = BlazePoseEstimator(model: model, threads: 1).keypoints(of: output)
        XCTAssertEqual(keypoints.values.count, 17 * 3)
        let nose = output.landmarks[0..<5].map { $0 }
        XCTAssertEqual(keypoints.values[0], (nose[0] - 0.5) / 4, "nose x in heatmap pixels")
        XCTAssertEqual(keypoints.values[2], 1 / (1 + exp(-nose[3])) * output.poseFlag, accuracy: 1e-6)
    }

    // MARK: bad model files

    private func assertRefused(_ bytes: [UInt8], containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try BlazePoseModel(safetensors: bytes), file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(text), "\"\(message)\" should mention \"\(text)\"", file: file, line: line)
            XCTAssertFalse(message.contains("BlazePoseError"), "a sentence, not a type name: \(message)", file: file, line: line)
        }
    }

    func testTruncatedAndCorruptFilesAreRefused() {
        let bytes = TinyBlazePose.file()
        for cut in [0, 7, 100, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try BlazePoseModel(safetensors: Array(bytes.prefix(cut))), "cut at \(cut)")
        }
        var corrupt = bytes
        corrupt[12] ^= 0x5A  // inside the JSON header
        XCTAssertThrowsError(try BlazePoseModel(safetensors: corrupt))
        assertRefused(TinyBlazePose.file(skip: "w108"), containing: "w108: missing")
        assertRefused(TinyBlazePose.file(reshape: "w102"), containing: "w102: expected [1, 3, 3, 8]")
    }

    func testWrongFamilyAndBadGraphsAreRefused() {
        assertRefused(TinyBlazePose.file(metadata: ["ftp_pose.config": "{}"]), containing: "not a converted BlazePose model")
        assertRefused(TinyBlazePose.file(metadata: TinyBlazePose.metadata(family: "blazepose-lite")), containing: "\"blazepose-lite\" model, not blazepose-full")
        var shapes = TinyBlazePose.shapes
        shapes["t3"] = [1, 32, 32, 8]
        assertRefused(TinyBlazePose.file(metadata: TinyBlazePose.metadata(shapes: shapes)), containing: "op 2 (depthwise_conv2d -> t3) output: expected [1, 64, 64, 8], got [1, 32, 32, 8]")
        shapes = TinyBlazePose.shapes
        shapes["t0"] = [1, 128, 128, 3]
        assertRefused(TinyBlazePose.file(metadata: TinyBlazePose.metadata(shapes: shapes)), containing: "expected [1, 256, 256, 3]")
        var ops = TinyBlazePose.graph()
        ops[6]["inputs"] = ["t5", "t99"]
        assertRefused(TinyBlazePose.file(metadata: TinyBlazePose.metadata(ops: ops)), containing: "reads t99 before any op writes it")
        ops = TinyBlazePose.graph()
        ops[1]["op"] = "conv3d"
        assertRefused(TinyBlazePose.file(metadata: TinyBlazePose.metadata(ops: ops)), containing: "op 1 (conv3d): unknown operator")
        ops = TinyBlazePose.graph()
        ops[1]["activation"] = "tanh"
        assertRefused(TinyBlazePose.file(metadata: TinyBlazePose.metadata(ops: ops)), containing: "\"activation\" must be none, relu or relu6")
    }

    func testEstimatorRefusesWrongCropBytes() throws {
        let estimator = BlazePoseEstimator(model: try BlazePoseModel(safetensors: TinyBlazePose.file()), threads: 1)
        let bytes = [UInt8](repeating: 0, count: 100)
        XCTAssertThrowsError(try bytes.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: 1) }) { error in
            XCTAssertTrue("\(error)".contains("expected 1 windows of 196608 bytes, got 100 bytes"), "\(error)")
        }
    }

    // MARK: joints

    func testJointLayouts() {
        // An upright face: eyes at y = 10, mouth at y = 14; every landmark's score its index / 100.
        var points = [Float](repeating: 0, count: 33 * 3)
        for i in 0..<33 { points[i * 3] = Float(i); points[i * 3 + 1] = 50 + Float(i); points[i * 3 + 2] = Float(i) / 100 }
        for (landmark, x, y) in [(BlazePoseLandmark.leftEye, 12, 10), (.rightEye, 8, 10), (.mouthLeft, 11, 14), (.mouthRight, 9, 14)] as [(BlazePoseLandmark, Float, Float)] {
            points[landmark.rawValue * 3] = x; points[landmark.rawValue * 3 + 1] = y
        }
        let poseTrack = JointLayout.posetrack.joints(from: points)
        XCTAssertEqual(poseTrack.count, 51)
        XCTAssertEqual(Array(poseTrack[3..<6]), [10, 18, 0.02], "head_bottom: the mouth centre plus (mouth - eyes); score of the weakest")
        XCTAssertEqual(Array(poseTrack[6..<9]), [10, 2, 0.02], "head_top: the eye centre plus 2 (eyes - mouth)")
        XCTAssertEqual(poseTrack[5 * 3], 11, "left_shoulder is landmark 11")
        XCTAssertEqual(poseTrack[16 * 3], 28, "right_ankle is landmark 28")
        let coco = JointLayout.coco.joints(from: points)
        XCTAssertEqual(stride(from: 0, to: 51, by: 3).map { Int(coco[$0]) }, [0, 12, 8, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28], "COCO x: the eyes as placed, the rest by index")
        XCTAssertEqual(JointLayout.cocoLandmarks.map(\.rawValue), [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])
    }
}
