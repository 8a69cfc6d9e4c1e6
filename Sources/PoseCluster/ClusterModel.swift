// The model a job runs, as the cluster sees it: the weights file's bytes (sent to workers that
// lack them), its SHA-256, variant name and crop geometry; and the estimator a worker builds
// from those bytes, of the family the file names (ModelFamily). Without --weights both sides use
// the engine's random `demo` weights (seed 0), exactly as `posecoord run` does, so outputs match
// byte for byte.
import Foundation
import BlazePose
import FTPPose
import PoseCore
import PoseCrypto
import PoseWire

public enum ClusterModel {
    /// Windows per forward pass on a worker, as `posecoord run` uses (results do not depend on it).
    public static let batchWindowsDefault = 4

    /// Loads and checks the weights (`path` nil: random demo weights) and describes them.
    public static func load(weightsPath path: String?) throws -> (weights: [UInt8], descriptor: ModelDescriptor) {
        let bytes: [UInt8]
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CoordinatorError("cannot read the weights file \(path)")
            }
            bytes = [UInt8](data)
        } else {
            bytes = FTPPoseWeights.random(config: FTPPoseConfig.preset("demo")!, seed: 0)
        }
        // Loading checks every tensor name and shape here, not on a hundred workers later.
        let variant: String, inputShape: ModelInputShape
        let family = ModelFamily.of(safetensors: bytes)
        switch family {
        case .ftpPose:
            let model = try FTPPoseModel(safetensors: bytes)
            variant = FTPPoseConfig.presetNames.first { FTPPoseConfig.preset($0) == model.config } ?? (path == nil ? "demo" : "custom")
            inputShape = model.config.inputShape
        case .blazePoseFull:
            _ = try BlazePoseModel(safetensors: bytes)
            variant = BlazePoseConfig.family
            inputShape = BlazePoseEstimator.inputShape
        }
        return (bytes, ModelDescriptor(sha256: SHA256.hash(bytes), byteCount: UInt64(bytes.count), variant: variant,
                                       family: family.rawValue, inputShape: inputShape))
    }

    /// What a worker runs: the family the bytes say.
    public static let estimatorFactory: EstimatorFactory = { bytes, threads, batchWindows in
        try ModelFamily.estimator(safetensors: bytes, threads: threads, batchWindows: batchWindows)
    }
}
