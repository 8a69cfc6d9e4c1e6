// The Swift BlazePose against the official TensorFlow Lite interpreter (ops/models/blazepose_fixtures.py)
// on 32 crops, 16 of them real people from vtest.avi: landmarks x, y within 1e-3 of the crop size
// (0.256 pixel), the pose flag within 1e-4, sigmoid(visibility) (the joint scores) within 1e-2;
// z and the visibility and presence logits, which reach several hundred, within 1e-3 of their
// largest magnitude; and bitwise the same for every batch size and thread count.
// Needs the converted model (ops/models/fetch_blazepose.sh): without it the test skips, saying so.
import CZstd
import Foundation
import PoseCrypto
import SafeTensors
import XCTest
@testable import BlazePose

func fixturePath(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil) else { throw XCTSkip("fixture \(name) missing") }
    return url.path
}

/// The converted model: $BLAZEPOSE_WEIGHTS or configs/models/blazepose-full.safetensors in the checkout.
func blazePoseWeightsPath() throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = ProcessInfo.processInfo.environment["BLAZEPOSE_WEIGHTS"] ?? root.appendingPathComponent("configs/models/blazepose-full.safetensors").path
    guard FileManager.default.fileExists(atPath: path) else {
        throw XCTSkip("BlazePose exactness not tested: \(path) is missing (make it with ops/models/fetch_blazepose.sh)")
    }
    return path
}

func goldenCrops() throws -> [UInt8] {
    let compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try fixturePath("crops.u8.zst"))))
    let count = 32 * 256 * 256 * 3
    var out = [UInt8](repeating: 0, count: count)
    let written = out.withUnsafeMutableBytes { o in compressed.withUnsafeBytes { ZSTD_decompress(o.baseAddress, count, $0.baseAddress, $0.count) } }
    guard ZSTD_isError(written) == 0, written == count else { throw XCTSkip("crops.u8.zst does not decompress to \(count) bytes") }
    return out
}

final class BlazePoseGoldenTests: XCTestCase {
    func testMatchesTensorFlowLiteOnRealCrops() throws {
        let model = try BlazePoseModel(contentsOfFile: try blazePoseWeightsPath())
        let golden = try SafeTensorsFile(contentsOfFile: try fixturePath("golden.safetensors"))
        let crops = try goldenCrops()
        XCTAssertEqual(try golden.uint8s("crops_sha256"), SHA256.hash(crops).bytes, "the crops are the ones the interpreter saw")
        let landmarks = try golden.floats("landmarks"), flags = try golden.floats("pose_flag")
        let count = flags.count
        XCTAssertEqual(count, 32)
        let outputs = model.poses(images: crops.map { Float($0) / 255 }, count: count, threads: 2)
        var worstXY: Float = 0, worstZ: Float = 0, worstLogit: Float = 0, worstFlag: Float = 0, worstScore: Float = 0
        var largestZ: Float = 0, largestLogit: Float = 0
        func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
        for crop in 0..<count {
            let ours = outputs[crop].landmarks, theirs = landmarks[(crop * 195)..<((crop + 1) * 195)].map { $0 }
            for landmark in 0..<39 {
                for value in 0..<5 {
                    let a = ours[landmark * 5 + value], b = theirs[landmark * 5 + value], d = abs(a - b)
                    switch value {
                    case 0, 1: worstXY = max(worstXY, d)
                    case 2: worstZ = max(worstZ, d); largestZ = max(largestZ, abs(b))
                    default:
                        worstLogit = max(worstLogit, d); largestLogit = max(largestLogit, abs(b))
                        worstScore = max(worstScore, abs(sigmoid(a) - sigmoid(b)))
                    }
                }
            }
            worstFlag = max(worstFlag, abs(outputs[crop].poseFlag - flags[crop]))
        }
        print("BlazePose vs TFLite on \(count) crops: max |dx|,|dy| \(worstXY) px (of 256), |dz| \(worstZ) (|z| up to \(largestZ)), "
              + "logits \(worstLogit) (up to \(largestLogit)), sigmoid(visibility) \(worstScore), pose flag \(worstFlag)")
        XCTAssertLessThanOrEqual(worstXY, 1e-3 * 256, "landmark x, y within 1e-3 of the crop size")
        XCTAssertLessThanOrEqual(worstFlag, 1e-4, "pose flag")
        XCTAssertLessThanOrEqual(worstScore, 1e-2, "joint scores")
        XCTAssertLessThanOrEqual(worstZ, 1e-3 * largestZ, "z")
        XCTAssertLessThanOrEqual(worstLogit, 1e-3 * largestLogit, "visibility and presence logits")
        // The people are found: real crops have a high pose flag, the flat synthetic ones a low one.
        XCTAssertTrue(outputs[0..<16].allSatisfy { $0.poseFlag > 0.5 })
        XCTAssertTrue(outputs[24..<27].allSatisfy { $0.poseFlag < 0.1 })

        // Bitwise: one crop at a time, on one thread or two inside its convolutions, equals the batch of 32 on two.
        for crop in [0, 7, 31] {
            for threads in [1, 2] {
                let one = model.poses(images: crops[(crop * 196_608)..<((crop + 1) * 196_608)].map { Float($0) / 255 }, count: 1, threads: threads)[0]
                XCTAssertEqual(one.landmarks.map(\.bitPattern), outputs[crop].landmarks.map(\.bitPattern), "crop \(crop), \(threads) threads")
                XCTAssertEqual(one.poseFlag.bitPattern, outputs[crop].poseFlag.bitPattern)
            }
        }
    }
}

