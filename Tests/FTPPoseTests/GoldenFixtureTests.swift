// The engine against golden tensors of the PyTorch reference (ops/reference/make_fixtures.py):
// heatmaps within 1e-4 relative (max |a - b| <= 1e-4 * max |b| + 1e-6 over the whole tensor),
// kept indices identical, keypoint x and y identical, scores within 1e-4 relative.
import Foundation
import SafeTensors
import XCTest
@testable import FTPPose

func fixturePath(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil) else {
        throw XCTSkip("fixture \(name) missing")
    }
    return url.path
}

func assertRelativeClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    let scale = b.map(abs).max() ?? 0
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, tolerance * scale + 1e-6, "\(message): max |diff| \(worst), max |ref| \(scale)", file: file, line: line)
}

final class GoldenFixtureTests: XCTestCase {
    private func check(weights: String, io: String, threads: Int = 2) throws {
        let model = try FTPPoseModel(contentsOfFile: try fixturePath(weights))
        let golden = try SafeTensorsFile(contentsOfFile: try fixturePath(io))
        let prune = golden.metadata["prune"]!.split(separator: ",").map { Int($0)! }
        let frames = try golden.floats("frames")
        let batch = try golden.info("frames").shape[0]
        let output = try model.forward(frames: frames, batch: batch, prune: (prune[0], prune[1]), threads: threads)

        assertRelativeClose(output.heatmaps, try golden.floats("heatmaps"), io)
        let kf = try golden.info("idx_hr").shape[1], kc = try golden.info("idx_lr").shape[1]
        let idxHR = try golden.int32s("idx_hr").map(Int.init), idxLR = try golden.int32s("idx_lr").map(Int.init)
        for b in 0..<batch {
            XCTAssertEqual(output.highResIndices[b], Array(idxHR[(b * kf)..<((b + 1) * kf)]), "\(io) idx_hr window \(b)")
            XCTAssertEqual(output.lowResIndices[b], Array(idxLR[(b * kc)..<((b + 1) * kc)]), "\(io) idx_lr window \(b)")
        }
        let keypoints = try golden.floats("keypoints")
        XCTAssertEqual(output.keypoints.count, keypoints.count)
        for i in stride(from: 0, to: keypoints.count, by: 3) {
            XCTAssertEqual(output.keypoints[i], keypoints[i], "\(io) x of keypoint \(i / 3)")
            XCTAssertEqual(output.keypoints[i + 1], keypoints[i + 1], "\(io) y of keypoint \(i / 3)")
            XCTAssertEqual(output.keypoints[i + 2], keypoints[i + 2], accuracy: 1e-4 * max(abs(keypoints[i + 2]), 1e-2), "\(io) score \(i / 3)")
        }
        // The fixture exercises "score 0 when the maximum is not positive".
        XCTAssertTrue(stride(from: 2, to: keypoints.count, by: 3).contains { keypoints[$0] == 0 } || io.hasPrefix("demo"))
    }

    func testTinyPruned() throws { try check(weights: "tiny.weights.safetensors", io: "tiny.io.safetensors") }
    func testTinyUnpruned() throws { try check(weights: "tiny.weights.safetensors", io: "tiny.unpruned.io.safetensors") }
    func testTinySingleThread() throws { try check(weights: "tiny.weights.safetensors", io: "tiny.io.safetensors", threads: 1) }
    /// Section 10's ablations: HoT's token recovering attention, and no fine-token refinement.
    func testTinyTokenRecoveringAttention() throws { try check(weights: "tiny-tra.weights.safetensors", io: "tiny-tra.io.safetensors") }
    func testTinyWithoutHighResBranch() throws {
        try check(weights: "tiny-nohr.weights.safetensors", io: "tiny-nohr.io.safetensors")
        let model = try FTPPoseModel(contentsOfFile: try fixturePath("tiny-nohr.weights.safetensors"))
        XCTAssertFalse(model.config.refinesHighRes)
    }
    func testDemoPruned() throws { try check(weights: "demo.weights.safetensors", io: "demo.io.safetensors") }
}
