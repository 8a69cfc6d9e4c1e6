// FTP-Pose end to end: frames [B, T, 3, H, W] -> heatmaps [B, J, Hh, Wh], kept token indices of
// both branches, keypoints. Weights are checked against the table and packed once at load; the
// model is immutable afterwards and can be shared by threads.
import PoseTensor
import SafeTensors
#if canImport(Glibc)
import Glibc
#endif

/// What one forward pass returns.
public struct FTPPoseOutput: Sendable {
    public let batch: Int
    /// [B, J, Hh, Wh]
    public let heatmaps: [Float]
    /// Per window, ascending: kept fine tokens (K_f) and kept coarse tokens (K_c).
    public let highResIndices: [[Int]]
    public let lowResIndices: [[Int]]
    /// [B, J, 3]: x, y in heatmap pixels, score.
    public let keypoints: [Float]
}

public final class FTPPoseModel: Sendable {
    public let config: FTPPoseConfig
    /// The arithmetic of the linear layers (attention, norms and DPC stay fp32).
    public let precision: Precision
    let backbone: VisionTransformer
    let encoder: MultiGrainedEncoder
    let fusion: Fusion
    let head: Head

    /// Loads a weight file (memory-mapped; the packed copy is kept, the mapping released).
    /// `precision: .bf16` packs the linear layers as bf16 (opt-in; see docs/ENGINE.md for its tolerance).
    public convenience init(contentsOfFile path: String, precision: Precision = .fp32) throws {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOfFile: path) } catch let error as SafeTensorsError { throw FTPPoseError(error) }
        try self.init(parts: Parts(file: file, precision: precision))
    }

    /// Loads weights received as bytes (e.g. from the coordinator), packing straight from them.
    public convenience init(safetensors bytes: [UInt8], precision: Precision = .fp32) throws {
        let parts = try bytes.withUnsafeBytes { raw -> Parts in
            let file: SafeTensorsFile
            do { file = try SafeTensorsFile(unsafeBorrowing: raw) } catch let error as SafeTensorsError { throw FTPPoseError(error) }
            return try Parts(file: file, precision: precision)  // copies what it keeps; `file` does not escape
        }
        self.init(parts: parts)
    }

    /// The checked, packed layers, built before the model value exists.
    struct Parts {
        let config: FTPPoseConfig
        let precision: Precision
        let backbone: VisionTransformer
        let encoder: MultiGrainedEncoder
        let fusion: Fusion
        let head: Head

        init(file: SafeTensorsFile, precision: Precision) throws {
            FTPPoseModel.keepActivationMemory()
            let reader = try WeightReader(file: file, precision: precision)
            config = reader.config
            self.precision = precision
            backbone = VisionTransformer(reader)
            encoder = MultiGrainedEncoder(reader)
            fusion = Fusion(reader)
            head = Head(reader)
        }
    }

    init(parts: Parts) {
        config = parts.config
        precision = parts.precision
        backbone = parts.backbone
        encoder = parts.encoder
        fusion = parts.fusion
        head = parts.head
    }

    /// Activations are allocated and freed layer by layer (megabytes each). glibc's default hands
    /// such blocks to mmap and back, so every layer paid page faults and zeroing again (about 8%
    /// of the CPU time of `s`). Serving them from the heap and not trimming it keeps the pages;
    /// the resident size then stays at the forward pass's peak. Process-wide, set once.
    static func keepActivationMemory() {
        #if canImport(Glibc)
        // mallopt is declared in malloc.h, which the Glibc module does not export.
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: MallOpt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 32 << 20)                        // glibc's largest allowed value
        _ = mallopt(trimThreshold, 1 << 30)
        #endif
    }

    /// Runs the model. `frames`: B windows of [T, 3, H, W] normalised floats. `prune` overrides the
    /// config's ratios (1,1 = unpruned). The result of a window does not depend on the batch it
    /// is in nor on `threads`, bit for bit.
    public func forward(frames: UnsafeBufferPointer<Float>, batch: Int, prune: (hr: Int, lr: Int)? = nil,
                        threads: Int = 1, timings: StageTimings? = nil) throws -> FTPPoseOutput {
        let config = self.config
        guard batch > 0 else { throw FTPPoseError.badInput("batch must be at least 1, got \(batch)") }
        guard frames.count == batch * config.windowInputCount else {
            throw FTPPoseError.badInput("frames: expected \(batch * config.windowInputCount) floats for [\(batch), \(config.frames), 3, \(config.inputHeight), \(config.inputWidth)], got \(frames.count)")
        }
        let pruneHR = prune?.hr ?? config.pruneHR, pruneLR = prune?.lr ?? config.pruneLR
        let keepHR = pruneHR > 0 ? config.keptHighRes(prune: pruneHR) : 0
        let keepLR = pruneLR > 0 ? config.keptLowRes(prune: pruneLR) : 0
        guard keepHR > 0, keepLR > 0 else {
            throw FTPPoseError.badInput("prune \(pruneHR),\(pruneLR) keeps no token (\(config.heatmapTokens) fine, \(config.lowResTokens) coarse tokens)")
        }

        // Backbone on all B*T frames, then proj: f [B*T*Hp*Wp, D].
        let f = timings.measure(.backbone) { () -> Matrix in
            let tokens = backbone(frames: frames.baseAddress!, count: batch * config.frames, threads: threads)
            return encoder.proj(tokens, threads: threads)
        }
        // The two branches are independent until the fusion: run them concurrently.
        var highRes: (Matrix, [[Int]])?
        var lowRes: (Matrix, [[Int]])?
        timings.measure(.branches) {
            Parallel.both(threads: threads, {
                highRes = timings.measure(.highRes) { encoder.highResolution(f, batch: batch, keep: keepHR, threads: threads, timings: timings) }
            }, {
                lowRes = timings.measure(.lowRes) { encoder.lowResolution(f, batch: batch, keep: keepLR, threads: threads, timings: timings) }
            })
        }
        let (h1, highResIndices) = highRes!, (zc, lowResIndices) = lowRes!
        let heatmaps = timings.measure(.fusionHead) { () -> [Float] in
            fusion(h1, zc, batch: batch, threads: threads)
            return head(h1, batch: batch, threads: threads)
        }
        var keypoints: [Float] = []
        let perWindow = config.numJoints * config.heatmapTokens
        heatmaps.withUnsafeBufferPointer { maps in
            for b in 0..<batch {
                keypoints += HeatmapDecoder.decode(UnsafeBufferPointer(rebasing: maps[(b * perWindow)..<((b + 1) * perWindow)]),
                                                   joints: config.numJoints, height: config.heatmapHeight, width: config.heatmapWidth)
            }
        }
        return FTPPoseOutput(batch: batch, heatmaps: heatmaps, highResIndices: highResIndices, lowResIndices: lowResIndices, keypoints: keypoints)
    }

    public func forward(frames: [Float], batch: Int, prune: (hr: Int, lr: Int)? = nil, threads: Int = 1,
                        timings: StageTimings? = nil) throws -> FTPPoseOutput {
        try frames.withUnsafeBufferPointer { try forward(frames: $0, batch: batch, prune: prune, threads: threads, timings: timings) }
    }
}
