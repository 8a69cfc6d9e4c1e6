// Merging the keypoints of one video's units and writing its PoseTrack 2018 file. The first
// result for a unit wins; the file's bytes depend only on the plan and the accepted results,
// never on the order units arrived in. Windows of a failed unit are absent from the file.
import Foundation
import PoseCore

public struct VideoResults: Sendable {
    public let plan: VideoPlan
    /// Accepted keypoints per unit (one WindowKeypoints per window, heatmap pixels).
    public private(set) var accepted: [Int: [WindowKeypoints]] = [:]
    /// Failed units and why.
    public private(set) var failed: [Int: String] = [:]
    /// Results that arrived for a unit already accepted or failed (dropped).
    public private(set) var duplicates = 0
    /// The job's provenance; the file's `info` adds this video's detection source.
    public var provenance: Provenance?

    public init(plan: VideoPlan, provenance: Provenance? = nil) { self.plan = plan; self.provenance = provenance }

    public var isComplete: Bool { accepted.count + failed.count == plan.units.count }

    /// Takes a unit's result. Returns false (and drops it) if the unit already has one.
    /// Throws `ArchiveError.badResult` when the result does not fit the unit (wrong number of
    /// windows or joints, a value that is not finite): the unit stays open for another try.
    @discardableResult
    public mutating func accept(unitIndex: Int, keypoints: [WindowKeypoints]) throws -> Bool {
        guard plan.units.indices.contains(unitIndex) else {
            throw ArchiveError(.badResult, path: plan.entry.name, reason: "unit \(unitIndex) does not exist (\(plan.units.count) units)")
        }
        if accepted[unitIndex] != nil || failed[unitIndex] != nil { duplicates += 1; return false }
        let unit = plan.units[unitIndex]
        guard keypoints.count == unit.windows.count else {
            throw ArchiveError(.badResult, path: plan.entry.name, reason: "unit \(unitIndex): \(keypoints.count) results for \(unit.windows.count) windows")
        }
        let joints = plan.inputShape.joints
        for (w, window) in keypoints.enumerated() {
            guard window.values.count == joints * 3 else {
                throw ArchiveError(.badResult, path: plan.entry.name, reason: "unit \(unitIndex) window \(w): \(window.values.count) values, expected \(joints * 3)")
            }
            guard window.values.allSatisfy({ $0.isFinite }) else {
                throw ArchiveError(.badResult, path: plan.entry.name, reason: "unit \(unitIndex) window \(w): a value is not finite")
            }
        }
        accepted[unitIndex] = keypoints
        return true
    }

    /// Marks a unit failed (its windows will be absent). Returns false if it already had an outcome.
    @discardableResult
    public mutating func fail(unitIndex: Int, reason: String) -> Bool {
        precondition(plan.units.indices.contains(unitIndex), "fail: unit \(unitIndex) of \(plan.units.count)")
        if accepted[unitIndex] != nil || failed[unitIndex] != nil { return false }
        failed[unitIndex] = reason
        return true
    }

    /// The output file's name inside the output folder.
    public var fileName: String { plan.entry.name + ".json" }

    /// The PoseTrack 2018 file of the accepted results.
    public func poseTrackFile() -> PoseTrackFile {
        let name = plan.entry.name
        let usesPoseTrackIDs = PoseTrackNaming.imageID(videoName: name, frame: 0) != nil && plan.frameCount <= 10_000
        func imageID(_ frame: Int) -> Int {
            usesPoseTrackIDs ? PoseTrackNaming.imageID(videoName: name, frame: frame)! : frame
        }
        let videoID = usesPoseTrackIDs ? String(name.prefix(6)) : name
        let images = (0..<plan.frameCount).map { frame in
            PoseTrackImage(fileName: PoseTrackNaming.fileName(videoName: name, frame: frame), id: imageID(frame),
                           frameID: imageID(frame), videoID: videoID, frameCount: plan.frameCount)
        }
        let shape = plan.inputShape
        var rows: [(keyFrame: Int, trackID: Int, annotation: PoseTrackAnnotation)] = []
        for (unitIndex, results) in accepted {
            for (window, keypoints) in zip(plan.units[unitIndex].windows, results) {
                var points: [Double] = [], scores: [Double] = []
                var confident = 0.0, confidentCount = 0
                for j in 0..<shape.joints {
                    let px = Double(keypoints.values[j * 3]), py = Double(keypoints.values[j * 3 + 1])
                    let score = Double(keypoints.values[j * 3 + 2])
                    let (x, y) = window.geometry.imagePoint(heatmapX: px, heatmapY: py,
                                                            heatmapWidth: shape.heatmapWidth, heatmapHeight: shape.heatmapHeight)
                    // Joint scores keep every digit of the model's Float: rounding them would make ties,
                    // and the official kit orders tied scores with an unstable sort (docs/EVAL.md).
                    let exactScore = PoseTrackNaming.exact(keypoints.values[j * 3 + 2])
                    points += [Self.rounded(x), Self.rounded(y), exactScore]
                    scores.append(exactScore)
                    if score > Self.jointScoreMin { confident += score; confidentCount += 1 }
                }
                let personScore = window.boxScore * (confidentCount > 0 ? confident / Double(confidentCount) : 0)
                let box = window.box
                rows.append((window.keyFrame, window.trackID, PoseTrackAnnotation(
                    imageID: imageID(window.keyFrame), trackID: window.trackID, categoryID: 1, keypoints: points, scores: scores,
                    bbox: [box.x, box.y, box.width, box.height].map(Self.rounded), score: Self.rounded(personScore))))
            }
        }
        rows.sort { ($0.keyFrame, $0.trackID) < ($1.keyFrame, $1.trackID) }
        // COCO's fields: `id` the 1-based position in the file (COCOeval takes id 0 for "no match"),
        // `num_keypoints` the joints with a score above 0, `area` the box's.
        let annotations = rows.enumerated().map { index, row in
            var annotation = row.annotation
            annotation.id = index + 1
            annotation.numKeypoints = PoseTrackAnnotation.labelledKeypoints(annotation.keypoints ?? [])
            annotation.area = annotation.bbox.map { Self.rounded($0[2] * $0[3]) }
            return annotation
        }
        return PoseTrackFile(images: images, annotations: annotations,
                             info: provenance?.with(detections: Provenance.Detections(plan: plan)))
    }

    /// The file's bytes (deterministic).
    public func encoded() throws -> [UInt8] { try poseTrackFile().encoded() }

    /// Writes `OUT/NAME.json` atomically.
    public func write(to outDirectory: String) throws {
        try AtomicFile.write(encoded(), to: outDirectory + "/" + fileName)
    }

    /// Joint scores above this count in the person score (FTP-POSE.md section 6).
    public static let jointScoreMin = 0.2

    /// 1/1000 of a pixel, as PoseTrackNaming.rounded does for Float.
    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
