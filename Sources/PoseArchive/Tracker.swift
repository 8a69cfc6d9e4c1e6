// Linking detections into person tracks. Given track ids are kept; boxes without one are linked
// frame by frame to the live tracks by IoU with an optimal (Hungarian) assignment, a track
// surviving up to `gapMax` frames without a box. Deterministic: the same boxes in the same
// order give the same tracks.
import PoseCore

public struct TrackedDetection: Equatable, Sendable {
    public var detection: Detection
    public var trackID: Int
}

public enum Tracker {
    /// Assigns a track id to every detection. Detections must be valid (frame >= 0).
    /// New track ids start above the largest given one, in order of first appearance.
    public static func link(_ detections: [Detection], gapMax: Int, iouMin: Double) -> [TrackedDetection] {
        // Stable order by frame, so the file's order decides ties within a frame.
        let ordered = detections.enumerated().sorted { ($0.element.frame, $0.offset) < ($1.element.frame, $1.offset) }.map(\.element)
        var result: [TrackedDetection] = []
        result.reserveCapacity(ordered.count)
        var untracked: [(index: Int, detection: Detection)] = []
        var usedInFrame: Set<[Int]> = []
        var nextID = 0
        for detection in ordered {
            if let id = detection.trackID, !usedInFrame.contains([detection.frame, id]) {
                usedInFrame.insert([detection.frame, id])
                nextID = max(nextID, id + 1)
                result.append(TrackedDetection(detection: detection, trackID: id))
            } else {
                // A repeated given id in one frame is treated as unknown, so ids stay unique per frame.
                var free = detection
                free.trackID = nil
                untracked.append((result.count, free))
                result.append(TrackedDetection(detection: free, trackID: -1))
            }
        }
        struct Live { var id: Int; var box: BoundingBox; var lastFrame: Int }
        var live: [Live] = []
        var start = 0
        while start < untracked.count {
            let frame = untracked[start].detection.frame
            var end = start
            while end < untracked.count && untracked[end].detection.frame == frame { end += 1 }
            live.removeAll { frame - $0.lastFrame > gapMax + 1 }
            let boxes = untracked[start..<end]
            var costs = [Double](repeating: 0, count: live.count * boxes.count)
            for (t, track) in live.enumerated() {
                for (b, item) in boxes.enumerated() { costs[t * boxes.count + b] = 1 - track.box.iou(item.detection.box) }
            }
            let assignment = Hungarian.assign(costs: costs, rows: live.count, columns: boxes.count)
            var boxTrack = [Int](repeating: -1, count: boxes.count)
            for (t, b) in assignment.enumerated() where b >= 0 && 1 - costs[t * boxes.count + b] >= iouMin {
                boxTrack[b] = t
            }
            for (b, item) in boxes.enumerated() {
                let id: Int
                if boxTrack[b] >= 0 {
                    let t = boxTrack[b]
                    id = live[t].id
                    live[t].box = item.detection.box
                    live[t].lastFrame = frame
                } else {
                    id = nextID
                    nextID += 1
                    live.append(Live(id: id, box: item.detection.box, lastFrame: frame))
                }
                result[item.index].trackID = id
            }
            start = end
        }
        return result
    }
}
