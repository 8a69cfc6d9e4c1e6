// posecoord serve: coordinates a cluster over an archive (docs/CLUSTER.md). Takes the same
// archive options as `posecoord run`, so both make the same units and the same output bytes.
import Foundation
import PoseArchive
import PoseCluster
import PoseCore

enum ServeCommand {
    static let usage = """
    usage: posecoord serve --archive DIR --out DIR [--listen HOST:PORT] [--http HOST:PORT]
                           [--weights FILE] [--token-file F] [--state DIR] [--watch [--watch-interval-ms N]]
                           [--detections DIR] [--det-format dets.json|txt|json] [--det-threshold 0.2] [--unit-size 16] [--frame-base 0|1]
                           [--lease-ms 300000] [--heartbeat-ms 1000] [--attempts 3] [--units-ahead 64] [--producers 2]
                           [--handshake-timeout-ms 5000] [--max-connections 1024]
      The token may also come from the environment variable POSECLUSTER_TOKEN.
      --state defaults to OUT/.posecoord-state; start again with the same arguments to resume.
    """

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        if arguments.flag("--help") { print(usage); return 0 }
        let archive = try arguments.required("--archive")
        let out = try arguments.required("--out")
        let listen = try Endpoint(parsing: try arguments.option("--listen") ?? "127.0.0.1:7700", option: "--listen")
        let http = try arguments.option("--http").map { try Endpoint(parsing: $0, option: "--http") }
        let weights = try arguments.option("--weights")
        let tokenFile = try arguments.option("--token-file")
        let state = try arguments.option("--state") ?? (out + "/.posecoord-state")
        let watch = arguments.flag("--watch")
        let watchInterval = try arguments.int("--watch-interval-ms", default: 10_000, range: 100...86_400_000)
        let options = try ArchiveOptions.parse(archive: archive, &arguments)
        var limits = ClusterLimits()
        let leaseMs = try arguments.int("--lease-ms", default: 300_000, range: 100...86_400_000)
        let heartbeatMs = try arguments.int("--heartbeat-ms", default: 1_000, range: 10...600_000)
        let attempts = try arguments.int("--attempts", default: 3, range: 1...100)
        let unitsAhead = try arguments.int("--units-ahead", default: 64, range: 1...100_000)
        let producers = try arguments.int("--producers", default: 2, range: 1...64)
        limits.handshakeTimeoutMs = try arguments.int("--handshake-timeout-ms", default: 5_000, range: 100...600_000)
        limits.connectionsMax = try arguments.int("--max-connections", default: 1_024, range: 1...100_000)
        try arguments.finish()

        try ArchiveRunner.prepareOutput(out, archive: archive)
        let token = try ClusterToken.load(file: tokenFile, environment: ProcessInfo.processInfo.environment)
        let (weightBytes, model) = try ClusterModel.load(weightsPath: weights)
        if weights == nil {
            FileHandleOutput.error("serve: no --weights given: using random 'demo' weights (keypoints will be meaningless)")
        }
        var coordinatorConfig = CoordinatorConfig(
            archiveOptions: options, outDirectory: out, stateDirectory: state, listen: listen, http: http,
            weights: weightBytes, model: model, token: token, watchIntervalMs: watch ? watchInterval : nil)
        coordinatorConfig.limits = limits
        coordinatorConfig.scheduler.leaseDurationMs = Int64(leaseMs)
        coordinatorConfig.scheduler.heartbeatIntervalMs = Int64(heartbeatMs)
        coordinatorConfig.scheduler.attemptsMax = attempts
        coordinatorConfig.scheduler.unitsQueuedMax = unitsAhead
        coordinatorConfig.producerLanes = producers
        coordinatorConfig.limits.heartbeatIntervalMs = heartbeatMs
        coordinatorConfig.limits.peerSilenceMaxMs = max(coordinatorConfig.limits.peerSilenceMaxMs, 3 * heartbeatMs)
        let coordinator = try Coordinator(config: coordinatorConfig) { FileHandleOutput.error("posecoord: " + $0) }
        return try coordinator.run()
    }
}
