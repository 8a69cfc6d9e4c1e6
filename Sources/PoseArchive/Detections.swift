// Reading person detections in the three formats (docs/ARCHIVE.md):
// - COCO results `NAME.dets.json`: `[{image_id | file_name | image_name, bbox [x,y,w,h], score,
//   category_id?, track_id?}]`. `image_id` is a PoseTrack image id when >= 10^10 (frame = id mod
//   10^4), otherwise a frame number; a file name's digits are a frame number. Frame numbers count
//   from 0 or 1 (`FrameBase`): chosen by `--frame-base`, else found from the numbers themselves.
//   Streamed with `JSONReader`: memory is the file plus the boxes kept.
// - MOT text `NAME.txt`: `frame,id,x,y,w,h,score,...`, 1-based frames, id -1 = no track.
// - PoseTrack 2018 `NAME.json`: the frame is the position of the annotation's image in `images`.
// Every number is checked when read (docs/ARCHIVE.md "Detection values"): what cannot be a box
// fails the file with its line and entry; an out-of-range score is clamped and a box of negative
// size or absurd coordinates dropped, both counted. Boxes are filtered further in VideoPlan.
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

/// The detections of one file and what reading them found.
public struct DetectionSet: Sendable, Equatable {
    /// Boxes in file order; `frame` is the number as the file gives it until `rebased(...)`.
    public var detections: [Detection] = []
    /// Dropped by the value rules: negative width or height, or a coordinate beyond `boxCoordinateMax`.
    public var invalidBoxes = 0
    /// Scores outside [0, 1], clamped into it.
    public var scoresClamped = 0
    /// Boxes of another category than 1 (person), left out; `category_id` 0 counted apart.
    public var otherCategories = 0
    public var zeroCategories = 0
    /// True when frames are frame numbers that may count from 0 or 1 (COCO `image_id` below 10^10
    /// or file names); false when the format fixes them (MOT, PoseTrack, PoseTrack image ids).
    public var frameNumbersChosen = false
    /// Whether numbers came from file names (a frame folder's first file then tells the base).
    public var frameNumbersFromFileNames = false
    /// Things the job report should say about this file (the first invalid box, the base chosen).
    public var warnings: [String] = []

    public init(detections: [Detection] = []) { self.detections = detections }
}

/// Where frame numbers start: 0 (PoseTrack, the default) or 1 (ffmpeg's `%06d.jpg`, MOT).
public enum FrameBase: Int, Sendable, Codable, CaseIterable {
    case zero = 0, one = 1
}

public enum DetectionReader {
    /// Largest detection file read.
    public static let fileBytesMax = 512 << 20
    /// PoseTrack image ids are `T*10^10 + seq*10^4 + frame`.
    static let poseTrackImageIDMin = 10_000_000_000
    /// Largest frame number, track id or category id (a 32-bit count, as video tools use).
    public static let frameNumberMax = Int(Int32.max)
    /// A box coordinate or size beyond this many pixels is not a box: dropped and counted.
    public static let boxCoordinateMax = 1_000_000.0

