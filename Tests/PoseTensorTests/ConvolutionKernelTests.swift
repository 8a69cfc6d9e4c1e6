// The NHWC convolution kernels (ConvolutionKernels.swift) against their plain references, on
// every kernel size, stride and padding BlazePose uses plus odd sizes, and TensorFlow Lite's
// SAME/VALID geometry on known cases.
import Foundation
import XCTest
import PoseCore
@testable import PoseTensor

final class ConvolutionKernelTests: XCTestCase {
    func testGeometryFollowsTensorFlowLite() {
        // SAME, stride 2, even input: the extra zero row/column goes after (pad before 0).
        let s2 = ConvolutionGeometry(inHeight: 64, inWidth: 64, kernel: 3, stride: 2, padding: .same)
        XCTAssertEqual([s2.outHeight, s2.outWidth, s2.padTop, s2.padLeft], [32, 32, 0, 0])
        let s1 = ConvolutionGeometry(inHeight: 16, inWidth: 10, kernel: 5, stride: 1, padding: .same)
        XCTAssertEqual([s1.outHeight, s1.outWidth, s1.padTop, s1.padLeft], [16, 10, 2, 2])
        let odd = ConvolutionGeometry(inHeight: 7, inWidth: 7, kernel: 3, stride: 2, padding: .same)
        XCTAssertEqual([odd.outHeight, odd.padTop], [4, 1])
        let valid = ConvolutionGeometry(inHeight: 258, inWidth: 258, kernel: 3, stride: 2, padding: .valid)
        XCTAssertEqual([valid.outHeight, valid.outWidth, valid.padTop], [128, 128, 0])
        XCTAssertTrue(ConvolutionGeometry(inHeight: 4, inWidth: 4, kernel: 1, stride: 1, padding: .same).isPointwise)
        XCTAssertFalse(ConvolutionGeometry(inHeight: 4, inWidth: 4, kernel: 1, stride: 2, padding: .same).isPointwise)
    }

