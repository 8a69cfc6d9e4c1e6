// BlazePose's 33 landmarks as PoseTrack 2018's 17 joints (the cluster's output) or COCO's 17.
// PoseTrack has two joints BlazePose lacks; they are derived from the face (docs/BLAZEPOSE.md):
//   head_bottom = mouth centre + (mouth centre - eye centre)      (about the chin)
//   head_top    = eye centre + 2 (eye centre - mouth centre)      (about the crown)
// with the eye centre the mean of the two eyes (2, 5) and the mouth centre of the mouth corners (9, 10).
// A derived joint's score is the smallest score of the landmarks it is made from.

public enum BlazePoseLandmark: Int, CaseIterable, Sendable {
    case nose, leftEyeInner, leftEye, leftEyeOuter, rightEyeInner, rightEye, rightEyeOuter, leftEar, rightEar
    case mouthLeft, mouthRight, leftShoulder, rightShoulder, leftElbow, rightElbow, leftWrist, rightWrist
    case leftPinky, rightPinky, leftIndex, rightIndex, leftThumb, rightThumb, leftHip, rightHip
    case leftKnee, rightKnee, leftAnkle, rightAnkle, leftHeel, rightHeel, leftFootIndex, rightFootIndex
}

/// Which 17 joints a BlazePose estimator reports.
public enum JointLayout: String, Sendable, CaseIterable {
    /// PoseTrack 2018's order (PoseCore's `PoseTrackJoints`), what the cluster writes.
    case posetrack
    /// COCO's keypoint order.
    case coco

    public static let count = 17

    /// COCO-17 is a subset of the 33 landmarks.
    public static let cocoLandmarks: [BlazePoseLandmark] = [
        .nose, .leftEye, .rightEye, .leftEar, .rightEar, .leftShoulder, .rightShoulder, .leftElbow, .rightElbow,
        .leftWrist, .rightWrist, .leftHip, .rightHip, .leftKnee, .rightKnee, .leftAnkle, .rightAnkle,
    ]

    /// One joint from landmark points `(x, y, score)`: a landmark, or a derived head joint.
    enum Source { case landmark(BlazePoseLandmark), headBottom, headTop }

    static let poseTrackSources: [Source] = [
        .landmark(.nose), .headBottom, .headTop, .landmark(.leftEar), .landmark(.rightEar),
        .landmark(.leftShoulder), .landmark(.rightShoulder), .landmark(.leftElbow), .landmark(.rightElbow),
        .landmark(.leftWrist), .landmark(.rightWrist), .landmark(.leftHip), .landmark(.rightHip),
        .landmark(.leftKnee), .landmark(.rightKnee), .landmark(.leftAnkle), .landmark(.rightAnkle),
    ]

    /// `points`: 33 x (x, y, score) -> 17 x (x, y, score) in this layout.
    public func joints(from points: [Float]) -> [Float] {
        precondition(points.count == BlazePoseLandmark.allCases.count * 3)
        func at(_ l: BlazePoseLandmark) -> (x: Float, y: Float, s: Float) { (points[l.rawValue * 3], points[l.rawValue * 3 + 1], points[l.rawValue * 3 + 2]) }
        let sources: [Source] = self == .coco ? Self.cocoLandmarks.map { .landmark($0) } : Self.poseTrackSources
        var out: [Float] = []
        out.reserveCapacity(Self.count * 3)
        let l = at(.leftEye), r = at(.rightEye), ml = at(.mouthLeft), mr = at(.mouthRight)
        let eye = ((l.x + r.x) / 2, (l.y + r.y) / 2), mouth = ((ml.x + mr.x) / 2, (ml.y + mr.y) / 2)
        let faceScore = min(l.s, r.s, ml.s, mr.s)
        for source in sources {
            switch source {
            case .landmark(let landmark):
                let p = at(landmark)
                out += [p.x, p.y, p.s]
            case .headBottom:
                out += [mouth.0 + (mouth.0 - eye.0), mouth.1 + (mouth.1 - eye.1), faceScore]
            case .headTop:
                out += [eye.0 + 2 * (eye.0 - mouth.0), eye.1 + 2 * (eye.1 - mouth.1), faceScore]
            }
        }
        return out
    }
}
