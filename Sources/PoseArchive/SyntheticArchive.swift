// `posecoord synth`: a deterministic synthetic archive for demos and tests. Videos (mp4 through
// ffmpeg, or PoseTrack-layout JPEG folders), ground truth in PoseTrack 2018 format under
// `annotations/` (never where detections are looked up), and detections next to each video in
// all three formats, made from the ground truth with jitter, misses and false positives.
// COCO and MOT detections carry no track ids, so the tracker is exercised.
import Foundation
import PoseCore
import PoseMedia

public struct SynthOptions: Sendable, Equatable {
    public enum Format: String, Sendable { case mp4, jpeg }
    public var videos: Int
    public var frames: Int
    public var people: Int
    public var width: Int
    public var height: Int
    public var format: Format
    public var seed: UInt64

    public static let videosMax = 100_000
    public static let framesMax = 9_999
    public static let peopleMax = 20
    public static let sideRange = 32...4096

    public init(videos: Int = 10, frames: Int = 30, people: Int = 3, width: Int = 320, height: Int = 240, format: Format = .mp4, seed: UInt64 = 0) {
        self.videos = videos; self.frames = frames; self.people = people
        self.width = width; self.height = height; self.format = format; self.seed = seed
    }

    /// A sentence for the first option out of range, or nil.
    public var problem: String? {
        if !(1...Self.videosMax).contains(videos) { return "--videos must be in 1...\(Self.videosMax)" }
        if !(1...Self.framesMax).contains(frames) { return "--frames must be in 1...\(Self.framesMax) (PoseTrack image ids hold 4 digits of frame)" }
        if !(1...Self.peopleMax).contains(people) { return "--people must be in 1...\(Self.peopleMax)" }
        if !Self.sideRange.contains(width) || !Self.sideRange.contains(height) || width % 2 != 0 || height % 2 != 0 {
            return "--size must be even sides in \(Self.sideRange.lowerBound)...\(Self.sideRange.upperBound)"
        }
        return nil
    }
}

public enum SyntheticArchive {
    /// `NNNNNN_mpii_test`, the pattern PoseTrack's kit parses (sequence = index + 1).
    public static func videoName(_ index: Int) -> String {
        let digits = String(index + 1)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + "_mpii_test"
    }

