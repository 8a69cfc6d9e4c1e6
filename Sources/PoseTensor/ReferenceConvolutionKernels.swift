// Plain twins of ConvolutionKernels.swift on NHWC arrays: direct loops, double accumulation,
// padding by bounds checks. The yardstick the fast kernels are tested against.
import Foundation

extension ReferenceKernels {
    /// Direct convolution; `weights: [outChannels, kernel, kernel, inChannels]`.
    public static func conv2d(input: [Float], inChannels: Int, geometry g: ConvolutionGeometry,
                              weights: [Float], bias: [Float], outChannels: Int, activation: Activation) -> [Float] {
        var out = [Float](repeating: 0, count: g.outHeight * g.outWidth * outChannels)
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                for o in 0..<outChannels {
                    var sum = Double(bias[o])
                    for ky in 0..<g.kernel {
                        for kx in 0..<g.kernel {
                            let y = oy * g.stride - g.padTop + ky, x = ox * g.stride - g.padLeft + kx
                            guard y >= 0, y < g.inHeight, x >= 0, x < g.inWidth else { continue }
                            for i in 0..<inChannels {
                                sum += Double(input[(y * g.inWidth + x) * inChannels + i])
                                    * Double(weights[((o * g.kernel + ky) * g.kernel + kx) * inChannels + i])
                            }
                        }
                    }
                    out[(oy * g.outWidth + ox) * outChannels + o] = activation.apply(Float(sum))
                }
            }
        }
        return out
    }

    /// Depthwise convolution, multiplier 1; `weights: [kernel, kernel, channels]`.
    public static func depthwiseConv2d(input: [Float], channels: Int, geometry g: ConvolutionGeometry,
                                       weights: [Float], bias: [Float], activation: Activation) -> [Float] {
        var out = [Float](repeating: 0, count: g.outHeight * g.outWidth * channels)
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                for c in 0..<channels {
                    var sum = Double(bias[c])
                    for ky in 0..<g.kernel {
                        for kx in 0..<g.kernel {
                            let y = oy * g.stride - g.padTop + ky, x = ox * g.stride - g.padLeft + kx
                            guard y >= 0, y < g.inHeight, x >= 0, x < g.inWidth else { continue }
                            sum += Double(input[(y * g.inWidth + x) * channels + c]) * Double(weights[(ky * g.kernel + kx) * channels + c])
                        }
                    }
                    out[(oy * g.outWidth + ox) * channels + c] = activation.apply(Float(sum))
                }
            }
        }
        return out
    }

    /// Zero border around an NHWC image.
    public static func pad(_ input: [Float], height: Int, width: Int, channels: Int,
                           top: Int, bottom: Int, left: Int, right: Int) -> [Float] {
        let ow = width + left + right
        var out = [Float](repeating: 0, count: (height + top + bottom) * ow * channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels { out[((y + top) * ow + x + left) * channels + c] = input[(y * width + x) * channels + c] }
            }
        }
        return out
    }

    /// Max over each window, border ignored.
    public static func maxPool2d(_ input: [Float], channels: Int, geometry g: ConvolutionGeometry, activation: Activation) -> [Float] {
        var out = [Float](repeating: 0, count: g.outHeight * g.outWidth * channels)
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                for c in 0..<channels {
                    var best = -Float.infinity
                    for ky in 0..<g.kernel {
                        for kx in 0..<g.kernel {
                            let y = oy * g.stride - g.padTop + ky, x = ox * g.stride - g.padLeft + kx
                            guard y >= 0, y < g.inHeight, x >= 0, x < g.inWidth else { continue }
                            best = max(best, input[(y * g.inWidth + x) * channels + c])
                        }
                    }
                    out[(oy * g.outWidth + ox) * channels + c] = activation.apply(best)
                }
            }
        }
        return out
    }

    /// TensorFlow Lite's reference ResizeBilinear with half_pixel_centers: bounds clamped, the
    /// weights taken from the unclamped source coordinate (equal to clamping it, as the test checks).
    public static func resizeBilinear(_ input: [Float], height: Int, width: Int, channels: Int, outHeight: Int, outWidth: Int) -> [Float] {
        func source(_ i: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Double) {
            let s = (Double(i) + 0.5) * Double(inSize) / Double(outSize) - 0.5
            let lower = max(Int(s.rounded(.down)), 0), upper = min(Int(s.rounded(.up)), inSize - 1)
            return (lower, upper, s - Double(lower))
        }
        var out = [Float](repeating: 0, count: outHeight * outWidth * channels)
        for oy in 0..<outHeight {
            let (y0, y1, ly) = source(oy, height, outHeight)
            for ox in 0..<outWidth {
                let (x0, x1, lx) = source(ox, width, outWidth)
                for c in 0..<channels {
                    func at(_ y: Int, _ x: Int) -> Double { Double(input[(y * width + x) * channels + c]) }
                    let value = at(y0, x0) * (1 - ly) * (1 - lx) + at(y1, x0) * ly * (1 - lx)
                        + at(y0, x1) * (1 - ly) * lx + at(y1, x1) * ly * lx
                    out[(oy * outWidth + ox) * channels + c] = Float(value)
                }
            }
        }
        return out
    }

    /// 1 / (1 + e^-x) in double.
    public static func sigmoid(_ x: [Float]) -> [Float] { x.map { Float(1 / (1 + Foundation.exp(-Double($0)))) } }
}
