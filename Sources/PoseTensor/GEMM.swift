// Matrix multiply C = A W^T + bias (PyTorch linear layout), the engine's hot loop.
//
// BLIS-style: the weights are packed once into panels of `nr` = 32 output columns with k
// contiguous ([panel][k][32], zero-padded), the activations are packed per K block into panels of
// `mr` = 8 rows ([panel][k][8]). An 8 x 32 micro-kernel keeps 16 SIMD16<Float> accumulators in
// registers (16 of the 32 zmm registers of AVX-512) and does 16 fused multiply-adds per k.
//
// Determinism: every output element is one fused-multiply-add chain over k = 0..<K in order,
// starting from its initial value, whatever the tile, the block or the thread computing it.
// Edge tiles go through a full-size scratch tile so they run the very same instructions. Threads
// split rows and column panels, never K. So a row of C depends only on its row of A.

import CKernels

public typealias Vector = SIMD16<Float>

/// Weights `[N, K]` (or any matrix used as the right-hand side) packed for the micro-kernel.
public struct PackedMatrix: @unchecked Sendable {
    public static let nr = 32
    /// Output columns (rows of the PyTorch weight).
    public let n: Int
    /// Reduction length.
    public let k: Int
    public let storage: FloatStorage
    public var panelCount: Int { (n + PackedMatrix.nr - 1) / PackedMatrix.nr }

    /// From a PyTorch linear weight `w: [N, K]` with row stride `ldw`.
    public init(weights w: UnsafePointer<Float>, n: Int, k: Int, ldw: Int) {
        self.init(n: n, k: k)
        let nr = PackedMatrix.nr
        let out = storage.pointer
        for p in 0..<panelCount {
            let panel = out + p * k * nr
            for j in 0..<min(nr, n - p * nr) {
                let source = w + (p * nr + j) * ldw
                for kk in 0..<k { panel[kk * nr + j] = source[kk] }
            }
        }
    }

    /// From a `[K, N]` matrix (e.g. the values of attention) with row stride `ldb`.
    public init(kMajor b: UnsafePointer<Float>, k: Int, n: Int, ldb: Int) {
        self.init(n: n, k: k)
        repack(kMajor: b, ldb: ldb)
    }

    /// The first `columns` output columns, sharing storage (panels are stored column block by
    /// column block, so a prefix of them is a packed matrix of its own).
    public func prefix(columns: Int) -> PackedMatrix {
        precondition(columns >= 0 && columns <= n)
        return PackedMatrix(n: columns, k: k, storage: storage)
    }

    private init(n: Int, k: Int, storage: FloatStorage) {
        self.n = n
        self.k = k
        self.storage = storage
    }

    /// Zero-filled room for an `n x k` right-hand side; fill with `repack`.
    public init(n: Int, k: Int) {
        self.n = n
        self.k = k
        storage = FloatStorage(count: ((n + PackedMatrix.nr - 1) / PackedMatrix.nr) * PackedMatrix.nr * max(k, 0))
    }

    /// Refills from `w: [N, K]` rows (same n, k). Padding columns stay zero.
    public func repack(weights w: UnsafePointer<Float>, ldw: Int) {
        let nr = PackedMatrix.nr
        for p in 0..<panelCount {
            let panel = storage.pointer + p * k * nr
            let width = min(nr, n - p * nr)
            if width == nr {
                // Transpose 32 rows of w into k-major order.
                for kk in 0..<k {
                    let dst = panel + kk * nr
                    for j in 0..<nr { dst[j] = w[(p * nr + j) * ldw + kk] }
                }
            } else {
                for j in 0..<width {
                    let source = w + (p * nr + j) * ldw
                    for kk in 0..<k { panel[kk * nr + j] = source[kk] }
                }
            }
        }
    }

    /// Refills from `b: [K, N]` (same n, k).
    public func repack(kMajor b: UnsafePointer<Float>, ldb: Int) {
        let nr = PackedMatrix.nr
        for p in 0..<panelCount {
            let panel = storage.pointer + p * k * nr
            let width = min(nr, n - p * nr)
            for kk in 0..<k {
                let source = b + kk * ldb + p * nr
                let dst = panel + kk * nr
                for j in 0..<width { dst[j] = source[j] }
            }
        }
    }
}

