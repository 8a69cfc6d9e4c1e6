// `posecoord run` on one machine: scan -> for each video: plan -> crop stream (its own thread)
// -> bounded queue -> estimator (this thread) -> results -> atomic write. Decoding and cropping
// overlap with the model; the queue bounds memory to a few units. Depends only on the
// PoseEstimator protocol: the command chooses the model.
import Foundation
import PoseCore
import PoseMedia

/// A bounded hand-off between one producer and one consumer thread, with cancellation.
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private let capacity: Int
    private var finished = false
    private var cancelled = false
    private var failure: Error?

    struct Cancelled: Error {}

    init(capacity: Int) {
        precondition(capacity >= 1, "BoundedQueue capacity must be >= 1")
        self.capacity = capacity
    }

    /// Blocks while full; throws if the consumer cancelled.
    func put(_ element: Element) throws {
        condition.lock(); defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        items.append(element)
        condition.broadcast()
    }

    /// The producer is done (with an error if it failed).
    func finish(error: Error?) {
        condition.lock(); defer { condition.unlock() }
        finished = true
        failure = error
        condition.broadcast()
    }

    /// The next element, or nil when the producer finished and everything was taken.
    /// Throws the producer's error once everything before it was taken.
    func take() throws -> Element? {
        condition.lock(); defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        if !items.isEmpty {
            let element = items.removeFirst()
            condition.broadcast()
            return element
        }
        if let failure { self.failure = nil; throw failure }
        return nil
    }

    func cancel() {
        condition.lock(); defer { condition.unlock() }
        cancelled = true
        items.removeAll()
        condition.broadcast()
    }
}

struct UncheckedSendable<Value>: @unchecked Sendable { let value: Value }

/// What the producer thread measured; written before it signals, read after the wait.
final class ProducerTimings: @unchecked Sendable {
    /// Busy seconds (decode + crop, not waiting for the model).
    var busy = 0.0
    var decode = 0.0
    var crop = 0.0
    var asDictionary: [String: Double] { ["decode_crop": busy, "decode": decode, "crop": crop] }
}

/// Where a run stands, for the progress line.
public struct RunProgress: Sendable {
    public var videoIndex: Int
    public var videoCount: Int
    public var videoName: String
    public var videoWindowsDone: Int
    public var videoWindows: Int
    public var windowsDone: Int
    public var elapsedSeconds: Double

    public var windowsPerSecond: Double { elapsedSeconds > 0 ? Double(windowsDone) / elapsedSeconds : 0 }

    /// Seconds left, from the fraction of videos done so far (nil before anything is done).
    public var etaSeconds: Double? {
        let fraction = (Double(videoIndex) + (videoWindows > 0 ? Double(videoWindowsDone) / Double(videoWindows) : 0)) / Double(max(1, videoCount))
        guard fraction > 0, elapsedSeconds > 0 else { return nil }
        return elapsedSeconds * (1 - fraction) / fraction
    }

    public var line: String {
        let eta = etaSeconds.map { String(format: "%d:%02d", Int($0) / 60, Int($0) % 60) } ?? "-"
        return String(format: "[%d/%d] %@  windows %d/%d  total %d  %.1f windows/s  ETA %@",
                      videoIndex + 1, videoCount, videoName, videoWindowsDone, videoWindows, windowsDone, windowsPerSecond, eta)
    }
}

public final class ArchiveRunner {
    public let options: ArchiveOptions
    public let outDirectory: String
    public let estimator: any PoseEstimator
    /// Units cropped ahead of the model.
    public static let unitsQueuedMax = 4
    /// Seconds between rewrites of `_posecluster/job.json` during a run (it is always written at the end).
    public static let reportIntervalSeconds = 10.0
    /// Seconds between progress reports.
    public static let progressIntervalSeconds = 0.5

    /// Decode and crop everything but run no model and write no PoseTrack file: checks an
    /// archive's inputs and measures input throughput. `_posecluster/job.json` is still written.
    public var dryRun = false
    /// The kernel class of `estimator` ("fp32", "bf16-amx", ...), recorded per video in the job report.
    public var kernelClass: String?

