// The ViTPose backbone (FTP-POSE.md section 2), read top to bottom: patch embedding as a matrix
// multiply over im2col columns, positions (slot 0 added to every token), L pre-norm blocks,
// last norm. Frames are independent here; they are stacked along the rows so every linear runs
// once over all frames of all windows.
import PoseTensor

struct VisionTransformer {
    let config: FTPPoseConfig
    /// The conv 3 -> C, kernel = stride = P, as a linear over [3*P*P] columns (same weight layout).
    let patchEmbed: Linear
    /// [Hp*Wp, C]: pos_embed[1:] + pos_embed[0] (slot 0 is a class-token slot, never a token).
    let positions: Matrix
    let blocks: [TransformerBlock]
    let lastNorm: LayerNorm

    init(_ reader: WeightReader) {
        let config = reader.config
        self.config = config
        patchEmbed = Linear(reader, "backbone.patch_embed.proj")
        let table = reader.floats("backbone.pos_embed")            // [1, 1 + Hp*Wp, C]
        let c = config.embedDim
        positions = Matrix(rows: config.patchTokens, cols: c)
        for token in 0..<config.patchTokens {
            for j in 0..<c { positions[token, j] = table[(1 + token) * c + j] + table[j] }
        }
        blocks = (0..<config.depth).map { TransformerBlock(reader, "backbone.blocks.\($0)", heads: config.numHeads) }
        lastNorm = LayerNorm(reader, "backbone.last_norm")
    }

    /// frames: `count` images [3, H, W] back to back -> tokens [count * Hp*Wp, C].
    func callAsFunction(frames: UnsafePointer<Float>, count: Int, threads: Int) -> Matrix {
        let h = config.inputHeight, w = config.inputWidth, p = config.patchSize, n = config.patchTokens
        let columns = Matrix(uninitializedRows: count * n, cols: 3 * p * p)     // [F*N, 3*P*P]
        Parallel.forEach(count, threads: threads) { frame in
            Kernels.im2col(image: frames + frame * 3 * h * w, height: h, width: w, patch: p, padding: 2, out: columns.row(frame * n))
        }
        let x = patchEmbed(columns, threads: threads)              // [F*N, C]
        for frame in 0..<count {
            for token in 0..<n {
                let row = x.row(frame * n + token), position = positions.row(token)
                for j in 0..<x.cols { row[j] += position[j] }
            }
        }
        blocks(x, sequences: count, threads: threads)              // attention within each frame
        return lastNorm(x, threads: threads)                                         // F_k: [F*N, C]
    }
}
