// The provenance of a job run by `posecoord run` or `serve`: the model as ClusterModel described
// it, the precision, and the build (BuildInfo.current, stamped by the executables).
import Foundation
import PoseCore
import PoseWire

extension Provenance {
    /// `weightsPath` nil: the seeded random demo weights, recorded as such. The precision is the
    /// descriptor's (the job's --precision, `auto` resolved).
    public init(model: ModelDescriptor, weightsPath: String?) {
        let weights = weightsPath.map { ($0 as NSString).lastPathComponent }
            ?? "random (seed 0): no --weights given, the keypoints are meaningless"
        self.init(version: BuildInfo.current.version, commit: BuildInfo.current.commit,
                  model: Model(family: model.family, config: model.variant, sha256: model.sha256.hex, bytes: model.byteCount,
                               weights: weights, random: weightsPath == nil),
                  precision: model.precision)
    }
}
