// PoseTrack 2018 per-video JSON (POSETRACK-CONVENTIONS.md section D): the format the
// pipeline writes, the synthetic archive's ground truth uses, and the evaluator reads.
// Decoding is lenient about optional fields; encoding is deterministic (sorted keys).
import Foundation

public struct PoseTrackFile: Codable, Equatable, Sendable {
    public var images: [PoseTrackImage]
    public var annotations: [PoseTrackAnnotation]
    public var categories: [PoseTrackCategory]
    /// posecluster's outputs: where they came from (Provenance). Other files' `info` (COCO
    /// datasets have one of their own) is read as absent, never as an error.
    public var info: Provenance?

    public init(images: [PoseTrackImage], annotations: [PoseTrackAnnotation], categories: [PoseTrackCategory] = [.person],
                info: Provenance? = nil) {
        self.images = images; self.annotations = annotations; self.categories = categories; self.info = info
    }

    enum CodingKeys: String, CodingKey { case images, annotations, categories, info }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        images = try c.decode([PoseTrackImage].self, forKey: .images)
        annotations = try c.decode([PoseTrackAnnotation].self, forKey: .annotations)
        categories = try c.decode([PoseTrackCategory].self, forKey: .categories)
        info = try? c.decodeIfPresent(Provenance.self, forKey: .info)
    }

    /// Bytes of the file: sorted keys, no escaping of `/`, so equal files are equal bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// Reads a file, with an error that says which file and what is wrong.
    public static func decode(_ data: Data, path: String) throws -> PoseTrackFile {
        do {
            return try JSONDocument.decode(PoseTrackFile.self, from: data)
        } catch let error as JSONError {
            throw PoseTrackFormatError(path: path, reason: "\(error)")
        }
    }
}

public struct PoseTrackFormatError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): not a PoseTrack 2018 file: \(reason)" }
}

public struct PoseTrackImage: Codable, Equatable, Sendable {
    public var fileName: String
    public var id: Int
    public var frameID: Int?
    public var videoID: String?
    public var frameCount: Int?
    public var isLabeled: Bool?
    /// One x-list and one y-list per ignore polygon.
    public var ignoreRegionsX: [[Double]]?
    public var ignoreRegionsY: [[Double]]?

    public init(fileName: String, id: Int, frameID: Int? = nil, videoID: String? = nil, frameCount: Int? = nil,
                isLabeled: Bool? = nil, ignoreRegionsX: [[Double]]? = nil, ignoreRegionsY: [[Double]]? = nil) {
        self.fileName = fileName; self.id = id; self.frameID = frameID; self.videoID = videoID
        self.frameCount = frameCount; self.isLabeled = isLabeled
        self.ignoreRegionsX = ignoreRegionsX; self.ignoreRegionsY = ignoreRegionsY
    }

    enum CodingKeys: String, CodingKey {
        case fileName = "file_name", id, frameID = "frame_id", videoID = "vid_id", frameCount = "nframes"
        case isLabeled = "is_labeled", ignoreRegionsX = "ignore_regions_x", ignoreRegionsY = "ignore_regions_y"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        fileName = try c.decode(String.self, forKey: .fileName)
        id = try c.decode(Int.self, forKey: .id)
        frameID = try c.decodeIfPresent(Int.self, forKey: .frameID)
        // vid_id is a string in PoseTrack 2018 files, a number in some copies.
        if let text = try? c.decodeIfPresent(String.self, forKey: .videoID) { videoID = text }
        else if let number = try? c.decodeIfPresent(Int.self, forKey: .videoID) { videoID = String(number) }
        else { videoID = nil }
        frameCount = try c.decodeIfPresent(Int.self, forKey: .frameCount)
        isLabeled = try c.decodeIfPresent(Bool.self, forKey: .isLabeled)
        ignoreRegionsX = try c.decodeIfPresent([[Double]].self, forKey: .ignoreRegionsX)
        ignoreRegionsY = try c.decodeIfPresent([[Double]].self, forKey: .ignoreRegionsY)
    }
}

