// Kernels of convolutional networks on NHWC images (one image, channels innermost), with
// TensorFlow Lite's semantics (SAME/VALID padding, fused ReLU/ReLU6, half-pixel bilinear
// resize): conv2d (im2col + the packed GEMM), depthwise conv, zero pad, add, max-pool, resize,
// sigmoid. Each has a plain twin in ReferenceConvolutionKernels.swift and a tolerance test.
// Every output element is computed in a fixed order by one call, so results never depend on
// batch size or threads (callers parallelise over images).
import Foundation

/// A fused activation (TensorFlow Lite's `fused_activation_function`).
public enum Activation: String, Sendable, Codable, CaseIterable {
    case none, relu, relu6

    @inline(__always)
    func apply(_ v: SIMD8<Float>) -> SIMD8<Float> {
        switch self {
        case .none: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .relu6: return v.replacing(with: 0, where: v .< 0).replacing(with: 6, where: v .> 6)
        }
    }

    @inline(__always)
    public func apply(_ v: Float) -> Float {
        switch self {
        case .none: return v
        case .relu: return v < 0 ? 0 : v
        case .relu6: return v < 0 ? 0 : (v > 6 ? 6 : v)
        }
    }
}

/// TensorFlow Lite's padding rule.
public enum ConvolutionPadding: String, Sendable, Codable {
    /// Output `ceil(in / stride)`; the zero border split with the extra pixel after.
    case same
    /// No border: output `(in - kernel) / stride + 1`.
    case valid
}

/// Where a `kernel x kernel` window with `stride` reads an `inHeight x inWidth` image.
public struct ConvolutionGeometry: Equatable, Sendable {
    public let inHeight: Int, inWidth: Int
    public let outHeight: Int, outWidth: Int
    public let kernel: Int, stride: Int
    /// Zero rows above / columns left of the image (those below and right follow from the sizes).
    public let padTop: Int, padLeft: Int

    public init(inHeight: Int, inWidth: Int, kernel: Int, stride: Int, padding: ConvolutionPadding) {
        precondition(inHeight >= 1 && inWidth >= 1 && kernel >= 1 && stride >= 1)
        self.inHeight = inHeight; self.inWidth = inWidth; self.kernel = kernel; self.stride = stride
        switch padding {
        case .same:
            outHeight = (inHeight + stride - 1) / stride
            outWidth = (inWidth + stride - 1) / stride
            padTop = max((outHeight - 1) * stride + kernel - inHeight, 0) / 2
            padLeft = max((outWidth - 1) * stride + kernel - inWidth, 0) / 2
        case .valid:
            outHeight = max((inHeight - kernel) / stride + 1, 0)
            outWidth = max((inWidth - kernel) / stride + 1, 0)
            padTop = 0; padLeft = 0
        }
    }

    /// Explicit zero borders (a PAD op folded into the conv that reads it): output `(in + pads - kernel) / stride + 1`.
    public init(inHeight: Int, inWidth: Int, kernel: Int, stride: Int, padTop: Int, padBottom: Int, padLeft: Int, padRight: Int) {
        precondition(inHeight >= 1 && inWidth >= 1 && kernel >= 1 && stride >= 1 && padTop >= 0 && padBottom >= 0 && padLeft >= 0 && padRight >= 0)
        self.inHeight = inHeight; self.inWidth = inWidth; self.kernel = kernel; self.stride = stride
        self.padTop = padTop; self.padLeft = padLeft
        outHeight = max((inHeight + padTop + padBottom - kernel) / stride + 1, 0)
        outWidth = max((inWidth + padLeft + padRight - kernel) / stride + 1, 0)
    }

    /// im2col needed: anything but a 1x1, stride-1 conv reads more than the input rows as they are.
    public var isPointwise: Bool { kernel == 1 && stride == 1 && padTop == 0 && padLeft == 0 }
}

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
@inline(__always) private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

