// The one place a model family is chosen. A weights file says which family it holds (its
// metadata carries the family's config entry); everything that builds an estimator — `posecoord
// run`, the coordinator's descriptor, a worker, `poseworker infer|bench` — asks here.
import BlazePose
import Foundation
import FTPPose
import PoseCore
import PoseTensor
import SafeTensors

public enum ModelFamily: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The video pose transformer (docs/FTP-POSE.md): windows of T frames, 17 heatmaps.
    case ftpPose = "ftp-pose"
    /// MediaPipe's BlazePose-Full landmark model (docs/BLAZEPOSE.md): one 256 x 256 frame per window.
    case blazePoseFull = "blazepose-full"

    public var description: String { rawValue }

    /// The family a file's metadata names. An FTP-Pose file names none (it predates families).
    public static func of(metadata: [String: String]) -> ModelFamily {
        BlazePoseModel.describes(metadata: metadata) ? .blazePoseFull : .ftpPose
    }

    /// The family of the weights in `bytes` (a file that is not safetensors is FTP-Pose's to refuse).
    public static func of(safetensors bytes: [UInt8]) -> ModelFamily {
        let metadata = bytes.withUnsafeBytes { try? SafeTensorsFile(unsafeBorrowing: $0).metadata }
        return of(metadata: metadata ?? [:])
    }

    /// The family of the file at `path` (its header only; an unreadable file is FTP-Pose's to refuse).
    public static func of(contentsOfFile path: String) -> ModelFamily {
        of(metadata: (try? SafeTensorsFile(contentsOfFile: path).metadata) ?? [:])
    }

    /// A model of this family loaded and checked, ready to estimate.
    /// `precision` applies to FTP-Pose's linear layers (BlazePose runs fp32).
    public static func estimator(safetensors bytes: [UInt8], threads: Int, batchWindows: Int, precision: Precision = .fp32) throws -> any PoseEstimator {
        switch of(safetensors: bytes) {
        case .ftpPose:
            return FTPPoseEstimator(model: try FTPPoseModel(safetensors: bytes, precision: precision), threads: threads, batchSize: batchWindows)
        case .blazePoseFull:
            return BlazePoseEstimator(model: try BlazePoseModel(safetensors: bytes), threads: threads)
        }
    }

    /// Loads the file at `path`; errors name the file.
    public static func estimator(contentsOfFile path: String, threads: Int, batchWindows: Int, precision: Precision = .fp32) throws -> any PoseEstimator {
        guard let data = FileManager.default.contents(atPath: path) else { throw ModelFileError(path: path, reason: "cannot read the file") }
        do { return try estimator(safetensors: [UInt8](data), threads: threads, batchWindows: batchWindows, precision: precision) } catch {
            throw ModelFileError(path: path, reason: "\(error)")
        }
    }
}

/// A weights file that cannot be used, and why.
public struct ModelFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}
