// PoseCore's PoseEstimator on FTP-Pose: uint8 RGB crops in, keypoints (heatmap pixels) out.
// Normalisation is FTP-POSE.md section 1: /255, minus the ImageNet mean, over its std, HWC -> CHW.
import PoseCore

public struct FTPPoseEstimator: PoseEstimator {
    public let model: FTPPoseModel
    public let threads: Int
    public let batchSize: Int
    public static let mean: [Double] = [0.485, 0.456, 0.406]
    public static let std: [Double] = [0.229, 0.224, 0.225]

    public init(model: FTPPoseModel, threads: Int, batchSize: Int = 4) {
        precondition(threads >= 1 && batchSize >= 1)
        self.model = model
        self.threads = threads
        self.batchSize = batchSize
    }

    public var inputShape: ModelInputShape { model.config.inputShape }

    public func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
        let shape = inputShape
        guard count >= 0, crops.count == count * shape.windowBytes else {
            throw FTPPoseError.badInput("crops: expected \(count) windows of \(shape.windowBytes) bytes, got \(crops.count) bytes")
        }
        var results: [WindowKeypoints] = []
        results.reserveCapacity(count)
        var start = 0
        while start < count {
            let batch = min(batchSize, count - start)
            let frames = Self.normalise(crops: UnsafeBufferPointer(rebasing: crops[(start * shape.windowBytes)..<((start + batch) * shape.windowBytes)]),
                                        windows: batch, shape: shape)
            let output = try model.forward(frames: frames, batch: batch, threads: threads)
            let perWindow = shape.joints * 3
            for b in 0..<batch {
                results.append(WindowKeypoints(values: Array(output.keypoints[(b * perWindow)..<((b + 1) * perWindow)])))
            }
            start += batch
        }
        return results
    }

    /// [windows][T][H][W][3] uint8 -> [windows][T][3][H][W] normalised floats.
    public static func normalise(crops: UnsafeBufferPointer<UInt8>, windows: Int, shape: ModelInputShape) -> [Float] {
        let plane = shape.height * shape.width
        let images = windows * shape.frames
        var out = [Float](repeating: 0, count: images * 3 * plane)
        // (v / 255 - mean) / std in double, rounded once: the same floats as the Python reference.
        let table: [[Float]] = (0..<3).map { channel in
            (0..<256).map { Float((Double($0) / 255 - mean[channel]) / std[channel]) }
        }
        out.withUnsafeMutableBufferPointer { destination in
            for image in 0..<images {
                let source = crops.baseAddress! + image * plane * 3
                let target = destination.baseAddress! + image * plane * 3
                for channel in 0..<3 {
                    let lookup = table[channel]
                    for pixel in 0..<plane { target[channel * plane + pixel] = lookup[Int(source[pixel * 3 + channel])] }
                }
            }
        }
        return out
    }
}
