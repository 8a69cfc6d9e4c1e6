// The plan of one video, from its detection file and frame count/size only (no frame is
// decoded): boxes filtered and clipped, tracks linked, one window per box, windows grouped into
// units of consecutive key frames of one track. The coordinator and `posecoord run` build the
// same plan from the same inputs, so unit indices mean the same everywhere.
import Foundation
import PoseCore
import PoseMedia

/// One person in one key frame: cropped with `geometry` over frames keyFrame-T/2...keyFrame+T/2.
public struct WindowPlan: Equatable, Sendable {
    public var keyFrame: Int
    public var trackID: Int
    /// Clipped to the frame.
    public var box: BoundingBox
    public var boxScore: Double
    public var geometry: CropGeometry
}

/// Consecutive key frames of one track: what a worker leases.
public struct UnitPlan: Equatable, Sendable {
    public var index: Int
    public var trackID: Int
    public var windows: [WindowPlan]
    public var firstKeyFrame: Int { windows[0].keyFrame }
    public var lastKeyFrame: Int { windows[windows.count - 1].keyFrame }
}

/// What happened to the detections of one video.
public struct PlanCounts: Equatable, Sendable, Codable {
    /// Person boxes read from the file.
    public var detections = 0
    /// Dropped: score below the threshold.
    public var belowThreshold = 0
    /// Dropped: nothing left after clipping to the frame.
    public var emptyBoxes = 0
    /// Dropped: frame index not in the video.
    public var outOfRange = 0
    /// Dropped when read: a negative size or a coordinate beyond `DetectionReader.boxCoordinateMax`.
    public var invalidBoxes = 0
    /// Scores outside [0, 1] clamped into it when read.
    public var scoresClamped = 0
    /// Boxes of other categories than person, left out when read.
    public var otherCategories = 0
    /// Boxes the tracker carried over frames between the built-in detector's (one window each).
    public var carried = 0
    /// Boxes kept and carried: one window each.
    public var windows = 0
    public var tracks = 0
    public var units = 0
    public init() {}

    enum CodingKeys: String, CodingKey {
        case detections, belowThreshold = "below_threshold", emptyBoxes = "empty_boxes", outOfRange = "out_of_range"
        case invalidBoxes = "invalid_boxes", scoresClamped = "scores_clamped", otherCategories = "other_categories"
        case windows, tracks, units, carried
    }
}

public struct VideoPlan: Sendable {
    public let entry: VideoEntry
    public let inputShape: ModelInputShape
    public let frameCount: Int
    public let frameWidth: Int
    public let frameHeight: Int
    public let units: [UnitPlan]
    public let counts: PlanCounts
    /// What the job report and the log should say about this video's detections.
    public let warnings: [String]
    /// Where the boxes came from (nil: given to the initializer by a caller).
    public let detectorSource: DetectorSource?
    /// Seconds the built-in detector spent: "detect" (HOG), "detect_decode" (reading frames).
    public private(set) var detectionSeconds: [String: Double] = [:]

    public var windowCount: Int { counts.windows }

    /// Probes the video (ffprobe, or the first JPEG's header), reads and filters the detections,
    /// links tracks and groups windows into units. Throws `ArchiveError`/`MediaError` for bad input.
    public init(entry: VideoEntry, options: ArchiveOptions, inputShape: ModelInputShape) throws {
        let info: VideoInfo
        var firstFrameNumber: Int?
        switch entry.kind {
        case .videoFile: info = try VideoProbe.probe(entry.path)
        case .frameFolder:
            let source = try JPEGFolderFrameSource(folder: entry.path)
            info = source.info
            firstFrameNumber = source.files.first.flatMap { Int((($0 as NSString).lastPathComponent as NSString).deletingPathExtension) }
        }
        if let file = entry.detectionFile {
            let read = try DetectionReader.read(file).rebased(chosen: options.frameBase, frameCount: info.frameCount, firstFrameNumber: firstFrameNumber)
            try self.init(entry: entry, options: options, inputShape: inputShape, info: info, detections: read, source: .file(file))
        } else if let detector = options.detector {
            let run = try PersonDetection.run(detector, entry: entry, info: info, threads: options.detectorThreads)
            try self.init(entry: entry, options: options, inputShape: inputShape, info: info, detections: run.detections, source: .builtIn(detector))
            detectionSeconds = ["detect": run.detectSeconds, "detect_decode": run.decodeSeconds]
        } else {
            throw ArchiveError(.noDetectionFile, path: entry.path, reason: "no detection file (looked for \(entry.detectionCandidates.joined(separator: ", "))); --detector hog finds people without one")
        }
    }

    /// The plan from already-read frame info and detections (tests, and callers that probed).
    /// Boxes from the built-in detector (`source` built-in) are linked per detection and carried
    /// over the frames between; a video where it found nobody has no units.
    public init(entry: VideoEntry, options: ArchiveOptions, inputShape: ModelInputShape, info: VideoInfo, detections: [Detection],
                source: DetectorSource? = nil) throws {
        try self.init(entry: entry, options: options, inputShape: inputShape, info: info, detections: DetectionSet(detections: detections), source: source)
    }

