// Fast kernels against their plain references on random shapes, including sizes that are not
// multiples of the tiles, and the bitwise determinism the cluster relies on.
import Foundation
import XCTest
import PoseCore
@testable import PoseTensor

extension SplitMix64 {
    /// `count` floats uniform in [-scale, scale].
    mutating func floats(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in Float.random(in: -scale...scale, using: &self) } }
}

func assertClose(_ a: [Float], _ b: [Float], relative: Float, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    let scale = b.map(abs).max() ?? 0
    var worst: Float = 0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
    XCTAssertLessThanOrEqual(worst, relative * scale + 1e-6, "\(message): max |diff| \(worst), max |ref| \(scale)", file: file, line: line)
}

final class KernelTests: XCTestCase {
    func testGEMMMatchesReferenceOnEdgeShapes() {
        var rng = SplitMix64(seed: 1)
        var shapes = [(1, 1, 1), (7, 33, 5), (8, 32, 256), (9, 31, 257), (97, 65, 300), (20, 100, 600), (3, 17, 0)]
        for _ in 0..<8 { shapes.append((Int.random(in: 1...120, using: &rng), Int.random(in: 1...90, using: &rng), Int.random(in: 1...700, using: &rng))) }
        for (m, n, k) in shapes {
            let a = rng.floats(m * k), w = rng.floats(n * k), bias = rng.floats(n)
            let packed = w.withUnsafeBufferPointer { PackedMatrix(weights: $0.baseAddress!, n: n, k: k, ldw: k) }
            var c = [Float](repeating: 0, count: m * n)
            for threads in [1, 2] {
                c.withUnsafeMutableBufferPointer { cb in
                    a.withUnsafeBufferPointer { ab in
                        bias.withUnsafeBufferPointer { bb in
                            GEMM.multiply(m: m, a: ab.baseAddress!, lda: k, w: packed, bias: bb.baseAddress!, c: cb.baseAddress!, ldc: n, threads: threads)
                        }
                    }
                }
                assertClose(c, ReferenceKernels.linear(a: a, m: m, k: k, w: w, n: n, bias: bias), relative: 1e-5, "\(m)x\(n)x\(k)")
            }
        }
    }

    func testGEMMAccumulatesAndReadsKMajor() {
        var rng = SplitMix64(seed: 2)
        let m = 13, n = 45, k = 70
        let a = rng.floats(m * k), bKN = rng.floats(k * n), start = rng.floats(m * n)
        var w = [Float](repeating: 0, count: n * k)
        for kk in 0..<k { for j in 0..<n { w[j * k + kk] = bKN[kk * n + j] } }
        let packed = bKN.withUnsafeBufferPointer { PackedMatrix(kMajor: $0.baseAddress!, k: k, n: n, ldb: n) }
        var c = start
        c.withUnsafeMutableBufferPointer { cb in
            GEMM.multiply(m: m, a: a, lda: k, w: packed, bias: nil, c: cb.baseAddress!, ldc: n, accumulate: true)
        }
        let product = ReferenceKernels.linear(a: a, m: m, k: k, w: w, n: n, bias: nil)
        assertClose(c, zip(product, start).map(+), relative: 1e-5)
    }

    func testGEMMRowsAreBitwiseIndependentOfBatchAndThreads() {
        var rng = SplitMix64(seed: 3)
        let n = 70, k = 600
        let w = rng.floats(n * k), bias = rng.floats(n)
        let packed = w.withUnsafeBufferPointer { PackedMatrix(weights: $0.baseAddress!, n: n, k: k, ldw: k) }
        let batch = rng.floats(203 * k)
        func run(_ rows: ArraySlice<Float>, threads: Int) -> [Float] {
            let a = Array(rows), m = a.count / k
            var c = [Float](repeating: 0, count: m * n)
            c.withUnsafeMutableBufferPointer { GEMM.multiply(m: m, a: a, lda: k, w: packed, bias: bias, c: $0.baseAddress!, ldc: n, threads: threads) }
            return c
        }
        let full1 = run(batch[...], threads: 1), full2 = run(batch[...], threads: 2)
        XCTAssertEqual(full1.map(\.bitPattern), full2.map(\.bitPattern))
        for row in [0, 7, 8, 101, 202] {
            let alone = run(batch[(row * k)..<((row + 1) * k)], threads: 1)
            XCTAssertEqual(alone.map(\.bitPattern), Array(full1[(row * n)..<((row + 1) * n)]).map(\.bitPattern), "row \(row)")
        }
    }