    /// The detections of `file`, in file order (boxes of non-person categories left out), with
    /// frame numbers as the file gives them (see `DetectionSet.rebased`).
    public static func read(_ file: DetectionFile) throws -> DetectionSet {
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

    // MARK: COCO results

    /// The fields of one COCO entry as read, before they are checked.
    private struct COCOFields {
        var imageID: JSONNumber?
        var fileName: String?
        var bbox: [Double] = []
        var bboxCount = 0
        var score: JSONNumber?
        var categoryID: JSONNumber?
        var trackID: JSONNumber?
    }

    public static func parseCOCO(_ data: Data, path: String) throws -> DetectionSet {
        try data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var reader = JSONReader(bytes)
            var set = DetectionSet()
            set.frameNumbersChosen = true
            // One entry per '{' at most: reserving it keeps the array from doubling past the file.
            set.detections.reserveCapacity(bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "{") ? 1 : 0) })
            var poseTrackIDs = 0, fileNames = 0
            do {
                guard try reader.peek() == .array else {
                    throw reader.error("expected a list of COCO-style results [{image_id or file_name, bbox [x,y,w,h], score}, ...], found \(JSONReader.name(try reader.peek()))")
                }
                try reader.beginArray()
                var index = 0
                while try reader.nextElement() {
                    let start = reader.offset
                    let fields = try within("[\(index)]") { try readCOCOFields(&reader) }
                    let at = { (key: String, reason: String) in JSONReader.error(reason, path: "[\(index)]" + key, at: start, in: bytes) }
                    try addCOCO(fields, at: at, into: &set, poseTrackIDs: &poseTrackIDs, fileNames: &fileNames)
                    index += 1
                }
                try reader.finish()
            } catch let error as JSONError {
                throw ArchiveError(.malformedDetections, path: path, reason: "\(error)")
            }
            // Mixed numbering (PoseTrack ids beside plain numbers) keeps every frame as read.
            if poseTrackIDs > 0 { set.frameNumbersChosen = false }
            set.frameNumbersFromFileNames = fileNames > 0 && fileNames == set.detections.count
            try checkCategories(&set, path: path)
            return set
        }
    }

    /// Runs `body`, putting `path` in front of the key path of a JSON error it throws.
    private static func within<T>(_ path: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as JSONError {
            throw JSONError(line: error.line, column: error.column, path: path() + error.path, reason: error.reason)
        }
    }

    private static func readCOCOFields(_ reader: inout JSONReader) throws -> COCOFields {
        var fields = COCOFields()
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "image_id": fields.imageID = try within(".image_id") { try reader.readNull() ? nil : reader.readNumber() }
            case "file_name", "image_name":
                let name = try within("." + key) { try reader.readNull() ? nil : reader.readString() }
                fields.fileName = fields.fileName ?? name
            case "bbox":
                try within(".bbox") {
                    try reader.beginArray()
                    fields.bbox.removeAll(keepingCapacity: true)
                    while try reader.nextElement() {
                        let value = try within("[\(fields.bboxCount)]") { try reader.readNumber().value }
                        if fields.bbox.count < 4 { fields.bbox.append(value) }
                        fields.bboxCount += 1
                    }
                }
            case "score": fields.score = try within(".score") { try reader.readNumber() }
            case "category_id": fields.categoryID = try within(".category_id") { try reader.readNull() ? nil : reader.readNumber() }
            case "track_id": fields.trackID = try within(".track_id") { try reader.readNull() ? nil : reader.readNumber() }
            default: try within("." + key) { try reader.skipValue() }
            }
        }
        return fields
    }

    /// Checks one entry's values and adds its box (or counts why not).
    private static func addCOCO(_ fields: COCOFields, at fail: (_ key: String, _ reason: String) -> JSONError, into set: inout DetectionSet,
                                poseTrackIDs: inout Int, fileNames: inout Int) throws {
        if let category = fields.categoryID {
            guard let id = category.integer, abs(id) <= frameNumberMax else {
                throw fail(".category_id", "category_id \(category.text) is not a category number (expected 1, the person category)")
            }
            if id != 1 {
                set.otherCategories += 1
                if id == 0 { set.zeroCategories += 1 }
                return
            }
        }
        let frame: Int
        if let id = fields.imageID {
            guard let number = id.integer, number >= 0, number <= frameNumberMax || number >= poseTrackImageIDMin else {
                throw fail(".image_id", "image_id \(id.text) is not a frame number: expected a whole number from 0 to \(frameNumberMax), or a PoseTrack image id (10^10 and above)")
            }
            if number >= poseTrackImageIDMin { poseTrackIDs += 1; frame = number % 10_000 } else { frame = number }
        } else if let name = fields.fileName {
            let stem = ((name as NSString).lastPathComponent as NSString).deletingPathExtension
            guard let number = Int(stem), number >= 0, number <= frameNumberMax else {
                throw fail(".file_name", "file_name \"\(name)\": expected a frame number such as 000042.jpg")
            }
            fileNames += 1
            frame = number
        } else {
            throw fail("", "needs image_id or file_name")
        }
        guard let score = fields.score else { throw fail("", "needs a score") }
        guard fields.bboxCount == 4 else { throw fail(".bbox", "expected [x, y, w, h], got \(fields.bboxCount) numbers") }
        var trackID: Int?
        if let track = fields.trackID {
            guard let id = track.integer, abs(id) <= frameNumberMax else {
                throw fail(".track_id", "track_id \(track.text) is not a track number (expected a whole number; -1 for none)")
            }
            trackID = id >= 0 ? id : nil
        }
        func place() -> String { let error = fail("", ""); return "line \(error.line) (\(error.path))" }
        add(box: fields.bbox, score: score.value, frame: frame, trackID: trackID, at: place(), into: &set)
    }

    /// Category 0 everywhere is a detector that numbers classes from 0: say what was expected.
    private static func checkCategories(_ set: inout DetectionSet, path: String) throws {
        guard set.zeroCategories > 0 else { return }
        let reason = "\(set.zeroCategories) boxes have category_id 0; expected 1, COCO's person category (detectors that number classes from 0 call person 0: write category_id 1 or leave it out)"
        if set.detections.isEmpty && set.invalidBoxes == 0 {
            throw ArchiveError(.malformedDetections, path: path, reason: reason)
        }
        set.warnings.append(reason + "; they were left out")
    }

    /// The value rule for one box (docs/ARCHIVE.md "Detection values"): a score outside [0, 1] is
    /// clamped, a box of negative size or beyond `boxCoordinateMax` dropped; both counted, and the
    /// first dropped box named in the warnings. Non-finite numbers never get here.
    static func add(box values: [Double], score: Double, frame: Int, trackID: Int?, at: @autoclosure () -> String, into set: inout DetectionSet) {
        precondition(values.count == 4 && values.allSatisfy(\.isFinite) && score.isFinite, "DetectionReader.add: unchecked values")
        if values[2] < 0 || values[3] < 0 || values.contains(where: { abs($0) > boxCoordinateMax }) {
            if set.invalidBoxes == 0 {
                set.warnings.append("\(at()): box \(values) dropped (a negative size or a coordinate beyond \(Int(boxCoordinateMax)) pixels); later ones are counted in invalid_boxes")
            }
            set.invalidBoxes += 1
            return
        }
        var score = score
        if !(0...1).contains(score) {
            if set.scoresClamped == 0 {
                set.warnings.append("\(at()): score \(score) clamped into [0, 1]; later ones are counted in scores_clamped")
            }
            set.scoresClamped += 1
            score = min(max(score, 0), 1)
        }
        set.detections.append(Detection(frame: frame, box: BoundingBox(x: values[0], y: values[1], width: values[2], height: values[3]),
                                        score: score, trackID: trackID))
    }

    // MARK: MOT text

    public static func parseMOT(_ data: Data, path: String) throws -> DetectionSet {
        guard let text = String(data: data, encoding: .utf8) else {
            throw ArchiveError(.malformedDetections, path: path, reason: "not UTF-8 text")
        }
        var set = DetectionSet()
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
                    throw ArchiveError(.malformedDetections, path: path, reason: "\(at): field \(i + 1) \"\(field)\" is not a finite number")
                }
                numbers.append(value)
            }
            guard numbers[0] == numbers[0].rounded(), numbers[0] >= 1, numbers[0] <= Double(frameNumberMax) else {
                throw ArchiveError(.malformedDetections, path: path, reason: "\(at): frame \"\(fields[0])\" must be a whole number from 1 to \(frameNumberMax) (MOT frames are 1-based)")
            }
            guard numbers[1] == numbers[1].rounded(), abs(numbers[1]) <= Double(frameNumberMax) else {
                throw ArchiveError(.malformedDetections, path: path, reason: "\(at): id \"\(fields[1])\" must be a whole number (-1 for none)")
            }
            let id = Int(numbers[1])
            add(box: Array(numbers[2..<6]), score: numbers[6], frame: Int(numbers[0]) - 1, trackID: id >= 0 ? id : nil, at: at, into: &set)
        }
        return set
    }

    // MARK: PoseTrack

    public static func parsePoseTrack(_ data: Data, path: String) throws -> DetectionSet {
        let file: PoseTrackFile
        do { file = try PoseTrackFile.decode(data, path: path) } catch let error as PoseTrackFormatError {
            throw ArchiveError(.malformedDetections, path: path, reason: "not a PoseTrack 2018 file: \(error.reason)")
        }
        var frameOfImage: [Int: Int] = [:]
        for (index, image) in file.images.enumerated() where frameOfImage[image.id] == nil { frameOfImage[image.id] = index }
        var set = DetectionSet()
        for (index, annotation) in file.annotations.enumerated() {
            guard let bbox = annotation.bbox else { continue }
            guard let frame = frameOfImage[annotation.imageID] else {
                throw ArchiveError(.malformedDetections, path: path, reason: "annotations[\(index)].image_id \(annotation.imageID) is not in images")
            }
            if let category = annotation.categoryID, category != 1 {
                set.otherCategories += 1
                if category == 0 { set.zeroCategories += 1 }
                continue
            }
            guard bbox.count == 4 else {
                throw ArchiveError(.malformedDetections, path: path, reason: "annotations[\(index)].bbox: expected [x, y, w, h], got \(bbox.count) numbers")
            }
            add(box: bbox, score: annotation.score ?? 1, frame: frame, trackID: annotation.trackID.flatMap { $0 >= 0 ? $0 : nil },
                at: "annotations[\(index)]", into: &set)
        }
        try checkCategories(&set, path: path)
        return set
    }
}

