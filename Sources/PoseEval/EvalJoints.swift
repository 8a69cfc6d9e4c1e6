// The 15 joints poseval evaluates, in its order (eval_helpers.Joint, convert.POSETRACK18_LM_NAMES),
// and the groups of the paper's table (eval_helpers.getCum). The ears are never evaluated.

public enum EvalJoints {
    public static let count = 15
    /// poseval's canonical joint names, indexed by its joint id; a file's `categories[0].keypoints`
    /// is mapped onto these by name (convert.Video.from_new).
    public static let names = [
        "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
        "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
        "head_bottom", "nose", "head_top",
    ]
    /// The fallback joint score when a prediction has no `scores` (eval_helpers.MIN_SCORE).
    public static let missingScore = -9999.0
    /// Track ids must stay below this (eval_helpers.MAX_TRACK_ID, asserted in load_data_dir).
    public static let trackIDLimit = 10_000
    /// A predicted joint is correct when its distance is at most this many head sizes (evaluateAP.distThresh).
    public static let distanceThreshold = 0.5
    /// Head size = this factor times the diagonal of the ground-truth head box (eval_helpers.getHeadSize).
    public static let headSizeFactor = 0.6

    /// The table's groups in its column order, each with its joints in the order getCum averages them.
    public static let groups: [(name: String, joints: [Int])] = [
        ("Head", [14, 12, 13]),
        ("Shoulder", [8, 9]),
        ("Elbow", [7, 10]),
        ("Wrist", [6, 11]),
        ("Hip", [2, 3]),
        ("Knee", [1, 4]),
        ("Ankle", [0, 5]),
    ]
}
