// bf16 matrix multiply C = A W^T + bias for the linear layers (`Precision.bf16`), in three kernel
// classes chosen by `KernelISA.active.bf16Kernel`:
//
// - avx512bf16: vdpbf16ps multiplies pairs of bf16 values and adds both products into one fp32
//   lane. Activations are rounded to bf16 per K block into panels of 8 rows ([pair][8 rows][2]);
//   the 8 x 32 micro-kernel lives in the C shim (CBF16) because Swift has no bf16 vector type.
// - amx: 32 x 32 blocks in AMX tiles (CBF16/amx_kernels.h); activation rows are rounded to bf16
//   row-major, whole K at once.
// - scalar: the plain C twin of the first (any CPU; slow, for correctness).
//
// All read the same packed weights: panels of 32 output columns with K pairs interleaved
// ([panel][k pair][32 columns][2], K padded with zeros to a multiple of 32 so AMX tiles read whole
// 16-pair rows). Accumulation stays fp32. Same row blocks and threading as `GEMM.multiply`, so a
// row of C depends only on its row of A (deterministic across batch and threads, per class); the
// values differ from fp32 by bf16 rounding.
import CBF16

/// Which arithmetic the linear layers use. fp32 is the default and the reference.
public enum Precision: String, Sendable, CaseIterable {
    case fp32
    /// Weights and activations rounded to bf16, products accumulated in fp32.
    case bf16

    /// `auto`: bf16 where this CPU has a fast bf16 kernel (AMX or AVX512_BF16), fp32 elsewhere.
    public static func automatic(for isa: KernelISA = .active) -> Precision {
        isa.bf16Kernel == .scalar ? .fp32 : .bf16
    }

    /// Parses `fp32`, `bf16` or `auto` (resolved on this machine).
    public init?(setting: String, isa: KernelISA = .active) {
        if setting == "auto" { self = Precision.automatic(for: isa) } else if let value = Precision(rawValue: setting) { self = value } else { return nil }
    }
}

public enum BF16 {
    /// The running CPU has a fast bf16 kernel (AVX512_BF16 or AMX).
    public static var cpuSupported: Bool { KernelISA.best.bf16Kernel != .scalar }

    /// fp32 -> bf16 -> fp32, round to nearest even.
    public static func rounded(_ x: Float) -> Float { cbf16_to_float(cbf16_from_float(x)) }
}

/// Weights `[N, K]` packed as bf16 pairs for the bf16 kernels.
public struct PackedBF16Matrix: @unchecked Sendable {
    public static let nr = 32
    /// Pairs per panel are padded to a multiple of this (an AMX B tile holds 16 pairs).
    public static let pairAlignment = 16
    public let n: Int
    public let k: Int
    /// K pairs (K rounded up to even, halved).
    public let pairs: Int
    /// Pairs stored per panel (`pairs` rounded up to `pairAlignment`, zero-filled).
    public let paddedPairs: Int
    let storage: FloatStorage   // holds 2 bf16 per float slot
    public var panelCount: Int { (n + PackedBF16Matrix.nr - 1) / PackedBF16Matrix.nr }
    var pointer: UnsafeMutablePointer<UInt16> { UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self) }

    /// From a PyTorch linear weight `w: [N, K]` with row stride `ldw`.
    public init(weights w: UnsafePointer<Float>, n: Int, k: Int, ldw: Int) {
        let nr = PackedBF16Matrix.nr, alignment = PackedBF16Matrix.pairAlignment
        self.n = n
        self.k = k
        pairs = (k + 1) / 2
        paddedPairs = (pairs + alignment - 1) / alignment * alignment
        let panels = (n + nr - 1) / nr
        // One float slot per (panel, pair, column): 2 bf16 each; zero-filled, so padding is 0.
        storage = FloatStorage(count: panels * paddedPairs * nr)
        // Each weight row is rounded to bf16 at once (vectorised where AVX-512 runs; the same
        // round-to-nearest-even bits either way), then its pairs go to the panel as 32-bit words:
        // pair p of column j is word p * nr + j of the panel (the even k in the low half).
        let pairs = self.pairs
        let out = UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt32.self)
        let row = UnsafeMutablePointer<UInt16>.allocate(capacity: 2 * pairs)
        defer { row.deallocate() }
        if pairs > 0 { row[2 * pairs - 1] = 0 }   // K odd: the last pair's second half is zero
        let rowWords = UnsafeRawPointer(row).assumingMemoryBound(to: UInt32.self)
        for p in 0..<panels {
            let panel = out + p * paddedPairs * nr
            for j in 0..<min(nr, n - p * nr) {
                PackedBF16Matrix.round(w + (p * nr + j) * ldw, into: row, count: k)
                for pair in 0..<pairs { panel[pair * nr + j] = rowWords[pair] }
            }
        }
    }

    /// `count` floats to bf16 (round to nearest even), vectorised where AVX-512 runs.
    static func round(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<UInt16>, count: Int) {
        #if arch(x86_64)
        if KernelISA.supported.contains(.avx512) {
            cbf16_convert_avx512(x, out, count)
            return
        }
        #endif
        cbf16_convert_scalar(x, out, count)
    }
}

