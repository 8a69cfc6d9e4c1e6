// posecoord run: annotates a whole archive on this machine (see docs/ARCHIVE.md).
import Foundation
import PoseArchive
import PoseCore

enum RunCommand {
    static let usage = """
    usage: posecoord run --archive DIR --out DIR [--weights FILE] [--threads N] [--detections DIR]
                         [--det-format dets.json|txt|json] [--det-threshold 0.2] [--unit-size 16] [--frame-base 0|1] [--dry-run]

      --dry-run  decode and crop everything without a model; writes only _posecluster/job.json
                 (checks an archive's inputs, measures decode+crop throughput)
    """

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        if arguments.flag("--help") { print(usage); return 0 }
        let archive = try arguments.required("--archive")
        let out = try arguments.required("--out")
        let weights = try arguments.option("--weights")
        let threads = try arguments.int("--threads", default: max(1, ProcessInfo.processInfo.activeProcessorCount - 1), range: 1...256)
        let options = try ArchiveOptions.parse(archive: archive, &arguments)
        let dryRun = arguments.flag("--dry-run")
        try arguments.finish()

        let estimator = dryRun ? RunEstimator.shapeOnly(weights: weights) : try RunEstimator.make(weights: weights, threads: threads)
        let runner = ArchiveRunner(options: options, outDirectory: out, estimator: estimator)
        runner.dryRun = dryRun
        runner.progress = { FileHandleOutput.progress($0.line) }
        runner.log = { FileHandleOutput.endProgress(); FileHandleOutput.error("run: warning: " + $0) }
        let report = try runner.run()
        FileHandleOutput.endProgress()
        for video in report.videos where video.status == .failed || video.unitsFailed > 0 {
            FileHandleOutput.error("  \(video.name): \(video.reason ?? "failed")")
        }
        let line = "run: \(report.summary) in \(String(format: "%.1f", report.seconds)) s; outputs in \(out), report in \(JobReport.path(in: out))"
        if report.succeeded {
            print(line)
            return 0
        }
        FileHandleOutput.error(line)
        return 1
    }
}