    /// Writes the archive under `out`; returns the video names.
    @discardableResult
    public static func make(_ options: SynthOptions, out: String, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> [String] {
        precondition(options.problem == nil, options.problem ?? "")
        let manager = FileManager.default
        try manager.createDirectory(atPath: out + "/annotations", withIntermediateDirectories: true)
        var names: [String] = []
        for index in 0..<options.videos {
            let name = videoName(index)
            try makeVideo(name: name, index: index, options: options, out: out)
            names.append(name)
            progress?(index + 1, options.videos)
        }
        return names
    }

    struct Frame { var image: RGBImage; var annotations: [PoseTrackAnnotation] }

    static func makeVideo(name: String, index: Int, options: SynthOptions, out: String) throws {
        var rng = SplitMix64(seed: options.seed &* 0x100_0000_01B3 &+ UInt64(index) &+ 1)
        let width = options.width, height = options.height
        let background = SynthBackground.make(width: width, height: height, rng: &rng)
        let motions = SynthPerson.Motion.allCases
        let peopleCount = max(1, options.people + rng.int(-1...1))
        var people: [SynthPerson] = []
        for p in 0..<peopleCount {
            people.append(SynthPerson(random: &rng, width: width, height: height, frames: options.frames, motion: motions[(p + index) % motions.count]))
        }
        // Occluding objects: a post or a crate in front of everybody, some moving.
        var objects: [(x: Double, y: Double, w: Double, h: Double, vx: Double, colour: (Double, Double, Double), seed: UInt64)] = []
        for _ in 0..<rng.int(0...2) {
            objects.append((rng.uniform(0, Double(width)), rng.uniform(0.3, 0.8) * Double(height), rng.uniform(0.04, 0.12) * Double(width),
                            rng.uniform(0.15, 0.5) * Double(height), rng.uniform() < 0.5 ? 0 : rng.uniform(-2, 2),
                            (rng.uniform(30, 220), rng.uniform(30, 220), rng.uniform(30, 220)), rng.next()))
        }
        let blurred = rng.uniform() < 0.4

        // Where frames and detections go.
        let videoFolder: String
        switch options.format {
        case .mp4: videoFolder = out
        case .jpeg: videoFolder = out + "/images/val"
        }
        try FileManager.default.createDirectory(atPath: videoFolder, withIntermediateDirectories: true)
        let writer: VideoFileWriter? = options.format == .mp4 ? try VideoFileWriter(path: "\(videoFolder)/\(name).mp4", width: width, height: height) : nil
        if options.format == .jpeg { try FileManager.default.createDirectory(atPath: "\(videoFolder)/\(name)", withIntermediateDirectories: true) }

        var images: [PoseTrackImage] = []
        var annotations: [PoseTrackAnnotation] = []
        var detections: [(frame: Int, box: [Double], score: Double, trackID: Int)] = []
        var falseID = 1000
        for t in 0..<options.frames {
            let imageID = PoseTrackNaming.imageID(videoName: name, frame: t)!
            images.append(PoseTrackImage(fileName: PoseTrackNaming.fileName(videoName: name, frame: t), id: imageID, frameID: imageID,
                                         videoID: String(name.prefix(6)), frameCount: options.frames, isLabeled: true))
            var canvas = SynthCanvas(background: background)
            let joints = people.map { $0.joints(at: t) }
            // Back to front: feet lower in the image are closer.
            let order = people.indices.sorted { (people[$0].feetY, $0) < (people[$1].feetY, $1) }
            for p in order { draw(people[p], joints: joints[p], owner: UInt8(p + 1), on: &canvas) }
            for object in objects {
                let x = object.x + object.vx * Double(t)
                canvas.block(x0: Int(x), y0: Int(object.y), x1: Int(x + object.w), y1: Int(object.y + object.h), colour: object.colour, seed: object.seed)
            }
            if blurred {
                for p in people.indices where abs(people[p].speed) > 1.5 { canvas.motionBlur(owner: UInt8(p + 1), radius: 2) }
            }
            let image = canvas.image
            if let writer { try writer.write(image) } else {
                let path = "\(videoFolder)/\(name)/" + (PoseTrackNaming.fileName(videoName: name, frame: t) as NSString).lastPathComponent
                try Data(JPEGCodec.encode(image, quality: 90, path: path)).write(to: URL(fileURLWithPath: path))
            }
            // Ground truth and detections of this frame.
            for p in people.indices {
                guard let annotation = groundTruth(people[p], joints: joints[p], owner: UInt8(p + 1), canvas: canvas, imageID: imageID, index: p) else { continue }
                annotations.append(annotation)
                if rng.uniform() < 0.06 { continue }   // a miss
                let b = annotation.bbox!
                let jitter = { (size: Double, rng: inout SplitMix64) in 0.04 * size * rng.normal() }
                let x0 = b[0] + jitter(b[2], &rng), y0 = b[1] + jitter(b[3], &rng)
                let x1 = b[0] + b[2] + jitter(b[2], &rng), y1 = b[1] + b[3] + jitter(b[3], &rng)
                let visible = Double(annotation.keypoints!.enumerated().filter { $0.offset % 3 == 2 && $0.element > 0 }.count) / 15
                detections.append((t, [x0, y0, x1 - x0, y1 - y0].map(round2), round2(min(0.99, 0.45 + 0.5 * visible + 0.05 * rng.uniform())), p))
            }
            if rng.uniform() < 0.2 {
                let w = rng.uniform(0.05, 0.25) * Double(width), h = rng.uniform(0.1, 0.5) * Double(height)
                detections.append((t, [rng.uniform(0, Double(width) - w), rng.uniform(0, Double(height) - h), w, h].map(round2),
                                   round2(rng.uniform(0.05, 0.5)), falseID))
                falseID += 1
            }
        }
        try writer?.finish()

        let truth = PoseTrackFile(images: images, annotations: annotations)
        try AtomicFile.write(truth.encoded(), to: "\(out)/annotations/\(name).json")
        try writeDetections(detections, images: images, name: name, folder: videoFolder)
    }

    static func draw(_ person: SynthPerson, joints j: [(x: Double, y: Double)], owner: UInt8, on canvas: inout SynthCanvas) {
        let h = person.height
        let dark = { (c: (Double, Double, Double)) in (c.0 * 0.7, c.1 * 0.7, c.2 * 0.7) }
        // Far side first (the side turned away from the camera is darker and behind).
        let leftIsFar = person.speed >= 0
        let sides = leftIsFar ? [(5, 7, 9, 11, 13, 15, true), (6, 8, 10, 12, 14, 16, false)] : [(6, 8, 10, 12, 14, 16, true), (5, 7, 9, 11, 13, 15, false)]
        func legs(_ s: (Int, Int, Int, Int, Int, Int, Bool)) {
            let pants = s.6 ? dark(person.pants) : person.pants
            canvas.capsule(j[s.3], j[s.4], radius: 0.035 * h, colour: pants, stripes: 0, owner: owner)
            canvas.capsule(j[s.4], j[s.5], radius: 0.03 * h, colour: pants, stripes: 0, owner: owner)
        }
        func arm(_ s: (Int, Int, Int, Int, Int, Int, Bool)) {
            let shirt = s.6 ? dark(person.shirt) : person.shirt
            canvas.capsule(j[s.0], j[s.1], radius: 0.026 * h, colour: shirt, stripes: person.stripes, owner: owner)
            canvas.capsule(j[s.1], j[s.2], radius: 0.022 * h, colour: person.skin, stripes: 0, owner: owner)
        }
        legs(sides[0]); arm(sides[0])
        legs(sides[1])
        let neck = (x: (j[5].x + j[6].x) / 2, y: (j[5].y + j[6].y) / 2)
        let pelvis = (x: (j[11].x + j[12].x) / 2, y: (j[11].y + j[12].y) / 2)
        canvas.capsule(neck, pelvis, radius: 0.085 * h, colour: person.shirt, stripes: person.stripes, owner: owner)
        canvas.capsule(j[5], j[6], radius: 0.04 * h, colour: person.shirt, stripes: 0, owner: owner)
        canvas.capsule(j[1], neck, radius: 0.025 * h, colour: person.skin, stripes: 0, owner: owner)
        let headCentre = (x: (j[1].x + j[2].x) / 2, y: (j[1].y + j[2].y) / 2)
        canvas.capsule(headCentre, (headCentre.x, headCentre.y + 0.001), radius: 0.075 * h, colour: person.skin, stripes: 0, owner: owner)
        // Hair on top, nose as a small darker dot, so the head has a direction.
        canvas.capsule((j[2].x, j[2].y + 0.03 * h), (j[2].x, j[2].y + 0.031 * h), radius: 0.045 * h, colour: dark(dark(person.pants)), stripes: 0, owner: owner)
        canvas.capsule(j[0], (j[0].x, j[0].y + 0.001), radius: 0.012 * h, colour: dark(person.skin), stripes: 0, owner: owner)
        arm(sides[1])
    }

    /// The PoseTrack annotation of one person in one frame, or nil when nothing of it is visible.
    static func groundTruth(_ person: SynthPerson, joints: [(x: Double, y: Double)], owner: UInt8, canvas: SynthCanvas, imageID: Int, index: Int) -> PoseTrackAnnotation? {
        var keypoints: [Double] = []
        var visibleCount = 0
        for (k, point) in joints.enumerated() {
            let x = Int(point.x.rounded(.down)), y = Int(point.y.rounded(.down))
            let inside = x >= 0 && x < canvas.width && y >= 0 && y < canvas.height
            var visible = inside && !PoseTrackJoints.unlabelled.contains(k)
            if visible {
                let o = canvas.owner[y * canvas.width + x]
                visible = o == owner || o == 0
            }
            if visible { keypoints += [round2(point.x), round2(point.y), 1]; visibleCount += 1 } else { keypoints += [0, 0, 0] }
        }
        guard visibleCount >= 2 else { return nil }
        let h = person.height
        let xs = joints.map(\.x), ys = joints.map(\.y)
        let x0 = max(0, xs.min()! - 0.06 * h), x1 = min(Double(canvas.width), xs.max()! + 0.06 * h)
        let y0 = max(0, ys.min()! - 0.02 * h), y1 = min(Double(canvas.height), ys.max()! + 0.04 * h)
        guard x1 - x0 > 2, y1 - y0 > 2 else { return nil }
        let headLength = abs(joints[1].y - joints[2].y)
        let headCentre = (x: (joints[1].x + joints[2].x) / 2, y: (joints[1].y + joints[2].y) / 2)
        let box = [x0, y0, x1 - x0, y1 - y0].map(round2)
        return PoseTrackAnnotation(id: imageID * 100 + index, imageID: imageID, trackID: index, categoryID: 1, keypoints: keypoints,
                                   scores: [], bbox: box,
                                   bboxHead: [headCentre.x - 0.4 * headLength, headCentre.y - 0.5 * headLength, 0.8 * headLength, headLength].map(round2),
                                   numKeypoints: PoseTrackAnnotation.labelledKeypoints(keypoints), area: round2(box[2] * box[3]), isCrowd: 0)
    }

    struct COCODetection: Encodable {
        var imageID: Int; var bbox: [Double]; var score: Double; var categoryID = 1
        enum CodingKeys: String, CodingKey { case imageID = "image_id", bbox, score, categoryID = "category_id" }
    }

    static func writeDetections(_ detections: [(frame: Int, box: [Double], score: Double, trackID: Int)], images: [PoseTrackImage], name: String, folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // COCO results, no track ids; image_id is the PoseTrack image id.
        let coco = detections.map { COCODetection(imageID: images[$0.frame].id, bbox: $0.box, score: $0.score) }
        try AtomicFile.write(Array(encoder.encode(coco)), to: "\(folder)/\(name).dets.json")
        // MOT: 1-based frames, id -1.
        var text = ""
        for d in detections {
            text += "\(d.frame + 1),-1,\(d.box[0]),\(d.box[1]),\(d.box[2]),\(d.box[3]),\(d.score),-1,-1,-1\n"
        }
        try AtomicFile.write(Array(text.utf8), to: "\(folder)/\(name).txt")
        // PoseTrack 2018 with track ids (the detector's tracker: false positives get their own).
        let annotations = detections.map {
            PoseTrackAnnotation(imageID: images[$0.frame].id, trackID: $0.trackID, categoryID: 1, bbox: $0.box, score: $0.score)
        }
        try AtomicFile.write(PoseTrackFile(images: images, annotations: annotations).encoded(), to: "\(folder)/\(name).json")
    }
}

func round2(_ value: Double) -> Double { (value * 100).rounded() / 100 }
