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
import PoseTensor
import PoseWire

public enum ClusterModel {
    /// Windows per forward pass on a worker, as `posecoord run` uses (results do not depend on it).
    public static let batchWindowsDefault = 4

    /// Loads and checks the weights (`path` nil: random demo weights) and describes them, with the
    /// job's precision.
    public static func load(weightsPath path: String?, precision: Precision = .fp32) throws -> (weights: [UInt8], descriptor: ModelDescriptor) {
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
        do {
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
        } catch {
            // The file's errors name the file, as ModelFamily.estimator(contentsOfFile:) does.
            guard let path else { throw error }
            throw ModelFileError(path: path, reason: "\(error)")
        }
        // BlazePose always runs fp32 (its convolutions have no bf16 path): the job's precision says so.
        let effective: Precision = family == .blazePoseFull ? .fp32 : precision
        return (bytes, ModelDescriptor(sha256: SHA256.hash(bytes), byteCount: UInt64(bytes.count), variant: variant,
                                       family: family.rawValue, inputShape: inputShape, precision: effective.rawValue))
    }

    /// What a worker runs: the family the bytes say, in the job's precision with this machine's best
    /// kernel for it.
    public static let estimatorFactory: EstimatorFactory = { bytes, threads, batchWindows, precisionName in
        guard let precision = Precision(rawValue: precisionName) else {
            throw CoordinatorError("the coordinator asks for precision \"\(precisionName)\", which this worker does not know (fp32, bf16)")
        }
        return try ModelFamily.estimator(safetensors: bytes, threads: threads, batchWindows: batchWindows, precision: precision)
    }

    /// The kernel variant this process computes with (HELLO's `kernels`).
    public static var kernels: String { KernelISA.active.rawValue }

    /// The kernel class a worker reporting `kernels` uses for a job of `precision` (what the job
    /// report records per video): "fp32" for every fp32 variant (they give the same bits),
    /// "bf16-<class>" for bf16.
    public static func kernelClass(kernels: String, precision: String) -> String {
        guard let isa = KernelISA(rawValue: kernels), let precision = Precision(rawValue: precision) else {
            return "\(precision)-\(kernels.isEmpty ? "unknown" : kernels)"
        }
        return isa.kernelClass(for: precision)
    }
}
