// The git commit this binary was built from; `buildStampCommit` is generated before each build
// by Plugins/BuildStampPlugin. Executables copy it into PoseCore's BuildInfo.current at start.
import PoseCore

extension BuildInfo {
    /// The version of this source tree and the commit the plugin stamped.
    public static var stamped: BuildInfo { BuildInfo(commit: buildStampCommit) }
}