extension Kernels {
    /// Rows of `kernel * kernel * channels` floats, one per output pixel, in (ky, kx, channel)
    /// order (TensorFlow Lite's conv weight `[out, ky, kx, in]` flattened), zeros outside.
    public static func im2colNHWC(input: UnsafePointer<Float>, channels: Int, geometry g: ConvolutionGeometry,
                                  out: UnsafeMutablePointer<Float>) {
        let rowLength = g.kernel * g.kernel * channels
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                var target = out + (oy * g.outWidth + ox) * rowLength
                for ky in 0..<g.kernel {
                    let y = oy * g.stride - g.padTop + ky
                    let x0 = ox * g.stride - g.padLeft
                    for kx in 0..<g.kernel {
                        let x = x0 + kx
                        if y >= 0 && y < g.inHeight && x >= 0 && x < g.inWidth {
                            target.update(from: input + (y * g.inWidth + x) * channels, count: channels)
                        } else {
                            target.update(repeating: 0, count: channels)
                        }
                        target += channels
                    }
                }
            }
        }
    }

    /// Floats of scratch `conv2d` needs (0 for a pointwise conv).
    public static func conv2dScratchCount(inChannels: Int, geometry g: ConvolutionGeometry) -> Int {
        g.isPointwise ? 0 : g.outHeight * g.outWidth * g.kernel * g.kernel * inChannels
    }

    /// `output[outH, outW, n] = act(conv(input[inH, inW, k / kernel²]) + bias)`, weights packed
    /// from `[n, ky, kx, in]`. A pointwise conv is one GEMM on the input rows; others go through
    /// im2col in `scratch` (`conv2dScratchCount` floats).
    public static func conv2d(input: UnsafePointer<Float>, inChannels: Int, geometry g: ConvolutionGeometry,
                              weights: PackedMatrix, bias: UnsafePointer<Float>, activation: Activation,
                              output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?, threads: Int = 1) {
        precondition(weights.k == g.kernel * g.kernel * inChannels, "conv2d: weights have K \(weights.k), geometry needs \(g.kernel * g.kernel * inChannels)")
        let pixels = g.outHeight * g.outWidth
        if g.isPointwise {
            GEMM.multiply(m: pixels, a: input, lda: inChannels, w: weights, bias: bias, c: output, ldc: weights.n, threads: threads)
        } else {
            guard let scratch else { preconditionFailure("conv2d: a \(g.kernel)x\(g.kernel) conv needs scratch") }
            im2colNHWC(input: input, channels: inChannels, geometry: g, out: scratch)
            GEMM.multiply(m: pixels, a: scratch, lda: weights.k, w: weights, bias: bias, c: output, ldc: weights.n, threads: threads)
        }
        if activation != .none { activate(output, count: pixels * weights.n, activation) }
    }

    /// Depthwise conv (multiplier 1): `output[oy, ox, c] = act(bias[c] + sum w[ky, kx, c] * input[y, x, c])`,
    /// weights `[kernel, kernel, channels]`; each sum runs over (ky, kx) in order, skipping the border.
    public static func depthwiseConv2d(input: UnsafePointer<Float>, channels: Int, geometry g: ConvolutionGeometry,
                                       weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, activation: Activation,
                                       output: UnsafeMutablePointer<Float>, threads: Int = 1) {
        // Output rows are independent: threads split them, each row computed the same way.
        let chunks = threads > 1 ? min(g.outHeight, 4 * threads) : 1
        Parallel.forEach(chunks, threads: threads) { chunk in
            depthwiseRows(input: input, channels: channels, geometry: g, weights: weights, bias: bias, activation: activation, output: output,
                          rows: (chunk * g.outHeight / chunks)..<((chunk + 1) * g.outHeight / chunks))
        }
    }

    static func depthwiseRows(input: UnsafePointer<Float>, channels: Int, geometry g: ConvolutionGeometry,
                              weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, activation: Activation,
                              output: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let vectorEnd = channels & ~7
        for oy in rows {
            let y0 = oy * g.stride - g.padTop
            let kyStart = max(0, -y0), kyEnd = min(g.kernel, g.inHeight - y0)
            for ox in 0..<g.outWidth {
                let x0 = ox * g.stride - g.padLeft
                let kxStart = max(0, -x0), kxEnd = min(g.kernel, g.inWidth - x0)
                let out = output + (oy * g.outWidth + ox) * channels
                var c = 0
                while c < vectorEnd {
                    var acc = load8(bias + c)
                    for ky in kyStart..<kyEnd {
                        let row = input + ((y0 + ky) * g.inWidth + x0) * channels + c
                        let wrow = weights + ky * g.kernel * channels + c
                        for kx in kxStart..<kxEnd {
                            acc = acc.addingProduct(load8(row + kx * channels), load8(wrow + kx * channels))
                        }
                    }
                    store8(activation.apply(acc), out + c)
                    c += 8
                }
                while c < channels {
                    var acc = bias[c]
                    for ky in kyStart..<kyEnd {
                        for kx in kxStart..<kxEnd {
                            acc = acc.addingProduct(input[((y0 + ky) * g.inWidth + x0 + kx) * channels + c],
                                                    weights[(ky * g.kernel + kx) * channels + c])
                        }
                    }
                    out[c] = activation.apply(acc)
                    c += 1
                }
            }
        }
    }

    /// `x = act(x)` over `count` floats.
    public static func activate(_ x: UnsafeMutablePointer<Float>, count: Int, _ activation: Activation) {
        if activation == .none { return }
        var i = 0
        while i + 8 <= count { store8(activation.apply(load8(x + i)), x + i); i += 8 }
        while i < count { x[i] = activation.apply(x[i]); i += 1 }
    }

    /// `out = act(a + b)` over `count` floats (`out` may be `a` or `b`).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, activation: Activation,
                           out: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 8 <= count { store8(activation.apply(load8(a + i) + load8(b + i)), out + i); i += 8 }
        while i < count { out[i] = activation.apply(a[i] + b[i]); i += 1 }
    }

    /// Zero border around an `height x width x channels` image: `top`, `bottom`, `left`, `right` pixels.
    public static func pad(input: UnsafePointer<Float>, height: Int, width: Int, channels: Int,
                           top: Int, bottom: Int, left: Int, right: Int, output: UnsafeMutablePointer<Float>) {
        let outWidth = width + left + right
        let rowFloats = outWidth * channels
        output.update(repeating: 0, count: top * rowFloats)
        for y in 0..<height {
            let row = output + (top + y) * rowFloats
            row.update(repeating: 0, count: left * channels)
            (row + left * channels).update(from: input + y * width * channels, count: width * channels)
            (row + (left + width) * channels).update(repeating: 0, count: right * channels)
        }
        (output + (top + height) * rowFloats).update(repeating: 0, count: bottom * rowFloats)
    }

    /// Max over each `size x size` window (border pixels ignored, as TensorFlow Lite does), then `act`.
    public static func maxPool2d(input: UnsafePointer<Float>, channels: Int, geometry g: ConvolutionGeometry,
                                 activation: Activation, output: UnsafeMutablePointer<Float>) {
        for oy in 0..<g.outHeight {
            let y0 = oy * g.stride - g.padTop
            for ox in 0..<g.outWidth {
                let x0 = ox * g.stride - g.padLeft
                let out = output + (oy * g.outWidth + ox) * channels
                out.update(repeating: -.infinity, count: channels)
                for y in max(0, y0)..<min(g.inHeight, y0 + g.kernel) {
                    for x in max(0, x0)..<min(g.inWidth, x0 + g.kernel) {
                        let source = input + (y * g.inWidth + x) * channels
                        for c in 0..<channels where source[c] > out[c] { out[c] = source[c] }
                    }
                }
                for c in 0..<channels { out[c] = activation.apply(out[c]) }
            }
        }
    }

    /// Bilinear resize with half-pixel centres (TensorFlow's `half_pixel_centers=True`,
    /// `align_corners=False`): source = (dst + 0.5) * in / out - 0.5, clamped to the image.
    public static func resizeBilinear(input: UnsafePointer<Float>, height: Int, width: Int, channels: Int,
                                      outHeight: Int, outWidth: Int, output: UnsafeMutablePointer<Float>) {
        let xs = (0..<outWidth).map { halfPixelSource($0, input: width, output: outWidth) }
        for oy in 0..<outHeight {
            let (y0, y1, ly) = halfPixelSource(oy, input: height, output: outHeight)
            for ox in 0..<outWidth {
                let (x0, x1, lx) = xs[ox]
                blendBilinear(input + (y0 * width + x0) * channels, input + (y0 * width + x1) * channels,
                              input + (y1 * width + x0) * channels, input + (y1 * width + x1) * channels,
                              lx: lx, ly: ly, channels: channels, out: output + (oy * outWidth + ox) * channels)
            }
        }
    }

    /// The two source indices and the weight of the second for output index `index`.
    @inline(__always)
    static func halfPixelSource(_ index: Int, input: Int, output: Int) -> (Int, Int, Float) {
        let source = Swift.min(Swift.max((Float(index) + 0.5) * Float(input) / Float(output) - 0.5, 0), Float(input - 1))
        let first = Int(source)
        return (first, Swift.min(first + 1, input - 1), source - Float(first))
    }

    /// `x = 1 / (1 + exp(-x))` over `count` floats.
    public static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { x[i] = 1 / (1 + Foundation.exp(-x[i])) }
    }
}
