// bf16 attention products (the AMX class's choice, Kernels.attentionPrecision): within bf16
// rounding of the fp32 attention, bitwise independent of threads, and the bf16 weight packing they
// rely on (vectorised row rounding) equal to element-by-element packing.
import CBF16
import PoseCore
import XCTest
@testable import PoseTensor

final class AttentionBF16Tests: XCTestCase {
    private func attention(_ q: [Float], _ k: [Float], _ v: [Float], sequences: Int, queries: Int, keys: Int, heads: Int, headDim: Int,
                           precision: Precision, threads: Int) -> [Float] {
        let width = heads * headDim
        var out = [Float](repeating: 0, count: sequences * queries * width)
        out.withUnsafeMutableBufferPointer {
            Kernels.attention(sequences: sequences, queries: queries, keys: keys, heads: heads, headDim: headDim,
                              q: q, ldq: width, qSequenceStride: queries * width, k: k, ldk: width, kSequenceStride: keys * width,
                              v: v, ldv: width, vSequenceStride: keys * width, out: $0.baseAddress!, ldo: width,
                              outSequenceStride: queries * width, precision: precision, threads: threads)
        }
        return out
    }

    func testBF16AttentionAgreesWithFP32AndIsDeterministic() {
        var rng = SplitMix64(seed: 77)
        for (queries, keys, heads, headDim) in [(37, 11, 3, 16), (192, 192, 2, 32), (300, 40, 2, 24), (5, 96, 1, 7)] {
            let width = heads * headDim, sequences = 2
            let q = rng.floats(sequences * queries * width, scale: 2), k = rng.floats(sequences * keys * width, scale: 2)
            let v = rng.floats(sequences * keys * width)
            let fp32 = attention(q, k, v, sequences: sequences, queries: queries, keys: keys, heads: heads, headDim: headDim, precision: .fp32, threads: 2)
            let bf16 = attention(q, k, v, sequences: sequences, queries: queries, keys: keys, heads: heads, headDim: headDim, precision: .bf16, threads: 2)
            let single = attention(q, k, v, sequences: sequences, queries: queries, keys: keys, heads: heads, headDim: headDim, precision: .bf16, threads: 1)
            XCTAssertNotEqual(fp32, bf16, "bf16 must round something (\(queries)x\(keys))")
            assertClose(bf16, fp32, relative: 2e-2, "bf16 attention \(queries)x\(keys)x\(headDim)")
            XCTAssertEqual(bf16.map(\.bitPattern), single.map(\.bitPattern), "threads change bf16 attention (\(queries)x\(keys))")
        }
    }

    func testPackingEqualsElementByElement() {
        var rng = SplitMix64(seed: 78)
        for (n, k) in [(1, 1), (5, 7), (33, 32), (40, 95), (64, 192)] {
            let ldw = k + 2
            var w = rng.floats(n * ldw, scale: 3)
            w[0] = 1 + 0x1p-8   // a tie, rounded to even
            let packed = w.withUnsafeBufferPointer { PackedBF16Matrix(weights: $0.baseAddress!, n: n, k: k, ldw: ldw) }
            let nr = PackedBF16Matrix.nr
            var expected = [UInt16](repeating: 0, count: packed.panelCount * packed.paddedPairs * nr * 2)
            for p in 0..<packed.panelCount {
                for j in 0..<min(nr, n - p * nr) {
                    for kk in 0..<k {
                        expected[p * packed.paddedPairs * nr * 2 + (kk / 2) * nr * 2 + j * 2 + (kk & 1)] = cbf16_from_float(w[(p * nr + j) * ldw + kk])
                    }
                }
            }
            let stored = Array(UnsafeBufferPointer(start: packed.pointer, count: expected.count))
            XCTAssertEqual(stored, expected, "n \(n) k \(k)")
        }
    }

    func testOnlyTheAMXClassRunsBF16Attention() {
        XCTAssertEqual(Kernels.attentionPrecision(linear: .fp32, isa: .amx), .fp32)
        XCTAssertEqual(Kernels.attentionPrecision(linear: .bf16, isa: .amx), .bf16)
        XCTAssertEqual(Kernels.attentionPrecision(linear: .bf16, isa: .avx512bf16), .fp32)
        XCTAssertEqual(Kernels.attentionPrecision(linear: .bf16, isa: .avx2), .fp32)
        KernelISA.withEmulatedAMX {
            XCTAssertEqual(Kernels.attentionPrecision(linear: .bf16, isa: .avx512bf16), .bf16, "the emulated AMX class runs the AMX class's attention")
            XCTAssertEqual(Kernels.attentionPrecision(linear: .fp32, isa: .avx512bf16), .fp32)
        }
    }
}
