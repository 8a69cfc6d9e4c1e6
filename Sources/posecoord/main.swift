// posecoord: the coordinator's command line. Each subcommand lives in its own file.
import PoseCore
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: posecoord <command> [options]      (posecoord <command> --help for all options)

commands:
  run     annotate an archive on this machine:  posecoord run --archive DIR --out DIR [--weights FILE] [--threads N]
  synth   make a synthetic archive:             posecoord synth --out DIR [--videos N] [--frames F] [--seed S]
  serve   coordinate a cluster:                 posecoord serve --archive DIR --out DIR --listen HOST:PORT [--http HOST:PORT]
  status  print a coordinator's status:         posecoord status HOST:PORT   (its --http address)
  eval    PoseTrack mAP (and MOTA) of predictions: posecoord eval --gt DIR --pred DIR [--track] [--json FILE]
  render  draw poses on the frames:             posecoord render --archive DIR --poses OUT --to DEST [--mp4 | --sheet N]
"""

let commands: [String: (inout CommandArguments) throws -> Int32] = [
    "run": RunCommand.main,
    "synth": SynthCommand.main,
    "serve": ServeCommand.main,
    "status": StatusCommand.main,
    "eval": EvalCommand.main,
    "render": RenderCommand.main,
]

let all = Array(CommandLine.arguments.dropFirst())
guard let name = all.first, name != "--help", name != "-h" else {
    print(usage)
    exit(all.isEmpty ? 2 : 0)
}
guard let command = commands[name] else {
    FileHandleOutput.error("posecoord: unknown command \"\(name)\"\n\(usage)")
    exit(2)
}
var arguments = CommandArguments(Array(all.dropFirst()))
do {
    exit(try command(&arguments))
} catch let error as UsageError {
    FileHandleOutput.error("posecoord \(name): \(error)")
    exit(2)
} catch {
    FileHandleOutput.error("posecoord \(name): \(error)")
    exit(1)
}
