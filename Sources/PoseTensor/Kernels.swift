// The fast kernels besides the matrix multiply: LayerNorm, GELU, softmax, multi-head attention,
// patch embedding (im2col), bilinear upsampling, row gather/scatter. Each has a plain twin in
// ReferenceKernels.swift and a tolerance test between the two. Every kernel works row by row
// with a fixed order of operations per row, so results never depend on batch or threads.

import Foundation
#if arch(x86_64)
import CKernels
#endif

@inline(__always)
public func loadVector(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
@inline(__always)
public func storeVector(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }

public enum Kernels {
    public static let layerNormEpsilon: Float = 1e-6

    /// y = (x - mean) / sqrt(var + eps) * weight + bias over each row of `cols` values. On x86-64
    /// the AVX2 C kernel (CKernels/pointwise_kernels.h), bit for bit the portable Swift one below.
    public static func layerNorm(
        rows: Int, cols: Int, x: UnsafePointer<Float>, ldx: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, ldy: Int, eps: Float = layerNormEpsilon
    ) {
        #if arch(x86_64)
        ck_layer_norm_rows_avx2(rows, cols, x, ldx, weight, bias, y, ldy, eps)
        #else
        layerNormPortable(rows: rows, cols: cols, x: x, ldx: ldx, weight: weight, bias: bias, y: y, ldy: ldy, eps: eps)
        #endif
    }

    /// LayerNorm in Swift SIMD16: the version for every other architecture, and the twin the C kernel is tested against.
    static func layerNormPortable(
        rows: Int, cols: Int, x: UnsafePointer<Float>, ldx: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, ldy: Int, eps: Float = layerNormEpsilon
    ) {
        let vectorEnd = cols & ~15
        for r in 0..<rows {
            let xr = x + r * ldx, yr = y + r * ldy
            var sumV = Vector(), j = 0
            while j < vectorEnd { sumV += loadVector(xr + j); j += 16 }
            var sum = sumV.sum()
            while j < cols { sum += xr[j]; j += 1 }
            let mean = sum / Float(cols)
            var squaresV = Vector()
            j = 0
            while j < vectorEnd { let d = loadVector(xr + j) - mean; squaresV = squaresV.addingProduct(d, d); j += 16 }
            var squares = squaresV.sum()
            while j < cols { let d = xr[j] - mean; squares += d * d; j += 1 }
            let inverse = 1 / (squares / Float(cols) + eps).squareRoot()
            j = 0
            while j < vectorEnd {
                let value = (loadVector(xr + j) - mean) * inverse
                storeVector(value * loadVector(weight + j) + loadVector(bias + j), yr + j)
                j += 16
            }
            while j < cols { yr[j] = (xr[j] - mean) * inverse * weight[j] + bias[j]; j += 1 }
        }
    }

    /// In-place exact GELU over `rows x cols` (row stride `ld`). On x86-64 the AVX2 C kernel
    /// (CKernels/pointwise_kernels.h), bit for bit the portable Swift one below.
    public static func gelu(rows: Int, cols: Int, x: UnsafeMutablePointer<Float>, ld: Int) {
        #if arch(x86_64)
        ck_gelu_rows_avx2(rows, cols, x, ld)
        #else
        geluPortable(rows: rows, cols: cols, x: x, ld: ld)
        #endif
    }

    /// GELU in Swift SIMD16: the version for every other architecture, and the twin the C kernel is tested against.
    static func geluPortable(rows: Int, cols: Int, x: UnsafeMutablePointer<Float>, ld: Int) {
        for r in 0..<rows {
            let row = x + r * ld
            var j = 0
            while j + 16 <= cols { storeVector(MathSIMD.gelu(loadVector(row + j)), row + j); j += 16 }
            if j < cols {
                var tail = Vector()
                for t in 0..<(cols - j) { tail[t] = row[j + t] }
                let out = MathSIMD.gelu(tail)
                for t in 0..<(cols - j) { row[j + t] = out[t] }
            }
        }
    }

    /// In-place softmax of each row of `x * scale`. On x86-64 the AVX2 C kernel
    /// (CKernels/pointwise_kernels.h), bit for bit the portable Swift one below.
    public static func softmax(rows: Int, cols: Int, x: UnsafeMutablePointer<Float>, ld: Int, scale: Float = 1) {
        #if arch(x86_64)
        ck_softmax_rows_avx2(rows, cols, x, ld, scale)
        #else
        softmaxPortable(rows: rows, cols: cols, x: x, ld: ld, scale: scale)
        #endif
    }

    /// Softmax in Swift SIMD16: the version for every other architecture, and the twin the C kernel is tested against.
    static func softmaxPortable(rows: Int, cols: Int, x: UnsafeMutablePointer<Float>, ld: Int, scale: Float = 1) {
        let vectorEnd = cols & ~15
        for r in 0..<rows {
            let row = x + r * ld
            var maxV = Vector(repeating: -.infinity), j = 0
            while j < vectorEnd { maxV = MathSIMD.maximum(maxV, loadVector(row + j)); j += 16 }
            var maximum = MathSIMD.maximumLane(maxV)
            while j < cols { maximum = Swift.max(maximum, row[j]); j += 1 }
            let shift = maximum * scale
            var sumV = Vector()
            j = 0
            if scale == 1 {
                while j < vectorEnd {
                    let e = MathSIMD.exp(loadVector(row + j) - shift)
                    storeVector(e, row + j)
                    sumV += e
                    j += 16
                }
            } else {
                while j < vectorEnd {
                    let e = MathSIMD.exp(loadVector(row + j) * scale - shift)
                    storeVector(e, row + j)
                    sumV += e
                    j += 16
                }
            }
            var sum = sumV.sum()
            if j < cols {
                var tail = Vector(repeating: -.infinity)
                for t in 0..<(cols - j) { tail[t] = row[j + t] * scale - shift }
                let e = MathSIMD.exp(tail)
                for t in 0..<(cols - j) { row[j + t] = e[t]; sum += e[t] }
            }
            let inverse = 1 / sum
            j = 0
            while j < vectorEnd { storeVector(loadVector(row + j) * inverse, row + j); j += 16 }
            while j < cols { row[j] *= inverse; j += 1 }
        }
    }

    /// Queries per attention task: bounds the score scratch (query block x keys).
    public static let attentionQueryBlock = 256

    /// The arithmetic of the attention products (q k^T and p v) next to linear layers of
    /// `linear` precision: bf16 only in the AMX class (real or emulated). With AMX a bf16 product
    /// is several times an fp32 FMA's rate, and fp32 attention would take longer than every
    /// linear layer together. With vdpbf16ps (2x fp32) it does not pay: on Zen 4 (`s`, batch 4,
    /// 2 threads, A/B in one binary) bf16 attention gave 6.2-6.7 windows/s against fp32's
    /// 6.1-6.9, as rounding K, V and the probabilities to bf16 per head costs what the dot
    /// products save at K = head dim 32. Part of a bf16 class's bits: deterministic per class.
    public static func attentionPrecision(linear: Precision, isa: KernelISA = .active) -> Precision {
        guard linear == .bf16 else { return .fp32 }
        return isa.bf16Kernel == .amx || KernelISA.amxEmulated ? .bf16 : .fp32
    }

    /// The two products of one (sequence, head) of attention, packed once: scores = q k^T and
    /// out = p v, in fp32 or bf16 (fp32 accumulation).
    private enum AttentionProducts {
        case fp32(keys: PackedMatrix, values: PackedMatrix)
        case bf16(keys: PackedBF16Matrix, values: PackedBF16Matrix)

        init(precision: Precision, k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int, keys: Int, headDim: Int) {
            switch precision {
            case .fp32:
                self = .fp32(keys: PackedMatrix(weights: k, n: keys, k: headDim, ldw: ldk),
                             values: PackedMatrix(kMajor: v, k: keys, n: headDim, ldb: ldv))
            case .bf16:
                // v^T [headDim, keys] is the "weight" of out = p v.
                let transposed = UnsafeMutablePointer<Float>.allocate(capacity: headDim * keys)
                defer { transposed.deallocate() }
                for j in 0..<keys {
                    for d in 0..<headDim { transposed[d * keys + j] = v[j * ldv + d] }
                }
                self = .bf16(keys: PackedBF16Matrix(weights: k, n: keys, k: headDim, ldw: ldk),
                             values: PackedBF16Matrix(weights: transposed, n: headDim, k: keys, ldw: keys))
            }
        }

        func scores(_ m: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
            switch self {
            case .fp32(let keys, _): GEMM.multiply(m: m, a: a, lda: lda, w: keys, bias: nil, c: c, ldc: ldc)
            case .bf16(let keys, _): GEMM.multiply(m: m, a: a, lda: lda, w: keys, bias: nil, c: c, ldc: ldc)
            }
        }

        func attend(_ m: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
            switch self {
            case .fp32(_, let values): GEMM.multiply(m: m, a: a, lda: lda, w: values, bias: nil, c: c, ldc: ldc)
            case .bf16(_, let values): GEMM.multiply(m: m, a: a, lda: lda, w: values, bias: nil, c: c, ldc: ldc)
            }
        }
    }

    /// Multi-head attention for `sequences` independent sequences:
    /// out[s][i][h] = softmax(q[s][i][h] k[s][:][h]^T * headDim^-0.5) v[s][:][h], head h being
    /// columns h*headDim..<(h+1)*headDim. Sequence s of q starts at `q + s * qSequenceStride`
    /// (rows of stride `ldq`), likewise k, v, out. Tasks are (sequence, head, query block).
    /// `precision: .bf16` runs both products with the bf16 GEMM (q, k, the probabilities and v
    /// rounded to bf16, fp32 accumulation); the scaling and the softmax stay fp32.
    public static func attention(
        sequences: Int, queries: Int, keys: Int, heads: Int, headDim: Int,
        q: UnsafePointer<Float>, ldq: Int, qSequenceStride: Int,
        k: UnsafePointer<Float>, ldk: Int, kSequenceStride: Int,
        v: UnsafePointer<Float>, ldv: Int, vSequenceStride: Int,
        out: UnsafeMutablePointer<Float>, ldo: Int, outSequenceStride: Int, precision: Precision = .fp32, threads: Int
    ) {
        let blocks = (queries + attentionQueryBlock - 1) / attentionQueryBlock
        let scale = 1 / Float(headDim).squareRoot()
        Parallel.forEach(sequences * heads, threads: threads) { task in
            let s = task / heads, h = task % heads
            let products = AttentionProducts(precision: precision, k: k + s * kSequenceStride + h * headDim, ldk: ldk,
                                             v: v + s * vSequenceStride + h * headDim, ldv: ldv, keys: keys, headDim: headDim)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: Swift.min(queries, attentionQueryBlock) * keys)
            let scaledQueries = UnsafeMutablePointer<Float>.allocate(capacity: Swift.min(queries, attentionQueryBlock) * headDim)
            defer { scores.deallocate(); scaledQueries.deallocate() }
            for block in 0..<blocks {
                let i0 = block * attentionQueryBlock, count = Swift.min(attentionQueryBlock, queries - i0)
                // Scale q before the product, as the reference does: (q * scale) k^T.
                let qBase = q + s * qSequenceStride + i0 * ldq + h * headDim
                for i in 0..<count {
                    for d in 0..<headDim { scaledQueries[i * headDim + d] = qBase[i * ldq + d] * scale }
                }
                products.scores(count, scaledQueries, headDim, scores, keys)
                softmax(rows: count, cols: keys, x: scores, ld: keys)
                products.attend(count, scores, keys, out + s * outSequenceStride + i0 * ldo + h * headDim, ldo)
            }
        }
    }

    /// Patch embedding as a matrix multiply: the im2col matrix of one image `[3, height, width]`
    /// for a conv with kernel and stride `patch` and zero padding `padding`. Row = token
    /// (row-major over the output grid), column = (channel, ky, kx) as in the conv weight.
    public static func im2col(
        image: UnsafePointer<Float>, height: Int, width: Int, patch: Int, padding: Int,
        out: UnsafeMutablePointer<Float>
    ) {
        let gridHeight = (height + 2 * padding - patch) / patch + 1
        let gridWidth = (width + 2 * padding - patch) / patch + 1
        let cols = 3 * patch * patch
        for gy in 0..<gridHeight {
            for gx in 0..<gridWidth {
                let row = out + (gy * gridWidth + gx) * cols
                for c in 0..<3 {
                    for ky in 0..<patch {
                        let y = gy * patch - padding + ky
                        for kx in 0..<patch {
                            let x = gx * patch - padding + kx
                            let inside = y >= 0 && y < height && x >= 0 && x < width
                            row[(c * patch + ky) * patch + kx] = inside ? image[(c * height + y) * width + x] : 0
                        }
                    }
                }
            }
        }
    }

    /// Bilinear upsampling of a token grid by an integer `factor` with PyTorch's
    /// align_corners=false rule (source = (dst + 0.5) / factor - 0.5, clamped at 0).
    /// `x: [gridHeight * gridWidth, channels]` -> `y: [gridHeight*factor * gridWidth*factor, channels]`.
    public static func upsampleBilinear(
        x: UnsafePointer<Float>, gridHeight: Int, gridWidth: Int, channels: Int, factor: Int,
        y: UnsafeMutablePointer<Float>
    ) {
        let outHeight = gridHeight * factor, outWidth = gridWidth * factor
        for oy in 0..<outHeight {
            let (y0, y1, ly) = sourceIndex(oy, factor: factor, size: gridHeight)
            for ox in 0..<outWidth {
                let (x0, x1, lx) = sourceIndex(ox, factor: factor, size: gridWidth)
                blendBilinear(x + (y0 * gridWidth + x0) * channels, x + (y0 * gridWidth + x1) * channels,
                              x + (y1 * gridWidth + x0) * channels, x + (y1 * gridWidth + x1) * channels,
                              lx: lx, ly: ly, channels: channels, out: y + (oy * outWidth + ox) * channels)
            }
        }
    }

    /// `out = (1 - ly) ((1 - lx) a + lx b) + ly ((1 - lx) c + lx d)` over `channels` floats: one
    /// output pixel of a bilinear resize from its four neighbours.
    @inline(__always)
    static func blendBilinear(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ d: UnsafePointer<Float>,
                              lx: Float, ly: Float, channels: Int, out: UnsafeMutablePointer<Float>) {
        let vectorEnd = channels & ~15
        let hy0 = 1 - ly, wx0 = 1 - lx
        var j = 0
        while j < vectorEnd {
            let top = wx0 * loadVector(a + j) + lx * loadVector(b + j)
            let bottom = wx0 * loadVector(c + j) + lx * loadVector(d + j)
            storeVector(hy0 * top + ly * bottom, out + j)
            j += 16
        }
        while j < channels {
            out[j] = hy0 * (wx0 * a[j] + lx * b[j]) + ly * (wx0 * c[j] + lx * d[j])
            j += 1
        }
    }

    /// Source rows (or columns) and weight of the second for output index `index`.
    @inline(__always)
    public static func sourceIndex(_ index: Int, factor: Int, size: Int) -> (Int, Int, Float) {
        let source = Swift.max((Float(index) + 0.5) / Float(factor) - 0.5, 0)
        let first = Swift.min(Int(source), size - 1)
        let second = Swift.min(first + 1, size - 1)
        return (first, second, source - Float(first))
    }

    /// out[i] = x[indices[i]] (rows of `cols` floats).
    public static func gatherRows(x: UnsafePointer<Float>, ldx: Int, indices: [Int], cols: Int, out: UnsafeMutablePointer<Float>, ldo: Int) {
        for (i, index) in indices.enumerated() { (out + i * ldo).update(from: x + index * ldx, count: cols) }
    }

    /// x[indices[i]] = rows[i].
    public static func scatterRows(rows: UnsafePointer<Float>, ldr: Int, indices: [Int], cols: Int, x: UnsafeMutablePointer<Float>, ldx: Int) {
        for (i, index) in indices.enumerated() { (x + index * ldx).update(from: rows + i * ldr, count: cols) }
    }
}
