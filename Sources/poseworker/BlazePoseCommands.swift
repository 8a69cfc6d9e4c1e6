// `poseworker infer` and `poseworker bench` on a BlazePose-Full file (ModelFamily chooses):
// infer reads uint8 crops and writes landmarks, pose flags and 17 joints; bench reports crops per
// second, CPU time per op kind and achieved GFLOPS.
import BlazePose
import Dispatch
import Foundation
import PoseCore
import PoseTensor
import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

enum BlazePoseCommands {
    /// Crops per `infer` pass: bounds memory on large inputs; results do not depend on it.
    static let inferBatchMax = 64

    /// input `crops`: U8 [B, 256, 256, 3] RGB -> output `landmarks` [B, 39, 5], `pose_flag` [B],
    /// `keypoints` [B, 17, 3] (crop pixels, score) in `layout`.
    static func infer(weightsPath: String, inputPath: String, outputPath: String, threads: Int, layout: JointLayout) throws -> Int32 {
        let model: BlazePoseModel
        do { model = try BlazePoseModel(contentsOfFile: weightsPath) } catch { throw FileError(path: weightsPath, underlying: error) }
        let input: SafeTensorsFile
        do { input = try SafeTensorsFile(contentsOfFile: inputPath) } catch { throw FileError(path: inputPath, underlying: error) }
        let side = BlazePoseConfig.inputSide
        guard input.contains("crops") else {
            throw UsageError("\(inputPath): no tensor named \"crops\" (a BlazePose model takes U8 [B, \(side), \(side), 3] RGB crops)")
        }
        let info = try input.info("crops")
        guard info.dtype == .u8, info.shape.count == 4, Array(info.shape.dropFirst()) == [side, side, 3], info.shape[0] > 0 else {
            throw UsageError("\(inputPath): crops must be U8 [B, \(side), \(side), 3] for a BlazePose model, got \(info.dtype.rawValue) \(info.shape)")
        }
        let batch = info.shape[0]
        let crops = try input.uint8s("crops")
        let estimator = BlazePoseEstimator(model: model, threads: threads, layout: layout)
        var landmarks: [Float] = [], flags: [Float] = [], keypoints: [Float] = []
        let cropBytes = side * side * 3
        var start = 0
        while start < batch {
            let count = min(inferBatchMax, batch - start)
            let images = crops[(start * cropBytes)..<((start + count) * cropBytes)].map { Float($0) / 255 }
            for output in model.poses(images: images, count: count, threads: threads) {
                landmarks += output.landmarks
                flags.append(output.poseFlag)
                // Heatmap pixels back to crop pixels for the file: the estimator's joints, x 4 + 0.5.
                let joints = estimator.keypoints(of: output).values
                for j in 0..<JointLayout.count { keypoints += [joints[j * 3] * 4 + 0.5, joints[j * 3 + 1] * 4 + 0.5, joints[j * 3 + 2]] }
            }
            start += count
        }
        var writer = SafeTensorsWriter(metadata: ["family": BlazePoseConfig.family, "layout": layout.rawValue])
        writer.add("landmarks", shape: [batch, BlazePoseConfig.outputLandmarkCount, BlazePoseConfig.valuesPerLandmark], floats: landmarks)
        writer.add("pose_flag", shape: [batch], floats: flags)
        writer.add("keypoints", shape: [batch, JointLayout.count, 3], floats: keypoints)
        try writer.write(toFile: outputPath)
        print("infer: \(batch) crop(s), \(BlazePoseConfig.family), joints \(layout.rawValue) -> \(outputPath)")
        return 0
    }

    /// Crops per second over `iterations` timed batches after `warmup`.
    static func bench(path: String, batch: Int, threads: Int, iterations: Int, warmup: Int, peaks: BenchPeaks) throws -> Int32 {
        let loadStart = Date()
        let model: BlazePoseModel
        do { model = try BlazePoseModel(contentsOfFile: path) } catch { throw FileError(path: path, underlying: error) }
        let macs = Double(model.multiplyAdds)
        print(String(format: "model %@ (%@): %d ops kept of %d, %.2f GFLOP/crop, input 256x256, loaded in %.2f s",
                     path, BlazePoseConfig.family, model.keptOpCount, model.graph.ops.count, 2 * macs / 1e9, Date().timeIntervalSince(loadStart)))
        // Pixels from a cheap hash; values do not affect speed.
        let images = (0..<(batch * 256 * 256 * 3)).map { Float(($0 &* 2_654_435_761) >> 7 & 255) / 255 }
        for _ in 0..<warmup { _ = model.poses(images: images, count: batch, threads: threads) }
        let timings = OpTimings()
        var seconds: [Double] = []
        let cpuStart = BenchPlatform.cpuSeconds()
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = model.poses(images: images, count: batch, threads: threads, timings: timings)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let cpu = (BenchPlatform.cpuSeconds() - cpuStart) / Double(iterations)
        let mean = seconds.reduce(0, +) / Double(iterations), best = seconds.min()!
        var load = [Double](repeating: 0, count: 3)
        _ = getloadavg(&load, 3)
        print(String(format: "batch %d  threads %d: %.2f crops/s mean; best %.2f (batch ms: mean %.1f, best %.1f; %d runs; load average %.2f)",
                     batch, threads, Double(batch) / mean, Double(batch) / best, mean * 1000, best * 1000, iterations, load[0]))
        let gflops = 2 * macs * Double(batch) / cpu / 1e9
        print(String(format: "  CPU time %.1f ms/batch (%.2f cores busy): %.2f crops per CPU-second, %.1f GFLOPS per busy core",
                     cpu * 1000, cpu / mean, Double(batch) / cpu, gflops) + " (" + peaks.fraction(gflops, .fp32FMA, threads: 1) + ", per thread)")
        let perCrop = timings.totals.map { String(format: "%@ %.2f", $0.kind, $0.seconds / Double(iterations * batch) * 1000) }
        print("  ms per crop by op (time inside each op, summed over threads): " + perCrop.joined(separator: ", "))
        print(String(format: "peak memory (maxrss): %.0f MiB", BenchPlatform.peakResidentMiB()))
        return 0
    }
}
