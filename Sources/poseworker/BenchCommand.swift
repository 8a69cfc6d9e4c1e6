// poseworker bench: windows per second of the engine, per-stage milliseconds, achieved GFLOPS
// against the machine's peak, peak memory, and what the build uses (kernel, SIMD width, ISA).
// Weights are seeded random unless a file is given: speed does not depend on their values.
import FTPPose
import Foundation
import PoseCluster
import PoseCore
import PoseTensor
#if canImport(Glibc)
import Glibc
#endif

enum BenchCommand {
    static let spec = CommandSpec("bench", summary: "measure the engine: windows/s, GFLOPS, per-stage times", options: [
        .option("--model", "NAME|FILE", "a preset (\(FTPPoseConfig.presetNames.joined(separator: ", "))) with random weights, or a weight file (FTP-Pose or BlazePose)", default: "s"),
        .option("--batch", "N", "windows per forward pass", default: "4"),
        .option("--threads", "N", "threads", default: "2"),
        .option("--iterations", "N", "timed forward passes", default: "3"),
        .option("--warmup", "N", "untimed passes first", default: "1"),
        .option("--prune", "HR,LR", "token pruning ratios", default: "the model's"),
        .flag("--compare-unpruned", "also measure without pruning and print the ratio"),
        .option("--peak-gflops-per-core", "X", "compare achieved GFLOPS with X per core instead of the peak measured here", default: "measured"),
        .flag("--kernels", "also measure GEMM alone on a large shape"),
        .option("--precision", "fp32|bf16|auto", "linear layers' precision; auto: bf16 where AMX or AVX512_BF16 runs it", default: "fp32"),
        .flag("--bf16", "the same as --precision bf16"),
    ])

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let modelName = arguments.value("--model")
        let batch = try arguments.int("--batch", range: 1...64)
        let threads = try arguments.int("--threads", range: 1...256)
        let iterations = try arguments.int("--iterations", range: 1...1000)
        let warmup = try arguments.int("--warmup", range: 0...100)
        let prune = try InferCommand.parsePrune(try arguments.option("--prune"))
        let compareUnpruned = arguments.flag("--compare-unpruned")
        let peakText = try arguments.option("--peak-gflops-per-core")
        var givenPeak: Double?
        if let peakText, peakText != "measured" {
            guard let value = Double(peakText), value > 0, value.isFinite else {
                throw UsageError("--peak-gflops-per-core must be a positive number or \"measured\", got \"\(peakText)\"")
            }
            givenPeak = value
        }
        let kernels = arguments.flag("--kernels")
        let precision = try BenchCommand.precision(bf16: arguments.flag("--bf16"), setting: try arguments.option("--precision"))
        try arguments.finish()

        if FileManager.default.fileExists(atPath: modelName), ModelFamily.of(contentsOfFile: modelName) == .blazePoseFull {
            guard prune == nil, !compareUnpruned, !kernels, precision == .fp32 else {
                throw UsageError("--prune, --compare-unpruned, --kernels and --precision apply to FTP-Pose, not to a BlazePose model")
            }
            print(BenchPlatform.describe())
            let peaks = BenchPeaks(threads: threads, givenPerCore: givenPeak)
            print(peaks.description)
            return try BlazePoseCommands.bench(path: modelName, batch: batch, threads: threads, iterations: iterations, warmup: warmup,
                                               peaks: peaks)
        }
        print(BenchPlatform.describe())
        print(BenchCommand.describe(precision))
        let peaks = BenchPeaks(threads: threads, givenPerCore: givenPeak)
        print(peaks.description)
        if kernels { BenchKernels.run(threads: threads, peaks: peaks, precision: precision) }

        let loadStart = Date()
        let model: FTPPoseModel
        if let config = FTPPoseConfig.preset(modelName) {
            model = try FTPPoseModel(safetensors: FTPPoseWeights.random(config: config, seed: 1), precision: precision)
        } else if FileManager.default.fileExists(atPath: modelName) {
            model = try FTPPoseModel(contentsOfFile: modelName, precision: precision)
        } else {
            throw UsageError("--model must be one of \(FTPPoseConfig.presetNames.joined(separator: ", ")) or a weight file, got \"\(modelName)\"")
        }
        let config = model.config
        print(String(format: "model %@: %.1f M parameters, input %dx%d, T=%d, loaded in %.2f s",
                     modelName, Double(FTPPoseWeightTable.parameterCount(for: config)) / 1e6, config.inputHeight, config.inputWidth,
                     config.frames, Date().timeIntervalSince(loadStart)))
        // Frames in the range of normalised pixels; a cheap hash, values do not affect speed.
        let frames = (0..<(batch * config.windowInputCount)).map { Float(($0 &* 2_654_435_761) >> 7 & 1023) / 256 - 2 }

