// posecoord synth: makes a deterministic synthetic archive (videos, detections, ground truth).
import Foundation
import PoseArchive
import PoseCore

enum SynthCommand {
    private static let defaults = SynthOptions()
    static let spec = CommandSpec("synth", summary: "make a deterministic synthetic archive (videos, detections, ground truth)", options: [
        .required("--out", "DIR", "the folder to create"),
        .option("--videos", "N", "number of videos", default: "\(defaults.videos)"),
        .option("--frames", "F", "frames per video", default: "\(defaults.frames)"),
        .option("--people", "P", "people per video", default: "\(defaults.people)"),
        .option("--size", "WxH", "frame size", default: "\(defaults.width)x\(defaults.height)"),
        .option("--format", "FORMAT", "mp4 videos or jpeg frame folders", default: defaults.format.rawValue),
        .option("--seed", "S", "random seed (same seed, same bytes)", default: "\(defaults.seed)"),
    ])

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let out = try arguments.required("--out")
        var options = SynthOptions()
        options.videos = try arguments.int("--videos", range: 1...SynthOptions.videosMax)
        options.frames = try arguments.int("--frames", range: 1...SynthOptions.framesMax)
        options.people = try arguments.int("--people", range: 1...SynthOptions.peopleMax)
        if let size = try arguments.option("--size") {
            let parts = size.lowercased().split(separator: "x")
            guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else {
                throw UsageError("--size must look like 320x240, got \"\(size)\"")
            }
            options.width = width; options.height = height
        }
        if let format = try arguments.option("--format") {
            guard let value = SynthOptions.Format(rawValue: format) else { throw UsageError("--format must be mp4 or jpeg, got \"\(format)\"") }
            options.format = value
        }
        if let seed = try arguments.option("--seed") {
            guard let value = UInt64(seed) else { throw UsageError("--seed must be a non-negative integer, got \"\(seed)\"") }
            options.seed = value
        }
        try arguments.finish()
        if let problem = options.problem { throw UsageError(problem) }
        let start = Date()
        let names = try SyntheticArchive.make(options, out: out) { done, total in
            FileHandleOutput.progress("synth: \(done)/\(total) videos")
        }
        FileHandleOutput.endProgress()
        let where_ = options.format == .mp4 ? out : out + "/images/val"
        print("synth: \(names.count) videos of \(options.frames) frames (\(options.width)x\(options.height), \(options.format.rawValue)) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        print("  videos and detections: \(where_)")
        print("  ground truth:          \(out)/annotations")
        return 0
    }
}
