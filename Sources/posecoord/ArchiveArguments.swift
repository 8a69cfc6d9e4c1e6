// The archive options `posecoord run` and `posecoord serve` share: one table and one parser, so
// the same command line gives the same units (and the same output bytes) on one machine or a cluster.
import PoseArchive
import PoseCore

extension ArchiveOptions {
    /// `--detections`, `--det-format`, `--det-threshold`, `--unit-size`, `--frame-base`, as table entries.
    static let optionSpecs: [OptionSpec] = [
        .option("--detections", "DIR", "where the detection files are", default: "beside the videos"),
        .option("--det-format", "FORMAT", "detection file format: dets.json, txt or json", default: "by file name"),
        .option("--det-threshold", "SCORE", "ignore detections scoring below this", default: "0.2"),
        .option("--unit-size", "N", "windows per work unit (changes the units, not the outputs)", default: "16"),
        .option("--frame-base", "0|1", "the number of a video's first frame in the detection files", default: "detected from the file (see docs/ARCHIVE.md)"),
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
        return ArchiveOptions(archive: archive, detections: detections, detectionFormat: format,
                              detectionThreshold: threshold, unitSize: unitSize, frameBase: frameBase)
    }
}