extension DetectionSet {
    /// Frames counted from 0: the base is `chosen` (`--frame-base`) if given; else 1 when the
    /// file names a frame folder whose first file is numbered 1, or when the numbers run past the
    /// video's last 0-based frame and all fit when read from 1; else 0. Only for files whose
    /// numbering can vary (`frameNumbersChosen`); the base used is noted in the warnings when not 0.
    public func rebased(chosen: FrameBase?, frameCount: Int, firstFrameNumber: Int?) -> DetectionSet {
        guard frameNumbersChosen, !detections.isEmpty else { return self }
        var base = FrameBase.zero
        var why = ""
        if let chosen {
            base = chosen
            why = "--frame-base \(chosen.rawValue)"
        } else if frameNumbersFromFileNames, let first = firstFrameNumber, let folderBase = FrameBase(rawValue: first) {
            base = folderBase
            why = "the frame folder's first file is numbered \(first)"
        } else {
            let low = detections.lazy.map(\.frame).min()!, high = detections.lazy.map(\.frame).max()!
            if high >= frameCount && low >= 1 && high <= frameCount {
                base = .one
                why = "the numbers run up to \(high) in a \(frameCount)-frame video, so they count from 1 (--frame-base 0 to override)"
            }
        }
        guard base != .zero else { return self }
        var result = self
        for i in result.detections.indices { result.detections[i].frame -= base.rawValue }
        result.warnings.append("frames numbered from 1: \(why)")
        return result
    }
}
