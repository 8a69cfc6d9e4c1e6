// posecoord run: annotates a whole archive on this machine (see docs/ARCHIVE.md).
import Foundation
import PoseArchive
import PoseCluster
import PoseCore
import PoseTensor

enum RunCommand {
    static let spec = CommandSpec("run", summary: "annotate an archive on this machine", options: [
        .required("--archive", "DIR", "the archive: a folder of videos (or images/val/VIDEO/ frame folders)"),
        .required("--out", "DIR", "where the per-video .json files and _posecluster/job.json go"),
        .option("--weights", "FILE", "FTP-Pose weights (.safetensors)", default: "none: random 'demo' weights, meaningless keypoints"),
        .option("--threads", "N", "inference threads", default: "CPU cores - 1"),
        PrecisionArgument.spec,
    ] + ArchiveOptions.optionSpecs + [
        .flag("--redo", "do every video again, even those an earlier run with the same model and options wrote (by default they are skipped)"),
        .flag("--dry-run", "decode and crop everything without a model; writes only _posecluster/job.json (checks inputs, measures decode+crop)"),
    ])

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let archive = try arguments.required("--archive")
        let out = try arguments.required("--out")
        let weights = try arguments.option("--weights")
        let threads = try arguments.int("--threads", default: max(1, ProcessInfo.processInfo.activeProcessorCount - 1), range: 1...256)
        let options = try ArchiveOptions.parse(archive: archive, &arguments)
        let precision = try PrecisionArgument.parse(&arguments)
        let dryRun = arguments.flag("--dry-run")
        let redo = arguments.flag("--redo")
        try arguments.finish()

        FileHandleOutput.detail("run: archive \(archive), out \(out), \(threads) threads, unit size \(options.unitSize); \(BuildInfo.current.description)")
        // The weights are read, checked and hashed once: the estimator, provenance and fingerprint share them.
        let (modelBytes, model) = try ClusterModel.load(weightsPath: weights, precision: precision)
        let estimator: any PoseEstimator = dryRun ? ShapeOnlyEstimator(inputShape: model.inputShape)
            : try RunEstimator.make(model: modelBytes, weightsPath: weights, threads: threads, precision: precision)
        let runner = ArchiveRunner(options: options, outDirectory: out, estimator: estimator)
        runner.dryRun = dryRun
        // The model's precision: a family without a bf16 path (BlazePose) runs fp32 whatever was asked.
        let jobPrecision = Precision(rawValue: model.precision) ?? precision
        runner.kernelClass = KernelISA.active.kernelClass(for: jobPrecision)
        runner.provenance = Provenance(model: model, weightsPath: weights)
        runner.progress = { FileHandleOutput.progress($0.line) }
        runner.log = { FileHandleOutput.endProgress(); FileHandleOutput.error("run: " + $0) }
        // A rerun with the same model and options skips the videos already written (RunRecords).
        if !dryRun && !redo { runner.fingerprint = RunRecords.fingerprint(weightsSHA256: weights == nil ? nil : model.sha256.hex,
                                                                      options: options, precision: jobPrecision.rawValue) }
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
