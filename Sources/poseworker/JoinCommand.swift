// poseworker join: works for a coordinator until it says the job is done (docs/CLUSTER.md).
import Foundation
import PoseCluster
import PoseCore

enum JoinCommand {
    static let spec = CommandSpec("join", summary: "work for a coordinator until it says the job is done",
                                  positionals: "HOST:PORT", options: [
        .option("--threads", "N", "inference threads", default: "all CPU cores"),
        .option("--credits", "N", "units held at once (leased ahead of the one computing)", default: "4"),
        .option("--batch", "N", "windows per forward pass", default: "\(ClusterModel.batchWindowsDefault)"),
        .option("--token-file", "FILE", "the coordinator's shared secret (or POSECLUSTER_TOKEN)", default: "none"),
        .option("--cache", "DIR", "where weights are kept by SHA-256", default: "~/.cache/posecluster"),
        .option("--name", "NAME", "this worker's identity on the status page and in /metrics (counters survive reconnects)", default: "the host name"),
        .option("--connect-attempts", "N", "give up after N failed connection attempts", default: "retry forever"),
        .flag("--null-model", "return dummy keypoints instead of running the model (capacity benchmarks)", advanced: true),
        .option("--service-ms", "N", "with --null-model: sleep N ms per unit", default: "0", advanced: true),
    ], notes: """
    HOST:PORT is the coordinator's --listen address. The token may also come from the
    environment variable POSECLUSTER_TOKEN. SIGTERM drains: the worker finishes the units it
    holds, says goodbye and exits 0.
    """)

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threads = try arguments.int("--threads", default: max(1, cores), range: 1...256)
        let credits = try arguments.int("--credits", range: 1...64)
        let batch = try arguments.int("--batch", range: 1...256)
        let tokenFile = try arguments.option("--token-file")
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSTemporaryDirectory()
        let cache = try arguments.option("--cache") ?? (home + "/.cache/posecluster")
        let name = try arguments.option("--name") ?? ProcessInfo.processInfo.hostName
        let nullModel = arguments.flag("--null-model")
        let serviceMs = try arguments.int("--service-ms", range: 0...3_600_000)
        let attempts = try arguments.option("--connect-attempts") != nil ? try arguments.int("--connect-attempts", range: 1...Int.max) : nil
        guard let address = arguments.positional() else { throw UsageError("missing the coordinator's HOST:PORT (its --listen address)") }
        try arguments.finish()
        let endpoint = try Endpoint(argument: address, option: "HOST:PORT")
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
        FileHandleOutput.detail("join: \(endpoint) as \(name), \(threads) threads, \(credits) credits, batch \(batch), cache \(cache); \(BuildInfo.current.description)")
        let worker = try Worker(config: config, makeEstimator: ClusterModel.estimatorFactory) {
            FileHandleOutput.event("poseworker", $0)
        }
        return worker.run()
    }
}
