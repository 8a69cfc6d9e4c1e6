// The archive options `posecoord run` and `posecoord serve` share: one parser, so the same
// command line gives the same units (and the same output bytes) on one machine or a cluster.
import PoseArchive
import PoseCore

extension ArchiveOptions {
    /// Reads `--detections DIR`, `--det-format`, `--det-threshold`, `--unit-size`, `--frame-base`.
    static func parse(archive: String, _ arguments: inout CommandArguments) throws -> ArchiveOptions {
        let detections = try arguments.option("--detections")
        var format: DetectionFormat?
        if let text = try arguments.option("--det-format") {
            guard let value = DetectionFormat(argument: text) else {
                throw UsageError("--det-format must be dets.json, txt or json, got \"\(text)\"")
            }
            format = value
        }
        let threshold = try arguments.double("--det-threshold", default: 0.2)
        let unitSize = try arguments.int("--unit-size", default: 16, range: 1...ArchiveOptions.unitSizeMax)
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
