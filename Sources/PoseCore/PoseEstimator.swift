// The seam between the archive pipeline (or a cluster worker) and the model.
// The pipeline produces uint8 crops; an estimator turns them into keypoints.

/// Geometry of the crops a model wants.
public struct ModelInputShape: Equatable, Hashable, Sendable, Codable {
    /// Crop size in pixels (FTP-POSE.md: 192 x 256 for `b`/`s`, 96 x 128 for `demo`).
    public var width: Int
    public var height: Int
    /// Frames per window (T, odd, centred on the key frame).
    public var frames: Int
    /// Joints per person (17).
    public var joints: Int

    public init(width: Int, height: Int, frames: Int, joints: Int) {
        self.width = width; self.height = height; self.frames = frames; self.joints = joints
    }

    public var heatmapWidth: Int { width / 4 }
    public var heatmapHeight: Int { height / 4 }
    /// Bytes of one window's crops: T x H x W x 3, uint8 RGB, row-major.
    public var windowBytes: Int { frames * height * width * 3 }
}

/// Keypoints of one window, in heatmap pixels (before the map back to the image).
public struct WindowKeypoints: Equatable, Sendable {
    /// `joints x 3`: x, y (heatmap pixels), score.
    public var values: [Float]
    public init(values: [Float]) { self.values = values }
}

/// Something that runs a pose model on windows of crops.
public protocol PoseEstimator: Sendable {
    var inputShape: ModelInputShape { get }
    /// `crops` holds `count` windows, each `inputShape.windowBytes` bytes:
    /// T frames of H x W x 3 uint8 RGB (not normalised). Returns one result per window, in order.
    func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints]
}
