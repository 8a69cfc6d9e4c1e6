// posecoord serve: coordinates a cluster over an archive (docs/CLUSTER.md). Takes the same
// archive options as `posecoord run`, so both make the same units and the same output bytes.
import Foundation
import PoseArchive
import PoseCluster
import PoseCore

enum ServeCommand {
    private static let defaults = ClusterLimits()
    static let spec = CommandSpec("serve", summary: "coordinate a cluster: lease the archive's windows to poseworker join workers", options: [
        .required("--archive", "DIR", "the archive: a folder of videos (or images/val/VIDEO/ frame folders)"),
        .required("--out", "DIR", "where the per-video .json files and _posecluster/job.json go"),
        .option("--listen", "HOST:PORT", "where workers connect", default: "127.0.0.1:7700"),
        .option("--http", "HOST:PORT", "serve the status page, /status and /metrics there (off loopback they need the token)", default: "none"),
        .flag("--metrics-public", "serve /metrics without the token on a non-loopback --http address"),
        .option("--weights", "FILE", "FTP-Pose weights (.safetensors), sent to workers", default: "none: random 'demo' weights, meaningless keypoints"),
        PrecisionArgument.spec,
        .option("--token-file", "FILE", "shared secret workers must prove (or POSECLUSTER_TOKEN)", default: "none: any worker may join"),
        .option("--state", "DIR", "journal of finished units; restart with the same arguments to resume", default: "OUT/.posecoord-state"),
        .flag("--watch", "keep running and pick up videos added to the archive"),
        .option("--watch-interval-ms", "N", "how often --watch rescans the archive", default: "10000"),
    ] + ArchiveOptions.optionSpecs + [
        .option("--lease-ms", "N", "a unit not returned in this time is leased again", default: "300000", advanced: true),
        .option("--heartbeat-ms", "N", "worker heartbeat interval", default: "\(defaults.heartbeatIntervalMs)", advanced: true),
        .option("--attempts", "N", "attempts before a unit (and its video) fails", default: "3", advanced: true),
        .option("--units-ahead", "N", "units prepared ahead of the workers", default: "64", advanced: true),
        .option("--producers", "N", "videos decoded in parallel", default: "2", advanced: true),
        .option("--handshake-timeout-ms", "N", "time a new connection has to say hello", default: "\(defaults.handshakeTimeoutMs)", advanced: true),
        .option("--max-connections", "N", "open connections at most", default: "\(defaults.connectionsMax)", advanced: true),
    ], notes: """
    The token may also come from the environment variable POSECLUSTER_TOKEN.
    Open the --http address in a browser for the status page; Prometheus scrapes /metrics.
    """)

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let archive = try arguments.required("--archive")
        let out = try arguments.required("--out")
        let listen = try arguments.endpoint("--listen", orDefault: true)!
        let http = try arguments.endpoint("--http")
        let metricsPublic = arguments.flag("--metrics-public")
        let weights = try arguments.option("--weights")
        let tokenFile = try arguments.option("--token-file")
        let state = try arguments.option("--state") ?? (out + "/.posecoord-state")
        let watch = arguments.flag("--watch")
        let watchInterval = try arguments.int("--watch-interval-ms", range: 100...86_400_000)
        let options = try ArchiveOptions.parse(archive: archive, &arguments)
        let precision = try PrecisionArgument.parse(&arguments)
        var limits = ClusterLimits()
        let leaseMs = try arguments.int("--lease-ms", range: 100...86_400_000)
        let heartbeatMs = try arguments.int("--heartbeat-ms", range: 10...600_000)
        let attempts = try arguments.int("--attempts", range: 1...100)
        let unitsAhead = try arguments.int("--units-ahead", range: 1...100_000)
        let producers = try arguments.int("--producers", range: 1...64)
        limits.handshakeTimeoutMs = try arguments.int("--handshake-timeout-ms", range: 100...600_000)
        limits.connectionsMax = try arguments.int("--max-connections", range: 1...100_000)
        try arguments.finish()

        try ArchiveRunner.prepareOutput(out, archive: archive)
        let token = try ClusterToken.load(file: tokenFile, environment: ProcessInfo.processInfo.environment)
        let (weightBytes, model) = try ClusterModel.load(weightsPath: weights, precision: precision)
        if weights == nil {
            FileHandleOutput.error("serve: WARNING: no --weights given: using random 'demo' weights; the keypoints will be meaningless (the status page says so too)")
        }
        var coordinatorConfig = CoordinatorConfig(
            archiveOptions: options, outDirectory: out, stateDirectory: state, listen: listen, http: http,
            weights: weightBytes, model: model, token: token, watchIntervalMs: watch ? watchInterval : nil)
        coordinatorConfig.limits = limits
        coordinatorConfig.randomWeights = weights == nil
        coordinatorConfig.provenance = Provenance(model: model, weightsPath: weights)
        coordinatorConfig.scheduler.leaseDurationMs = Int64(leaseMs)
        coordinatorConfig.scheduler.heartbeatIntervalMs = Int64(heartbeatMs)
        coordinatorConfig.scheduler.attemptsMax = attempts
        coordinatorConfig.scheduler.unitsQueuedMax = unitsAhead
        coordinatorConfig.producerLanes = producers
        coordinatorConfig.metricsPublic = metricsPublic
        coordinatorConfig.limits.heartbeatIntervalMs = heartbeatMs
        coordinatorConfig.limits.peerSilenceMaxMs = max(coordinatorConfig.limits.peerSilenceMaxMs, 3 * heartbeatMs)
        FileHandleOutput.detail("serve: archive \(archive), out \(out), state \(state), listen \(listen)" + (http.map { ", http \($0)" } ?? "")
            + "; lease \(leaseMs) ms, heartbeat \(heartbeatMs) ms, \(attempts) attempts, \(unitsAhead) units ahead, \(producers) producers")
        FileHandleOutput.detail("serve: model \(model.variant) \(model.sha256.hex.prefix(12)), \(weightBytes.count) bytes; \(BuildInfo.current.description)")
        let coordinator = try Coordinator(config: coordinatorConfig) { FileHandleOutput.event("posecoord", $0) }
        return try coordinator.run()
    }
}
