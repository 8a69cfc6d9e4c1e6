// The model behind `posecoord run`: FTP-Pose from --weights, or random `demo` weights (the
// pipeline works end to end without trained weights; the keypoints are then meaningless).
import FTPPose
import PoseCore

enum RunEstimator {
    /// Windows per forward pass.
    static let batchSize = 4

    static func make(weights: String?, threads: Int) throws -> any PoseEstimator {
        let model: FTPPoseModel
        if let weights {
            model = try FTPPoseModel(contentsOfFile: weights)
        } else {
            FileHandleOutput.error("run: no --weights given: using random 'demo' weights (keypoints will be meaningless)")
            model = try FTPPoseModel(safetensors: FTPPoseWeights.random(config: FTPPoseConfig.preset("demo")!, seed: 0))
        }
        return FTPPoseEstimator(model: model, threads: threads, batchSize: batchSize)
    }

    /// For --dry-run: the demo model's input shape, no model (or the weights' shape if given).
    static func shapeOnly(weights: String?) -> any PoseEstimator {
        if let weights, let model = try? FTPPoseModel(contentsOfFile: weights) { return ShapeOnlyEstimator(inputShape: model.config.inputShape) }
        return ShapeOnlyEstimator(inputShape: FTPPoseConfig.preset("demo")!.inputShape)
    }
}

/// Carries an input shape for a dry run; never asked to estimate.
struct ShapeOnlyEstimator: PoseEstimator {
    let inputShape: ModelInputShape
    func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
        preconditionFailure("a dry run runs no model")
    }
}
