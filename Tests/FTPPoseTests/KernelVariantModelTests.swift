// The whole model under every kernel variant this machine runs: fp32 gives the same bits on each
// (the cluster's byte-identical promise on a mixed cluster), and the AMX bf16 class agrees with
// fp32 within the bf16 tolerance, by emulation here and on the hardware where it exists.
import SafeTensors
import XCTest
@testable import FTPPose
import PoseTensor

final class KernelVariantModelTests: XCTestCase {
    private func demo() throws -> (weights: String, frames: [Float], batch: Int, prune: (Int, Int)) {
        let golden = try SafeTensorsFile(contentsOfFile: try fixturePath("demo.io.safetensors"))
        let prune = golden.metadata["prune"]!.split(separator: ",").map { Int($0)! }
        return (try fixturePath("demo.weights.safetensors"), try golden.floats("frames"), try golden.info("frames").shape[0], (prune[0], prune[1]))
    }

    func testFP32IsBitwiseEqualOnEveryVariant() throws {
        let (weights, frames, batch, prune) = try demo()
        let model = try FTPPoseModel(contentsOfFile: weights)
        let reference = try KernelISA.withActive(.generic) { try model.forward(frames: frames, batch: batch, prune: prune, threads: 2) }
        let variants = KernelISA.supported.filter { $0 != .generic }
        print("demo fp32 compared bitwise: generic vs \(variants.map(\.rawValue).joined(separator: ", "))")
        for isa in variants {
            let out = try KernelISA.withActive(isa) { try model.forward(frames: frames, batch: batch, prune: prune, threads: 2) }
            XCTAssertEqual(out.heatmaps.map(\.bitPattern), reference.heatmaps.map(\.bitPattern), "\(isa.rawValue) heatmaps")
            XCTAssertEqual(out.keypoints.map(\.bitPattern), reference.keypoints.map(\.bitPattern), "\(isa.rawValue) keypoints")
            XCTAssertEqual(out.highResIndices, reference.highResIndices, "\(isa.rawValue) kept fine tokens")
            XCTAssertEqual(out.lowResIndices, reference.lowResIndices, "\(isa.rawValue) kept coarse tokens")
        }
    }

    /// The AMX class's tile program (emulated in plain C, or on the hardware) against fp32.
    private func checkAMXAgreesWithFP32(emulated: Bool) throws {
        let (weights, frames, batch, prune) = try demo()
        let fp32 = try FTPPoseModel(contentsOfFile: weights)
        let bf16 = try FTPPoseModel(contentsOfFile: weights, precision: .bf16)
        let a = try fp32.forward(frames: frames, batch: batch, prune: prune, threads: 2)
        let b = emulated
            ? try KernelISA.withEmulatedAMX { try bf16.forward(frames: frames, batch: batch, prune: prune, threads: 2) }
            : try KernelISA.withActive(.amx) { try bf16.forward(frames: frames, batch: batch, prune: prune, threads: 2) }
        XCTAssertNotEqual(a.heatmaps, b.heatmaps, "bf16 must actually round something")
        let scale = a.heatmaps.map(abs).max()!
        let worst = zip(a.heatmaps, b.heatmaps).map { abs($0 - $1) }.max()!
        print("AMX bf16 (\(emulated ? "emulated" : "hardware")) vs fp32 demo: max |diff| / max |heatmap| = \(worst / scale)")
        XCTAssertLessThanOrEqual(worst, BF16ModelTests.heatmapTolerance * scale)
        XCTAssertEqual(a.keypoints.count, b.keypoints.count)
        for j in 0..<(a.keypoints.count / 3) {
            XCTAssertEqual(a.keypoints[3 * j], b.keypoints[3 * j], "keypoint \(j) x")
            XCTAssertEqual(a.keypoints[3 * j + 1], b.keypoints[3 * j + 1], "keypoint \(j) y")
        }
    }

    func testEmulatedAMXAgreesWithFP32() throws { try checkAMXAgreesWithFP32(emulated: true) }

    func testHardwareAMXAgreesWithFP32() throws {
        guard KernelISA.amx.isSupported else {
            throw XCTSkip("AMX path not run: this CPU/OS has no AMX-BF16 (grep -c amx_bf16 /proc/cpuinfo); testEmulatedAMXAgreesWithFP32 runs its tile program in plain C")
        }
        try checkAMXAgreesWithFP32(emulated: false)
    }
}
