// The model behind `posecoord run`: FTP-Pose from --weights, or random demo weights.
import PoseCore

enum RunEstimator {
    static func make(weights: String?, threads: Int) throws -> any PoseEstimator {
        throw UsageError("'run' needs the FTP-Pose engine, which is not in this build yet")
    }
}
