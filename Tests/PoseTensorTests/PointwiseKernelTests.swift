// The x86-64 softmax, GELU and LayerNorm (AVX2 C, CKernels/pointwise_kernels.h) give the same bits as the
// portable Swift SIMD16 kernels they replace there: the engine's fp32 outputs, fixtures and
// byte-identical promises do not move, and the two stay interchangeable per architecture.
import PoseCore
import XCTest
@testable import PoseTensor

final class PointwiseKernelTests: XCTestCase {
    /// Rows of mixed magnitudes, with the values that take the clamps and special paths.
    private func values(rows: Int, cols: Int, seed: UInt64, spread: Float) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var x = (0..<(rows * cols)).map { _ in (Float(rng.next() % 2_000_001) / 1_000_000 - 1) * spread }
        let specials: [Float] = [0, -0, 1e-30, -1e-30, 100, -100, 4.5, -4.5, 88.5, -88.5, -87.33654, 88.37626, 3.999, -3.999]
        for (i, value) in specials.enumerated() where i < x.count { x[(i * 7919) % x.count] = value }
        return x
    }

    func testSoftmaxIsBitwiseThePortableKernel() throws {
        #if arch(x86_64)
        for (cols, scale, spread) in [(192, Float(1), Float(8)), (576, 0.17677669, 30), (96, 1, 120), (7, 1, 3), (23, 0.5, 50),
                                      (1, 1, 1), (16, 2, 10), (3072, 1, 200)] {
            let rows = 5
            let input = values(rows: rows, cols: cols, seed: UInt64(cols) * 31 + 7, spread: spread)
            var fast = input, portable = input
            fast.withUnsafeMutableBufferPointer { Kernels.softmax(rows: rows, cols: cols, x: $0.baseAddress!, ld: cols, scale: scale) }
            portable.withUnsafeMutableBufferPointer { Kernels.softmaxPortable(rows: rows, cols: cols, x: $0.baseAddress!, ld: cols, scale: scale) }
            let mismatches = zip(fast, portable).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(mismatches, 0, "softmax cols \(cols) scale \(scale): \(mismatches) values differ")
            XCTAssertEqual(Double(fast[0..<cols].reduce(0, +)), 1, accuracy: 1e-5)
        }
        #else
        throw XCTSkip("the AVX2 softmax is x86-64 only; here Kernels.softmax is the portable kernel")
        #endif
    }

    func testLayerNormIsBitwiseThePortableKernel() throws {
        #if arch(x86_64)
        for (cols, spread) in [(384, Float(3)), (768, 40), (96, 0.001), (17, 5), (8, 1), (1, 2)] {
            let rows = 6, ldx = cols + 5, ldy = cols + 1
            let x = values(rows: rows, cols: ldx, seed: UInt64(cols) &* 131, spread: spread)
            let parameters = values(rows: 2, cols: cols, seed: UInt64(cols) &+ 9, spread: 1)
            let weight = Array(parameters[0..<cols]), bias = Array(parameters[cols...])
            var fast = [Float](repeating: .nan, count: rows * ldy), portable = fast
            fast.withUnsafeMutableBufferPointer {
                Kernels.layerNorm(rows: rows, cols: cols, x: x, ldx: ldx, weight: weight, bias: bias, y: $0.baseAddress!, ldy: ldy)
            }
            portable.withUnsafeMutableBufferPointer {
                Kernels.layerNormPortable(rows: rows, cols: cols, x: x, ldx: ldx, weight: weight, bias: bias, y: $0.baseAddress!, ldy: ldy)
            }
            let mismatches = zip(fast, portable).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(mismatches, 0, "layerNorm cols \(cols): \(mismatches) values differ")
            XCTAssertTrue(fast[ldy - 1].isNaN, "the output padding was written")
            XCTAssertFalse(fast[0].isNaN, "the kernel ran")
        }
        #else
        throw XCTSkip("the AVX2 LayerNorm is x86-64 only; here Kernels.layerNorm is the portable kernel")
        #endif
    }

    func testGELUIsBitwiseThePortableKernel() throws {
        #if arch(x86_64)
        for (cols, spread) in [(1536, Float(6)), (768, 1), (17, 10), (5, 0.01), (256, 300)] {
            let rows = 4, ld = cols + 3   // a row stride wider than the row: the padding is not touched
            var input = values(rows: rows, cols: ld, seed: UInt64(cols) &* 977, spread: spread)
            input[ld - 1] = .nan   // padding of row 0; neither kernel may write it
            var fast = input, portable = input
            fast.withUnsafeMutableBufferPointer { Kernels.gelu(rows: rows, cols: cols, x: $0.baseAddress!, ld: ld) }
            portable.withUnsafeMutableBufferPointer { Kernels.geluPortable(rows: rows, cols: cols, x: $0.baseAddress!, ld: ld) }
            let mismatches = zip(fast, portable).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(mismatches, 0, "gelu cols \(cols): \(mismatches) values differ")
            XCTAssertTrue(fast[ld - 1].isNaN, "the padding was written")
            XCTAssertTrue(zip(fast, input).contains { $0.bitPattern != $1.bitPattern }, "the kernel ran")
        }
        #else
        throw XCTSkip("the AVX2 GELU is x86-64 only; here Kernels.gelu is the portable kernel")
        #endif
    }
}
