// Opt-in bf16 matrix multiply C = A W^T + bias for the linear layers (`Precision.bf16`).
//
// vdpbf16ps multiplies pairs of bf16 values and adds both products into one fp32 lane, so the
// weights are packed once into panels of 32 output columns with K pairs interleaved
// ([panel][k pair][32 columns][2], K padded to even with zeros) and the activations are rounded
// to bf16 per K block into panels of 8 rows ([pair][8 rows][2]). Accumulation stays fp32.
// The 8 x 32 micro-kernel lives in the C shim (CBF16) because Swift has no bf16 vector type.
// Same blocking and threading as `GEMM.multiply`, so a row of C still depends only on its row of
// A (deterministic across batch and threads); the values differ from fp32 by bf16 rounding.
import CBF16

/// Which arithmetic the linear layers use. fp32 is the default and the reference.
public enum Precision: String, Sendable, CaseIterable {
    case fp32
    /// Weights and activations rounded to bf16, products accumulated in fp32 (AVX512_BF16).
    case bf16
}

public enum BF16 {
    /// The running CPU has AVX512_BF16 (cpuid).
    public static var cpuSupported: Bool { cbf16_cpu_has_avx512bf16() != 0 }
    /// This build contains the vdpbf16ps kernel (compiled for such a CPU); otherwise a scalar twin runs.
    public static var kernelCompiled: Bool { cbf16_compiled_with_avx512bf16() != 0 }

    /// fp32 -> bf16 -> fp32, round to nearest even.
    public static func rounded(_ x: Float) -> Float { cbf16_to_float(cbf16_from_float(x)) }
}

/// Weights `[N, K]` packed as bf16 pairs for the bf16 micro-kernel.
public struct PackedBF16Matrix: @unchecked Sendable {
    public static let nr = 32
    public let n: Int
    public let k: Int
    /// K pairs (K rounded up to even, halved).
    public let pairs: Int
    let storage: FloatStorage   // holds 2 bf16 per float slot
    public var panelCount: Int { (n + PackedBF16Matrix.nr - 1) / PackedBF16Matrix.nr }
    var pointer: UnsafeMutablePointer<UInt16> { UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self) }

    /// From a PyTorch linear weight `w: [N, K]` with row stride `ldw`.
    public init(weights w: UnsafePointer<Float>, n: Int, k: Int, ldw: Int) {
        let nr = PackedBF16Matrix.nr
        self.n = n
        self.k = k
        pairs = (k + 1) / 2
        let panels = (n + nr - 1) / nr
        // One float slot per (panel, pair, column): 2 bf16 each; zero-filled, so padding is 0.
        storage = FloatStorage(count: panels * pairs * nr)
        let out = UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self)
        for p in 0..<panels {
            let panel = out + p * pairs * nr * 2
            for j in 0..<min(nr, n - p * nr) {
                let source = w + (p * nr + j) * ldw
                for kk in 0..<k { panel[(kk / 2) * nr * 2 + j * 2 + (kk & 1)] = cbf16_from_float(source[kk]) }
            }
        }
    }
}

extension GEMM {
    /// K block in pairs: an 8-row A panel (8 KiB) and a 32-column B panel (32 KiB) fit in L1.
    public static let kcPairsBF16 = 256

    /// `C[m, n] = (accumulate ? C : 0) + bias + bf16(A[m, k]) * bf16(W)^T`, fp32 accumulation.
    public static func multiply(
        m: Int, a: UnsafePointer<Float>, lda: Int, w: PackedBF16Matrix, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, threads: Int = 1
    ) {
        let n = w.n, k = w.k, pairs = w.pairs
        if m == 0 || n == 0 { return }
        let weights = w.pointer
        forEachTile(m: m, n: n, panels: w.panelCount, threads: threads) { row0, rows, panel0, panelEnd, col0, colEnd in
            if k == 0 {
                for i in 0..<rows {
                    let crow = c + (row0 + i) * ldc
                    for j in col0..<colEnd { crow[j] = (accumulate ? crow[j] : 0) + (bias?[j] ?? 0) }
                }
                return
            }
            let rowPanels = (rows + mr - 1) / mr
            let blockPairs = min(kcPairsBF16, pairs)
            let packedA = UnsafeMutablePointer<UInt16>.allocate(capacity: rowPanels * mr * 2 * blockPairs)
            defer { packedA.deallocate() }
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: mr * nr)
            defer { scratch.deallocate() }
            let start = UnsafeMutablePointer<Float>.allocate(capacity: nr)
            defer { start.deallocate() }
            var pair0 = 0
            while pair0 < pairs {
                let depthPairs = min(kcPairsBF16, pairs - pair0)
                let k0 = 2 * pair0, depth = min(2 * depthPairs, k - k0)
                let first = pair0 == 0
                let loadC = !first || accumulate
                for rp in 0..<rowPanels {
                    cbf16_pack_rows(a + (row0 + rp * mr) * lda + k0, lda, Int32(min(mr, rows - rp * mr)), Int32(depth),
                                    Int32(depthPairs), packedA + rp * mr * 2 * depthPairs)
                }
                for p in panel0..<panelEnd {
                    let bPanel = weights + (p * pairs + pair0) * nr * 2
                    let width = min(nr, n - p * nr)
                    for j in 0..<nr { start[j] = first && j < width ? (bias?[p * nr + j] ?? 0) : 0 }
                    for rp in 0..<rowPanels {
                        let height = min(mr, rows - rp * mr)
                        let cTile = c + (row0 + rp * mr) * ldc + p * nr
                        let aPanel = packedA + rp * mr * 2 * depthPairs
                        if height == mr && width == nr {
                            cbf16_micro_kernel(Int32(depthPairs), aPanel, bPanel, cTile, ldc, loadC ? 1 : 0, start)
                        } else {
                            // Same instructions through a full tile, so edge rows are bitwise equal.
                            scratch.initialize(repeating: 0, count: mr * nr)
                            if loadC {
                                for i in 0..<height { (scratch + i * nr).update(from: cTile + i * ldc, count: width) }
                            }
                            cbf16_micro_kernel(Int32(depthPairs), aPanel, bPanel, scratch, nr, loadC ? 1 : 0, start)
                            for i in 0..<height { (cTile + i * ldc).update(from: scratch + i * nr, count: width) }
                        }
                    }
                }
                pair0 += depthPairs
            }
        }
    }
}
