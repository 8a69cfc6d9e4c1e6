// `OUT/_posecluster/job.json`: what happened to every video (done or failed and why, counts,
// timings). Timings make its bytes differ between runs; the PoseTrack files do not.
// The report lives in a folder because a video's output is `OUT/NAME.json` for any NAME the
// archive holds: a file `OUT/_job.json` was overwritten by (or overwrote) a video named `_job`.
// No video output can be a folder, so `OUT/_posecluster/` is a name space no video can take.
import Foundation
import PoseCore

public struct VideoReport: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable { case done, failed }
    public var name: String
    public var path: String
    public var status: Status
    /// Why the video failed, or a summary of failed units.
    public var reason: String?
    public var frames: Int = 0
    public var counts: PlanCounts = PlanCounts()
    public var unitsFailed: Int = 0
    public var failedUnits: [FailedUnit] = []
    public var duplicateResults: Int = 0
    /// The kernel classes that computed the video's units ("fp32", "bf16-amx", "bf16-avx512bf16",
    /// "bf16-scalar"): fp32 is one class (every variant gives the same bits), bf16 results are equal
    /// bit for bit only within a class. Units restored from a journal are not counted. Absent in a
    /// dry run.
    public var kernelClasses: [String]?
    /// Seconds spent per stage.
    public var seconds: [String: Double] = [:]
    /// Where its boxes came from.
    public var detections: Provenance.Detections?
    /// What the video's inputs made us doubt: boxes outside the video, the frame base chosen,
    /// dropped or clamped values (docs/ARCHIVE.md "Detection values").
    public var warnings: [String] = []

    public struct FailedUnit: Codable, Equatable, Sendable {
        public var unit: Int
        public var reason: String
    }

    public init(name: String, path: String, status: Status, reason: String? = nil) {
        self.name = name; self.path = path; self.status = status; self.reason = reason
    }

    /// A video that failed as a whole (bad input): nothing was written for it.
    public static func failed(_ entry: VideoEntry, reason: String) -> VideoReport {
        var report = VideoReport(name: entry.name, path: entry.path, status: .failed, reason: reason)
        report.detections = Provenance.Detections(entry: entry)
        return report
    }

    /// A video whose file was written; failed units (if any) are listed.
    public static func done(_ results: VideoResults) -> VideoReport {
        var report = VideoReport(name: results.plan.entry.name, path: results.plan.entry.path, status: .done)
        report.frames = results.plan.frameCount
        report.detections = Provenance.Detections(plan: results.plan)
        report.counts = results.plan.counts
        report.failedUnits = results.failed.keys.sorted().map { FailedUnit(unit: $0, reason: results.failed[$0]!) }
        report.unitsFailed = report.failedUnits.count
        report.duplicateResults = results.duplicates
        report.warnings = results.plan.warnings
        if report.unitsFailed > 0 { report.reason = "\(report.unitsFailed) of \(results.plan.units.count) units failed; their windows are missing" }
        return report
    }

    enum CodingKeys: String, CodingKey {
        case name, path, status, reason, frames, counts, unitsFailed = "units_failed", failedUnits = "failed_units"
        case duplicateResults = "duplicate_results", seconds, detections, warnings, kernelClasses = "kernel_classes"
    }
}

public struct JobReport: Codable, Equatable, Sendable {
    public var videos: [VideoReport] = []
    /// Entries of the archive the scan set aside (links leaving it, loops, unreadable folders).
    public var skipped: [SkippedEntry] = []
    /// Videos `posecoord run` did not do again: written by an earlier run with the same fingerprint.
    public var resumed = 0
    public var seconds: Double = 0
    /// The model, precision and build that made the outputs (each video has its detections).
    public var provenance: Provenance?
    public init(videos: [VideoReport] = [], provenance: Provenance? = nil) { self.videos = videos; self.provenance = provenance }

    public var failedVideos: [VideoReport] { videos.filter { $0.status == .failed } }
    /// Videos written with some units missing.
    public var incompleteVideos: [VideoReport] { videos.filter { $0.status == .done && $0.unitsFailed > 0 } }
    public var succeeded: Bool { failedVideos.isEmpty && incompleteVideos.isEmpty }

    /// One line for the end of a run.
    public var summary: String {
        let done = videos.count - failedVideos.count
        var text = "\(done) of \(videos.count) videos done"
        if !failedVideos.isEmpty { text += ", \(failedVideos.count) failed (\(failedVideos.prefix(3).map(\.name).joined(separator: ", "))\(failedVideos.count > 3 ? ", ..." : ""))" }
        if !incompleteVideos.isEmpty { text += ", \(incompleteVideos.count) with failed units" }
        return text
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return Array(try encoder.encode(self))
    }

    /// The folder of `OUT` that holds what the job writes besides the videos' files.
    public static let folderName = "_posecluster"
    /// The report's path relative to `OUT`.
    public static let relativePath = folderName + "/job.json"

    /// `OUT/_posecluster/job.json`.
    public static func path(in outDirectory: String) -> String { outDirectory + "/" + relativePath }

    public func write(to outDirectory: String) throws {
        let folder = outDirectory + "/" + Self.folderName
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw ArchiveError(.outputFailed, path: folder, reason: "cannot create the report folder: \(error.localizedDescription)")
        }
        try AtomicFile.write(encoded(), to: Self.path(in: outDirectory))
    }
}
