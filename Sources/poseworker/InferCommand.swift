// poseworker infer: runs FTP-Pose on frames from a safetensors file and writes heatmaps, kept
// token indices and keypoints to another (the format of the golden fixtures), so any input can be
// compared with the Python reference.
import BlazePose
import FTPPose
import Foundation
import PoseCluster
import PoseCore
import PoseTensor
import SafeTensors

enum InferCommand {
    /// Windows per forward pass: bounds memory on large inputs; results do not depend on it.
    static let batchMax = 4

    static let spec = CommandSpec("infer", summary: "run the model on frames from a safetensors file (compare with the Python reference)", options: [
        .required("--weights", "FILE", "FTP-Pose or BlazePose weights (.safetensors)"),
        .required("--input", "FILE", "safetensors file with F32 frames [B, T, 3, H, W] (BlazePose: U8 crops [B, 256, 256, 3])"),
        .required("--output", "FILE", "safetensors file to write: heatmaps, kept token indices, keypoints"),
        .option("--prune", "HR,LR", "token pruning ratios", default: "the model's"),
        .option("--threads", "N", "threads", default: "2"),
        .option("--precision", "fp32|bf16|auto", "linear layers' precision; auto: bf16 where AMX or AVX512_BF16 runs it", default: "fp32"),
        .flag("--bf16", "the same as --precision bf16"),
        .option("--layout", "posetrack|coco", "BlazePose only: the 17 joints' order in the output", default: "posetrack"),
    ])

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let weightsPath = try arguments.required("--weights")
        let inputPath = try arguments.required("--input")
        let outputPath = try arguments.required("--output")
        if ModelFamily.of(contentsOfFile: weightsPath) == .blazePoseFull {
            let threads = try arguments.int("--threads", range: 1...256)
            let layoutName = arguments.value("--layout")
            guard let layout = JointLayout(rawValue: layoutName) else {
                throw UsageError("--layout must be posetrack or coco, got \"\(layoutName)\"")
            }
            try arguments.finish()
            return try BlazePoseCommands.infer(weightsPath: weightsPath, inputPath: inputPath, outputPath: outputPath, threads: threads, layout: layout)
        }
        let prune = try parsePrune(try arguments.option("--prune"))
        let threads = try arguments.int("--threads", range: 1...256)
        let precision = try BenchCommand.precision(bf16: arguments.flag("--bf16"), setting: try arguments.option("--precision"))
        try arguments.finish()

        let model: FTPPoseModel
        do { model = try FTPPoseModel(contentsOfFile: weightsPath, precision: precision) } catch { throw FileError(path: weightsPath, underlying: error) }
        let config = model.config
        let input: SafeTensorsFile
        do { input = try SafeTensorsFile(contentsOfFile: inputPath) } catch { throw FileError(path: inputPath, underlying: error) }
        guard input.contains("frames") else { throw UsageError("\(inputPath): no tensor named \"frames\"") }
        let info = try input.info("frames")
        let expected = [config.frames, 3, config.inputHeight, config.inputWidth]
        guard info.dtype == .f32, info.shape.count == 5, Array(info.shape.dropFirst()) == expected, info.shape[0] > 0 else {
            throw UsageError("\(inputPath): frames must be F32 [B, \(expected.map(String.init).joined(separator: ", "))] for this model, got \(info.dtype.rawValue) \(info.shape)")
        }
        let batch = info.shape[0]
        let frames = try input.floats("frames")
        let pruneHR = prune?.hr ?? config.pruneHR, pruneLR = prune?.lr ?? config.pruneLR
        var heatmaps: [Float] = [], keypoints: [Float] = [], highRes: [Int32] = [], lowRes: [Int32] = []
        var start = 0
        while start < batch {
            let count = min(batchMax, batch - start)
            let slice = Array(frames[(start * config.windowInputCount)..<((start + count) * config.windowInputCount)])
            let output = try model.forward(frames: slice, batch: count, prune: (pruneHR, pruneLR), threads: threads)
            heatmaps += output.heatmaps
            keypoints += output.keypoints
            highRes += output.highResIndices.flatMap { $0.map(Int32.init) }
            lowRes += output.lowResIndices.flatMap { $0.map(Int32.init) }
            start += count
        }
        var writer = SafeTensorsWriter(metadata: ["prune": "\(pruneHR),\(pruneLR)", "ftp_pose.config": config.json,
                                                  "precision": precision.rawValue])
        writer.add("heatmaps", shape: [batch, config.numJoints, config.heatmapHeight, config.heatmapWidth], floats: heatmaps)
        writer.add("idx_hr", shape: [batch, highRes.count / batch], int32s: highRes)   // 0 per window without the fine branch
        writer.add("idx_lr", shape: [batch, config.keptLowRes(prune: pruneLR)], int32s: lowRes)
        writer.add("keypoints", shape: [batch, config.numJoints, 3], floats: keypoints)
        try writer.write(toFile: outputPath)
        print("infer: \(batch) window(s), prune \(pruneHR),\(pruneLR), \(precision.rawValue) -> \(outputPath)")
        return 0
    }

    /// "HR,LR" with both ratios at least 1.
    static func parsePrune(_ text: String?) throws -> (hr: Int, lr: Int)? {
        guard let text else { return nil }
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let hr = parts[0], let lr = parts[1], hr >= 1, lr >= 1 else {
            throw UsageError("--prune must be two ratios HR,LR of at least 1 (e.g. 6,6 or 1,1), got \"\(text)\"")
        }
        return (hr, lr)
    }
}

/// A file that could not be used, with the reason (exit status 1, unlike usage errors).
struct FileError: Error, CustomStringConvertible {
    let path: String
    let underlying: any Error
    var description: String {
        let reason = "\(underlying)"
        return reason.hasPrefix("cannot open \(path)") ? reason : "\(path): \(reason)"
    }
}
