// Helpers for the archive tests: a deterministic fake estimator whose keypoints depend on the
// crops it is given (so a wrong crop changes the output), and temporary folders.
import Foundation
import PoseCore
@testable import PoseArchive
import XCTest

/// Keypoints computed from the crop bytes: joint j of a window is at
/// (sum of the window's bytes + 7j) mod heatmap width, j mod heatmap height, score 0.1 + j/20.
struct CropHashEstimator: PoseEstimator {
    let inputShape: ModelInputShape
    init(inputShape: ModelInputShape = ModelInputShape(width: 24, height: 32, frames: 3, joints: 17)) { self.inputShape = inputShape }

    func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
        precondition(crops.count == count * inputShape.windowBytes)
        return (0..<count).map { w in
            var sum = 0
            for i in w * inputShape.windowBytes..<(w + 1) * inputShape.windowBytes { sum &+= Int(crops[i]) }
            var values: [Float] = []
            for j in 0..<inputShape.joints {
                values += [Float((sum + 7 * j) % inputShape.heatmapWidth) + 0.25, Float(j % inputShape.heatmapHeight), 0.1 + Float(j) / 20]
            }
            return WindowKeypoints(values: values)
        }
    }
}

/// A fresh folder, removed at the end of the test.
func temporaryFolder(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "posearchive-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

let testEntry = VideoEntry(name: "000007_mpii_test", path: "/nowhere/000007_mpii_test.mp4", kind: .videoFile, detectionFile: nil)
let testShape = ModelInputShape(width: 24, height: 32, frames: 3, joints: 17)
