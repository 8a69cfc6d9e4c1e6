// Reading person detections in the three formats (docs/ARCHIVE.md):
// - COCO results `NAME.dets.json`: `[{image_id | file_name | image_name, bbox [x,y,w,h], score,
//   category_id?, track_id?}]`. `image_id` is a PoseTrack image id when >= 10^10 (frame = id mod
//   10^4), otherwise the 0-based frame index. A file name's digits are the 0-based frame index.
// - MOT text `NAME.txt`: `frame,id,x,y,w,h,score,...`, 1-based frames, id -1 = no track.
// - PoseTrack 2018 `NAME.json`: the frame is the position of the annotation's image in `images`.
// Malformed input is an error naming the file and the entry; boxes are filtered in VideoPlan.
import Foundation
import PoseCore

/// One detected person in one frame.
public struct Detection: Equatable, Sendable {
    /// 0-based frame index.
    public var frame: Int
    public var box: BoundingBox
    public var score: Double
    /// Given track id, or nil when the detector did not track.
    public var trackID: Int?
    public init(frame: Int, box: BoundingBox, score: Double, trackID: Int?) {
        self.frame = frame; self.box = box; self.score = score; self.trackID = trackID
    }
}

public enum DetectionReader {
    /// Largest detection file read.
    public static let fileBytesMax = 512 << 20
    /// PoseTrack image ids are `T*10^10 + seq*10^4 + frame`.
    static let poseTrackImageIDMin = 10_000_000_000

    /// The detections of `file`, in file order (boxes of non-person categories left out).
    public static func read(_ file: DetectionFile) throws -> [Detection] {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ArchiveError(.malformedDetections, path: file.path, reason: "cannot read the file")
        }
        guard data.count <= fileBytesMax else {
            throw ArchiveError(.malformedDetections, path: file.path, reason: "larger than fileBytesMax \(fileBytesMax)")
        }
        switch file.format {
        case .cocoResults: return try parseCOCO(data, path: file.path)
        case .mot: return try parseMOT(data, path: file.path)
        case .poseTrack: return try parsePoseTrack(data, path: file.path)
        }
    }

    struct COCOEntry: Decodable {
        var imageID: Int?
        var fileName: String?
        var imageName: String?
        var bbox: [Double]
        var score: Double
        var categoryID: Int?
        var trackID: Int?
        enum CodingKeys: String, CodingKey {
            case imageID = "image_id", fileName = "file_name", imageName = "image_name", bbox, score
            case categoryID = "category_id", trackID = "track_id"
        }
    }

    public static func parseCOCO(_ data: Data, path: String) throws -> [Detection] {
        let entries: [COCOEntry]
        do { entries = try JSONDecoder().decode([COCOEntry].self, from: data) } catch let error as DecodingError {
            throw ArchiveError(.malformedDetections, path: path, reason: "not COCO-style results (a list of {image_id or file_name, bbox [x,y,w,h], score}): \(error.readableDescription)")
        } catch {
            throw ArchiveError(.malformedDetections, path: path, reason: "not JSON: \(error)")
        }
        var detections: [Detection] = []
        detections.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            if let category = entry.categoryID, category != 1 { continue }
            let frame: Int
            if let id = entry.imageID {
                frame = id >= poseTrackImageIDMin ? id % 10_000 : id
            } else if let name = entry.fileName ?? entry.imageName {
                let stem = ((name as NSString).lastPathComponent as NSString).deletingPathExtension
                guard let number = Int(stem) else {
                    throw ArchiveError(.malformedDetections, path: path, reason: "[\(index)].file_name \"\(name)\": expected a frame number such as 000042.jpg")
                }
                frame = number
            } else {
                throw ArchiveError(.malformedDetections, path: path, reason: "[\(index)]: needs image_id or file_name")
            }
            let box = try makeBox(entry.bbox, score: entry.score, path: path, at: "[\(index)]")
            detections.append(Detection(frame: frame, box: box, score: entry.score, trackID: entry.trackID.flatMap { $0 >= 0 ? $0 : nil }))
        }
        return detections
    }

    public static func parseMOT(_ data: Data, path: String) throws -> [Detection] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw ArchiveError(.malformedDetections, path: path, reason: "not UTF-8 text")
        }
        var detections: [Detection] = []
        for (lineIndex, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let at = "line \(lineIndex + 1)"
            guard fields.count >= 7 else {
                throw ArchiveError(.malformedDetections, path: path, reason: "\(at): expected at least 7 comma-separated fields (frame,id,x,y,w,h,score), got \(fields.count)")
            }
            var numbers: [Double] = []
            for (i, field) in fields.prefix(7).enumerated() {
                guard let value = Double(field), value.isFinite else {
                    throw ArchiveError(.malformedDetections, path: path, reason: "\(at): field \(i + 1) \"\(field)\" is not a number")
                }
                numbers.append(value)
            }
            guard numbers[0] == numbers[0].rounded(), numbers[0] >= 1, numbers[0] <= Double(Int32.max) else {
                throw ArchiveError(.malformedDetections, path: path, reason: "\(at): frame \"\(fields[0])\" must be a whole number >= 1 (MOT frames are 1-based)")
            }
            guard numbers[1] == numbers[1].rounded(), abs(numbers[1]) <= Double(Int32.max) else {
                throw ArchiveError(.malformedDetections, path: path, reason: "\(at): id \"\(fields[1])\" must be a whole number")
            }
            let box = try makeBox(Array(numbers[2..<6]), score: numbers[6], path: path, at: at)
            let id = Int(numbers[1])
            detections.append(Detection(frame: Int(numbers[0]) - 1, box: box, score: numbers[6], trackID: id >= 0 ? id : nil))
        }
        return detections
    }

    public static func parsePoseTrack(_ data: Data, path: String) throws -> [Detection] {
        let file = try PoseTrackFile.decode(data, path: path)
        var frameOfImage: [Int: Int] = [:]
        for (index, image) in file.images.enumerated() where frameOfImage[image.id] == nil { frameOfImage[image.id] = index }
        var detections: [Detection] = []
        for (index, annotation) in file.annotations.enumerated() {
            guard let bbox = annotation.bbox else { continue }
            guard let frame = frameOfImage[annotation.imageID] else {
                throw ArchiveError(.malformedDetections, path: path, reason: "annotations[\(index)].image_id \(annotation.imageID) is not in images")
            }
            if let category = annotation.categoryID, category != 1 { continue }
            let score = annotation.score ?? 1
            let box = try makeBox(bbox, score: score, path: path, at: "annotations[\(index)]")
            detections.append(Detection(frame: frame, box: box, score: score, trackID: annotation.trackID.flatMap { $0 >= 0 ? $0 : nil }))
        }
        return detections
    }

    static func makeBox(_ values: [Double], score: Double, path: String, at: String) throws -> BoundingBox {
        guard values.count == 4 else {
            throw ArchiveError(.malformedDetections, path: path, reason: "\(at).bbox: expected [x, y, w, h], got \(values.count) numbers")
        }
        guard values.allSatisfy({ $0.isFinite }), score.isFinite else {
            throw ArchiveError(.malformedDetections, path: path, reason: "\(at): box or score is not a finite number")
        }
        return BoundingBox(x: values[0], y: values[1], width: values[2], height: values[3])
    }
}