    func testExpAndErfMatchLibm() {
        var worstExp: Float = 0, worstErf: Float = 0
        for i in 0..<4000 {
            let x = Float(i - 2000) / 2000 * 80
            let e = MathSIMD.exp(Vector(repeating: x))[0]
            worstExp = max(worstExp, abs(e - Float(Foundation.exp(Double(x)))) / Float(Foundation.exp(Double(x))))
            let z = Float(i - 2000) / 2000 * 6
            worstErf = max(worstErf, abs(MathSIMD.erf(Vector(repeating: z))[0] - Float(Foundation.erf(Double(z)))))
        }
        XCTAssertLessThan(worstExp, 1e-6)
        XCTAssertLessThan(worstErf, 1e-6)
    }

    func testLayerNormGELUSoftmax() {
        var rng = SplitMix64(seed: 4)
        for cols in [1, 15, 16, 17, 100] {
            let rows = 5
            let x = rng.floats(rows * cols, scale: 3).map { $0 + 2 }, weight = rng.floats(cols), bias = rng.floats(cols)
            var y = [Float](repeating: 0, count: rows * cols)
            y.withUnsafeMutableBufferPointer {
                Kernels.layerNorm(rows: rows, cols: cols, x: x, ldx: cols, weight: weight, bias: bias, y: $0.baseAddress!, ldy: cols)
            }
            assertClose(y, ReferenceKernels.layerNorm(x, rows: rows, cols: cols, weight: weight, bias: bias), relative: 1e-5, "layerNorm \(cols)")
            var g = x.map { $0 * 2 - 4 }
            g.withUnsafeMutableBufferPointer { Kernels.gelu(rows: rows, cols: cols, x: $0.baseAddress!, ld: cols) }
            assertClose(g, ReferenceKernels.gelu(x.map { $0 * 2 - 4 }), relative: 1e-5, "gelu \(cols)")
            var s = x
            s.withUnsafeMutableBufferPointer { Kernels.softmax(rows: rows, cols: cols, x: $0.baseAddress!, ld: cols, scale: 0.7) }
            assertClose(s, ReferenceKernels.softmax(x, rows: rows, cols: cols, scale: 0.7), relative: 1e-5, "softmax \(cols)")
        }
    }

    func testAttentionMatchesReference() {
        var rng = SplitMix64(seed: 5)
        for (queries, keys, heads, headDim) in [(5, 5, 1, 4), (37, 11, 3, 16), (300, 40, 2, 24)] {
            let width = heads * headDim, sequences = 2
            let q = rng.floats(sequences * queries * width), k = rng.floats(sequences * keys * width), v = rng.floats(sequences * keys * width)
            var out = [Float](repeating: 0, count: sequences * queries * width)
            out.withUnsafeMutableBufferPointer {
                Kernels.attention(sequences: sequences, queries: queries, keys: keys, heads: heads, headDim: headDim,
                                  q: q, ldq: width, qSequenceStride: queries * width, k: k, ldk: width, kSequenceStride: keys * width,
                                  v: v, ldv: width, vSequenceStride: keys * width, out: $0.baseAddress!, ldo: width,
                                  outSequenceStride: queries * width, threads: 2)
            }
            for s in 0..<sequences {
                let expected = ReferenceKernels.attention(
                    q: Array(q[(s * queries * width)..<((s + 1) * queries * width)]), k: Array(k[(s * keys * width)..<((s + 1) * keys * width)]),
                    v: Array(v[(s * keys * width)..<((s + 1) * keys * width)]), queries: queries, keys: keys, heads: heads, headDim: headDim)
                assertClose(Array(out[(s * queries * width)..<((s + 1) * queries * width)]), expected, relative: 1e-5, "attention \(queries)x\(keys)")
            }
        }
    }

