// The provenance of a job run by `posecoord run` or `serve`: the model as ClusterModel described
// it, the precision, and the build.
import Foundation
import PoseCore
import PoseWire

extension Provenance {
    /// `weightsPath` nil: the seeded random demo weights, recorded as such. The precision is the
    /// descriptor's (the job's --precision, `auto` resolved).
    public init(model: ModelDescriptor, weightsPath: String?) {
        let weights = weightsPath.map { ($0 as NSString).lastPathComponent }
            ?? "random (seed 0): no --weights given, the keypoints are meaningless"
        self.init(version: Provenance.buildVersion, commit: Provenance.buildCommit,
                  model: Model(family: model.family, config: model.variant, sha256: model.sha256.hex, bytes: model.byteCount,
                               weights: weights, random: weightsPath == nil),
                  precision: model.precision)
    }

    /// The build's version and commit (BuildInfo, once the build stamps one).
    static let buildVersion = "unknown"
    static let buildCommit = "unknown"
}
