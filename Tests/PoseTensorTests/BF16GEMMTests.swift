// The opt-in bf16 GEMM: exact against a double reference on bf16-rounded inputs (the products are
// exact in fp32, only the fp32 accumulation rounds), within bf16 rounding of the fp32 GEMM on raw
// inputs, and bitwise independent of batch and threads like the fp32 one.
import PoseCore
import XCTest
@testable import PoseTensor

/// These bf16 tests run the active variant's fast bf16 kernel (AVX512_BF16 or AMX); elsewhere they
/// skip with a visible reason (AMXTests cover the AMX tile program by emulation everywhere).
func requireBF16() throws {
    guard BF16.cpuSupported else { throw XCTSkip("bf16 path not tested: this CPU has neither AVX512_BF16 (cpuid 7.1 EAX bit 5) nor AMX-BF16") }
}

private func bf16Multiply(_ a: [Float], m: Int, k: Int, _ packed: PackedBF16Matrix, bias: [Float]?, into c: inout [Float],
                          accumulate: Bool = false, threads: Int) {
    let n = packed.n
    c.withUnsafeMutableBufferPointer { cb in
        a.withUnsafeBufferPointer { ab in
            if let bias {
                bias.withUnsafeBufferPointer { bb in
                    GEMM.multiply(m: m, a: ab.baseAddress!, lda: max(k, 1), w: packed, bias: bb.baseAddress, c: cb.baseAddress!, ldc: n,
                                  accumulate: accumulate, threads: threads)
                }
            } else {
                GEMM.multiply(m: m, a: ab.baseAddress!, lda: max(k, 1), w: packed, bias: nil, c: cb.baseAddress!, ldc: n,
                              accumulate: accumulate, threads: threads)
            }
        }
    }
}

final class BF16GEMMTests: XCTestCase {
    func testRoundingIsToNearestEven() {
        XCTAssertEqual(BF16.rounded(1 + 0x1p-8), 1)                   // tie, 1 is even
        XCTAssertEqual(BF16.rounded(1 + 3 * 0x1p-8), 1 + 0x1p-6)      // tie, 1 + 2^-7 is odd
        XCTAssertEqual(BF16.rounded(1 + 0x1p-8 + 0x1p-20), 1 + 0x1p-7)
        XCTAssertEqual(BF16.rounded(-2.5), -2.5)
        XCTAssertEqual(BF16.rounded(.infinity), .infinity)
        XCTAssertTrue(BF16.rounded(.nan).isNaN)
    }

    /// Shapes: tile edges, odd K (padded pair), K across the 512-value K block.
    private let shapes = [(1, 1, 1), (7, 33, 5), (8, 32, 512), (9, 31, 513), (97, 65, 301), (20, 100, 1100), (3, 17, 0), (130, 40, 64)]

    func testMatchesDoubleReferenceOnRoundedInputs() throws {
        try requireBF16()
        var rng = SplitMix64(seed: 7)
        for (m, n, k) in shapes {
            let a = rng.floats(m * k), w = rng.floats(n * k), bias = rng.floats(n), start = rng.floats(m * n)
            let packed = w.withUnsafeBufferPointer { PackedBF16Matrix(weights: $0.baseAddress!, n: n, k: k, ldw: max(k, 1)) }
            let reference = ReferenceKernels.linear(a: a.map(BF16.rounded), m: m, k: k, w: w.map(BF16.rounded), n: n, bias: bias)
            for threads in [1, 2] {
                var c = [Float](repeating: .nan, count: m * n)
                bf16Multiply(a, m: m, k: k, packed, bias: bias, into: &c, threads: threads)
                assertClose(c, reference, relative: 1e-5, "bf16 \(m)x\(n)x\(k) threads \(threads)")
                // accumulate: C += A W^T + bias (the residual form)
                var acc = start
                bf16Multiply(a, m: m, k: k, packed, bias: bias, into: &acc, accumulate: true, threads: threads)
                assertClose(acc, zip(start, reference).map { $0 + $1 }, relative: 1e-5, "bf16 accumulate \(m)x\(n)x\(k)")
            }
        }
    }

    func testWithinBF16ToleranceOfFP32() throws {
        try requireBF16()
        var rng = SplitMix64(seed: 8)
        for (m, n, k) in shapes where k > 0 {
            let a = rng.floats(m * k), w = rng.floats(n * k)
            let packed = w.withUnsafeBufferPointer { PackedBF16Matrix(weights: $0.baseAddress!, n: n, k: k, ldw: k) }
            let reference = ReferenceKernels.linear(a: a, m: m, k: k, w: w, n: n, bias: nil)
            var c = [Float](repeating: .nan, count: m * n)
            bf16Multiply(a, m: m, k: k, packed, bias: nil, into: &c, threads: 2)
            for i in 0..<m {
                let row = (i * n)..<((i + 1) * n)
                let diff = zip(c[row], reference[row]).map { Double($0 - $1) }
                let diffNorm = diff.map { $0 * $0 }.reduce(0, +).squareRoot()
                let refNorm = reference[row].map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
                XCTAssertLessThanOrEqual(diffNorm, 1e-2 * refNorm + 1e-6, "\(m)x\(n)x\(k) row \(i)")
                // Each product is off by at most ~2^-8 relative (both factors rounded): a hard bound per element.
                for j in 0..<n {
                    var bound = 0.0
                    for kk in 0..<k { bound += Double(abs(a[i * k + kk] * w[j * k + kk])) }
                    XCTAssertLessThanOrEqual(abs(diff[j]), 0x1p-7 * bound + 1e-6, "\(m)x\(n)x\(k) [\(i), \(j)]")
                }
            }
        }
    }

    func testRowsAreBitwiseIndependentOfBatchAndThreads() throws {
        try requireBF16()
        var rng = SplitMix64(seed: 9)
        let m = 203, n = 70, k = 530
        let a = rng.floats(m * k), w = rng.floats(n * k), bias = rng.floats(n)
        let packed = w.withUnsafeBufferPointer { PackedBF16Matrix(weights: $0.baseAddress!, n: n, k: k, ldw: k) }
        var all = [Float](repeating: 0, count: m * n)
        bf16Multiply(a, m: m, k: k, packed, bias: bias, into: &all, threads: 2)
        for (row, threads) in [(0, 1), (101, 2), (202, 1)] {
            var one = [Float](repeating: 0, count: n)
            bf16Multiply(Array(a[(row * k)..<((row + 1) * k)]), m: 1, k: k, packed, bias: bias, into: &one, threads: threads)
            XCTAssertEqual(one, Array(all[(row * n)..<((row + 1) * n)]), "row \(row) alone, \(threads) thread(s)")
        }
    }
}