    func testPatchEmbedAsGEMMMatchesConvolution() {
        var rng = SplitMix64(seed: 6)
        for (height, width, patch, channels) in [(32, 24, 8, 5), (20, 12, 4, 33)] {
            let image = rng.floats(3 * height * width), weight = rng.floats(channels * 3 * patch * patch), bias = rng.floats(channels)
            let gh = (height + 4 - patch) / patch + 1, gw = (width + 4 - patch) / patch + 1
            var columns = [Float](repeating: 0, count: gh * gw * 3 * patch * patch)
            columns.withUnsafeMutableBufferPointer { Kernels.im2col(image: image, height: height, width: width, patch: patch, padding: 2, out: $0.baseAddress!) }
            let packed = PackedMatrix(weights: weight, n: channels, k: 3 * patch * patch, ldw: 3 * patch * patch)
            var out = [Float](repeating: 0, count: gh * gw * channels)
            out.withUnsafeMutableBufferPointer { GEMM.multiply(m: gh * gw, a: columns, lda: 3 * patch * patch, w: packed, bias: bias, c: $0.baseAddress!, ldc: channels) }
            let expected = ReferenceKernels.patchEmbed(image: image, height: height, width: width, weight: weight, bias: bias, channels: channels, patch: patch, padding: 2)
            assertClose(out, expected, relative: 1e-5)
        }
    }

    func testUpsampleMatchesPlanarReference() {
        var rng = SplitMix64(seed: 7)
        for (gh, gw, channels, factor) in [(4, 3, 5, 2), (16, 12, 20, 4), (1, 2, 17, 3)] {
            let tokens = rng.floats(gh * gw * channels)
            var planes = [Float](repeating: 0, count: tokens.count)
            for t in 0..<(gh * gw) { for c in 0..<channels { planes[c * gh * gw + t] = tokens[t * channels + c] } }
            var out = [Float](repeating: 0, count: gh * gw * factor * factor * channels)
            out.withUnsafeMutableBufferPointer {
                Kernels.upsampleBilinear(x: tokens, gridHeight: gh, gridWidth: gw, channels: channels, factor: factor, y: $0.baseAddress!)
            }
            let expected = ReferenceKernels.upsampleBilinear(planes: planes, channels: channels, height: gh, width: gw, factor: factor)
            let n = gh * gw * factor * factor
            var asTokens = [Float](repeating: 0, count: expected.count)
            for t in 0..<n { for c in 0..<channels { asTokens[t * channels + c] = expected[c * n + t] } }
            assertClose(out, asTokens, relative: 1e-6)
        }
    }

    func testGatherScatterRoundTrip() {
        let x = Matrix(rows: 6, cols: 3, values: (0..<18).map(Float.init))
        let picked = Matrix(rows: 2, cols: 3)
        Kernels.gatherRows(x: x.pointer, ldx: 3, indices: [4, 1], cols: 3, out: picked.pointer, ldo: 3)
        XCTAssertEqual(picked.values, [12, 13, 14, 3, 4, 5])
        let y = Matrix(rows: 6, cols: 3)
        Kernels.scatterRows(rows: picked.pointer, ldr: 3, indices: [4, 1], cols: 3, x: y.pointer, ldx: 3)
        XCTAssertEqual(y.values, [0, 0, 0, 3, 4, 5, 0, 0, 0, 0, 0, 0, 12, 13, 14, 0, 0, 0])
    }
}
