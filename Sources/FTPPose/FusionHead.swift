// Fusion and head (FTP-POSE.md section 5): every fine token attends to the kept coarse tokens,
// an MLP refines it, and a linear head turns each token into one heatmap pixel of every joint.
import PoseTensor

struct Fusion {
    let normQuery: LayerNorm
    let normKeyValue: LayerNorm
    let q: Linear, k: Linear, v: Linear, proj: Linear
    let heads: Int
    let normMLP: LayerNorm
    let mlp: MLP

    init(_ reader: WeightReader) {
        normQuery = LayerNorm(reader, "fuse.norm_q")
        normKeyValue = LayerNorm(reader, "fuse.norm_kv")
        q = Linear(reader, "fuse.attn.q")
        k = Linear(reader, "fuse.attn.k")
        v = Linear(reader, "fuse.attn.v")
        proj = Linear(reader, "fuse.attn.proj")
        heads = reader.config.mgfeHeads
        normMLP = LayerNorm(reader, "fuse.norm_mlp")
        mlp = MLP(reader, "fuse.mlp")
    }

    /// h1: [B*Nh, D] (becomes u, in place), zc: [B*K_c, D].
    func callAsFunction(_ h1: Matrix, _ zc: Matrix, batch: Int, threads: Int) {
        let d = h1.cols, queries = h1.rows / batch, keys = zc.rows / batch
        let query = q(normQuery(h1, threads: threads), threads: threads)             // [B*Nh, D]
        let context = normKeyValue(zc, threads: threads)
        let key = k(context, threads: threads), value = v(context, threads: threads)   // [B*K_c, D]
        let attended = Matrix(uninitializedRows: h1.rows, cols: d)
        Kernels.attention(
            sequences: batch, queries: queries, keys: keys, heads: heads, headDim: d / heads,
            q: query.pointer, ldq: d, qSequenceStride: queries * d,
            k: key.pointer, ldk: d, kSequenceStride: keys * d,
            v: value.pointer, ldv: d, vSequenceStride: keys * d,
            out: attended.pointer, ldo: d, outSequenceStride: queries * d, threads: threads)
        proj(attended, into: h1, accumulate: true, threads: threads)   // u = h1 + CrossAttn
        mlp(normMLP(h1, threads: threads), addingTo: h1, threads: threads)               // u += MLP_f(LN(u))
    }
}

struct Head {
    let norm: LayerNorm
    let fc: Linear

    init(_ reader: WeightReader) {
        norm = LayerNorm(reader, "head.norm")
        fc = Linear(reader, "head.fc")
    }

    /// u: [B*Nh, D] -> heatmaps [B, J, Nh] (transposed from tokens-by-joints).
    func callAsFunction(_ u: Matrix, batch: Int, threads: Int) -> [Float] {
        let perToken = fc(norm(u, threads: threads), threads: threads)                   // [B*Nh, J]
        let joints = fc.outputs, tokens = u.rows / batch
        var heatmaps = [Float](repeating: 0, count: batch * joints * tokens)
        for b in 0..<batch {
            for i in 0..<tokens {
                let row = perToken.row(b * tokens + i)
                for j in 0..<joints { heatmaps[(b * joints + j) * tokens + i] = row[j] }
            }
        }
        return heatmaps
    }
}