    /// The plan from frame info and a file's detections with frames counted from 0.
    public init(entry: VideoEntry, options: ArchiveOptions, inputShape: ModelInputShape, info: VideoInfo, detections read: DetectionSet,
                source: DetectorSource? = nil) throws {
        precondition(inputShape.frames >= 1 && inputShape.frames % 2 == 1, "T must be odd, got \(inputShape.frames)")
        self.entry = entry
        self.inputShape = inputShape
        self.detectorSource = source
        frameCount = info.frameCount; frameWidth = info.width; frameHeight = info.height
        var counts = PlanCounts()
        counts.detections = read.detections.count
        counts.invalidBoxes = read.invalidBoxes
        counts.scoresClamped = read.scoresClamped
        counts.otherCategories = read.otherCategories
        var warnings = read.warnings
        var kept: [Detection] = []
        var outside: ClosedRange<Int>?
        for var detection in read.detections {
            if detection.score < options.detectionThreshold { counts.belowThreshold += 1; continue }
            if detection.frame < 0 || detection.frame >= info.frameCount {
                counts.outOfRange += 1
                outside = outside.map { min($0.lowerBound, detection.frame)...max($0.upperBound, detection.frame) } ?? detection.frame...detection.frame
                continue
            }
            detection.box = detection.box.clipped(frameWidth: info.width, frameHeight: info.height)
            if detection.box.isEmpty { counts.emptyBoxes += 1; continue }
            kept.append(detection)
        }
        if let outside {
            var warning = "\(counts.outOfRange) boxes on frames outside the video (frames \(outside.lowerBound)...\(outside.upperBound) counted from 0; the video has \(info.frameCount))"
            if outside.upperBound == info.frameCount { warning += "; if the file numbers frames from 1, use --frame-base 1" }
            warnings.append(warning)
        }
        let builtIn = source?.kind == .builtIn
        guard !kept.isEmpty || builtIn else {
            let path = entry.detectionFile?.path ?? entry.path
            var reason = "no usable detections: \(counts.detections) read, \(counts.belowThreshold) below threshold \(options.detectionThreshold), \(counts.emptyBoxes) outside the \(info.width)x\(info.height) frame, \(counts.outOfRange) on frames not in the video's \(info.frameCount)"
            if counts.invalidBoxes > 0 { reason += ", \(counts.invalidBoxes) invalid boxes dropped" }
            if !warnings.isEmpty { reason += " (" + warnings.joined(separator: "; ") + ")" }
            throw ArchiveError(.noDetections, path: path, reason: reason)
        }
        var tracked: [TrackedDetection]
        if builtIn {
            let linked = Tracker.linkSampled(kept, every: source?.every ?? 1, frameCount: info.frameCount,
                                             gapMax: options.trackerGapMax, iouMin: options.trackerIoUMin)
            tracked = linked.linked + linked.carried
            counts.carried = linked.carried.count
        } else {
            tracked = Tracker.link(kept, gapMax: options.trackerGapMax, iouMin: options.trackerIoUMin)
        }
        var byTrack: [Int: [WindowPlan]] = [:]
        for item in tracked {
            let d = item.detection
            byTrack[item.trackID, default: []].append(WindowPlan(
                keyFrame: d.frame, trackID: item.trackID, box: d.box, boxScore: d.score,
                geometry: CropGeometry(box: d.box, inputWidth: inputShape.width, inputHeight: inputShape.height)))
        }
        var units: [UnitPlan] = []
        for trackID in byTrack.keys.sorted() {
            let windows = byTrack[trackID]!.sorted { $0.keyFrame < $1.keyFrame }
            var current: [WindowPlan] = []
            for window in windows {
                // A unit holds up to unitSize key frames that follow each other without a gap,
                // so it completes soon after its first frame is decoded.
                if let last = current.last, current.count == options.unitSize || window.keyFrame != last.keyFrame + 1 {
                    units.append(UnitPlan(index: 0, trackID: trackID, windows: current))
                    current = []
                }
                current.append(window)
            }
            if !current.isEmpty { units.append(UnitPlan(index: 0, trackID: trackID, windows: current)) }
        }
        units.sort { ($0.firstKeyFrame, $0.trackID) < ($1.firstKeyFrame, $1.trackID) }
        for i in units.indices { units[i].index = i }
        counts.windows = kept.count + counts.carried
        counts.tracks = byTrack.count
        counts.units = units.count
        self.units = units
        self.counts = counts
        self.warnings = warnings
        invariants()
    }

    /// Frame info as the crop stream needs it.
    public var info: VideoInfo { VideoInfo(width: frameWidth, height: frameHeight, frameCount: frameCount) }

    /// The frames of a window, clamped to the video's ends (FTP-POSE.md section 1).
    public func frames(ofKeyFrame keyFrame: Int) -> [Int] {
        let half = inputShape.frames / 2
        return (keyFrame - half...keyFrame + half).map { min(max($0, 0), frameCount - 1) }
    }

    public func invariants() {
        var windows = 0
        for (i, unit) in units.enumerated() {
            precondition(unit.index == i && !unit.windows.isEmpty, "VideoPlan: unit \(i) index or emptiness")
            for (a, b) in zip(unit.windows, unit.windows.dropFirst()) {
                precondition(b.keyFrame == a.keyFrame + 1 && a.trackID == unit.trackID, "VideoPlan: unit \(i) not consecutive")
            }
            windows += unit.windows.count
        }
        precondition(windows == counts.windows, "VideoPlan: \(windows) windows in units, \(counts.windows) counted")
    }
}
