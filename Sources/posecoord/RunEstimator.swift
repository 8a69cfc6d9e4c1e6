// The model behind `posecoord run`: the family --weights names (ModelFamily), or random FTP-Pose
// `demo` weights (the pipeline works end to end without trained weights; the keypoints are then
// meaningless).
import FTPPose
import PoseCluster
import PoseCore
import PoseTensor

enum RunEstimator {
    /// Windows per forward pass.
    static let batchSize = 4

    static func make(weights: String?, threads: Int, precision: Precision = .fp32) throws -> any PoseEstimator {
        if let weights {
            return try ModelFamily.estimator(contentsOfFile: weights, threads: threads, batchWindows: batchSize, precision: precision)
        }
        FileHandleOutput.error("run: no --weights given: using random 'demo' weights (keypoints will be meaningless)")
        let model = try FTPPoseModel(safetensors: FTPPoseWeights.random(config: FTPPoseConfig.preset("demo")!, seed: 0), precision: precision)
        return FTPPoseEstimator(model: model, threads: threads, batchSize: batchSize)
    }

    /// For --dry-run: the demo model's input shape, no model (or the weights' shape if given).
    static func shapeOnly(weights: String?) -> any PoseEstimator {
        if let weights, let model = try? ClusterModel.load(weightsPath: weights) { return ShapeOnlyEstimator(inputShape: model.descriptor.inputShape) }
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
