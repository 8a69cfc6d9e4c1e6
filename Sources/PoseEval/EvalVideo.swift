// One PoseTrack 2018 file read the way poseval reads it: convert.Video.from_new (frames in `images`
// order, people by image id, joints by category name), Person.to_old (a point at (0, 0) with third
// value 0 is unannotated and dropped) and the checks of eval_helpers.load_data_dir (track ids).
// What poseval would crash on becomes a PoseTrackFormatError naming the file and the field.
import Foundation
import PoseCore

/// One joint of one person, with poseval's joint id (EvalJoints.names).
public struct EvalPoint: Equatable, Sendable {
    public var joint: Int
    public var x: Double
    public var y: Double
    /// The joint score; nil when the annotation has no `scores` (poseval then uses -9999).
    public var score: Double?

    public init(joint: Int, x: Double, y: Double, score: Double? = nil) {
        self.joint = joint; self.x = x; self.y = y; self.score = score
    }
}

/// A head box as poseval stores it: corners, x2 = x + w and y2 = y + h computed in doubles.
public struct EvalHeadBox: Equatable, Sendable {
    public var x1: Double, y1: Double, x2: Double, y2: Double

    public init(bboxHead box: [Double]) {
        x1 = box[0]; y1 = box[1]; x2 = box[0] + box[2]; y2 = box[1] + box[3]
    }

    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1; self.y1 = y1; self.x2 = x2; self.y2 = y2
    }

    /// 0.6 x the diagonal (eval_helpers.getHeadSize: np.linalg.norm of the corner difference).
    public var headSize: Double {
        let dx = x2 - x1, dy = y2 - y1
        return EvalJoints.headSizeFactor * (dx * dx + dy * dy).squareRoot()
    }
}

public struct EvalPerson: Equatable, Sendable {
    public var trackID: Int
    public var headBox: EvalHeadBox?
    /// In the file's keypoint order. When category names repeat a joint, the first point with
    /// that joint is the one used (eval_helpers.getPointGTbyID).
    public var points: [EvalPoint]

    public init(trackID: Int, headBox: EvalHeadBox? = nil, points: [EvalPoint]) {
        self.trackID = trackID; self.headBox = headBox; self.points = points
    }

    /// Index into `points` of each joint's first point, or -1.
    func jointIndex() -> [Int] {
        var index = [Int](repeating: -1, count: EvalJoints.count)
        for (i, point) in points.enumerated() where index[point.joint] < 0 { index[point.joint] = i }
        return index
    }
}

public struct EvalFrame: Equatable, Sendable {
    public var people: [EvalPerson]
    /// Ground truth only. Any polygon at all, even an empty one, switches on the removal pass,
    /// which also drops people without points (eval_helpers.removeIgnoredPoints).
    public var ignoreRegions: [EvalPolygon]
    /// cleanupData: the ground truth lists a person, even one without points. Only annolist files
    /// list people that are then dropped (they have no `annopoints`), so it can differ from `people`.
    public var isEvaluated: Bool

    public init(people: [EvalPerson], ignoreRegions: [EvalPolygon] = [], isEvaluated: Bool? = nil) {
        self.people = people; self.ignoreRegions = ignoreRegions; self.isEvaluated = isEvaluated ?? !people.isEmpty
    }
}

/// The frames of one file.
public struct EvalVideo: Equatable, Sendable {
    public var frames: [EvalFrame]
    /// Some annotation had no joint scores (absent or empty `scores`): its joints score -9999.
    public var hasMissingScores: Bool
    /// Images whose folder names another video than the first image's: poseval keeps only the
    /// first video of a file (`convert_videos(data)[0]`), so these are left out.
    public var imagesOfOtherVideos: Int
    /// The first person without a track id (annolist files may omit it; tracking needs it).
    public var personWithoutTrackID: String?

    public init(frames: [EvalFrame], hasMissingScores: Bool = false, imagesOfOtherVideos: Int = 0) {
        self.frames = frames; self.hasMissingScores = hasMissingScores; self.imagesOfOtherVideos = imagesOfOtherVideos
    }

    public enum Role: Sendable { case groundTruth, prediction }

    /// The largest file read: a PoseTrack video of 10,000 frames with dozens of people is tens
    /// of MB; this only stops a wrong path (a video, a dump) from being read whole into memory.
    public static let fileBytesMax = 1 << 30