public struct PoseTrackAnnotation: Codable, Equatable, Sendable {
    public var id: Int?
    public var imageID: Int
    public var trackID: Int?
    public var categoryID: Int?
    /// 17 x (x, y, v): v is visibility in ground truth, the joint score in predictions.
    public var keypoints: [Double]?
    /// 17 joint scores (predictions); empty in ground truth.
    public var scores: [Double]?
    public var bbox: [Double]?
    public var bboxHead: [Double]?
    public var score: Double?
    /// COCO's fields, so pycocotools loads the file: keypoints with v > 0, the box's area, and
    /// (ground truth) `iscrowd` 0. Absent (not written) when nil.
    public var numKeypoints: Int?
    public var area: Double?
    public var isCrowd: Int?

    public init(id: Int? = nil, imageID: Int, trackID: Int? = nil, categoryID: Int? = 1, keypoints: [Double]? = nil,
                scores: [Double]? = nil, bbox: [Double]? = nil, bboxHead: [Double]? = nil, score: Double? = nil,
                numKeypoints: Int? = nil, area: Double? = nil, isCrowd: Int? = nil) {
        self.id = id; self.imageID = imageID; self.trackID = trackID; self.categoryID = categoryID
        self.keypoints = keypoints; self.scores = scores; self.bbox = bbox; self.bboxHead = bboxHead; self.score = score
        self.numKeypoints = numKeypoints; self.area = area; self.isCrowd = isCrowd
    }

    /// COCO's `num_keypoints`: the keypoints whose third value is above 0.
    public static func labelledKeypoints(_ keypoints: [Double]) -> Int {
        stride(from: 2, to: keypoints.count, by: 3).filter { keypoints[$0] > 0 }.count
    }

    enum CodingKeys: String, CodingKey {
        case id, imageID = "image_id", trackID = "track_id", categoryID = "category_id", keypoints, scores
        case bbox, bboxHead = "bbox_head", score, numKeypoints = "num_keypoints", area, isCrowd = "iscrowd"
    }
}

public struct PoseTrackCategory: Codable, Equatable, Sendable {
    public var supercategory: String?
    public var id: Int
    public var name: String
    public var keypoints: [String]
    public var skeleton: [[Int]]?

    public init(supercategory: String? = "person", id: Int, name: String, keypoints: [String], skeleton: [[Int]]?) {
        self.supercategory = supercategory; self.id = id; self.name = name; self.keypoints = keypoints; self.skeleton = skeleton
    }

    /// PoseTrack's single category: person, 17 keypoints, 1-based skeleton.
    public static let person = PoseTrackCategory(id: 1, name: "person", keypoints: PoseTrackJoints.names,
                                                 skeleton: PoseTrackJoints.skeleton)
}

/// PoseTrack's naming: `NNNNNN_<mpii|bonn|mpiinew>_<split>` videos, 0-based 6-digit frames,
/// image id `T*10^10 + seq*10^4 + frame` (T: 1 mpii, 2 bonn, 3 mpiinew).
public enum PoseTrackNaming {
    /// The image id PoseTrack's kit derives from a video name and frame index, or nil when the
    /// name does not follow the pattern (or the frame is >= 10000).
    public static func imageID(videoName: String, frame: Int) -> Int? {
        let parts = videoName.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].count == 6, let sequence = Int(parts[0]), frame >= 0, frame < 10_000 else { return nil }
        let source: Int
        switch parts[1] {
        case "mpii": source = 1
        case "bonn": source = 2
        case "mpiinew": source = 3
        default: return nil
        }
        return source * 10_000_000_000 + sequence * 10_000 + frame
    }

    /// `images/val/<video>/NNNNNN.jpg`.
    public static func fileName(videoName: String, frame: Int, split: String = "val") -> String {
        let digits = String(frame)
        return "images/\(split)/\(videoName)/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".jpg"
    }

    /// A Float as the Double its shortest decimal form names, so JSON shows the Float's digits
    /// (not a long binary expansion) and no two different Floats print alike. Non-finite values become 0.
    public static func exact(_ value: Float) -> Double {
        guard value.isFinite else { return 0 }
        return Double("\(value)") ?? Double(value)
    }

    /// Rounds an output coordinate or score so files stay short and stable: 1/1000 of a pixel.
    public static func rounded(_ value: Float) -> Double {
        (Double(value) * 1000).rounded() / 1000
    }
}
