// The building blocks of FTP-Pose as small types with a call-as-function forward. Activations
// are `Matrix` values of token rows; a batch of independent sequences is stacked along the rows
// (`sequences` of them, equal length), attention never crosses a sequence boundary.
import PoseTensor

/// y = x W^T + b with the weight packed once at load, in the reader's precision.
struct Linear {
    /// The packed weight: fp32 (the default) or bf16 pairs (opt-in `Precision.bf16`).
    enum Weight {
        case fp32(PackedMatrix)
        case bf16(PackedBF16Matrix)
    }
    let weight: Weight
    let bias: [Float]
    let inputs: Int
    let outputs: Int

    init(_ reader: WeightReader, _ prefix: String) {
        let values = reader.floats(prefix + ".weight")
        bias = reader.floats(prefix + ".bias")
        let n = bias.count, k = values.count / max(n, 1)
        inputs = k
        outputs = n
        switch reader.precision {
        case .fp32: weight = .fp32(values.withUnsafeBufferPointer { PackedMatrix(weights: $0.baseAddress!, n: n, k: k, ldw: k) })
        case .bf16: weight = .bf16(values.withUnsafeBufferPointer { PackedBF16Matrix(weights: $0.baseAddress!, n: n, k: k, ldw: k) })
        }
    }

    /// The arithmetic of this layer.
    var precision: Precision {
        switch weight {
        case .fp32: return .fp32
        case .bf16: return .bf16
        }
    }

    /// x: [rows, in] -> y: [rows, out]; with `accumulate`, y += x W^T + b (a residual connection).
    func callAsFunction(_ x: Matrix, into y: Matrix, accumulate: Bool = false, threads: Int) {
        precondition(x.cols == inputs && y.cols == outputs && x.rows == y.rows)
        bias.withUnsafeBufferPointer { b in
            switch weight {
            case .fp32(let w):
                GEMM.multiply(m: x.rows, a: x.pointer, lda: x.cols, w: w, bias: b.baseAddress, c: y.pointer, ldc: y.cols,
                              accumulate: accumulate, threads: threads)
            case .bf16(let w):
                GEMM.multiply(m: x.rows, a: x.pointer, lda: x.cols, w: w, bias: b.baseAddress, c: y.pointer, ldc: y.cols,
                              accumulate: accumulate, threads: threads)
            }
        }
    }

    func callAsFunction(_ x: Matrix, threads: Int) -> Matrix {
        let y = Matrix(uninitializedRows: x.rows, cols: outputs)  // every element written by the GEMM
        self(x, into: y, threads: threads)
        return y
    }
}

/// LayerNorm over the last dimension, eps 1e-6.
struct LayerNorm {
    let weight: [Float]
    let bias: [Float]

    init(_ reader: WeightReader, _ prefix: String) {
        weight = reader.floats(prefix + ".weight")
        bias = reader.floats(prefix + ".bias")
    }

    /// Rows per task when normalising in parallel.
    static let rowsPerTask = 256

    /// x: [rows, C] -> [rows, C]
    func callAsFunction(_ x: Matrix, threads: Int) -> Matrix {
        precondition(x.cols == weight.count)
        let y = Matrix(uninitializedRows: x.rows, cols: x.cols)
        let step = LayerNorm.rowsPerTask
        Parallel.forEach((x.rows + step - 1) / step, threads: threads) { task in
            let rows = min(step, x.rows - task * step)
            Kernels.layerNorm(rows: rows, cols: x.cols, x: x.row(task * step), ldx: x.cols, weight: weight, bias: bias,
                              y: y.row(task * step), ldy: y.cols)
        }
        return y
    }
}

/// Multi-head self-attention with one qkv linear (q, k, v column blocks; head h = columns h*hd..<(h+1)*hd).
struct SelfAttention {
    let qkv: Linear
    let proj: Linear
    let heads: Int

    init(_ reader: WeightReader, _ prefix: String, heads: Int) {
        qkv = Linear(reader, prefix + ".qkv")
        proj = Linear(reader, prefix + ".proj")
        self.heads = heads
    }

    /// x: [S*N, C] (normalised). residual += proj(attention(x)), per sequence.
    func callAsFunction(_ x: Matrix, sequences: Int, addingTo residual: Matrix, threads: Int) {
        let c = proj.outputs, tokens = x.rows / sequences
        let qkvRows = qkv(x, threads: threads)                     // [S*N, 3C]
        let attended = Matrix(uninitializedRows: x.rows, cols: c) // [S*N, C], every head writes its columns
        Kernels.attention(
            sequences: sequences, queries: tokens, keys: tokens, heads: heads, headDim: c / heads,
            q: qkvRows.pointer, ldq: 3 * c, qSequenceStride: tokens * 3 * c,
            k: qkvRows.pointer + c, ldk: 3 * c, kSequenceStride: tokens * 3 * c,
            v: qkvRows.pointer + 2 * c, ldv: 3 * c, vSequenceStride: tokens * 3 * c,
            out: attended.pointer, ldo: c, outSequenceStride: tokens * c, precision: Kernels.attentionPrecision(linear: qkv.precision),
            threads: threads)
        proj(attended, into: residual, accumulate: true, threads: threads)
    }
}

/// fc1 -> exact GELU -> fc2.
struct MLP {
    let fc1: Linear
    let fc2: Linear

    init(_ reader: WeightReader, _ prefix: String) {
        fc1 = Linear(reader, prefix + ".fc1")
        fc2 = Linear(reader, prefix + ".fc2")
    }

    /// x: [rows, C] (normalised). residual += fc2(gelu(fc1(x))).
    func callAsFunction(_ x: Matrix, addingTo residual: Matrix, threads: Int) {
        let hidden = fc1(x, threads: threads)                      // [rows, r*C]
        Parallel.forEach((hidden.rows + 63) / 64, threads: threads) { chunk in
            let rows = min(64, hidden.rows - chunk * 64)
            Kernels.gelu(rows: rows, cols: hidden.cols, x: hidden.row(chunk * 64), ld: hidden.cols)
        }
        fc2(hidden, into: residual, accumulate: true, threads: threads)
    }
}

/// Pre-norm transformer block: x += Attn(LN1(x)); x += MLP(LN2(x)).
struct TransformerBlock {
    let norm1: LayerNorm
    let attention: SelfAttention
    let norm2: LayerNorm
    let mlp: MLP

    init(_ reader: WeightReader, _ prefix: String, heads: Int) {
        norm1 = LayerNorm(reader, prefix + ".norm1")
        attention = SelfAttention(reader, prefix + ".attn", heads: heads)
        norm2 = LayerNorm(reader, prefix + ".norm2")
        mlp = MLP(reader, prefix + ".mlp")
    }

    /// x: [S*N, C], updated in place.
    func callAsFunction(_ x: Matrix, sequences: Int, threads: Int) {
        attention(norm1(x, threads: threads), sequences: sequences, addingTo: x, threads: threads)
        mlp(norm2(x, threads: threads), addingTo: x, threads: threads)
    }
}

extension Array where Element == TransformerBlock {
    func callAsFunction(_ x: Matrix, sequences: Int, threads: Int) {
        for block in self { block(x, sequences: sequences, threads: threads) }
    }
}
