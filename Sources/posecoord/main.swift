// posecoord: the coordinator's command line. Each subcommand lives in its own file with its
// option table; PoseCore's CommandLineTool does help, --version, checking and exit statuses.
import BuildStamp
import PoseCluster
import PoseCore

BuildInfo.current = .stamped
EngineDescription.checkEnvironment(tool: "posecoord")
CommandLineTool(
    name: "posecoord",
    summary: "posecluster's coordinator: annotates video archives with human poses, on this machine or a cluster.",
    commands: [
        .init(RunCommand.spec, RunCommand.main),
        .init(ServeCommand.spec, ServeCommand.main),
        .init(StatusCommand.spec, StatusCommand.main),
        .init(SynthCommand.spec, SynthCommand.main),
        .init(EvalCommand.spec, EvalCommand.main),
        .init(RenderCommand.spec, RenderCommand.main),
    ],
    notes: EngineDescription.environmentNotes,
    versionDetails: { EngineDescription.versionLines }
).main()
