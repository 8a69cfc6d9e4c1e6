// A video's detection source as Provenance records it: the detection file's name (beside the
// video, or in --detections) and its format, or the built-in detector and its settings. The
// path is left out so the record, and the output bytes, do not depend on where the archive is
// mounted.
import Foundation
import PoseCore

extension Provenance.Detections {
    /// From the video's plan: its detector if one made the boxes, else its detection file.
    public init(plan: VideoPlan) {
        if let source = plan.detectorSource, source.kind == .builtIn {
            self.init(detector: source.summary + (source.coefficientsSHA256.map { ", coefficients SHA-256 \($0)" } ?? ""))
        } else {
            self.init(entry: plan.entry)
        }
    }

    /// From the archive entry alone (a video that failed before it had a plan).
    public init(entry: VideoEntry) {
        if let file = entry.detectionFile {
            let names: [DetectionFormat: String] = [.cocoResults: "coco-results", .mot: "mot", .poseTrack: "posetrack-2018"]
            self.init(file: (file.path as NSString).lastPathComponent, format: names[file.format] ?? file.format.rawValue)
        } else {
            self.init()
        }
    }
}
