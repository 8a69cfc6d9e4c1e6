// The model behind `posecoord run`: the family --weights names (ModelFamily), or random FTP-Pose
// `demo` weights (the pipeline works end to end without trained weights; the keypoints are then
// meaningless).
import PoseCluster
import PoseCore
import PoseTensor

enum RunEstimator {
    /// Windows per forward pass.
    static let batchSize = 4

    /// The estimator for the weights `ClusterModel.load` has read and checked (`weightsPath` nil:
    /// the random demo weights), so the file is read and hashed once.
    static func make(model: [UInt8], weightsPath: String?, threads: Int, precision: Precision = .fp32) throws -> any PoseEstimator {
        if weightsPath == nil {
            FileHandleOutput.error("run: no --weights given: using random 'demo' weights (keypoints will be meaningless)")
        }
        return try ModelFamily.estimator(safetensors: model, threads: threads, batchWindows: batchSize, precision: precision)
    }
}

/// Carries an input shape for a dry run; never asked to estimate.
struct ShapeOnlyEstimator: PoseEstimator {
    let inputShape: ModelInputShape
    func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
        preconditionFailure("a dry run runs no model")
    }
}
