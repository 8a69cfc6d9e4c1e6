// poseworker: a cluster worker and the engine's own tools. Each subcommand lives in its own file
// with its option table; PoseCore's CommandLineTool does help, --version, checking and exit statuses.
import BuildStamp
import PoseCluster
import PoseCore

BuildInfo.current = .stamped
EngineDescription.checkEnvironment(tool: "poseworker")
CommandLineTool(
    name: "poseworker",
    summary: "posecluster's worker and the engine's tools.",
    commands: [
        .init(JoinCommand.spec, JoinCommand.main),
        .init(InferCommand.spec, InferCommand.main),
        .init(BenchCommand.spec, BenchCommand.main),
    ],
    notes: EngineDescription.environmentNotes,
    versionDetails: { EngineDescription.versionLines }
).main()
