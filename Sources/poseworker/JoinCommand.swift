// poseworker join: works for a coordinator until it says the job is done (docs/CLUSTER.md).
import Foundation
import PoseCluster
import PoseCore

enum JoinCommand {
    static let usage = """
    usage: poseworker join HOST:PORT [--threads N] [--credits N] [--batch N] [--token-file F] [--cache DIR]
                                     [--name NAME] [--null-model --service-ms N] [--connect-attempts N]
      The token may also come from the environment variable POSECLUSTER_TOKEN.
      --cache defaults to ~/.cache/posecluster (weights are kept there by SHA-256).
      --null-model --service-ms N: sleep N ms per unit and return dummy keypoints (capacity benchmarks).
      SIGTERM drains: the worker finishes the units it holds, says goodbye and exits 0.
      Test hook: POSECLUSTER_TEST_POISON=VIDEO:UNIT makes the worker abort when it receives that unit.
    """

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        if arguments.flag("--help") { print(usage); return 0 }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = try arguments.int("--threads", default: max(1, cores), range: 1...256)
        let credits = try arguments.int("--credits", default: 4, range: 1...64)
        let batch = try arguments.int("--batch", default: ClusterModel.batchWindowsDefault, range: 1...256)
        let tokenFile = try arguments.option("--token-file")
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSTemporaryDirectory()
        let cache = try arguments.option("--cache") ?? (home + "/.cache/posecluster")
        let name = try arguments.option("--name") ?? (ProcessInfo.processInfo.hostName + ":\(getpid())")
        let nullModel = arguments.flag("--null-model")
        let serviceMs = try arguments.int("--service-ms", default: 0, range: 0...3_600_000)
        let attempts = try arguments.option("--connect-attempts").map { text -> Int in
            guard let value = Int(text), value >= 1 else { throw UsageError("--connect-attempts must be a positive integer, got \"\(text)\"") }
            return value
        }
        guard let address = arguments.positional() else { throw UsageError("missing the coordinator's HOST:PORT\n\(usage)") }
        try arguments.finish()
        let endpoint = try Endpoint(parsing: address, option: "HOST:PORT")
        let environment = ProcessInfo.processInfo.environment
        let token = try ClusterToken.load(file: tokenFile, environment: environment)

        var config = WorkerConfig(coordinator: endpoint, name: name, threads: threads, credits: credits, batchWindows: batch,
                                  token: token, cacheDirectory: cache, nullServiceMs: nullModel ? serviceMs : nil)
        config.connectAttemptsMax = attempts
        if let poison = environment["POSECLUSTER_TEST_POISON"] {
            let parts = poison.split(separator: ":")
            guard parts.count >= 2, let unit = Int(parts.last!) else {
                throw UsageError("POSECLUSTER_TEST_POISON must be VIDEO:UNIT, got \"\(poison)\"")
            }
            config.poison = (parts.dropLast().joined(separator: ":"), unit)
        }
        let worker = try Worker(config: config, makeEstimator: ClusterModel.estimatorFactory) {
            FileHandleOutput.error("poseworker: " + $0)
        }
        return worker.run()
    }
}