    /// Reads and checks a file.
    public static func load(path: String, role: Role) throws -> EvalVideo {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size > fileBytesMax {
            throw PoseTrackFormatError(path: path, reason: "\(size) bytes, more than the \(fileBytesMax) a PoseTrack file may have here (fileBytesMax)")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EvalError.unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        if EvalAnnolistDocument.isAnnolist(data) { return try EvalVideo(annolist: data, path: path, role: role) }
        return try EvalVideo(document: EvalDocument.decode(data, path: path), path: path, role: role)
    }

    /// A file held in memory, read as if from disk.
    public init(file: PoseTrackFile, path: String, role: Role) throws {
        try self.init(document: EvalDocument(file), path: path, role: role)
    }

    init(document file: EvalDocument, path: String, role: Role) throws {
        func fail(_ reason: String) -> PoseTrackFormatError { PoseTrackFormatError(path: path, reason: reason) }

        // categories: one "person" with 15 or 17 names covering the 15 joints (convert.Video.from_new).
        guard file.categories.count == 1 else {
            throw fail("categories: expected exactly 1 category (person), got \(file.categories.count)")
        }
        let category = file.categories[0]
        guard category.name == "person" else {
            throw fail("categories[0].name: expected \"person\", got \"\(category.name)\"")
        }
        guard category.keypoints.count == 15 || category.keypoints.count == 17 else {
            throw fail("categories[0].keypoints: expected 15 or 17 names, got \(category.keypoints.count)")
        }
        let jointOfKeypoint = category.keypoints.map { EvalJoints.names.firstIndex(of: $0) }
        for (joint, name) in EvalJoints.names.enumerated() where !jointOfKeypoint.contains(joint) {
            throw fail("categories[0].keypoints: joint \"\(name)\" is missing (poseval evaluates \(EvalJoints.names.joined(separator: ", ")))")
        }
        guard !file.images.isEmpty else { throw fail("images: empty, a video needs at least one frame") }

        // Frames: each image's fields come from the first image with its id (Image.from_new).
        var firstImageWithID: [Int: Int] = [:]
        for (index, image) in file.images.enumerated() where firstImageWithID[image.id] == nil {
            firstImageWithID[image.id] = index
        }
        var annotationsOfImage: [Int: [Int]] = [:]
        for (index, annotation) in file.annotations.enumerated() {
            annotationsOfImage[annotation.imageID, default: []].append(index)
        }

        var frames: [EvalFrame] = []
        var firstVideo: String?
        var otherVideos = 0
        var missingScores = false
        for (imageIndex, listed) in file.images.enumerated() {
            let image = file.images[firstImageWithID[listed.id]!]
            let video = try Self.videoID(fileName: image.fileName, field: "images[\(imageIndex)].file_name", path: path)
            if firstVideo == nil { firstVideo = video }
            guard video == firstVideo else { otherVideos += 1; continue }

            var people: [EvalPerson] = []
            var trackIDs = Set<Int>()
            for index in annotationsOfImage[listed.id] ?? [] {
                let person = try Self.person(file.annotations[index], field: "annotations[\(index)]",
                                             jointOfKeypoint: jointOfKeypoint, path: path, missingScores: &missingScores)
                if role == .prediction && !trackIDs.insert(person.trackID).inserted {
                    throw fail("annotations[\(index)].track_id: \(person.trackID) appears twice in frame \(imageIndex) (\(image.fileName)); track ids must be unique within a frame")
                }
                people.append(person)
            }
            var regions: [EvalPolygon] = []
            if role == .groundTruth, let xs = image.ignoreRegionsX, let ys = image.ignoreRegionsY {
                for i in 0..<min(xs.count, ys.count) {
                    let polygon = EvalPolygon(xs: xs[i], ys: ys[i])
                    // shapely refuses a ring of 1 or 2 points ("A linearring requires at least 4 coordinates"),
                    // but poseval only builds the polygons of evaluated frames: those with a person.
                    guard people.isEmpty || polygon.vertexCount == 0 || polygon.vertexCount >= 3 else {
                        throw fail("images[\(imageIndex)].ignore_regions_x/y[\(i)]: a polygon needs at least 3 points, got \(polygon.vertexCount)")
                    }
                    regions.append(polygon)
                }
            }
            frames.append(EvalFrame(people: people, ignoreRegions: regions))
        }
        self.init(frames: frames, hasMissingScores: missingScores, imagesOfOtherVideos: otherVideos)
    }

    static func person(_ annotation: EvalDocument.Annotation, field: String, jointOfKeypoint: [Int?], path: String,
                       missingScores: inout Bool) throws -> EvalPerson {
        func fail(_ reason: String) -> PoseTrackFormatError { PoseTrackFormatError(path: path, reason: "\(field).\(reason)") }
        guard let trackID = annotation.trackID else { throw fail("track_id: missing (poseval needs an integer track id)") }
        guard trackID < EvalJoints.trackIDLimit else {
            throw fail("track_id: must be below \(EvalJoints.trackIDLimit), got \(trackID)")
        }
        if let box = annotation.bbox, box.count < 4 { throw fail("bbox: expected [x, y, w, h], got \(box.count) numbers") }
        var headBox: EvalHeadBox?
        if let box = annotation.bboxHead {
            guard box.count >= 4 else { throw fail("bbox_head: expected [x, y, w, h], got \(box.count) numbers") }
            headBox = EvalHeadBox(bboxHead: box)
        }
        let keypoints = annotation.keypoints
        guard keypoints.count == 3 * jointOfKeypoint.count else {
            throw fail("keypoints: expected \(3 * jointOfKeypoint.count) numbers (x, y, v for \(jointOfKeypoint.count) category keypoints), got \(keypoints.count)")
        }
        // An absent or empty `scores` means no joint scores (convert: `if landmark_scores:`).
        let scores = annotation.scores.flatMap { $0.isEmpty ? nil : $0 }
        if scores == nil { missingScores = true }
        var points: [EvalPoint] = []
        for (k, joint) in jointOfKeypoint.enumerated() {
            guard let joint else { continue }
            let x = keypoints[3 * k], y = keypoints[3 * k + 1], visible = keypoints[3 * k + 2]
            var score: Double?
            if let scores {
                guard k < scores.count else {
                    throw fail("scores: expected one score per keypoint (\(jointOfKeypoint.count)), got \(scores.count)")
                }
                score = scores[k]
            }
            // Person.to_old: only (0, 0) with third value 0 means "not annotated"; a third value of 0
            // elsewhere, or (0, 0) with a non-zero third value, is a real point.
            if x == 0 && y == 0 && visible == 0 { continue }
            points.append(EvalPoint(joint: joint, x: x, y: y, score: score))
        }
        return EvalPerson(trackID: trackID, headBox: headBox, points: points)
    }

    /// The video id poseval groups frames by: the folder's name up to the first "_" — after checking
    /// the name the way posetrack18_fname2id parses it ("<int>_<mpii|bonn|mpiinew>...", frame 0...9999).
    static func videoID(fileName: String, field: String, path: String) throws -> String {
        func fail(_ reason: String) -> PoseTrackFormatError {
            PoseTrackFormatError(path: path, reason: "\(field): \"\(fileName)\" \(reason)")
        }
        let folder = PythonPath.basename(PythonPath.dirname(fileName))
        let tokens = folder.split(separator: "_", omittingEmptySubsequences: false)
        guard tokens.count >= 2, PythonPath.int(String(tokens[0])) != nil else {
            throw fail("is not in a PoseTrack video folder \"<number>_<mpii|bonn|mpiinew>_...\" (poseval derives image ids from it)")
        }
        guard ["mpii", "bonn", "mpiinew"].contains(tokens[1]) else {
            throw fail("has source \"\(tokens[1])\" in its folder name; poseval accepts mpii, bonn or mpiinew")
        }
        let stem = PythonPath.basename(fileName).split(separator: ".", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard let frame = PythonPath.int(stem), frame >= 0, frame < 10_000 else {
            throw fail("does not end in a frame number 0...9999 (\"NNNNNN.jpg\")")
        }
        return String(tokens[0])
    }
}

/// The bits of Python poseval's file-name handling relies on.
enum PythonPath {
    /// os.path.basename: after the last "/".
    static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// os.path.dirname: before the last "/", trailing slashes removed unless it is all slashes.
    static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        let head = String(path[...slash])
        if head.allSatisfy({ $0 == "/" }) { return head }
        var trimmed = Substring(head)
        while trimmed.last == "/" { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    /// Python's int(str) for ASCII text: surrounding whitespace, a sign, digits with single "_" between.
    static func int(_ text: String) -> Int? {
        var body = Substring(text).drop(while: { $0.isWhitespace })
        while body.last?.isWhitespace == true { body = body.dropLast() }
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" { negative = sign == "-"; body = body.dropFirst() }
        guard let first = body.first, first.isASCII, first.isNumber, body.last?.isNumber == true else { return nil }
        var value = 0
        var previousUnderscore = false
        for character in body {
            if character == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            guard character.isASCII, let digit = character.wholeNumberValue else { return nil }
            previousUnderscore = false
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return negative ? -value : value
    }
}
