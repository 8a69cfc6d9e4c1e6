// A video's detection source as Provenance records it: the detection file's name (beside the
// video, or in --detections) and its format; the path is left out so the record, and the output
// bytes, do not depend on where the archive is mounted.
import Foundation
import PoseCore

extension Provenance.Detections {
    public init(entry: VideoEntry) {
        if let file = entry.detectionFile {
            let names: [DetectionFormat: String] = [.cocoResults: "coco-results", .mot: "mot", .poseTrack: "posetrack-2018"]
            self.init(file: (file.path as NSString).lastPathComponent, format: names[file.format] ?? file.format.rawValue)
        } else {
            self.init()
        }
    }
}
