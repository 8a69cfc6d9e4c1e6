// Builders for PoseTrack files in tests: the same people and layout as ops/eval/make_cases.py,
// so the hand-made cases here are the ones compared with the official kit there.
import Foundation
import PoseCore
@testable import PoseEval

enum Fixture {
    /// Head box 30 x 40: diagonal 50, head size 30 px, so 0.5 head sizes = 15 px.
    static let headWidth = 30.0, headHeight = 40.0
    /// 17 keypoints relative to the person's origin; the ears (3, 4) are never annotated.
    static let body: [(Double, Double)?] = [
        (15, 30), (15, 45), (15, 5), nil, nil, (0, 60), (30, 60), (-5, 90), (35, 90), (-10, 120), (40, 120),
        (5, 130), (25, 130), (5, 170), (25, 170), (5, 210), (25, 210),
    ]
    static let leftElbow = 7, leftWrist = 9, rightWrist = 10, leftAnkle = 15, rightAnkle = 16
    /// PoseTrack keypoint -> poseval joint id.
    static let jointOfKeypoint = [13, 12, 14, -1, -1, 9, 8, 10, 7, 11, 6, 3, 2, 4, 1, 5, 0]

    static let sequence = 1

    static func imageID(_ frame: Int) -> Int { 10_000_000_000 + sequence * 10_000 + frame }

    /// 17 (x, y, v) triplets, flattened.
    static func keypoints(_ ox: Double, _ oy: Double, v: Double = 1, shift: [Int: (Double, Double)] = [:],
                          drop: Set<Int> = [], override: [Int: (Double, Double, Double)] = [:]) -> [Double] {
        var out: [Double] = []
        for (k, point) in body.enumerated() {
            if let value = override[k] { out += [value.0, value.1, value.2]; continue }
            guard let point, !drop.contains(k) else { out += [0, 0, 0]; continue }
            let (dx, dy) = shift[k] ?? (0, 0)
            out += [ox + point.0 + dx, oy + point.1 + dy, v]
        }
        return out
    }

    static func truth(_ frame: Int, track: Int, _ ox: Double, _ oy: Double, keypoints points: [Double]? = nil,
                      head: [Double]? = nil) -> PoseTrackAnnotation {
        PoseTrackAnnotation(id: imageID(frame) * 100 + track, imageID: imageID(frame), trackID: track,
                            keypoints: points ?? keypoints(ox, oy), scores: [],
                            bboxHead: head ?? [ox, oy, headWidth, headHeight])
    }

    static func prediction(_ frame: Int, track: Int, _ ox: Double, _ oy: Double, score: Double = 0.9,
                           withScores: Bool = true, keypoints points: [Double]? = nil) -> PoseTrackAnnotation {
        PoseTrackAnnotation(imageID: imageID(frame), trackID: track, keypoints: points ?? keypoints(ox, oy, v: score),
                            scores: withScores ? Array(repeating: score, count: 17) : nil)
    }

    static func images(frames: Int, ignore: [Int: ([[Double]], [[Double]])] = [:], video: String = "000001_mpii_test") -> [PoseTrackImage] {
        (0..<frames).map { f in
            PoseTrackImage(fileName: PoseTrackNaming.fileName(videoName: video, frame: f), id: imageID(f),
                           frameID: imageID(f), videoID: "000001", frameCount: frames,
                           ignoreRegionsX: ignore[f]?.0, ignoreRegionsY: ignore[f]?.1)
        }
    }

    static func file(frames: Int, _ annotations: [PoseTrackAnnotation],
                     ignore: [Int: ([[Double]], [[Double]])] = [:]) -> PoseTrackFile {
        PoseTrackFile(images: images(frames: frames, ignore: ignore), annotations: annotations)
    }

    /// A fresh pair of folders gt/ and pred/ under a temporary directory.
    final class Folders {
        let root: String
        var truth: String { root + "/gt" }
        var prediction: String { root + "/pred" }

        init() throws {
            root = NSTemporaryDirectory() + "poseeval-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: root + "/gt", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/pred", withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: root) }

        func write(_ file: PoseTrackFile, to folder: String, name: String = "000001_mpii_test.json") throws {
            try Data(file.encoded()).write(to: URL(fileURLWithPath: folder + "/" + name))
        }

        func write(text: String, to folder: String, name: String = "000001_mpii_test.json") throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        }

        func evaluate() throws -> EvalSummary {
            try EvalDataset.evaluate(truthDirectory: truth, predictionDirectory: prediction).summary
        }
    }

    /// Writes one video pair and evaluates it.
    static func evaluate(frames: Int, truth: [PoseTrackAnnotation], predictions: [PoseTrackAnnotation],
                         ignore: [Int: ([[Double]], [[Double]])] = [:]) throws -> EvalSummary {
        let folders = try Folders()
        try folders.write(file(frames: frames, truth, ignore: ignore), to: folders.truth)
        try folders.write(file(frames: frames, predictions), to: folders.prediction)
        return try folders.evaluate()
    }

    static func all(_ value: Double) -> [Double] { Array(repeating: value, count: EvalJoints.count) }
}
