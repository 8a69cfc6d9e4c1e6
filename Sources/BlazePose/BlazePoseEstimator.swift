// PoseCore's PoseEstimator on BlazePose-Full: one 256 x 256 uint8 RGB crop per window (T = 1),
// scaled to 0..1 as MediaPipe's landmark model expects, 17 joints out in heatmap pixels (crop / 4)
// like every estimator. Landmark coordinates are continuous (pixel i spans [i, i + 1)) while the
// crop's pixel i samples the image at CropGeometry.sourcePoint(i), hence the half-pixel shift.
// A joint's score is sigmoid(visibility) x the pose flag, so a crop without a person scores low.
import Foundation
import PoseCore

public struct BlazePoseEstimator: PoseEstimator {
    public let model: BlazePoseModel
    public let threads: Int
    public let layout: JointLayout

    public init(model: BlazePoseModel, threads: Int, layout: JointLayout = .posetrack) {
        precondition(threads >= 1)
        self.model = model
        self.threads = threads
        self.layout = layout
    }

    public static let inputShape = ModelInputShape(width: BlazePoseConfig.inputSide, height: BlazePoseConfig.inputSide,
                                                   frames: 1, joints: JointLayout.count)
    public var inputShape: ModelInputShape { Self.inputShape }

    public func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
        let shape = inputShape
        guard count >= 0, crops.count == count * shape.windowBytes else {
            throw BlazePoseError.badInput("crops: expected \(count) windows of \(shape.windowBytes) bytes, got \(crops.count) bytes")
        }
        if count == 0 { return [] }
        let images = crops.map { Float($0) / 255 }
        return model.poses(images: images, count: count, threads: threads).map { keypoints(of: $0) }
    }

    /// Landmarks -> the layout's 17 joints in heatmap pixels.
    public func keypoints(of output: BlazePoseOutput) -> WindowKeypoints {
        var points: [Float] = []
        points.reserveCapacity(BlazePoseConfig.landmarkCount * 3)
        let stride = BlazePoseConfig.valuesPerLandmark
        for landmark in 0..<BlazePoseConfig.landmarkCount {
            let v = output.landmarks[landmark * stride..<(landmark + 1) * stride].map { $0 }
            let visibility = 1 / (1 + Foundation.exp(-v[3]))
            points += [(v[0] - 0.5) / 4, (v[1] - 0.5) / 4, visibility * output.poseFlag]
        }
        return WindowKeypoints(values: layout.joints(from: points))
    }
}
