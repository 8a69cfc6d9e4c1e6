// poseworker: a cluster worker and the engine's own tools. Each subcommand lives in its own file.
import PoseCore
import PoseTensor
#if canImport(Glibc)
import Glibc
#endif

let usage = """
usage: poseworker <command> [options]      (poseworker join --help for all its options)

commands:
  join    work for a coordinator:    poseworker join HOST:PORT [--threads N] [--credits N] [--token-file F] [--cache DIR]
  infer   run the model on a file:   poseworker infer --weights W --input X --output Y [--prune HR,LR] [--precision fp32|bf16|auto]
                                     (a BlazePose W: X holds U8 crops [B, 256, 256, 3]; [--layout posetrack|coco])
  bench   measure the engine:        poseworker bench [--model b|s|demo|FILE (FTP-Pose or BlazePose)] [--batch N] [--threads N] [--prune HR,LR]
                                     [--iterations N] [--compare-unpruned] [--kernels] [--precision fp32|bf16|auto]
  POSE_ISA=generic|avx2|avx512|avx512bf16|amx forces a kernel variant (the default is the best this CPU runs)
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
// join prints its own long help; infer and bench are described by the usage above.
if name != "join", all.dropFirst().contains(where: { $0 == "--help" || $0 == "-h" }) {
    print(usage)
    exit(0)
}
var arguments = CommandArguments(Array(all.dropFirst()))
do {
    _ = try KernelISA.fromEnvironment()   // a bad POSE_ISA fails here, as a sentence
} catch {
    FileHandleOutput.error("poseworker: \(error)")
    exit(2)
}
do {
    exit(try command(&arguments))
} catch let error as UsageError {
    FileHandleOutput.error("poseworker \(name): \(error)")
    exit(2)
} catch {
    FileHandleOutput.error("poseworker \(name): \(error)")
    exit(1)
}