public enum GEMM {
    public static let mr = 8
    public static let nr = PackedMatrix.nr
    /// K block, from this CPU's L1 data cache: an 8-row A panel and a 32-column B panel
    /// (160 bytes per k) fill about 7/8 of it (256 on a 48 KiB L1, 160 on 32 KiB). The block size
    /// does not change results: later blocks continue each element's FMA chain from C.
    public static let kc: Int = max(64, min(512, (CacheSizes.level1Data * 7 / 8) / (4 * (mr + nr)) / 32 * 32))
    /// Rows per task: the packed A block (mc x kc floats) stays in a quarter of L2; at most 96 so
    /// small batches still give every thread work.
    public static let mc: Int = max(24, min(96, (CacheSizes.level2 / 4) / (4 * kc) / mr * mr))

    /// The work split both GEMMs share: row blocks of `mc`, and, when there are too few of them to
    /// keep `threads` busy, column chunks of whole panels. Every output element is computed by one
    /// task with the whole K reduction, so results never depend on `threads`.
    /// `body(row0, rows, panel0, panelEnd, col0, colEnd)` runs once per tile.
    static func forEachTile(m: Int, n: Int, panels: Int, threads: Int, rowBlock: Int = mc,
                            _ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rowBlocks = (m + rowBlock - 1) / rowBlock
        var chunks = 1
        if threads > 1 && rowBlocks < 4 * threads {
            chunks = min(panels, (4 * threads + rowBlocks - 1) / rowBlocks)
        }
        let panelsPerChunk = (panels + chunks - 1) / chunks
        chunks = (panels + panelsPerChunk - 1) / panelsPerChunk
        Parallel.forEach(rowBlocks * chunks, threads: threads) { task in
            let block = task / chunks, chunk = task % chunks
            let row0 = block * rowBlock, rows = min(rowBlock, m - row0)
            let panel0 = chunk * panelsPerChunk, panelEnd = min(panels, panel0 + panelsPerChunk)
            body(row0, rows, panel0, panelEnd, panel0 * nr, min(n, panelEnd * nr))
        }
    }

    /// `C[m, n] = (accumulate ? C : 0) + bias + A[m, k] * W^T`. `a` has row stride `lda`, `c` `ldc`.
    /// Threads split row blocks and column panels; the result does not depend on `threads`, nor on
    /// the kernel variant (`KernelISA.active`, or `isa`).
    public static func multiply(
        m: Int, a: UnsafePointer<Float>, lda: Int, w: PackedMatrix, bias: UnsafePointer<Float>?,
        c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, threads: Int = 1, isa: KernelISA = .active
    ) {
        let n = w.n, k = w.k
        if m == 0 || n == 0 { return }
        let kernel = FP32MicroKernel(isa)
        forEachTile(m: m, n: n, panels: w.panelCount, threads: threads) { row0, rows, panel0, panelEnd, col0, colEnd in
            if k == 0 {
                for i in 0..<rows {
                    let crow = c + (row0 + i) * ldc
                    for j in col0..<colEnd { crow[j] = (accumulate ? crow[j] : 0) + (bias?[j] ?? 0) }
                }
                return
            }
            let rowPanels = (rows + mr - 1) / mr
            let packedA = UnsafeMutablePointer<Float>.allocate(capacity: rowPanels * mr * min(kc, k))
            defer { packedA.deallocate() }
            // Scratch: a full 8 x 32 tile for edges, then the 32 start values.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: mr * nr + nr)
            defer { scratch.deallocate() }
            let start = scratch + mr * nr
            var k0 = 0
            while k0 < k {
                let depth = min(kc, k - k0)
                // The first K block starts from the bias (plus C when accumulating), later
                // blocks from C: one FMA chain per element either way.
                let first = k0 == 0
                let initial: FP32MicroKernel.Start = !first ? .c : accumulate ? .cPlusStart : .start
                packRows(a: a + row0 * lda + k0, lda: lda, rows: rows, depth: depth, into: packedA)
                for p in panel0..<panelEnd {
                    let bPanel = w.storage.pointer + p * k * nr + k0 * nr
                    let width = min(nr, n - p * nr)
                    fillStart(start, bias: first ? bias : nil, offset: p * nr, width: width)
                    for rp in 0..<rowPanels {
                        let height = min(mr, rows - rp * mr)
                        let cTile = c + (row0 + rp * mr) * ldc + p * nr
                        let aPanel = packedA + rp * mr * depth
                        if height == mr && width == nr {
                            kernel.run(depth: depth, a: aPanel, b: bPanel, c: cTile, ldc: ldc, initial: initial, start: start)
                        } else {
                            // Same instructions through a full tile, so edge rows are bitwise equal.
                            scratch.initialize(repeating: 0, count: mr * nr)
                            if initial != .start {
                                for i in 0..<height { (scratch + i * nr).update(from: cTile + i * ldc, count: width) }
                            }
                            kernel.run(depth: depth, a: aPanel, b: bPanel, c: scratch, ldc: nr, initial: initial, start: start)
                            for i in 0..<height { (cTile + i * ldc).update(from: scratch + i * nr, count: width) }
                        }
                    }
                }
                k0 += depth
            }
        }
    }

