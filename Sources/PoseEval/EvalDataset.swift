// PoseTrack mAP of a folder of predictions against a folder of ground truth, as
// eval_helpers.load_data_dir + cleanupData + removeIgnoredPoints + evaluateAP do it:
// files paired by name, frames by index, only frames whose ground truth has a person evaluated.
import Dispatch
import Foundation
import PoseCore

public enum EvalError: Error, CustomStringConvertible, Equatable {
    case notADirectory(String)
    case noGroundTruthFiles(directory: String)
    case missingPrediction(groundTruth: String, expected: String)
    case frameCountMismatch(prediction: String, predictionFrames: Int, groundTruth: String, groundTruthFrames: Int)
    case missingHeadBox(path: String, frame: Int, person: Int)
    case unreadable(path: String, reason: String)
    case annolist(path: String, reason: String)
    case missingTrackID(path: String, field: String)

    public var description: String {
        switch self {
        case .notADirectory(let path):
            return "\(path): not a directory"
        case .noGroundTruthFiles(let directory):
            return "\(directory): no ground-truth files (*.json) to evaluate"
        case .missingPrediction(let truth, let expected):
            return "\(expected): missing prediction file for ground truth \(truth) (every ground-truth video needs one, same name)"
        case .frameCountMismatch(let prediction, let predictionFrames, let truth, let truthFrames):
            return "\(prediction): \(predictionFrames) frames in images, but the ground truth \(truth) has \(truthFrames); frames pair by their order in images"
        case .missingHeadBox(let path, let frame, let person):
            return "\(path): frame \(frame), person \(person) has no bbox_head; the head size (PCKh) needs it"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .annolist(let path, let reason):
            return "\(path): not a PoseTrack 2017 annolist file: \(reason)"
        case .missingTrackID(let path, let field):
            return "\(path): \(field) has no track_id; tracking evaluation needs one for every person"
        }
    }
}

/// What one video contributes: its entries per joint and counts.
public struct EvalVideoResult: Equatable, Sendable {
    public var name: String
    public var frames: Int
    public var evaluatedFrames: Int
    public var groundTruthPeople: Int
    public var predictedPeople: Int
    public var hasMissingScores: Bool
    public var imagesOfOtherVideos: Int
    public var entries: EvalFrameEntries
    /// Per joint, the tracking events of this video (nil unless asked for).
    public var tracking: [EvalTrackCounts]?

    /// Evaluates a video's frames; `truthPath` names the ground truth in errors. With `tracking`,
    /// also the CLEAR-MOT events of evaluateTracking.
    public init(name: String, truth: EvalVideo, prediction: EvalVideo, truthPath: String, predictionPath: String,
                tracking: Bool = false) throws {
        guard truth.frames.count == prediction.frames.count else {
            throw EvalError.frameCountMismatch(prediction: predictionPath, predictionFrames: prediction.frames.count,
                                               groundTruth: truthPath, groundTruthFrames: truth.frames.count)
        }
        if tracking {
            if let field = truth.personWithoutTrackID { throw EvalError.missingTrackID(path: truthPath, field: field) }
            if let field = prediction.personWithoutTrackID { throw EvalError.missingTrackID(path: predictionPath, field: field) }
        }
        self.name = name
        frames = truth.frames.count
        evaluatedFrames = 0; groundTruthPeople = 0; predictedPeople = 0
        hasMissingScores = prediction.hasMissingScores
        imagesOfOtherVideos = prediction.imagesOfOtherVideos + truth.imagesOfOtherVideos
        entries = EvalFrameEntries(entries: Array(repeating: [], count: EvalJoints.count),
                                   groundTruthJoints: Array(repeating: 0, count: EvalJoints.count))
        var trackingFrames: [[EvalTrackFrame]] = []
        for (index, frame) in truth.frames.enumerated() {
            // cleanupData: a frame counts when its ground truth lists a person, even one without points.
            guard frame.isEvaluated else { continue }
            evaluatedFrames += 1
            let people = EvalMatching.removingIgnored(frame.people, regions: frame.ignoreRegions)
            let predicted = EvalMatching.removingIgnored(prediction.frames[index].people, regions: frame.ignoreRegions)
            groundTruthPeople += people.count
            predictedPeople += predicted.count
            let added: EvalFrameEntries
            do { added = try EvalMatching.entries(truth: people, predictions: predicted) } catch {
                throw EvalError.missingHeadBox(path: truthPath, frame: index, person: error.person)
            }
            for joint in 0..<EvalJoints.count {
                entries.entries[joint] += added.entries[joint]
                entries.groundTruthJoints[joint] += added.groundTruthJoints[joint]
            }
            if tracking {
                // Distances are those above, so a missing head box has already been reported.
                trackingFrames.append(try EvalMatching.trackingFrames(truth: people, predictions: predicted))
            }
        }
        if tracking { self.tracking = EvalTracking.counts(frames: trackingFrames) }
    }
}

