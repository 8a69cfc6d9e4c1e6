// PoseTrack's multi-person pose tracking metrics as poseval's evaluateTracking computes them:
// per joint and video one motmetrics accumulator fed the video's evaluated frames except the last,
// events summed over videos, then MOTA, MOTP, precision and recall per joint and their means.

/// The metrics of one joint, or the means over joints (`total`), in percent.
public struct EvalTrackMetrics: Equatable, Sendable {
    public var mota: Double
    public var motp: Double
    public var precision: Double
    public var recall: Double

    public static func == (a: EvalTrackMetrics, b: EvalTrackMetrics) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return same(a.mota, b.mota) && same(a.motp, b.motp) && same(a.precision, b.precision) && same(a.recall, b.recall)
    }
}

public enum EvalTracking {
    /// One video's events per joint. evaluateTracking drops the last evaluated frame of every
    /// sequence (`imgidxs[:-1]`); a video with a single evaluated frame crashes poseval there
    /// (IndexError) and adds nothing here.
    public static func counts(frames: [[EvalTrackFrame]]) -> [EvalTrackCounts] {
        var accumulators = Array(repeating: EvalTrackAccumulator(), count: EvalJoints.count)
        for frame in frames.dropLast() {
            precondition(frame.count == EvalJoints.count, "EvalTracking: one tracking frame per joint")
            for joint in 0..<EvalJoints.count { accumulators[joint].update(frame[joint]) }
        }
        return accumulators.map(\.counts)
    }

    /// computeMetrics' final formulas for one joint's pooled events.
    public static func metrics(_ c: EvalTrackCounts) -> EvalTrackMetrics {
        let objects = c.objects > 0 ? Double(c.objects) : .nan
        let detections = Double(c.detections)
        let mota = 100 * (1 - Double(c.misses + c.switches + c.falsePositives) / objects)
        let motp = c.detections == 0 || c.distanceSum.isNaN ? 0 : 100 * (1 - c.distanceSum / detections)
        let reported = c.falsePositives + c.detections > 0 ? Double(c.falsePositives + c.detections) : .nan
        return EvalTrackMetrics(mota: mota, motp: motp, precision: 100 * detections / reported, recall: 100 * detections / objects)
    }
}

/// The tracking result over all videos.
public struct EvalTrackingSummary: Equatable, Sendable {
    /// Pooled events per joint, in poseval's joint order.
    public var counts: [EvalTrackCounts]
    public var joints: [EvalTrackMetrics]
    /// Each metric's mean over the joints where it is not NaN (NaN when it is NaN for all).
    public var total: EvalTrackMetrics
    /// MOTA per group of the table (getCum: a NaN member makes the group NaN).
    public var motaGroups: [Double]

    public init(videos: [[EvalTrackCounts]]) {
        counts = (0..<EvalJoints.count).map { joint in videos.reduce(EvalTrackCounts()) { $0 + $1[joint] } }
        joints = counts.map(EvalTracking.metrics)
        let mean = EvalAveragePrecision.meanIgnoringNaN
        total = EvalTrackMetrics(mota: mean(joints.map(\.mota)), motp: mean(joints.map(\.motp)),
                                 precision: mean(joints.map(\.precision)), recall: mean(joints.map(\.recall)))
        let mota = joints.map(\.mota)
        motaGroups = EvalJoints.groups.map { group in EvalAveragePrecision.mean(group.joints.map { mota[$0] }) }
    }
}