    func testConv2dMatchesReference() {
        var rng = SplitMix64(seed: 21)
        // (height, width, in, out, kernel, stride, padding)
        let cases: [(Int, Int, Int, Int, Int, Int, ConvolutionPadding)] = [
            (18, 18, 3, 24, 3, 2, .valid), (9, 11, 16, 8, 1, 1, .same), (12, 12, 24, 40, 1, 1, .valid),
            (2, 2, 40, 37, 2, 1, .valid), (7, 5, 5, 6, 3, 1, .same), (8, 8, 8, 1, 3, 1, .same), (9, 9, 4, 33, 5, 2, .same),
        ]
        for (h, w, cin, cout, k, stride, padding) in cases {
            let g = ConvolutionGeometry(inHeight: h, inWidth: w, kernel: k, stride: stride, padding: padding)
            let input = rng.floats(h * w * cin), weights = rng.floats(cout * k * k * cin), bias = rng.floats(cout)
            let packed = weights.withUnsafeBufferPointer { PackedMatrix(weights: $0.baseAddress!, n: cout, k: k * k * cin, ldw: k * k * cin) }
            for activation in Activation.allCases {
                var out = [Float](repeating: .nan, count: g.outHeight * g.outWidth * cout)
                var scratch = [Float](repeating: .nan, count: max(Kernels.conv2dScratchCount(inChannels: cin, geometry: g), 1))
                out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { s in
                        Kernels.conv2d(input: input, inChannels: cin, geometry: g, weights: packed, bias: bias,
                                       activation: activation, output: o.baseAddress!, scratch: s.baseAddress!)
                    }
                }
                let expected = ReferenceKernels.conv2d(input: input, inChannels: cin, geometry: g, weights: weights, bias: bias,
                                                       outChannels: cout, activation: activation)
                assertClose(out, expected, relative: 1e-5, "conv \(h)x\(w)x\(cin)->\(cout) k\(k) s\(stride) \(padding) \(activation)")
            }
        }
    }

    func testDepthwiseMatchesReference() {
        var rng = SplitMix64(seed: 22)
        let cases: [(Int, Int, Int, Int, Int, ConvolutionPadding)] = [
            (10, 10, 24, 3, 1, .same), (12, 12, 64, 3, 2, .valid), (13, 9, 19, 5, 2, .same), (8, 8, 48, 5, 1, .same),
            (4, 4, 8, 3, 2, .same), (2, 2, 13, 3, 1, .same),
        ]
        for (h, w, c, k, stride, padding) in cases {
            let g = ConvolutionGeometry(inHeight: h, inWidth: w, kernel: k, stride: stride, padding: padding)
            let input = rng.floats(h * w * c), weights = rng.floats(k * k * c), bias = rng.floats(c)
            for activation in Activation.allCases {
                var out = [Float](repeating: .nan, count: g.outHeight * g.outWidth * c)
                out.withUnsafeMutableBufferPointer { o in
                    Kernels.depthwiseConv2d(input: input, channels: c, geometry: g, weights: weights, bias: bias,
                                            activation: activation, output: o.baseAddress!)
                }
                let expected = ReferenceKernels.depthwiseConv2d(input: input, channels: c, geometry: g, weights: weights, bias: bias, activation: activation)
                assertClose(out, expected, relative: 1e-5, "depthwise \(h)x\(w)x\(c) k\(k) s\(stride) \(padding) \(activation)")
            }
        }
    }

    func testFoldedPaddingEqualsPadThenValidAndThreadsChangeNothing() {
        var rng = SplitMix64(seed: 24)
        let (h, w, c, k) = (12, 10, 16, 5)
        let x = rng.floats(h * w * c), weights = rng.floats(k * k * c), bias = rng.floats(c)
        // PAD (top 1, bottom 2, left 2, right 1) then a VALID stride-2 depthwise conv ...
        var padded = [Float](repeating: 0, count: (h + 3) * (w + 3) * c)
        padded.withUnsafeMutableBufferPointer { Kernels.pad(input: x, height: h, width: w, channels: c, top: 1, bottom: 2, left: 2, right: 1, output: $0.baseAddress!) }
        let valid = ConvolutionGeometry(inHeight: h + 3, inWidth: w + 3, kernel: k, stride: 2, padding: .valid)
        var expected = [Float](repeating: 0, count: valid.outHeight * valid.outWidth * c)
        expected.withUnsafeMutableBufferPointer {
            Kernels.depthwiseConv2d(input: padded, channels: c, geometry: valid, weights: weights, bias: bias, activation: .relu6, output: $0.baseAddress!)
        }
        // ... equals the conv with the border folded into its geometry, on any number of threads.
        let folded = ConvolutionGeometry(inHeight: h, inWidth: w, kernel: k, stride: 2, padTop: 1, padBottom: 2, padLeft: 2, padRight: 1)
        XCTAssertEqual([folded.outHeight, folded.outWidth], [valid.outHeight, valid.outWidth])
        for threads in [1, 2, 3] {
            var out = [Float](repeating: .nan, count: expected.count)
            out.withUnsafeMutableBufferPointer {
                Kernels.depthwiseConv2d(input: x, channels: c, geometry: folded, weights: weights, bias: bias, activation: .relu6,
                                        output: $0.baseAddress!, threads: threads)
            }
            XCTAssertEqual(out.map(\.bitPattern), expected.map(\.bitPattern), "\(threads) threads")
        }
    }

    func testPadAddPoolResizeSigmoidMatchReference() {
        var rng = SplitMix64(seed: 23)
        let (h, w, c) = (7, 6, 11)
        let x = rng.floats(h * w * c, scale: 8), y = rng.floats(h * w * c, scale: 8)

        var padded = [Float](repeating: .nan, count: (h + 3) * (w + 2) * c)
        padded.withUnsafeMutableBufferPointer { Kernels.pad(input: x, height: h, width: w, channels: c, top: 1, bottom: 2, left: 0, right: 2, output: $0.baseAddress!) }
        XCTAssertEqual(padded, ReferenceKernels.pad(x, height: h, width: w, channels: c, top: 1, bottom: 2, left: 0, right: 2))

        for activation in Activation.allCases {
            var sum = [Float](repeating: .nan, count: x.count)
            sum.withUnsafeMutableBufferPointer { Kernels.add(x, y, count: x.count, activation: activation, out: $0.baseAddress!) }
            XCTAssertEqual(sum, zip(x, y).map { activation.apply($0 + $1) }, "add \(activation)")
            XCTAssertTrue(activation == .none || sum.allSatisfy { $0 >= 0 })
            XCTAssertTrue(activation != .relu6 || sum.allSatisfy { $0 <= 6 })
        }

        for (kernel, stride, padding) in [(2, 2, ConvolutionPadding.valid), (3, 2, .same), (2, 1, .same)] {
            let g = ConvolutionGeometry(inHeight: h, inWidth: w, kernel: kernel, stride: stride, padding: padding)
            var pooled = [Float](repeating: .nan, count: g.outHeight * g.outWidth * c)
            pooled.withUnsafeMutableBufferPointer { Kernels.maxPool2d(input: x, channels: c, geometry: g, activation: .none, output: $0.baseAddress!) }
            XCTAssertEqual(pooled, ReferenceKernels.maxPool2d(x, channels: c, geometry: g, activation: .none), "max-pool k\(kernel) s\(stride) \(padding)")
        }

        for (oh, ow) in [(14, 12), (28, 24), (7, 6), (10, 13)] {
            var resized = [Float](repeating: .nan, count: oh * ow * c)
            resized.withUnsafeMutableBufferPointer { Kernels.resizeBilinear(input: x, height: h, width: w, channels: c, outHeight: oh, outWidth: ow, output: $0.baseAddress!) }
            assertClose(resized, ReferenceKernels.resizeBilinear(x, height: h, width: w, channels: c, outHeight: oh, outWidth: ow),
                        relative: 1e-6, "resize to \(oh)x\(ow)")
        }
        // Half-pixel centres: doubling puts output 1 at source 0.25 and output 0 at the clamped edge.
        var line = [Float](repeating: 0, count: 4)
        line.withUnsafeMutableBufferPointer { Kernels.resizeBilinear(input: [0, 4], height: 1, width: 2, channels: 1, outHeight: 1, outWidth: 4, output: $0.baseAddress!) }
        XCTAssertEqual(line, [0, 1, 3, 4])

        var s = x
        s.withUnsafeMutableBufferPointer { Kernels.sigmoid($0.baseAddress!, count: x.count) }
        assertClose(s, ReferenceKernels.sigmoid(x), relative: 1e-6, "sigmoid")
    }
}
