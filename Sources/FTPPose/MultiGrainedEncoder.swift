// The Multi-Grained Feature Encoder (FTP-POSE.md section 3): a fine high-resolution branch on the
// key frame (one token per heatmap pixel) and a coarse low-resolution branch over all frames,
// each pruned by DPC-kNN and refined by the same shared blocks. The model runs the two branches
// concurrently.
import PoseTensor

struct MultiGrainedEncoder {
    let config: FTPPoseConfig
    let proj: Linear
    let highResPositions: Matrix       // [Hh*Wh, D]
    let lowResPositions: Matrix        // [Hp*Wp, D]
    let timeEmbedding: Matrix          // [T, D]
    let spaceTimeBlocks: [TransformerBlock]
    let sharedBlocks: [TransformerBlock]
    /// HoT's token recovering attention, when the config asks for it instead of scatter-restore.
    let recovery: CrossAttention?

    init(_ reader: WeightReader) {
        let config = reader.config
        self.config = config
        let d = config.mgfeDim
        proj = Linear(reader, "mgfe.proj")
        highResPositions = Matrix(rows: config.heatmapTokens, cols: d, values: reader.floats("mgfe.hr_pos"))
        lowResPositions = Matrix(rows: config.patchTokens, cols: d, values: reader.floats("mgfe.lr_pos"))
        timeEmbedding = Matrix(rows: config.frames, cols: d, values: reader.floats("mgfe.time_embed"))
        spaceTimeBlocks = (0..<config.stDepth).map { TransformerBlock(reader, "mgfe.st_blocks.\($0)", heads: config.mgfeHeads) }
        sharedBlocks = (0..<config.sharedDepth).map { TransformerBlock(reader, "mgfe.shared_blocks.\($0)", heads: config.mgfeHeads) }
        recovery = config.recovery == .attention ? CrossAttention(reader, "mgfe.recover", heads: config.mgfeHeads) : nil
    }

    /// High-resolution branch. f: [B*T*Hp*Wp, D] -> h1: [B*Hh*Wh, D] and the kept indices per window.
    func highResolution(_ f: Matrix, batch: Int, keep: Int, threads: Int, timings: StageTimings?) -> (Matrix, [[Int]]) {
        let d = config.mgfeDim, n = config.patchTokens, tokens = config.heatmapTokens, t = config.frames
        // h0 = upsample(f_key) + hr_pos: [B*Hh*Wh, D]
        let h0 = Matrix(uninitializedRows: batch * tokens, cols: d)
        Parallel.forEach(batch, threads: threads) { b in
            let key = f.row((b * t + t / 2) * n)
            Kernels.upsampleBilinear(x: key, gridHeight: config.gridHeight, gridWidth: config.gridWidth, channels: d,
                                     factor: config.upsample, y: h0.row(b * tokens))
            for i in 0..<tokens {
                let row = h0.row(b * tokens + i), position = highResPositions.row(i)
                for j in 0..<d { row[j] += position[j] }
            }
        }
        // Ablation (hr_branch false): the fine tokens go to the fusion unrefined.
        guard config.refinesHighRes else { return (h0, [[Int]](repeating: [], count: batch)) }
        let indices = timings.measure(.densityPeaks) { select(h0, batch: batch, tokens: tokens, keep: keep, threads: threads) }
        // z_f = shared_blocks(h0[idx_f]); h1 = h0 with those rows replaced (in place).
        let selected = gather(h0, indices, tokens: tokens)
        sharedBlocks(selected, sequences: batch, threads: threads)
        if let recovery {   // h1 = h0 + CrossAttn(LN_q(h0), LN_kv(z_f)) instead (in place)
            recovery(h0, context: selected, batch: batch, threads: threads)
            return (h0, indices)
        }
        for b in 0..<batch {
            Kernels.scatterRows(rows: selected.row(b * keep), ldr: d, indices: indices[b], cols: d, x: h0.row(b * tokens), ldx: d)
        }
        return (h0, indices)
    }

    /// Low-resolution branch. f: [B*T*Hp*Wp, D] -> z_c: [B*K_c, D] and the kept indices per window.
    func lowResolution(_ f: Matrix, batch: Int, keep: Int, threads: Int, timings: StageTimings?) -> (Matrix, [[Int]]) {
        let d = config.mgfeDim, n = config.patchTokens, t = config.frames, tokens = config.lowResTokens
        // c0 = concat_k (f_k + lr_pos + time_embed[k]): [B*T*Hp*Wp, D]
        let c = Matrix(uninitializedRows: batch * tokens, cols: d)
        for b in 0..<batch {
            for k in 0..<t {
                for i in 0..<n {
                    let row = b * tokens + k * n + i
                    let source = f.row(row), out = c.row(row), position = lowResPositions.row(i), time = timeEmbedding.row(k)
                    for j in 0..<d { out[j] = source[j] + position[j] + time[j] }
                }
            }
        }
        spaceTimeBlocks(c, sequences: batch, threads: threads)    // c1: joint space-time attention
        let indices = timings.measure(.densityPeaks) { select(c, batch: batch, tokens: tokens, keep: keep, threads: threads) }
        let selected = gather(c, indices, tokens: tokens)          // [B*K_c, D]
        sharedBlocks(selected, sequences: batch, threads: threads)
        return (selected, indices)
    }

    private func select(_ x: Matrix, batch: Int, tokens: Int, keep: Int, threads: Int) -> [[Int]] {
        var indices = [[Int]](repeating: [], count: batch)
        indices.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(batch, threads: threads) { b in
                out[b] = DensityPeaks.select(x: x.row(b * tokens), count: tokens, dim: x.cols, ldx: x.cols, keep: keep,
                                             knnK: config.knnK, tau: Float(config.dpcTau))
            }
        }
        return indices
    }

    private func gather(_ x: Matrix, _ indices: [[Int]], tokens: Int) -> Matrix {
        let keep = indices.first?.count ?? 0
        let out = Matrix(uninitializedRows: indices.count * keep, cols: x.cols)
        for (b, rows) in indices.enumerated() {
            Kernels.gatherRows(x: x.row(b * tokens), ldx: x.cols, indices: rows, cols: x.cols, out: out.row(b * keep), ldo: x.cols)
        }
        return out
    }
}
