// The fields of a PoseTrack 2018 file that poseval reads, and nothing else: a file poseval
// evaluates is not refused here for a field it ignores (`is_labeled: 1`, a category without
// `id`, a string `nframes`). Decoding errors name the file and the field.
import Foundation
import PoseCore

struct EvalDocument: Decodable {
    var images: [Image]
    var annotations: [Annotation]
    var categories: [Category]

    struct Image: Decodable {
        var fileName: String
        var id: Int
        var ignoreRegionsX: [[Double]]?
        var ignoreRegionsY: [[Double]]?

        enum CodingKeys: String, CodingKey {
            case fileName = "file_name", id, ignoreRegionsX = "ignore_regions_x", ignoreRegionsY = "ignore_regions_y"
        }
    }

    struct Annotation: Decodable {
        var imageID: Int
        var trackID: Int?
        var keypoints: [Double]
        var scores: [Double]?
        var bbox: [Double]?
        var bboxHead: [Double]?

        enum CodingKeys: String, CodingKey {
            case imageID = "image_id", trackID = "track_id", keypoints, scores, bbox, bboxHead = "bbox_head"
        }
    }

    struct Category: Decodable {
        var name: String
        var keypoints: [String]
    }

    /// Reads a file, with an error that says which file and which field.
    static func decode(_ data: Data, path: String) throws -> EvalDocument {
        do {
            return try JSONDocument.decode(EvalDocument.self, from: data)
        } catch let error as JSONError {
            throw PoseTrackFormatError(path: path, reason: "\(error)")
        }
    }
}

extension EvalDocument {
    /// The document a PoseTrackFile would be read back as (for callers holding one in memory).
    init(_ file: PoseTrackFile) {
        images = file.images.map { Image(fileName: $0.fileName, id: $0.id, ignoreRegionsX: $0.ignoreRegionsX, ignoreRegionsY: $0.ignoreRegionsY) }
        annotations = file.annotations.map {
            Annotation(imageID: $0.imageID, trackID: $0.trackID, keypoints: $0.keypoints ?? [], scores: $0.scores,
                       bbox: $0.bbox, bboxHead: $0.bboxHead)
        }
        categories = file.categories.map { Category(name: $0.name, keypoints: $0.keypoints) }
    }
}