public struct EvalSummary: Equatable, Sendable {
    /// In poseval's joint order (EvalJoints.names).
    public var joints: [EvalJointResult]
    /// In EvalJoints.groups order.
    public var groups: [Double]
    /// Mean of the joint APs that are not NaN.
    public var total: Double
    public var videos: Int
    public var frames: Int
    public var evaluatedFrames: Int
    public var groundTruthPeople: Int
    public var predictedPeople: Int
    /// With tracking: the CLEAR-MOT metrics of evaluateTracking.
    public var tracking: EvalTrackingSummary?

    public static func == (a: EvalSummary, b: EvalSummary) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return a.joints == b.joints && a.groups.count == b.groups.count && zip(a.groups, b.groups).allSatisfy(same)
            && same(a.total, b.total) && a.videos == b.videos && a.frames == b.frames
            && a.evaluatedFrames == b.evaluatedFrames && a.groundTruthPeople == b.groundTruthPeople
            && a.predictedPeople == b.predictedPeople && a.tracking == b.tracking
    }

    /// Pools the videos' entries in the given order (poseval concatenates frames file by file).
    public init(videos results: [EvalVideoResult]) {
        var joints: [EvalJointResult] = []
        for joint in 0..<EvalJoints.count {
            var entries: [(score: Double, isMatch: Bool)] = []
            var truth = 0
            for video in results {
                entries += video.entries.entries[joint]
                truth += video.entries.groundTruthJoints[joint]
            }
            joints.append(EvalAveragePrecision.evaluate(entries, groundTruthJoints: truth))
        }
        self.joints = joints
        groups = EvalJoints.groups.map { group in EvalAveragePrecision.mean(group.joints.map { joints[$0].averagePrecision }) }
        total = EvalAveragePrecision.meanIgnoringNaN(joints.map(\.averagePrecision))
        videos = results.count
        frames = results.reduce(0) { $0 + $1.frames }
        evaluatedFrames = results.reduce(0) { $0 + $1.evaluatedFrames }
        groundTruthPeople = results.reduce(0) { $0 + $1.groundTruthPeople }
        predictedPeople = results.reduce(0) { $0 + $1.predictedPeople }
        let tracked = results.compactMap(\.tracking)
        tracking = tracked.count == results.count && !results.isEmpty ? EvalTrackingSummary(videos: tracked) : nil
    }
}

public enum EvalDataset {
    /// The ground-truth files poseval reads: `glob(DIR + "/*.json")`, so no hidden files; sorted by
    /// name here (glob's order is the file system's, which only matters for tied scores).
    public static func groundTruthFiles(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EvalError.notADirectory(directory)
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw EvalError.unreadable(path: directory, reason: (error as NSError).localizedDescription)
        }
        let files = names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        guard !files.isEmpty else { throw EvalError.noGroundTruthFiles(directory: directory) }
        return files
    }

    /// Evaluates every ground-truth file in `truthDirectory` against the same name in
    /// `predictionDirectory`, `threads` files at a time; `progress` is called after each file
    /// with (done, total), from any thread. The first error (in file order) is thrown.
    public static func evaluate(truthDirectory: String, predictionDirectory: String, threads: Int = 2, tracking: Bool = false,
                                progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> (summary: EvalSummary, videos: [EvalVideoResult]) {
        precondition(threads >= 1)
        let files = try groundTruthFiles(in: truthDirectory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: predictionDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EvalError.notADirectory(predictionDirectory)
        }
        let slots = ResultSlots(count: files.count)
        let next = ResultSlots.Counter()
        DispatchQueue.concurrentPerform(iterations: min(threads, files.count)) { _ in
            while let index = next.take(below: files.count) {
                let name = files[index]
                let truthPath = (truthDirectory as NSString).appendingPathComponent(name)
                let predictionPath = (predictionDirectory as NSString).appendingPathComponent(name)
                let outcome = Result<EvalVideoResult, Error> {
                    let truth = try EvalVideo.load(path: truthPath, role: .groundTruth)
                    guard FileManager.default.fileExists(atPath: predictionPath) else {
                        throw EvalError.missingPrediction(groundTruth: truthPath, expected: predictionPath)
                    }
                    let prediction = try EvalVideo.load(path: predictionPath, role: .prediction)
                    let stem = name.hasSuffix(".json") ? String(name.dropLast(5)) : name
                    return try EvalVideoResult(name: stem, truth: truth, prediction: prediction,
                                               truthPath: truthPath, predictionPath: predictionPath, tracking: tracking)
                }
                let done = slots.store(outcome, at: index)
                progress?(done, files.count)
            }
        }
        let results = try slots.results().map { try $0.get() }
        return (EvalSummary(videos: results), results)
    }
}

/// Per-file outcomes filled from several threads.
private final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<EvalVideoResult, Error>?]
    private var done = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ outcome: Result<EvalVideoResult, Error>, at index: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        slots[index] = outcome
        done += 1
        return done
    }

    func results() -> [Result<EvalVideoResult, Error>] {
        lock.lock(); defer { lock.unlock() }
        return slots.map { $0! }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func take(below limit: Int) -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }
}