extension GEMM {
    /// K block in pairs (vdpbf16ps and scalar classes): an 8-row A panel (8 KiB) and a 32-column B
    /// panel (32 KiB) fit in L1. Fixed, not per CPU: the bf16 block size is part of a class's bits.
    public static let kcPairsBF16 = 256
    /// Rows per AMX task: a multiple of the 32-row block.
    public static let mcAMX = 96

    /// `C[m, n] = (accumulate ? C : 0) + bias + bf16(A[m, k]) * bf16(W)^T`, fp32 accumulation, with
    /// the bf16 kernel of `isa` (`KernelISA.active` unless given). `emulateAMX` runs the AMX class's
    /// tile program in plain C (tests on machines without AMX).
    public static func multiply(
        m: Int, a: UnsafePointer<Float>, lda: Int, w: PackedBF16Matrix, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, threads: Int = 1,
        isa: KernelISA = .active, emulateAMX: Bool = KernelISA.amxEmulated
    ) {
        if m == 0 || w.n == 0 { return }
        if w.k == 0 {
            for i in 0..<m {
                for j in 0..<w.n { c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + (bias?[j] ?? 0) }
            }
            return
        }
        if emulateAMX || isa.bf16Kernel == .amx {
            multiplyAMX(m: m, a: a, lda: lda, w: w, bias: bias, c: c, ldc: ldc, accumulate: accumulate, threads: threads,
                        emulate: emulateAMX)
        } else {
            multiplyPairs(m: m, a: a, lda: lda, w: w, bias: bias, c: c, ldc: ldc, accumulate: accumulate, threads: threads,
                          vector: isa.bf16Kernel == .avx512bf16)
        }
    }

