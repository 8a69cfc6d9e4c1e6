// How `posecoord run` resumes: after a video's file is written, a record
// `OUT/_posecluster/run/NAME.done` keeps the job fingerprint, the SHA-256 of the file and the
// video's report. A rerun with the same fingerprint skips a video whose record matches and whose
// file still has that hash; anything else (another fingerprint, a changed or missing file, a
// failed or incomplete video) is done again. `serve` resumes from its journal instead.
import Foundation
import PoseCore
import PoseCrypto

public struct RunRecord: Codable, Equatable, Sendable {
    public var fingerprint: String
    public var outputSHA256: String
    public var report: VideoReport

    enum CodingKeys: String, CodingKey { case fingerprint, outputSHA256 = "output_sha256", report }
}

public enum RunRecords {
    /// The fingerprint of a `posecoord run` job: the weights' SHA-256 (or the random demo
    /// weights) and the options that change plans, as `serve`'s journal fingerprint has them.
    /// `precision` is the job's (bf16 outputs differ from fp32 ones), as in serve's journal.
    public static func fingerprint(weightsPath: String?, options: ArchiveOptions, precision: String = "fp32") throws -> String {
        var sha256: String?
        if let weightsPath {
            guard let data = FileManager.default.contents(atPath: weightsPath) else {
                throw ArchiveError(.outputFailed, path: weightsPath, reason: "cannot read the weights file")
            }
            sha256 = data.withUnsafeBytes { SHA256.hash($0).hex }
        }
        return fingerprint(weightsSHA256: sha256, options: options, precision: precision)
    }

    /// The same from the weights' SHA-256 the caller already has (nil: the random demo weights).
    public static func fingerprint(weightsSHA256: String?, options: ArchiveOptions, precision: String = "fp32") -> String {
        "posecluster-run/1 weights=\(weightsSHA256 ?? "demo-random-seed0") \(options.planFingerprint) precision=\(precision)"
    }

    /// The folder of the records, inside the job's own name space.
    public static func folder(in outDirectory: String) -> String { outDirectory + "/" + JobReport.folderName + "/run" }

    static func path(of name: String, in outDirectory: String) -> String { folder(in: outDirectory) + "/" + name + ".done" }

    /// The stored report of `entry` when its output is still what a run with `fingerprint` wrote.
    public static func resumable(_ entry: VideoEntry, fingerprint: String, outDirectory: String) -> VideoReport? {
        guard let data = FileManager.default.contents(atPath: path(of: entry.name, in: outDirectory)),
              let record = try? JSONDecoder().decode(RunRecord.self, from: data),
              record.fingerprint == fingerprint, record.report.path == entry.path, record.report.status == .done,
              record.report.unitsFailed == 0,
              let output = FileManager.default.contents(atPath: outDirectory + "/" + entry.name + ".json"),
              output.withUnsafeBytes({ SHA256.hash($0).hex }) == record.outputSHA256 else { return nil }
        return record.report
    }

    /// Records a written video (after its file is in place: a crash in between only redoes it).
    public static func record(_ report: VideoReport, fingerprint: String, outDirectory: String) throws {
        let output = outDirectory + "/" + report.name + ".json"
        guard let bytes = FileManager.default.contents(atPath: output) else {
            throw ArchiveError(.outputFailed, path: output, reason: "written, then not readable")
        }
        try FileManager.default.createDirectory(atPath: folder(in: outDirectory), withIntermediateDirectories: true)
        let record = RunRecord(fingerprint: fingerprint, outputSHA256: bytes.withUnsafeBytes { SHA256.hash($0).hex }, report: report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(Array(encoder.encode(record)), to: path(of: report.name, in: outDirectory))
    }
}
