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

extension Tracker {
    /// Links detections made on every `every`-th frame (frames 0, N, 2N, ... and maybe the last),
    /// counting the gap in detections rather than frames, then fills each track's frames between
    /// its detections: boxes and scores linearly interpolated between two detections, the last
    /// box held until the next detection would have been made. Returns the linked detections and
    /// the carried ones (sorted by track, then frame).
    public static func linkSampled(_ detections: [Detection], every: Int, frameCount: Int, gapMax: Int, iouMin: Double)
        -> (linked: [TrackedDetection], carried: [TrackedDetection]) {
        precondition(every >= 1, "linkSampled: every must be >= 1")
        // Sample k is frame k * every (the last frame, if it is not a multiple, is the next sample).
        func frame(ofSample k: Int) -> Int { min(k * every, frameCount - 1) }
        let samples = detections.map { d -> Detection in
            var s = d
            s.frame = (d.frame + every - 1) / every
            precondition(frame(ofSample: s.frame) == d.frame, "linkSampled: frame \(d.frame) is not a sampled frame")
            return s
        }
        var linked = link(samples, gapMax: gapMax, iouMin: iouMin)
        for i in linked.indices { linked[i].detection.frame = frame(ofSample: linked[i].detection.frame) }
        var byTrack: [Int: [Detection]] = [:]
        for item in linked { byTrack[item.trackID, default: []].append(item.detection) }
        var carried: [TrackedDetection] = []
        for trackID in byTrack.keys.sorted() {
            let track = byTrack[trackID]!.sorted { $0.frame < $1.frame }
            for (a, b) in zip(track, track.dropFirst()) where b.frame > a.frame + 1 {
                let span = Double(b.frame - a.frame)
                for frame in a.frame + 1..<b.frame {
                    let t = Double(frame - a.frame) / span
                    func mix(_ u: Double, _ v: Double) -> Double { u + (v - u) * t }
                    let box = BoundingBox(x: mix(a.box.x, b.box.x), y: mix(a.box.y, b.box.y),
                                          width: mix(a.box.width, b.box.width), height: mix(a.box.height, b.box.height))
                    carried.append(TrackedDetection(detection: Detection(frame: frame, box: box, score: mix(a.score, b.score), trackID: nil), trackID: trackID))
                }
            }
            let last = track[track.count - 1]
            let holdEnd = min(frameCount - 1, last.frame + every - 1)
            if holdEnd > last.frame {
                for frame in last.frame + 1...holdEnd {
                    carried.append(TrackedDetection(detection: Detection(frame: frame, box: last.box, score: last.score, trackID: nil), trackID: trackID))
                }
            }
        }
        return (linked, carried)
    }
}
