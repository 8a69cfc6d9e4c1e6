// What was built: the version and the git commit, for `--version`, /metrics and the
// provenance of outputs. The commit is stamped at build time by the BuildStamp plugin
// (Plugins/BuildStamp) into the executables, which set `BuildInfo.current` before anything
// else runs; library code and tests read it and see "unknown" when nothing stamped it.

public struct BuildInfo: Sendable, Equatable {
    /// The release this source tree is (semantic versioning).
    public static let version = "0.2.0"

    public var version: String
    /// Abbreviated commit hash, with "-dirty" when the tree had uncommitted changes; "unknown"
    /// outside a git checkout.
    public var commit: String

    public init(version: String = BuildInfo.version, commit: String) {
        self.version = version; self.commit = commit
    }

    /// Set once by each executable's entry point, before any thread starts.
    nonisolated(unsafe) public static var current = BuildInfo(commit: "unknown")

    /// `0.2.0 (commit 1a2b3c4d5e6f)`.
    public var description: String { "\(version) (commit \(commit))" }
}
