// Properties of the forward pass the cluster relies on (bitwise determinism across batch and
// threads), DPC against a naive double-precision version, the decoder's rules, the estimator.
import Foundation
import PoseCore
import XCTest
@testable import FTPPose

final class ModelBehaviourTests: XCTestCase {
    func testWindowResultIsBitwiseIndependentOfBatchAndThreads() throws {
        let model = try FTPPoseModel(safetensors: FTPPoseWeights.random(config: FTPPoseConfig.preset("demo")!, seed: 3))
        let perWindow = model.config.windowInputCount
        var generator = FTPPoseWeights.Generator(seed: 11)
        let frames = (0..<(3 * perWindow)).map { _ in generator.truncatedNormal() }
        let alone = try model.forward(frames: Array(frames[perWindow..<(2 * perWindow)]), batch: 1, threads: 1)
        let batched = try model.forward(frames: frames, batch: 3, threads: 2)
        let maps = alone.heatmaps.count
        XCTAssertEqual(alone.heatmaps.map(\.bitPattern), batched.heatmaps[maps..<(2 * maps)].map(\.bitPattern))
        XCTAssertEqual(alone.highResIndices[0], batched.highResIndices[1])
        XCTAssertEqual(alone.lowResIndices[0], batched.lowResIndices[1])
        XCTAssertEqual(alone.keypoints, Array(batched.keypoints[(17 * 3)..<(2 * 17 * 3)]))
        // The other windows really differ (the comparison above is not trivially true).
        XCTAssertNotEqual(batched.heatmaps[0..<maps].map(\.bitPattern), batched.heatmaps[maps..<(2 * maps)].map(\.bitPattern))
    }

