// poseworker: a cluster worker and the engine's own tools. Each subcommand lives in its own file.
import PoseCore
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: poseworker <command> [options]

commands:
  join    work for a coordinator:    poseworker join HOST:PORT [--threads N] [--token-file F] [--cache DIR]
  infer   run the model on a file:   poseworker infer --weights W --input X --output Y [--prune HR,LR]
  bench   measure the engine:        poseworker bench [--model b|s|demo|FILE] [--batch N] [--threads N]
"""

let commands: [String: (inout CommandArguments) throws -> Int32] = [
    "join": JoinCommand.main,
    "infer": InferCommand.main,
    "bench": BenchCommand.main,
]

let all = Array(CommandLine.arguments.dropFirst())
guard let name = all.first, name != "--help", name != "-h" else {
    print(usage)
    exit(all.isEmpty ? 2 : 0)
}
guard let command = commands[name] else {
    FileHandleOutput.error("poseworker: unknown command \"\(name)\"\n\(usage)")
    exit(2)
}
var arguments = CommandArguments(Array(all.dropFirst()))
do {
    exit(try command(&arguments))
} catch let error as UsageError {
    FileHandleOutput.error("poseworker \(name): \(error)")
    exit(2)
} catch {
    FileHandleOutput.error("poseworker \(name): \(error)")
    exit(1)
}
