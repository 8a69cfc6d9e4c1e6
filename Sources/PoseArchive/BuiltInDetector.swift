// The built-in person detector for videos without a detection file (`--detector hog`): decodes
// the video once, runs HOG on every Nth frame and hands the boxes to the tracker, which links
// them and carries each track's box over the frames between (Tracker.carry). HOG is a classic
// baseline; a modern detector's boxes, brought in one of the three formats, are better.
import Dispatch
import Foundation
import PoseCore
import PoseDetect
import PoseMedia

/// `--detector hog` and its settings. Part of what makes a plan: the coordinator's journal
/// fingerprint holds `summary`.
public struct BuiltInDetector: Sendable, Equatable, Codable {
    public var hog: HOGParameters
    /// Detect on frames 0, N, 2N, ... (and the last frame); the tracker carries boxes between.
    public var every: Int

    public static let everyMax = 100

    public init(hog: HOGParameters = HOGParameters(), every: Int = 5) {
        precondition(hog.problem == nil, "BuiltInDetector: \(hog.problem ?? "")")
        precondition(every >= 1 && every <= Self.everyMax, "BuiltInDetector: every must be in 1...\(Self.everyMax)")
        self.hog = hog; self.every = every
    }

    /// The frames detection runs on.
    public func sampledFrames(frameCount: Int) -> [Int] {
        var frames = Array(stride(from: 0, to: frameCount, by: every))
        if let last = frames.last, last != frameCount - 1 { frames.append(frameCount - 1) }
        return frames
    }

    public var summary: String { "\(hog.summary), every \(every) frames, tracker carries boxes between" }

    /// A detection's score from the SVM margin of its best window: 1 / (1 + e^-margin), so a
    /// margin of 0 (OpenCV's default hit threshold) is 0.5.
    public static func score(margin: Double) -> Double { 1 / (1 + exp(-margin)) }
}

/// Where a video's boxes came from, for reports and provenance records.
public struct DetectorSource: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case file, builtIn = "built-in" }
    public var kind: Kind
    /// The detection file and its format (kind `file`).
    public var file: String?
    public var format: DetectionFormat?
    /// The detector's name and settings (kind `built-in`): "hog", HOG parameters, every N frames.
    public var detector: String?
    public var hog: HOGParameters?
    public var every: Int?
    /// SHA-256 of the detector's coefficients (float32 little-endian), as exported from OpenCV.
    public var coefficientsSHA256: String?

    public static func file(_ file: DetectionFile) -> DetectorSource {
        DetectorSource(kind: .file, file: file.path, format: file.format)
    }

    public static func builtIn(_ detector: BuiltInDetector) -> DetectorSource {
        DetectorSource(kind: .builtIn, detector: "hog", hog: detector.hog, every: detector.every, coefficientsSHA256: HOGPeopleDetector.sha256)
    }

    /// One line: "file NAME.dets.json (dets.json)" or "built-in HOG ...".
    public var summary: String {
        switch kind {
        case .file: return "file \(file ?? "?") (\(format?.rawValue ?? "?"))"
        case .builtIn: return "built-in \(hog?.summary ?? "HOG"), every \(every ?? 1) frames"
        }
    }

    enum CodingKeys: String, CodingKey {
        case kind, file, format, detector, hog, every, coefficientsSHA256 = "coefficients_sha256"
    }
}

/// What detection on one video found and cost.
public struct DetectionRun: Sendable {
    public var detections: [Detection]
    public var framesSearched = 0
    /// Seconds reading frames (the decoder), and running HOG.
    public var decodeSeconds = 0.0
    public var detectSeconds = 0.0
}

public enum PersonDetection {
    /// Decodes `entry` and runs HOG on the sampled frames, `threads` frames at a time. Frame
    /// order and results do not depend on `threads`.
    public static func run(_ detector: BuiltInDetector, entry: VideoEntry, info: VideoInfo, threads: Int = 1) throws -> DetectionRun {
        precondition(threads >= 1, "PersonDetection.run: threads must be >= 1")
        let source: FrameSource
        switch entry.kind {
        case .videoFile: source = try VideoFileFrameSource(path: entry.path, info: info)
        case .frameFolder: source = try JPEGFolderFrameSource(folder: entry.path)
        }
        defer { source.close() }
        let hog = HOGDetector(parameters: detector.hog, threads: 1)
        let sampled = Set(detector.sampledFrames(frameCount: info.frameCount))
        var run = DetectionRun(detections: [])
        var batch: [(frame: Int, image: RGBImage)] = []
        var pixels = [UInt8](repeating: 0, count: info.frameBytes)

        func flush() {
            let start = DispatchTime.now().uptimeNanoseconds
            final class Found: @unchecked Sendable { var boxes: [[HOGDetection]] = [] }
            let found = Found()
            found.boxes = Array(repeating: [], count: batch.count)
            let frames = batch
            DispatchQueue.concurrentPerform(iterations: frames.count) { i in
                found.boxes[i] = hog.detect(frames[i].image)
            }
            for (i, item) in frames.enumerated() {
                for box in found.boxes[i] {
                    run.detections.append(Detection(frame: item.frame, box: box.box, score: BuiltInDetector.score(margin: box.margin), trackID: nil))
                }
            }
            run.framesSearched += frames.count
            run.detectSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            batch.removeAll()
        }

        var frame = 0
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            let more = try pixels.withUnsafeMutableBufferPointer { try source.readFrame(into: $0) }
            run.decodeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard more else { break }
            if sampled.contains(frame) {
                batch.append((frame, RGBImage(width: info.width, height: info.height, pixels: pixels)))
                if batch.count == threads { flush() }
            }
            frame += 1
        }
        if !batch.isEmpty { flush() }
        return run
    }
}