    func testDensityPeaksMatchesNaiveVersion() {
        // Points around a few well separated centres, so the selection is far from any tie.
        var generator = FTPPoseWeights.Generator(seed: 5)
        let n = 150, d = 24
        let centres = (0..<6).map { _ in (0..<d).map { _ in generator.truncatedNormal() * 3 } }
        var x = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let spread = Float(1 + i % 5) * 0.1
            for j in 0..<d { x[i * d + j] = centres[i % 6][j] + generator.truncatedNormal() * spread }
        }
        let fast = x.withUnsafeBufferPointer { DensityPeaks.select(x: $0.baseAddress!, count: n, dim: d, ldx: d, keep: 25, knnK: 5, tau: 1) }
        // Naive: direct distances in double.
        var dist = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n {
            var s = 0.0
            for k in 0..<d { let diff = Double(x[i * d + k] - x[j * d + k]); s += diff * diff }
            dist[i][j] = s.squareRoot() / Double(d).squareRoot()
        } }
        let rho = (0..<n).map { i in exp(-dist[i].sorted().prefix(5).map { $0 * $0 }.reduce(0, +) / 5) }
        let largest = dist.flatMap { $0 }.max()!
        let score = (0..<n).map { i -> Double in
            let denser = (0..<n).filter { rho[$0] > rho[i] || (rho[$0] == rho[i] && $0 < i) }
            return rho[i] * (denser.isEmpty ? largest : denser.map { dist[i][$0] }.min()!)
        }
        let naive = Array(score.indices.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }.prefix(25)).sorted()
        XCTAssertEqual(fast, naive)
        XCTAssertEqual(fast, fast.sorted())
    }

    func testLowerTriangleDPCEqualsFullMatrixBitForBit() {
        var generator = FTPPoseWeights.Generator(seed: 21)
        for (n, d) in [(1, 4), (3, 8), (17, 5), (100, 16), (300, 24), (700, 48)] {
            var x = (0..<(n * d)).map { _ in generator.truncatedNormal() }
            if n >= 40 { for j in 0..<d { x[30 * d + j] = x[7 * d + j] } }      // duplicate tokens: equal densities
            let (full, lower) = x.withUnsafeBufferPointer { xb -> ([Float], [Float]) in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
                defer { scratch.deallocate() }
                let full = DensityPeaks.scores(x: xb.baseAddress!, count: n, dim: d, ldx: d, knnK: 5, tau: 1, scratch: scratch)
                let lower = DensityPeaks.lowerTriangleScores(x: xb.baseAddress!, count: n, dim: d, ldx: d, knnK: 5, tau: 1, scratch: scratch)
                // The Swift row loops (the other architectures' version; on x86-64 the AVX2 C ones run above).
                let portable = DensityPeaks.lowerTriangleScores(x: xb.baseAddress!, count: n, dim: d, ldx: d, knnK: 5, tau: 1,
                                                                scratch: scratch, portable: true)
                XCTAssertEqual(portable.map(\.bitPattern), full.map(\.bitPattern), "n \(n), portable loops")
                return (full, lower)
            }
            XCTAssertEqual(full.map(\.bitPattern), lower.map(\.bitPattern), "n \(n)")
        }
    }

    func testTopKBreaksTiesByLowerIndex() {
        XCTAssertEqual(DensityPeaks.topK([1, 3, 3, 2, 3], keep: 2), [1, 2])
        XCTAssertEqual(DensityPeaks.topK([5, 1, 5, 5], keep: 3), [0, 2, 3])
    }

    func testDecoderRules() {
        let height = 5, width = 6
        var maps = [Float](repeating: -1, count: 3 * height * width)
        // Joint 0: interior peak at (x 3, y 2), right and lower neighbours larger.
        maps[2 * width + 3] = 5; maps[2 * width + 4] = 2; maps[2 * width + 2] = 1; maps[3 * width + 3] = 3; maps[1 * width + 3] = 4
        // Joint 1: two equal maxima; the first in row-major order wins; at the border, no offset.
        maps[30 + 0 * width + 5] = 2; maps[30 + 4 * width + 0] = 2
        // Joint 2: everything negative: score 0, coordinates of the (first) maximum kept.
        for i in 0..<(height * width) { maps[60 + i] = -Float(i + 1) }
        let keypoints = maps.withUnsafeBufferPointer { HeatmapDecoder.decode($0, joints: 3, height: height, width: width) }
        XCTAssertEqual(keypoints, [3.25, 1.75, 5, 5, 0, 2, 0, 0, 0])
    }

    func testEstimatorNormalisesAndBatches() throws {
        let model = try FTPPoseModel(safetensors: FTPPoseWeights.random(config: FTPPoseConfig.preset("tiny")!, seed: 9))
        let shape = model.config.inputShape
        let windows = 5
        let crops = (0..<(windows * shape.windowBytes)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        let estimator = FTPPoseEstimator(model: model, threads: 2, batchSize: 2)
        let results = try crops.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: windows) }
        XCTAssertEqual(results.count, windows)
        let frames = crops.withUnsafeBufferPointer { FTPPoseEstimator.normalise(crops: $0, windows: windows, shape: shape) }
        // Pixel (0,0) of frame 0, red: (v/255 - 0.485) / 0.229.
        XCTAssertEqual(frames[0], Float((Double(crops[0]) / 255 - 0.485) / 0.229))
        let direct = try model.forward(frames: frames, batch: windows)
        XCTAssertEqual(results.flatMap(\.values), direct.keypoints)
        XCTAssertThrowsError(try crops.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: windows + 1) })
    }

    func testForwardRejectsBadInput() throws {
        let model = try FTPPoseModel(safetensors: FTPPoseWeights.random(config: FTPPoseConfig.preset("tiny")!, seed: 9))
        let window = [Float](repeating: 0, count: model.config.windowInputCount)
        XCTAssertThrowsError(try model.forward(frames: window + [0], batch: 1))
        XCTAssertThrowsError(try model.forward(frames: window, batch: 1, prune: (100, 6)))
        XCTAssertThrowsError(try model.forward(frames: window, batch: 1, prune: (0, 6)))
    }
}
