// Fusion and head (FTP-POSE.md section 5): every fine token attends to the kept coarse tokens,
// an MLP refines it, and a linear head turns each token into one heatmap pixel of every joint.
import PoseTensor

struct Fusion {
    let attention: CrossAttention
    let normMLP: LayerNorm
    let mlp: MLP

    init(_ reader: WeightReader) {
        attention = CrossAttention(reader, "fuse", heads: reader.config.mgfeHeads)
        normMLP = LayerNorm(reader, "fuse.norm_mlp")
        mlp = MLP(reader, "fuse.mlp")
    }

    /// h1: [B*Nh, D] (becomes u, in place), zc: [B*K_c, D].
    func callAsFunction(_ h1: Matrix, _ zc: Matrix, batch: Int, threads: Int) {
        attention(h1, context: zc, batch: batch, threads: threads)                        // u = h1 + CrossAttn
        mlp(normMLP(h1, threads: threads), addingTo: h1, threads: threads)               // u += MLP_f(LN(u))
    }
}

/// `x += proj(MultiHead(q(LN_q(x)), k(LN_kv(c)), v(LN_kv(c))))` per window: the fusion's attention
/// (`fuse.*`) and HoT's token recovering attention (`mgfe.recover.*`, FTP-POSE.md section 10).
struct CrossAttention {
    let normQuery: LayerNorm
    let normKeyValue: LayerNorm
    let q: Linear, k: Linear, v: Linear, proj: Linear
    let heads: Int

    init(_ reader: WeightReader, _ prefix: String, heads: Int) {
        normQuery = LayerNorm(reader, prefix + ".norm_q")
        normKeyValue = LayerNorm(reader, prefix + ".norm_kv")
        q = Linear(reader, prefix + ".attn.q")
        k = Linear(reader, prefix + ".attn.k")
        v = Linear(reader, prefix + ".attn.v")
        proj = Linear(reader, prefix + ".attn.proj")
        self.heads = heads
    }

    /// x: [B*N, D] (updated in place), c: [B*M, D].
    func callAsFunction(_ x: Matrix, context c: Matrix, batch: Int, threads: Int) {
        let d = x.cols, queries = x.rows / batch, keys = c.rows / batch
        let query = q(normQuery(x, threads: threads), threads: threads)               // [B*N, D]
        let context = normKeyValue(c, threads: threads)
        let key = k(context, threads: threads), value = v(context, threads: threads)   // [B*M, D]
        let attended = Matrix(uninitializedRows: x.rows, cols: d)
        Kernels.attention(
            sequences: batch, queries: queries, keys: keys, heads: heads, headDim: d / heads,
            q: query.pointer, ldq: d, qSequenceStride: queries * d,
            k: key.pointer, ldk: d, kSequenceStride: keys * d,
            v: value.pointer, ldv: d, vSequenceStride: keys * d,
            out: attended.pointer, ldo: d, outSequenceStride: queries * d, precision: Kernels.attentionPrecision(linear: q.precision),
            threads: threads)
        proj(attended, into: x, accumulate: true, threads: threads)
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