        let pruned = (prune?.hr ?? config.pruneHR, prune?.lr ?? config.pruneLR)
        let prunedRate = try measure(model, frames: frames, batch: batch, prune: pruned, threads: threads, iterations: iterations,
                                     warmup: warmup, peaks: peaks)
        if compareUnpruned {
            let unprunedRate = try measure(model, frames: frames, batch: batch, prune: (1, 1), threads: threads, iterations: iterations,
                                           warmup: warmup, peaks: peaks)
            print(String(format: "pruned %d,%d vs unpruned: %.2fx windows/s", pruned.0, pruned.1, prunedRate / unprunedRate))
        }
        print(String(format: "peak memory (maxrss): %.0f MiB", BenchPlatform.peakResidentMiB()))
        return 0
    }

    /// `--precision fp32|bf16|auto` (or `--bf16`): bf16 is refused where this CPU has no fast bf16
    /// kernel (the scalar class is for correctness, far slower than fp32); auto picks bf16 where it has.
    static func precision(bf16: Bool, setting: String?) throws -> Precision {
        let isa = KernelISA.active
        guard let precision = bf16 ? .bf16 : try setting.map({ text -> Precision in
            guard let value = Precision(setting: text, isa: isa) else { throw UsageError("--precision must be fp32, bf16 or auto, got \"\(text)\"") }
            return value
        }) ?? .fp32 else { return .fp32 }
        if precision == .bf16 && isa.bf16Kernel == .scalar {
            throw UsageError("bf16 needs a CPU with AMX or AVX512_BF16 (the \(isa.rawValue) kernels have only the slow scalar bf16 twin): use --precision fp32 or auto")
        }
        return precision
    }

    static func describe(_ precision: Precision) -> String {
        let isa = KernelISA.active
        switch precision {
        case .fp32: return "path: fp32 linear layers, \(isa.fp32Kernel) micro-kernel (kernel class fp32; --precision bf16|auto for bf16)"
        case .bf16: return "path: bf16 linear layers, kernel class \(isa.kernelClass(for: .bf16)) (fp32 accumulation; norms, softmax, DPC fp32; attention products \(Kernels.attentionPrecision(linear: .bf16, isa: isa).rawValue))"
        }
    }

    /// Runs `iterations` timed forward passes after `warmup`; prints and returns windows/s.
    static func measure(_ model: FTPPoseModel, frames: [Float], batch: Int, prune: (Int, Int), threads: Int, iterations: Int,
                        warmup: Int, peaks: BenchPeaks) throws -> Double {
        for _ in 0..<warmup { _ = try model.forward(frames: frames, batch: batch, prune: prune, threads: threads) }
        let timings = StageTimings()
        var seconds: [Double] = []
        let cpuStart = BenchPlatform.cpuSeconds()
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.forward(frames: frames, batch: batch, prune: prune, threads: threads, timings: timings)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let cpu = (BenchPlatform.cpuSeconds() - cpuStart) / Double(iterations)
        let best = seconds.min()!, mean = seconds.reduce(0, +) / Double(iterations)
        let median = seconds.sorted()[iterations / 2]
        let rate = Double(batch) / mean
        let flops = model.config.flopsPerWindow(pruneHR: prune.0, pruneLR: prune.1)
        let gflops = flops * Double(batch) / mean / 1e9
        var load = [Double](repeating: 0, count: 3)
        _ = getloadavg(&load, 3)
        print(String(format: "prune %d,%d  batch %d  threads %d: %.2f windows/s mean; best %.2f, median %.2f (batch ms: mean %.1f, best %.1f; %d runs; load average %.2f)",
                     prune.0, prune.1, batch, threads, rate, Double(batch) / best, Double(batch) / median, mean * 1000, best * 1000,
                     iterations, load[0]))
        print(String(format: "  CPU time %.1f ms/batch (%.2f cores busy): %.2f windows per CPU-second, %.0f GFLOPS per busy core",
                     cpu * 1000, cpu / mean, Double(batch) / cpu, flops * Double(batch) / cpu / 1e9))
        // A bf16 job runs its linear layers in the bf16 class and the rest (attention, DPC) in fp32:
        // both fractions are given; the bf16 one is the ceiling of the whole model.
        var fractions = [peaks.fraction(gflops, .fp32FMA, threads: threads)]
        let kind = PeakMeter.arithmeticClass(for: model.precision)
        if kind != .fp32FMA { fractions.insert(peaks.fraction(gflops, kind, threads: threads), at: 0) }
        print(String(format: "  %.1f GFLOP/window, %.1f GFLOPS achieved", flops / 1e9, gflops)
              + fractions.filter { !$0.isEmpty }.map { " = " + $0 }.joined(separator: ","))
        let stages = Stage.allCases.map { stage -> String in
            let wall = timings.total(stage)
            let busy = stage.runsAlone && wall > 0 ? String(format: " (%.2f cores)", timings.cpuTotal(stage) / wall) : ""
            return String(format: "%@ %.1f", stage.rawValue, wall / Double(iterations) * 1000) + busy
        }
        print("  ms per batch by stage: " + stages.joined(separator: ", ")
              + " (branches = high-res and low-res concurrently; DPC is inside them)")
        return rate
    }
}