    /// The vdpbf16ps and scalar classes: 8 x 32 tiles over K blocks of pairs.
    static func multiplyPairs(
        m: Int, a: UnsafePointer<Float>, lda: Int, w: PackedBF16Matrix, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, threads: Int, vector: Bool
    ) {
        let n = w.n, k = w.k, pairs = w.pairs, paddedPairs = w.paddedPairs
        let weights = w.pointer
        #if !arch(x86_64)
        precondition(!vector, "vdpbf16ps exists only on x86-64")
        #endif
        forEachTile(m: m, n: n, panels: w.panelCount, threads: threads) { row0, rows, panel0, panelEnd, _, _ in
            let rowPanels = (rows + mr - 1) / mr
            let blockPairs = min(kcPairsBF16, pairs)
            let packedA = UnsafeMutablePointer<UInt16>.allocate(capacity: rowPanels * mr * 2 * blockPairs)
            defer { packedA.deallocate() }
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: mr * nr + nr)
            defer { scratch.deallocate() }
            let start = scratch + mr * nr
            var pair0 = 0
            while pair0 < pairs {
                let depthPairs = min(kcPairsBF16, pairs - pair0)
                let k0 = 2 * pair0, depth = min(2 * depthPairs, k - k0)
                let first = pair0 == 0
                let loadC = !first || accumulate
                for rp in 0..<rowPanels {
                    let source = a + (row0 + rp * mr) * lda + k0, height = Int32(min(mr, rows - rp * mr))
                    let out = packedA + rp * mr * 2 * depthPairs
                    #if arch(x86_64)
                    if vector {
                        cbf16_pack_rows_avx512bf16(source, lda, height, Int32(depth), Int32(depthPairs), out)
                        continue
                    }
                    #endif
                    cbf16_pack_rows_scalar(source, lda, height, Int32(depth), Int32(depthPairs), out)
                }
                for p in panel0..<panelEnd {
                    let bPanel = weights + (p * paddedPairs + pair0) * nr * 2
                    let width = min(nr, n - p * nr)
                    fillStart(start, bias: first ? bias : nil, offset: p * nr, width: width)
                    for rp in 0..<rowPanels {
                        let height = min(mr, rows - rp * mr)
                        let cTile = c + (row0 + rp * mr) * ldc + p * nr
                        let aPanel = packedA + rp * mr * 2 * depthPairs
                        // Edge tiles run the same instructions through a full scratch tile.
                        let full = height == mr && width == nr
                        if !full {
                            scratch.initialize(repeating: 0, count: mr * nr)
                            if loadC {
                                for i in 0..<height { (scratch + i * nr).update(from: cTile + i * ldc, count: width) }
                            }
                        }
                        let target = full ? cTile : scratch, ldt = full ? ldc : nr
                        #if arch(x86_64)
                        if vector {
                            cbf16_micro_kernel_avx512bf16(Int32(depthPairs), aPanel, bPanel, target, ldt, loadC ? 1 : 0, start)
                        } else {
                            cbf16_micro_kernel_scalar(Int32(depthPairs), aPanel, bPanel, target, ldt, loadC ? 1 : 0, start)
                        }
                        #else
                        cbf16_micro_kernel_scalar(Int32(depthPairs), aPanel, bPanel, target, ldt, loadC ? 1 : 0, start)
                        #endif
                        if !full {
                            for i in 0..<height { (cTile + i * ldc).update(from: scratch + i * nr, count: width) }
                        }
                    }
                }
                pair0 += depthPairs
            }
        }
    }

    /// The AMX class: per task, the task's rows of A rounded to bf16 once (row-major, K padded to
    /// the weights' padded pairs), then 32 x 32 blocks, each a whole-K tile program starting from the
    /// bias (or C + bias) in a scratch block. Tile configuration is per thread: loaded at the start of
    /// each task, released at its end.
    static func multiplyAMX(
        m: Int, a: UnsafePointer<Float>, lda: Int, w: PackedBF16Matrix, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, threads: Int, emulate: Bool
    ) {
        let n = w.n, k = w.k, paddedPairs = w.paddedPairs
        let weights = w.pointer
        let block = 32
        #if !arch(x86_64)
        precondition(emulate, "AMX exists only on x86-64")
        #endif
        forEachTile(m: m, n: n, panels: w.panelCount, threads: threads, rowBlock: mcAMX) { row0, rows, panel0, panelEnd, _, _ in
            let rowBlocks = (rows + block - 1) / block
            let rowValues = 2 * paddedPairs   // bf16 per packed A row
            let packedA = UnsafeMutablePointer<UInt16>.allocate(capacity: rowBlocks * block * rowValues)
            packedA.initialize(repeating: 0, count: rowBlocks * block * rowValues)
            defer { packedA.deallocate() }
            for i in 0..<rows { PackedBF16Matrix.round(a + (row0 + i) * lda, into: packedA + i * rowValues, count: k) }
            let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: block * block)
            defer { accumulator.deallocate() }
            #if arch(x86_64)
            if !emulate { cbf16_amx_begin() }
            defer { if !emulate { cbf16_amx_release() } }
            #endif
            for p in panel0..<panelEnd {
                let bPanel = weights + p * paddedPairs * nr * 2
                let width = min(nr, n - p * nr)
                for rb in 0..<rowBlocks {
                    let height = min(block, rows - rb * block)
                    let cBlock = c + (row0 + rb * block) * ldc + p * nr
                    for i in 0..<block {
                        for j in 0..<block {
                            let inside = i < height && j < width
                            let start = inside ? (bias?[p * nr + j] ?? 0) : 0
                            accumulator[i * block + j] = inside && accumulate ? cBlock[i * ldc + j] + start : start
                        }
                    }
                    let aBlock = packedA + rb * block * rowValues
                    #if arch(x86_64)
                    if !emulate {
                        cbf16_amx_block(paddedPairs, aBlock, 2 * rowValues, bPanel, accumulator)
                    } else {
                        cbf16_amx_block_emulated(paddedPairs, aBlock, 2 * rowValues, bPanel, accumulator)
                    }
                    #else
                    cbf16_amx_block_emulated(paddedPairs, aBlock, 2 * rowValues, bPanel, accumulator)
                    #endif
                    for i in 0..<height { (cBlock + i * ldc).update(from: accumulator + i * block, count: width) }
                }
            }
        }
    }
}
