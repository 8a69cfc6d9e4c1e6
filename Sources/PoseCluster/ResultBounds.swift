// What a worker's keypoints may be, derived from the model's input shape: the coordinator checks
// every RESULT against it before anything is journalled, so a token holder cannot write invented
// values (NaN, 1e30, a score of 5) into the outputs. Any model family that reports keypoints in
// heatmap pixels of its `ModelInputShape` (FTP-Pose, BlazePose mapped to 17 joints) gets the same rule.
import PoseCore

public struct ResultBounds: Sendable, Equatable {
    public let joints: Int
    /// x must lie in `xRange`, y in `yRange` (heatmap pixels): the heatmap with one map's width
    /// (height) of margin each side. A decoder puts peaks inside the map; the margin leaves room
    /// for sub-pixel steps and future decoders without letting absurd values through.
    public let xRange: ClosedRange<Float>
    public let yRange: ClosedRange<Float>
    /// Scores are probabilities (BlazePose) or heatmap maxima (FTP-Pose). A regression heatmap's
    /// maximum is not clamped and passes 1 a little (demo-synth reaches 1.13 on the synthetic
    /// archive), and the outputs of `run` and `serve` must stay the same bytes, so the bound
    /// refuses what no model produces (5, 1e30, negatives), not what a calibrated one would not.
    public static let scoreRange: ClosedRange<Float> = 0...2

    public init(shape: ModelInputShape) {
        joints = shape.joints
        let width = Float(max(1, shape.heatmapWidth)), height = Float(max(1, shape.heatmapHeight))
        xRange = -width...(2 * width)
        yRange = -height...(2 * height)
    }

    /// Why `window` is not a result the model could have produced, or nil.
    public func problem(with window: WindowKeypoints) -> String? {
        guard window.values.count == joints * 3 else {
            return "\(window.values.count) values, expected \(joints * 3) (\(joints) joints x 3)"
        }
        for joint in 0..<joints {
            let x = window.values[3 * joint], y = window.values[3 * joint + 1], score = window.values[3 * joint + 2]
            guard x.isFinite, y.isFinite, score.isFinite else { return "joint \(joint) has a value that is not finite (\(x), \(y), \(score))" }
            guard xRange.contains(x) else { return "joint \(joint) x \(x) outside \(xRange.lowerBound)...\(xRange.upperBound)" }
            guard yRange.contains(y) else { return "joint \(joint) y \(y) outside \(yRange.lowerBound)...\(yRange.upperBound)" }
            guard ResultBounds.scoreRange.contains(score) else { return "joint \(joint) score \(score) outside \(ResultBounds.scoreRange.lowerBound)...\(ResultBounds.scoreRange.upperBound)" }
        }
        return nil
    }
}
