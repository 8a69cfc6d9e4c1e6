// What a job over an archive is: where the videos and detections are, which detections count,
// how tracks are linked and how windows are grouped into units. The same options make the same
// plans, so `posecoord run` and `posecoord serve` agree on every unit.

/// The three detection file formats, by the suffix that follows the video's name.
public enum DetectionFormat: String, CaseIterable, Sendable, Codable {
    /// COCO-style results: `NAME.dets.json`, a list of `{image_id | file_name, bbox, score, ...}`.
    case cocoResults = "dets.json"
    /// MOT text: `NAME.txt`, lines `frame,id,x,y,w,h,score,...`, 1-based frames, id -1 unknown.
    case mot = "txt"
    /// PoseTrack 2018 per-video JSON: `NAME.json`, boxes from its annotations' `bbox`.
    case poseTrack = "json"

    /// The order tried when several files exist for one video and no format is chosen.
    public static let lookupOrder: [DetectionFormat] = [.cocoResults, .mot, .poseTrack]

    /// Parses `--det-format` values: `dets.json`, `txt`, `json` (a leading dot is allowed).
    public init?(argument: String) {
        let text = argument.hasPrefix(".") ? String(argument.dropFirst()) : argument
        self.init(rawValue: text)
    }
}

public struct ArchiveOptions: Sendable, Equatable {
    /// Folder of videos and frame folders (searched recursively).
    public var archive: String
    /// Where detection files are looked up by video name; nil: next to each video.
    public var detections: String?
    /// Only this format is used; nil: the first of `DetectionFormat.lookupOrder` that exists.
    public var detectionFormat: DetectionFormat?
    /// Boxes scoring below this are dropped (0.2, as the PoseTrack video methods do).
    public var detectionThreshold: Double
    /// Key frames per unit (the unit is what a cluster worker leases).
    public var unitSize: Int
    /// Frames a track may go undetected and still be continued by the tracker.
    public var trackerGapMax: Int
    /// Least IoU for the tracker to link a box to a track.
    public var trackerIoUMin: Double
    /// Where COCO frame numbers (`image_id`, file names) start; nil: found per file
    /// (`DetectionSet.rebased`). MOT (1) and PoseTrack files fix their own.
    public var frameBase: FrameBase?
    /// The built-in person detector for videos without a detection file; nil: such a video fails.
    public var detector: BuiltInDetector?
    /// Frames the built-in detector searches at once (threads); results do not depend on it.
    public var detectorThreads: Int = 1

    public static let unitSizeMax = 256
    public static let trackerGapLimit = 100

    public init(archive: String, detections: String? = nil, detectionFormat: DetectionFormat? = nil,
                detectionThreshold: Double = 0.2, unitSize: Int = 16, trackerGapMax: Int = 5, trackerIoUMin: Double = 0.3,
                frameBase: FrameBase? = nil) {
        precondition(unitSize >= 1 && unitSize <= Self.unitSizeMax, "unitSize must be in 1...\(Self.unitSizeMax)")
        precondition(trackerGapMax >= 0 && trackerGapMax <= Self.trackerGapLimit, "trackerGapMax must be in 0...\(Self.trackerGapLimit)")
        precondition(trackerIoUMin > 0 && trackerIoUMin <= 1, "trackerIoUMin must be in (0, 1]")
        self.archive = archive; self.detections = detections; self.detectionFormat = detectionFormat
        self.detectionThreshold = detectionThreshold; self.unitSize = unitSize
        self.trackerGapMax = trackerGapMax; self.trackerIoUMin = trackerIoUMin
        self.frameBase = frameBase
    }

    /// The options that change plans (and so outputs), as text: part of the job fingerprint that
    /// `serve`'s journal and `run`'s resume records must match.
    public var planFingerprint: String {
        "unitSize=\(unitSize) threshold=\(detectionThreshold) gap=\(trackerGapMax) iou=\(trackerIoUMin) format=\(detectionFormat?.rawValue ?? "auto") detections=\(detections ?? "-")"
            + (frameBase.map { " frameBase=\($0.rawValue)" } ?? "")
            + (detector.map { " detector=\($0.summary)" } ?? "")
    }
}

/// Bad input about one video (its detections, its frames) or the archive: which file, what is wrong.
public struct ArchiveError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case archiveUnreadable, noVideos, duplicateName, noDetectionFile, malformedDetections, noDetections, badResult, outputFailed
    }
    public let kind: Kind
    public let path: String
    public let reason: String
    public init(_ kind: Kind, path: String, reason: String) { self.kind = kind; self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}