    /// Called with the progress now and then, and once per finished video.
    public var progress: ((RunProgress) -> Void)?
    /// Called with lines for the log: a video's warnings (they are also in the job report).
    public var log: ((String) -> Void)?
    /// Recorded in the job report and every output file.
    public var provenance: Provenance?

    /// What makes outputs differ (the model's SHA-256, `ArchiveOptions.planFingerprint`). When set,
    /// a video already written by a run with the same fingerprint is skipped (`RunRecords`).
    public var fingerprint: String?

    private var windowsDone = 0
    private var started = DispatchTime.now()
    private var lastProgress = DispatchTime.now()

    public init(options: ArchiveOptions, outDirectory: String, estimator: any PoseEstimator) {
        self.options = options; self.outDirectory = outDirectory; self.estimator = estimator
    }

    /// Annotates every video of the archive and writes `_posecluster/job.json`. Throws only when the archive
    /// cannot be scanned, holds no videos, or the output folder cannot be made; a bad video is a
    /// failed entry.
    public func run() throws -> JobReport {
        let scan = try ArchiveScanner.scanArchive(options)
        if let nothing = scan.nothingToDo(archive: options.archive) { throw nothing }
        let entries = scan.videos
        try Self.prepareOutput(outDirectory, archive: options.archive)
        started = DispatchTime.now()
        windowsDone = 0
        var report = JobReport(provenance: provenance)
        report.skipped = scan.skipped
        for skipped in scan.skipped { log?("\(skipped.path): \(skipped.reason)") }
        report.videos = scan.failed.map { VideoReport.failed($0.entry, reason: $0.reason) }
        var lastReport = DispatchTime.now()
        var resumed = 0
        for (index, entry) in entries.enumerated() {
            if !dryRun, let fingerprint, let done = RunRecords.resumable(entry, fingerprint: fingerprint, outDirectory: outDirectory) {
                report.videos.append(done)
                resumed += 1
                continue
            }
            var video = runVideo(entry, index: index, count: entries.count)
            if !dryRun, let fingerprint, video.status == .done, video.unitsFailed == 0 {
                do { try RunRecords.record(video, fingerprint: fingerprint, outDirectory: outDirectory) } catch {
                    log?("\(entry.name): cannot record it as done (a rerun will do it again): \(error)")
                }
            }
            report.videos.append(video)
            // Rewritten now and then, not after every video: the file grows with the archive.
            if Self.seconds(since: lastReport) >= Self.reportIntervalSeconds {
                report.seconds = Self.seconds(since: started)
                try report.write(to: outDirectory)
                lastReport = DispatchTime.now()
            }
        }
        report.resumed = resumed
        if resumed > 0 { log?("resumed: \(resumed) of \(entries.count) videos were done by an earlier run with the same fingerprint and are not done again") }
        report.seconds = Self.seconds(since: started)
        try report.write(to: outDirectory)
        return report
    }

