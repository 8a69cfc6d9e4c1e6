// The archive options `posecoord run` and `posecoord serve` share: one table and one parser, so
// the same command line gives the same units (and the same output bytes) on one machine or a cluster.
import Foundation
import PoseArchive
import PoseCore
import PoseDetect

extension ArchiveOptions {
    /// `--detections`, `--det-format`, `--det-threshold`, `--unit-size`, `--frame-base`, as table entries.
    static let optionSpecs: [OptionSpec] = [
        .option("--detections", "DIR", "where the detection files are", default: "beside the videos"),
        .option("--det-format", "FORMAT", "detection file format: dets.json, txt or json", default: "by file name"),
        .option("--det-threshold", "SCORE", "ignore detections scoring below this", default: "0.2"),
        .option("--unit-size", "N", "windows per work unit (changes the units, not the outputs)", default: "16"),
        .option("--frame-base", "0|1", "the number of a video's first frame in the detection files", default: "detected from the file (see docs/ARCHIVE.md)"),
        .option("--detector", "hog", "find people with the built-in HOG detector in videos without a detection file (a baseline: a modern detector's boxes are better)", default: "none: such a video fails"),
        .option("--detect-every", "N", "with --detector: detect on every Nth frame, the tracker carries boxes between", default: "5"),
        .option("--hog-upscale", "F", "with --detector hog: enlarge frames by F first (the window finds people >= 100 px)", default: "1.5", advanced: true),
        .option("--detector-threads", "N", "with --detector: frames searched at once", default: "CPU cores - 1", advanced: true),
    ]

    /// Reads the options of `optionSpecs`.
    static func parse(archive: String, _ arguments: inout CommandArguments) throws -> ArchiveOptions {
        let detections = try arguments.option("--detections")
        var format: DetectionFormat?
        if let text = try arguments.option("--det-format") {
            guard let value = DetectionFormat(argument: text) else {
                throw UsageError("--det-format must be dets.json, txt or json, got \"\(text)\"")
            }
            format = value
        }
        let threshold = try arguments.double("--det-threshold")
        let unitSize = try arguments.int("--unit-size", range: 1...ArchiveOptions.unitSizeMax)
        var frameBase: FrameBase?
        if let text = try arguments.option("--frame-base") {
            guard let value = Int(text).flatMap(FrameBase.init(rawValue:)) else {
                throw UsageError("--frame-base must be 0 or 1 (the number of a video's first frame in the detection file), got \"\(text)\"")
            }
            frameBase = value
        }
        var options = ArchiveOptions(archive: archive, detections: detections, detectionFormat: format,
                                     detectionThreshold: threshold, unitSize: unitSize, frameBase: frameBase)
        try parseDetector(into: &options, &arguments)
        return options
    }

    /// `--detector hog`, `--detect-every N`, `--hog-upscale F`, `--detector-threads N`.
    static func parseDetector(into options: inout ArchiveOptions, _ arguments: inout CommandArguments) throws {
        let name = try arguments.option("--detector")
        let every = try arguments.int("--detect-every", default: 5, range: 1...BuiltInDetector.everyMax)
        let upscale = try arguments.double("--hog-upscale", default: HOGParameters().upscale)
        let threads = try arguments.int("--detector-threads", default: max(1, ProcessInfo.processInfo.activeProcessorCount - 1), range: 1...256)
        switch name {
        case nil, "none"?:
            return
        case "hog"?:
            let hog = HOGParameters(upscale: upscale)
            if let problem = hog.problem { throw UsageError("--hog-upscale: \(problem)") }
            options.detector = BuiltInDetector(hog: hog, every: every)
            options.detectorThreads = threads
        case let other?:
            throw UsageError("--detector must be hog (or none), got \"\(other)\"")
        }
    }
}
