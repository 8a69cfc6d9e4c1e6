// PoseTrack 2017's "annolist" files, read the way poseval reads them: it uses them as they are,
// without convert.py (eval_helpers.load_data_dir: `if not "annolist" in data`), so joints are
// found by their numeric `id` (poseval's joint ids 0...14), every value is a one-element list, and
// people without points are dropped after their frame has been counted as evaluated (cleanupData's
// removeRectsWithoutPoints, which only ever removes someone in this format).
import Foundation
import PoseCore

struct EvalAnnolistDocument: Decodable {
    var annolist: [Frame]

    struct Frame: Decodable {
        var annorect: [Rect]
        var ignoreRegions: [Region]?

        enum CodingKeys: String, CodingKey { case annorect, ignoreRegions = "ignore_regions" }
    }

    struct Rect: Decodable {
        var x1: [Double]?, y1: [Double]?, x2: [Double]?, y2: [Double]?
        var trackID: [Double]?
        var annopoints: [Points]?

        enum CodingKeys: String, CodingKey { case x1, y1, x2, y2, trackID = "track_id", annopoints }
    }

    struct Points: Decodable {
        var point: [Point]?
    }

    struct Point: Decodable {
        var id: [Double]?
        var x: [Double]?
        var y: [Double]?
        var score: [Double]?
    }

    struct Region: Decodable {
        var point: [Point]?
    }

    /// Whether a JSON document has a top-level "annolist" (poseval's test for this format).
    static func isAnnolist(_ data: Data) -> Bool {
        (try? JSONDecoder().decode(Probe.self, from: data))?.hasAnnolist ?? false
    }

    private struct Probe: Decodable {
        var hasAnnolist: Bool
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        init(from decoder: Decoder) throws {
            hasAnnolist = try decoder.container(keyedBy: Key.self).contains(Key(stringValue: "annolist"))
        }
    }
}

extension EvalVideo {
    /// Reads an annolist document; errors name the file and the field as poseval would fail on it.
    init(annolist data: Data, path: String, role: Role) throws {
        func fail(_ reason: String) -> EvalError { .annolist(path: path, reason: reason) }
        let document: EvalAnnolistDocument
        do { document = try JSONDecoder().decode(EvalAnnolistDocument.self, from: data) } catch let error as DecodingError {
            throw fail(error.readableDescription)
        }
        func first(_ list: [Double]?, _ field: String) throws -> Double? {
            guard let list else { return nil }
            guard let value = list.first else { throw fail("\(field): an empty list, poseval reads its first value") }
            return value
        }
        var frames: [EvalFrame] = []
        var missingScores = false
        var firstWithoutTrackID: String?
        for (f, frame) in document.annolist.enumerated() {
            var people: [EvalPerson] = []
            var trackIDs = Set<Int>()
            for (r, rect) in frame.annorect.enumerated() {
                let field = "annolist[\(f)].annorect[\(r)]"
                var trackID = 0
                if let value = try first(rect.trackID, field + ".track_id") {
                    guard let id = Int(exactly: value) else { throw fail("\(field).track_id: expected an integer, got \(value)") }
                    guard id < EvalJoints.trackIDLimit else { throw fail("\(field).track_id: must be below \(EvalJoints.trackIDLimit), got \(id)") }
                    if role == .prediction && !trackIDs.insert(id).inserted {
                        throw fail("\(field).track_id: \(id) appears twice in the frame; track ids must be unique within a frame")
                    }
                    trackID = id
                } else if firstWithoutTrackID == nil {
                    firstWithoutTrackID = field
                }
                // removeRectsWithoutPoints / assignGTmulti: only people with annopoints[0].point count.
                guard let points = rect.annopoints?.first?.point else { continue }
                var kept: [EvalPoint] = []
                for (p, point) in points.enumerated() {
                    let pointField = "\(field).annopoints[0].point[\(p)]"
                    guard let id = try first(point.id, pointField + ".id") else { throw fail("\(pointField).id: missing") }
                    guard let x = try first(point.x, pointField + ".x"), let y = try first(point.y, pointField + ".y") else {
                        throw fail("\(pointField): needs x and y")
                    }
                    let score = try first(point.score, pointField + ".score")
                    if score == nil { missingScores = true }
                    // Ids outside poseval's 15 joints are never looked up (getPointGTbyID); they are left out here.
                    guard let joint = Int(exactly: id), (0..<EvalJoints.count).contains(joint) else { continue }
                    kept.append(EvalPoint(joint: joint, x: x, y: y, score: score))
                }
                var headBox: EvalHeadBox?
                if let x1 = try first(rect.x1, field + ".x1"), let y1 = try first(rect.y1, field + ".y1"),
                   let x2 = try first(rect.x2, field + ".x2"), let y2 = try first(rect.y2, field + ".y2") {
                    headBox = EvalHeadBox(x1: x1, y1: y1, x2: x2, y2: y2)
                }
                people.append(EvalPerson(trackID: trackID, headBox: headBox, points: kept))
            }
            var regions: [EvalPolygon] = []
            if role == .groundTruth, let list = frame.ignoreRegions {
                for (i, region) in list.enumerated() {
                    let points = region.point ?? []
                    let polygon = EvalPolygon(xs: try points.map { try first($0.x, "x") ?? 0 }, ys: try points.map { try first($0.y, "y") ?? 0 })
                    guard frame.annorect.isEmpty || polygon.vertexCount == 0 || polygon.vertexCount >= 3 else {
                        throw fail("annolist[\(f)].ignore_regions[\(i)]: a polygon needs at least 3 points, got \(polygon.vertexCount)")
                    }
                    regions.append(polygon)
                }
            }
            frames.append(EvalFrame(people: people, ignoreRegions: regions, isEvaluated: !frame.annorect.isEmpty))
        }
        self.init(frames: frames, hasMissingScores: missingScores, imagesOfOtherVideos: 0)
        personWithoutTrackID = firstWithoutTrackID
    }
}