    /// Makes the output folder; refuses the archive folder itself (outputs would be read back as detections).
    public static func prepareOutput(_ outDirectory: String, archive: String) throws {
        let out = URL(fileURLWithPath: outDirectory).standardizedFileURL.path
        let input = URL(fileURLWithPath: archive).standardizedFileURL.path
        guard out != input else {
            throw ArchiveError(.outputFailed, path: outDirectory, reason: "the output folder must not be the archive folder (NAME.json outputs would be taken for detections)")
        }
        do { try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true) } catch {
            throw ArchiveError(.outputFailed, path: outDirectory, reason: "cannot create the output folder: \(error.localizedDescription)")
        }
    }

    /// One video, start to end. Never throws: failures are in the report.
    public func runVideo(_ entry: VideoEntry, index: Int = 0, count: Int = 1) -> VideoReport {
        let videoStart = DispatchTime.now()
        let plan: VideoPlan
        do { plan = try VideoPlan(entry: entry, options: options, inputShape: estimator.inputShape) } catch {
            return VideoReport.failed(entry, reason: "\(error)")
        }
        let planSeconds = Self.seconds(since: videoStart)
        for warning in plan.warnings { log?("\(entry.name): \(warning)") }
        var results = VideoResults(plan: plan, provenance: provenance)
        var status = RunProgress(videoIndex: index, videoCount: count, videoName: entry.name, videoWindowsDone: 0,
                                 videoWindows: plan.windowCount, windowsDone: windowsDone, elapsedSeconds: Self.seconds(since: started))

        let queue = BoundedQueue<(Int, [UInt8])>(capacity: Self.unitsQueuedMax)
        let stream = UncheckedSendable(value: UnitCropStream(plan: plan))
        let producerDone = DispatchSemaphore(value: 0)
        let timings = ProducerTimings()
        let thread = Thread {
            let begin = DispatchTime.now()
            var waited: UInt64 = 0
            do {
                try stream.value.run(skipping: []) { unitIndex, crops in
                    let putStart = DispatchTime.now().uptimeNanoseconds
                    try queue.put((unitIndex, crops))
                    waited += DispatchTime.now().uptimeNanoseconds - putStart
                }
                queue.finish(error: nil)
            } catch {
                queue.finish(error: error)
            }
            // Busy time only: waiting for the model to take a unit is not decoding.
            timings.busy = Double(DispatchTime.now().uptimeNanoseconds - begin.uptimeNanoseconds - waited) / 1e9
            timings.decode = stream.value.decodeSeconds
            timings.crop = stream.value.cropSeconds
            producerDone.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()

        var modelSeconds = 0.0
        var decodeFailure: Error?
        while true {
            let item: (Int, [UInt8])?
            do { item = try queue.take() } catch { decodeFailure = error; break }
            guard let (unitIndex, crops) = item else { break }
            let windows = plan.units[unitIndex].windows.count
            let modelStart = DispatchTime.now()
            estimate(unitIndex: unitIndex, crops: crops, windows: windows, into: &results)
            modelSeconds += Self.seconds(since: modelStart)
            windowsDone += windows
            status.videoWindowsDone += windows
            status.windowsDone = windowsDone
            if Self.seconds(since: lastProgress) >= Self.progressIntervalSeconds {
                lastProgress = DispatchTime.now()
                status.elapsedSeconds = Self.seconds(since: started)
                progress?(status)
            }
        }
        queue.cancel()
        producerDone.wait()
        let stageSeconds = timings.asDictionary.merging(plan.detectionSeconds) { a, _ in a }

        if let decodeFailure {
            var report = VideoReport.failed(entry, reason: "\(decodeFailure)")
            report.frames = plan.frameCount
            report.counts = plan.counts
            report.warnings = plan.warnings
            report.seconds = ["plan": planSeconds, "model": modelSeconds, "total": Self.seconds(since: videoStart)].merging(stageSeconds) { a, _ in a }
            return report
        }
        precondition(results.isComplete, "runVideo: the stream ended with units missing")
        if dryRun {
            var report = VideoReport(name: entry.name, path: entry.path, status: .done)
            report.frames = plan.frameCount
            report.counts = plan.counts
            report.warnings = plan.warnings
            report.seconds = ["plan": planSeconds, "total": Self.seconds(since: videoStart)].merging(stageSeconds) { a, _ in a }
            status.elapsedSeconds = Self.seconds(since: started)
            progress?(status)
            return report
        }
        let writeStart = DispatchTime.now()
        var report: VideoReport
        do {
            try results.write(to: outDirectory)
            report = VideoReport.done(results)
            report.kernelClasses = kernelClass.map { [$0] }
        } catch {
            report = VideoReport.failed(entry, reason: "cannot write the output: \(error)")
            report.frames = plan.frameCount
            report.counts = plan.counts
            report.warnings = plan.warnings
        }
        report.seconds = ["plan": planSeconds, "model": modelSeconds,
                          "write": Self.seconds(since: writeStart), "total": Self.seconds(since: videoStart)].merging(stageSeconds) { a, _ in a }
        status.elapsedSeconds = Self.seconds(since: started)
        progress?(status)
        return report
    }

    /// Runs the model on one unit; a model error fails that unit only.
    private func estimate(unitIndex: Int, crops: [UInt8], windows: Int, into results: inout VideoResults) {
        guard !dryRun else {
            results.fail(unitIndex: unitIndex, reason: "dry run")
            return
        }
        do {
            let keypoints = try crops.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: windows) }
            try results.accept(unitIndex: unitIndex, keypoints: keypoints)
        } catch {
            results.fail(unitIndex: unitIndex, reason: "\(error)")
        }
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
