// PoseTrack 2018's 17 joints, in its order (FTP-POSE.md section 6).

public enum PoseTrackJoints {
    public static let count = 17
    public static let names = [
        "nose", "head_bottom", "head_top", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ]
    /// 1-based limb pairs, as PoseTrack's `categories[0].skeleton`.
    public static let skeleton: [[Int]] = [
        [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7],
        [6, 8], [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
    ]
    /// Left/right pairs for a flip test; joints 0-2 have none.
    public static let flipPairs = [(3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
    /// The ears: present in images, never labelled in PoseTrack ground truth, never evaluated.
    public static let unlabelled: Set<Int> = [3, 4]
}