    /// The 32 start values of a column panel: `bias[offset..<offset+width]`, zeros after (and all
    /// zeros without a bias). Written as two plain loops: a single conditional one was vectorised
    /// into masked loads from a possibly-null `bias`, which QEMU's AVX2 emulation faults on.
    @inline(__always)
    static func fillStart(_ start: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, offset: Int, width: Int) {
        var j = 0
        if let bias {
            while j < width { start[j] = bias[offset + j]; j += 1 }
        }
        while j < nr { start[j] = 0; j += 1 }
    }

    /// Packs `rows x depth` of A into panels of 8 rows, k-major, padding missing rows with 0.
    @inline(__always)
    static func packRows(a: UnsafePointer<Float>, lda: Int, rows: Int, depth: Int, into out: UnsafeMutablePointer<Float>) {
        let panels = (rows + mr - 1) / mr
        for rp in 0..<panels {
            let dst = out + rp * mr * depth
            let height = min(mr, rows - rp * mr)
            if height == mr {
                let r0 = a + rp * mr * lda
                let r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda, r6 = r5 + lda, r7 = r6 + lda
                for kk in 0..<depth {
                    let d = dst + kk * mr
                    d[0] = r0[kk]; d[1] = r1[kk]; d[2] = r2[kk]; d[3] = r3[kk]
                    d[4] = r4[kk]; d[5] = r5[kk]; d[6] = r6[kk]; d[7] = r7[kk]
                }
            } else {
                for kk in 0..<depth {
                    for i in 0..<mr { dst[kk * mr + i] = i < height ? a[(rp * mr + i) * lda + kk] : 0 }
                }
            }
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }

    /// The portable micro-kernel (`KernelISA.generic`): c[8][32] = initial + a[depth][8]
    /// (broadcast) * b[depth][32], one FMA chain per element, k in order, like the C kernels.
    @inline(never)
    static func portableMicroKernel(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                                    ldc: Int, initial: FP32MicroKernel.Start, start: UnsafePointer<Float>) {
        let c0 = c, c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc, c6 = c5 + ldc, c7 = c6 + ldc
        let s0 = load(start), s1 = load(start + 16)
        var x00 = s0, x01 = s1, x10 = s0, x11 = s1, x20 = s0, x21 = s1, x30 = s0, x31 = s1
        var x40 = s0, x41 = s1, x50 = s0, x51 = s1, x60 = s0, x61 = s1, x70 = s0, x71 = s1
        if initial == .cPlusStart {
            x00 = load(c0) + s0; x01 = load(c0 + 16) + s1; x10 = load(c1) + s0; x11 = load(c1 + 16) + s1
            x20 = load(c2) + s0; x21 = load(c2 + 16) + s1; x30 = load(c3) + s0; x31 = load(c3 + 16) + s1
            x40 = load(c4) + s0; x41 = load(c4 + 16) + s1; x50 = load(c5) + s0; x51 = load(c5 + 16) + s1
            x60 = load(c6) + s0; x61 = load(c6 + 16) + s1; x70 = load(c7) + s0; x71 = load(c7 + 16) + s1
        } else if initial == .c {
            x00 = load(c0); x01 = load(c0 + 16); x10 = load(c1); x11 = load(c1 + 16)
            x20 = load(c2); x21 = load(c2 + 16); x30 = load(c3); x31 = load(c3 + 16)
            x40 = load(c4); x41 = load(c4 + 16); x50 = load(c5); x51 = load(c5 + 16)
            x60 = load(c6); x61 = load(c6 + 16); x70 = load(c7); x71 = load(c7 + 16)
        }
        var pa = a, pb = b
        for _ in 0..<depth {
            let b0 = load(pb), b1 = load(pb + 16)
            var s = Vector(repeating: pa[0]); x00 = x00.addingProduct(s, b0); x01 = x01.addingProduct(s, b1)
            s = Vector(repeating: pa[1]); x10 = x10.addingProduct(s, b0); x11 = x11.addingProduct(s, b1)
            s = Vector(repeating: pa[2]); x20 = x20.addingProduct(s, b0); x21 = x21.addingProduct(s, b1)
            s = Vector(repeating: pa[3]); x30 = x30.addingProduct(s, b0); x31 = x31.addingProduct(s, b1)
            s = Vector(repeating: pa[4]); x40 = x40.addingProduct(s, b0); x41 = x41.addingProduct(s, b1)
            s = Vector(repeating: pa[5]); x50 = x50.addingProduct(s, b0); x51 = x51.addingProduct(s, b1)
            s = Vector(repeating: pa[6]); x60 = x60.addingProduct(s, b0); x61 = x61.addingProduct(s, b1)
            s = Vector(repeating: pa[7]); x70 = x70.addingProduct(s, b0); x71 = x71.addingProduct(s, b1)
            pa += 8
            pb += 32
        }
        store(x00, c0); store(x01, c0 + 16); store(x10, c1); store(x11, c1 + 16)
        store(x20, c2); store(x21, c2 + 16); store(x30, c3); store(x31, c3 + 16)
        store(x40, c4); store(x41, c4 + 16); store(x50, c5); store(x51, c5 + 16)
        store(x60, c6); store(x61, c6 + 16); store(x70, c7); store(x71, c7 + 16)
    }
}

/// The fp32 8 x 32 micro-kernel of one `KernelISA`: the C kernels of CKernels (fp32_kernels.h)
/// or the portable Swift one. All compute the same bits.
struct FP32MicroKernel {
    /// Where the accumulators start (CK_INIT_* in the shim).
    enum Start: Int32 {
        case start = 0, cPlusStart = 1, c = 2
    }
    enum Code { case portable, avx2, avx512 }
    let code: Code

    init(_ isa: KernelISA) {
        switch isa {
        case .generic: code = .portable
        case .avx2: code = .avx2
        case .avx512, .avx512bf16, .amx: code = .avx512
        }
    }

    @inline(__always)
    func run(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
             initial: Start, start: UnsafePointer<Float>) {
        switch code {
        case .portable:
            GEMM.portableMicroKernel(depth: depth, a: a, b: b, c: c, ldc: ldc, initial: initial, start: start)
        case .avx2:
            #if arch(x86_64)
            ck_fp32_kernel_avx2(depth, a, b, c, ldc, initial.rawValue, start)
            #else
            preconditionFailure("AVX2 kernels exist only on x86-64")
            #endif
        case .avx512:
            #if arch(x86_64)
            ck_fp32_kernel_avx512(depth, a, b, c, ldc, initial.rawValue, start)
            #else
            preconditionFailure("AVX-512 kernels exist only on x86-64")
            #endif
        }
    }
}
